// `run --pcap`: the capture flags checked against the scenario before anything is created, the pcapng file(s) it writes (one per host in a multi-host run), and what is said about them at the end.
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import { compileCaptureSpec, PacketCapture } from '@splitnet/results';
import type { CaptureSummary, Summary } from '@splitnet/results';
import type { CompiledScenario } from '@splitnet/scenario';
import { ensureFileParent } from './out-path.js';

/** The file a capture writes in the results directory unless --pcap-out names another. */
export const CAPTURE_FILE = 'packets.pcapng';

/** Host i's capture file in a multi-host run's results directory. */
export function hostCaptureFile(host: number): string {
  return `packets-h${host}.pcapng`;
}

export interface CaptureFileFlags {
  readonly pcap: readonly string[];
  readonly pcapWindow?: string | undefined;
  readonly pcapMax?: string | undefined;
  readonly pcapOut?: string | undefined;
}

/** One packet capture and its file, opened when the capture writes its first bytes (at the start of the run). */
class OneCapture {
  readonly capture: PacketCapture;
  private fd: number | null = null;

  constructor(
    s: CompiledScenario,
    flags: CaptureFileFlags,
    readonly path: string,
  ) {
    const spec = compileCaptureSpec({ pcap: flags.pcap, window: flags.pcapWindow, max: flags.pcapMax }, s);
    this.capture = new PacketCapture(s, spec, (bytes) => this.write(bytes));
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
  notes(p: CaptureSummary | undefined, host: string): string[] {
    if (p === undefined) return [];
    const out = [
      `splitnet: packet capture${host}: ${this.path} (${p.frames} frames, ${p.bytes} bytes; ${p.interfaces.map((i) => `${i.name} ${i.frames}`).join(', ')})`,
    ];
    if (p.stoppedAtMs !== null) {
      out.push(
        `splitnet: warning: the packet capture${host} reached --pcap-max (${p.maxBytes} bytes) at ${p.stoppedAtMs} ms emulated: ${p.framesLeftOut} later frames were not written (summary.json pcap; raise --pcap-max or narrow --pcap-window)`,
      );
    }
    return out;
  }
}

/**
 * A run's packet capture: one file, or in a multi-host scenario one per host (each host has its own flow table,
 * frame headers and VM numbers, which the selectors are read against: docs/results.md).
 */
export class CaptureFile {
  private constructor(
    private readonly files: readonly OneCapture[],
    private readonly perHost: boolean,
  ) {}

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
    const hosts = s.cluster?.hosts;
    if (hosts !== undefined) {
      if (flags.pcapOut !== undefined) {
        throw new SplitnetError(
          'E_USAGE',
          `--pcap-out ${flags.pcapOut}: a multi-host scenario (hosts:) writes one capture per host, ${hostCaptureFile(0)} … in its results directory`,
        );
      }
      return new CaptureFile(
        hosts.map((h, i) => new OneCapture(h, flags, join(dir, hostCaptureFile(i)))),
        true,
      );
    }
    const file = new OneCapture(s, flags, flags.pcapOut ?? join(dir, CAPTURE_FILE));
    if (flags.pcapOut !== undefined) ensureFileParent('--pcap-out', flags.pcapOut);
    return new CaptureFile([file], false);
  }

  /** What the sim run is given: its capture, or each host's. */
  runOptions(): { capture: PacketCapture } | { hostCaptures: PacketCapture[] } {
    return this.perHost ? { hostCaptures: this.files.map((f) => f.capture) } : { capture: (this.files[0] as OneCapture).capture };
  }

  close(): void {
    for (const f of this.files) f.close();
  }

  /** Where the captures went and, when one reached --pcap-max, that it stopped and where (for stderr). */
  notes(summary: Summary): string[] {
    if (!this.perHost) return (this.files[0] as OneCapture).notes(summary.pcap, '');
    return this.files.flatMap((f, i) => f.notes(summary.hosts?.[i]?.pcap, ` of h${i}`));
  }
}
