// `run --pcap`: the capture flags checked against the scenario before anything is created, the pcapng file it writes, and what is said about it at the end.
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import { compileCaptureSpec, PacketCapture } from '@splitnet/results';
import type { Summary } from '@splitnet/results';
import type { CompiledScenario } from '@splitnet/scenario';
import { ensureFileParent } from './out-path.js';

/** The file a capture writes in the results directory unless --pcap-out names another. */
export const CAPTURE_FILE = 'packets.pcapng';

export interface CaptureFileFlags {
  readonly pcap: readonly string[];
  readonly pcapWindow?: string | undefined;
  readonly pcapMax?: string | undefined;
  readonly pcapOut?: string | undefined;
}

/** A run's packet capture and its file, opened when the capture writes its first bytes (at the start of the run). */
export class CaptureFile {
  readonly capture: PacketCapture;
  private fd: number | null = null;

  private constructor(
    s: CompiledScenario,
    flags: CaptureFileFlags,
    readonly path: string,
  ) {
    const spec = compileCaptureSpec({ pcap: flags.pcap, window: flags.pcapWindow, max: flags.pcapMax }, s);
    this.capture = new PacketCapture(s, spec, (bytes) => this.write(bytes));
  }

  /**
   * The capture of a run whose results go to `dir`, or undefined without --pcap. Every flag is checked
   * here, before the run creates anything: a bad value is one line naming the flag (exit 2).
   */
  static prepare(flags: CaptureFileFlags, s: CompiledScenario, dir: string): CaptureFile | undefined {
    if (flags.pcap.length === 0) {
      if (flags.pcapOut !== undefined) throw new SplitnetError('E_USAGE', `--pcap-out ${flags.pcapOut}: only with --pcap <point>, which says what to capture`);
      compileCaptureSpec({ pcap: [], window: flags.pcapWindow, max: flags.pcapMax }, s); // refuses a lone --pcap-window or --pcap-max
      return undefined;
    }
    // A capture is one host's view: its flow table, its frames' headers, its vm:<v> and flow:<f> numbers (docs/results.md).
    if (s.cluster !== undefined) {
      throw new SplitnetError(
        'E_USAGE',
        `--pcap ${flags.pcap[0] as string}: not in a multi-host scenario (hosts:) yet: a capture holds one host's flows and VMs (docs/results.md, "Packet captures")`,
      );
    }
    const file = new CaptureFile(s, flags, flags.pcapOut ?? join(dir, CAPTURE_FILE));
    if (flags.pcapOut !== undefined) ensureFileParent('--pcap-out', flags.pcapOut);
    return file;
  }

  private write(bytes: Uint8Array): void {
    if (this.fd === null) {
      try {
        this.fd = openSync(this.path, 'w');
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        throw new SplitnetError('E_FILE', `packet capture ${this.path}: cannot write it: ${typeof code === 'string' ? code : String(err)}`, { cause: err });
      }
    }
    for (let done = 0; done < bytes.length;) done += writeSync(this.fd, bytes, done, bytes.length - done);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Where the capture went and, when it reached --pcap-max, that it stopped and where (for stderr). */
  notes(summary: Summary): string[] {
    const p = summary.pcap;
    if (p === undefined) return [];
    const out = [
      `splitnet: packet capture: ${this.path} (${p.frames} frames, ${p.bytes} bytes; ${p.interfaces.map((i) => `${i.name} ${i.frames}`).join(', ')})`,
    ];
    if (p.stoppedAtMs !== null) {
      out.push(
        `splitnet: warning: the packet capture reached --pcap-max (${p.maxBytes} bytes) at ${p.stoppedAtMs} ms emulated: ${p.framesLeftOut} later frames were not written (summary.json pcap; raise --pcap-max or narrow --pcap-window)`,
      );
    }
    return out;
  }
}
