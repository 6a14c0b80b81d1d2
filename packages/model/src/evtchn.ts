// Xen 2-level event channels of one guest domain: per-port pending/mask, per-vCPU upcall state.
import { SplitnetError } from './errors.js';

/*
 * What a notification does to the guest, in the 2-level ABI's terms. A send sets the port's pending
 * bit; only the 0 → 1 edge can interrupt anyone, so sends to an already pending port merge. The edge
 * raises an upcall on the port's bound vCPU unless the port is masked; a vCPU whose upcall-pending
 * flag is already set will find the new port when its handler scans, so it is not raised twice; a
 * vCPU with its upcall mask set (event delivery disabled, like cli) keeps the upcall pending until
 * it unmasks. Masking never loses an edge: unmasking re-raises whatever is still pending.
 *
 * The selector word (evtchn_pending_sel) is not modelled: the upcall-pending flag plus a scan of the
 * ports bound to a vCPU (only when upcalls are unmasked, not per packet) give the same outcomes.
 */
export class EventChannels {
  readonly ports: number;
  readonly vcpus: number;
  private readonly pending: Uint8Array;
  private readonly masked: Uint8Array;
  private readonly boundTo: Uint32Array;
  private readonly upcallPending: Uint8Array;
  private readonly upcallMasked: Uint8Array;
  private _sent = 0;
  private _merged = 0;
  private _upcalls = 0;
  private _deferredByMask = 0;

  /** Every port starts unmasked, not pending and bound to vCPU 0 (Xen's default binding). */
  constructor(ports: number, vcpus: number) {
    if (!Number.isInteger(ports) || ports < 1 || !Number.isInteger(vcpus) || vcpus < 1) {
      throw new SplitnetError('E_SCENARIO', `event channels need ≥ 1 port and ≥ 1 vCPU, got ${ports} ports, ${vcpus} vCPUs`);
    }
    this.ports = ports;
    this.vcpus = vcpus;
    this.pending = new Uint8Array(ports);
    this.masked = new Uint8Array(ports);
    this.boundTo = new Uint32Array(ports);
    this.upcallPending = new Uint8Array(vcpus);
    this.upcallMasked = new Uint8Array(vcpus);
  }

  /** Sends counted, including merged and masked ones. */
  get sent(): number {
    return this._sent;
  }
  /** Sends that found the port already pending (coalesced into the upcall already owed). */
  get merged(): number {
    return this._merged;
  }
  /** Upcalls raised, i.e. virtual interrupts delivered to a vCPU. */
  get upcalls(): number {
    return this._upcalls;
  }
  /** Edges held back by a port mask or a vCPU upcall mask (delivered later on unmask). */
  get deferredByMask(): number {
    return this._deferredByMask;
  }

  /**
   * EVTCHNOP_bind_vcpu. Does not re-raise by itself: like Linux's rebind, mask the port first and
   * unmask it afterwards to move a pending edge to the new vCPU.
   */
  bind(port: number, vcpu: number): void {
    this.checkPort(port);
    this.checkVcpu(vcpu);
    this.boundTo[port] = vcpu;
  }

  boundVcpu(port: number): number {
    this.checkPort(port);
    return this.boundTo[port] ?? 0;
  }

  /** EVTCHNOP_send. True iff this send raises an upcall on the bound vCPU now. */
  send(port: number): boolean {
    this.checkPort(port);
    this._sent++;
    if (this.pending[port] === 1) {
      this._merged++;
      return false;
    }
    this.pending[port] = 1;
    if (this.masked[port] === 1) {
      this._deferredByMask++;
      return false;
    }
    return this.raise(this.boundTo[port] ?? 0);
  }

  mask(port: number): void {
    this.checkPort(port);
    this.masked[port] = 1;
  }

  /**
   * Unmask, re-raising a pending port (the edge that arrived while masked would otherwise be lost).
   * True iff that raises an upcall now.
   */
  unmask(port: number): boolean {
    this.checkPort(port);
    const wasMasked = this.masked[port] === 1;
    this.masked[port] = 0;
    if (!wasMasked || this.pending[port] !== 1) return false;
    return this.raise(this.boundTo[port] ?? 0);
  }

  /** The guest's handler took the port's work: clear its pending bit so the next send is an edge. */
  clearPending(port: number): void {
    this.checkPort(port);
    this.pending[port] = 0;
  }

  isPending(port: number): boolean {
    this.checkPort(port);
    return this.pending[port] === 1;
  }

  isMasked(port: number): boolean {
    this.checkPort(port);
    return this.masked[port] === 1;
  }

  isUpcallPending(vcpu: number): boolean {
    this.checkVcpu(vcpu);
    return this.upcallPending[vcpu] === 1;
  }

  isUpcallMasked(vcpu: number): boolean {
    this.checkVcpu(vcpu);
    return this.upcallMasked[vcpu] === 1;
  }

  /** The upcall handler started: clear upcall-pending so later edges can raise a new upcall. */
  ackUpcall(vcpu: number): void {
    this.checkVcpu(vcpu);
    this.upcallPending[vcpu] = 0;
  }

  /** Disable event delivery on the vCPU (edges still set upcall-pending). */
  maskUpcall(vcpu: number): void {
    this.checkVcpu(vcpu);
    this.upcallMasked[vcpu] = 1;
  }

  /**
   * Re-enable event delivery. True iff an upcall is raised now: one became pending while masked,
   * or a port bound to this vCPU is pending and unmasked (work a handler left behind).
   */
  unmaskUpcall(vcpu: number): boolean {
    this.checkVcpu(vcpu);
    if (this.upcallMasked[vcpu] !== 1) return false;
    this.upcallMasked[vcpu] = 0;
    if (this.upcallPending[vcpu] === 1) {
      this._upcalls++;
      return true;
    }
    for (let port = 0; port < this.ports; port++) {
      if (this.pending[port] === 1 && this.masked[port] === 0 && this.boundTo[port] === vcpu) {
        return this.raise(vcpu);
      }
    }
    return false;
  }

  /** A pending, unmasked port's edge reached its vCPU. */
  private raise(vcpu: number): boolean {
    if (this.upcallPending[vcpu] === 1) return false;
    this.upcallPending[vcpu] = 1;
    if (this.upcallMasked[vcpu] === 1) {
      this._deferredByMask++;
      return false;
    }
    this._upcalls++;
    return true;
  }

  private checkPort(port: number): void {
    if (!(Number.isInteger(port) && port >= 0 && port < this.ports)) {
      throw new SplitnetError('E_INVARIANT', `event channel port ${port} is outside [0, ${this.ports})`);
    }
  }

  private checkVcpu(vcpu: number): void {
    if (!(Number.isInteger(vcpu) && vcpu >= 0 && vcpu < this.vcpus)) {
      throw new SplitnetError('E_INVARIANT', `vCPU ${vcpu} is outside [0, ${this.vcpus})`);
    }
  }
}
