// A multi-host live run's host and switch-port faults as the switch's process carries them out: the port's state changes at the faults' emulated instants, as sim's fabricFaultSteps.
import { deriveSeed } from '@splitnet/model';
import type { Nanos } from '@splitnet/model';
import type { ClusterFault, CompiledScenario } from '@splitnet/scenario';

/**
 * One change of a switch port's state at an emulated instant (SwitchActor.portFault, or nicCarrier for `carrier`),
 * with the fault it belongs to and whether it is that fault's start, end or (a host kill's) restart.
 */
export interface PortStep {
  readonly t: Nanos;
  readonly fault: ClusterFault;
  readonly phase: 'start' | 'end' | 'restart';
  readonly port: number;
  readonly kind: 'down' | 'loss' | 'delay';
  readonly on: boolean;
  /** The loss probability or the extra delay (ns); 0 for down. */
  readonly value: number;
  /** The loss draws' seed: the run seed and the fault's id, as sim's. */
  readonly seed: number;
}

/** The target a fault-start / fault-end event names, as sim's (`h<i>` or `switch:port:<i>`). */
export function clusterFaultTarget(f: ClusterFault): string {
  return f.kind === 'host-pause' || f.kind === 'host-kill' ? `h${f.index}` : `switch:port:${f.index}`;
}

/**
 * The switch's part of a multi-host scenario's faults, in time order (at one instant in the order the faults are
 * written, a start before its own end), as sim's fabricFaultSteps (packages/controller/src/cluster-run.ts) acts on
 * the switch: a port fault sets the port down, lossy or delayed for its duration; a host pause or kill takes the
 * host's port down (a stopped host takes nothing off its cable, a dead NIC has no carrier), the pause for its
 * duration, the kill until its restart (then the port is up and its NIC's carrier back), else to the end.
 */
export function switchPortSteps(s: CompiledScenario): PortStep[] {
  const steps: (PortStep & { readonly order: number })[] = [];
  (s.cluster?.faults ?? []).forEach((f, n) => {
    const kind = f.kind === 'port-loss' ? 'loss' : f.kind === 'port-delay' ? 'delay' : 'down';
    const value = f.probability ?? f.delay ?? 0;
    const seed = deriveSeed(s.seed, `cluster-fault:${f.id}`);
    const step = { fault: f, port: f.index, kind, value, seed } as const;
    steps.push({ ...step, t: f.at, order: 2 * n, phase: 'start', on: true });
    if (f.kind !== 'host-kill') steps.push({ ...step, t: f.until, order: 2 * n + 1, phase: 'end', on: false });
    else if (f.restartAfter !== undefined && f.at + f.restartAfter < s.duration)
      steps.push({ ...step, t: f.at + f.restartAfter, order: 2 * n + 1, phase: 'restart', kind: 'down', on: false });
  });
  return steps.sort((a, b) => a.t - b.t || a.order - b.order).map(({ order: _, ...st }) => st);
}
