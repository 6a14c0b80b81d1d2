// Launches and stops a private nats-server child process (integration tests, the live placements on this machine); it installs no process-wide hooks.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, createWriteStream, statSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import { TransportError } from './transport.js';

export interface NatsServerOptions {
  /** Path or command name of the server binary (default: `nats-server` on PATH, then in /usr/sbin and friends). */
  binary?: string;
  /** Client port; default: a free one chosen by the server itself (`-p -1`). */
  port?: number;
  /** Address to listen on (default 127.0.0.1: a private server is not exposed to the network). */
  host?: string;
  /** Extra server arguments, appended after ours (e.g. `['-c', 'nats.conf']`). */
  args?: readonly string[];
  /** Environment overrides for the server; GOMAXPROCS defaults to 1 (PERF.md: +3–29 % on 2 cores). */
  env?: Readonly<Record<string, string>>;
  /** Also append the server's log to this file. */
  logFile?: string;
  /** How long to wait for the server to accept connections (default 10 s). */
  readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL (default 5 s). */
  stopTimeoutMs?: number;
  /**
   * Start it in a process group of its own: a Ctrl-C at a terminal (which signals the whole foreground
   * group) then reaches only its owner, which stops it when it is done with it (default false). The group
   * stays in its owner's session (see `groupLauncher`): a session of its own would also put it in a
   * scheduler autogroup of its own, and with autogroups on its wake-ups then queue behind its peers'.
   */
  ownProcessGroup?: boolean;
}

export interface NatsServerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface NatsServerHandle {
  /** `nats://host:port`, ready for `connectNats`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  /** Resolves when the process has exited (for any reason). */
  readonly exited: Promise<NatsServerExit>;
  /** Slow consumers the server reported in its log (it disconnects them without telling the client why). */
  readonly slowConsumers: number;
  /** The last lines the server logged, for error messages. */
  logTail(): string;
  /** Listen to the server's log, line by line; returns the function that removes the listener. */
  onLog(listener: (line: string) => void): () => void;
  /** SIGTERM, wait for exit, SIGKILL after `stopTimeoutMs`. Idempotent; resolves once the process is gone. */
  stop(): Promise<void>;
  /** Send a signal now without waiting (e.g. SIGKILL to emulate a crash). False if already exited. */
  kill(signal?: NodeJS.Signals): boolean;
}

export const NATS_SERVER_INSTALL_HINT = 'install it (Debian/Ubuntu: apt-get install nats-server; macOS: brew install nats-server) or pass --nats <url>';

/** Where distribution packages put the binary but a user's PATH often does not reach (Debian: /usr/sbin). */
const FALLBACK_DIRS: readonly string[] = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/opt/homebrew/bin', '/snap/bin'];

const LOG_TAIL_LINES = 40;
const LISTENING = /Listening for client connections on (\S+):(\d+)\s*$/;
const SLOW_CONSUMER = /Slow Consumer Detected/;

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The nats-server binary to run: `binary` if given (a path, or a name looked up like a command),
 * else `nats-server` on `searchPath` (default: PATH) and then in `fallbackDirs`.
 * Throws `SplitnetError('E_USAGE')` with install instructions when there is none.
 */
export function findNatsServerBinary(opts: { binary?: string; searchPath?: string; fallbackDirs?: readonly string[] } = {}): string {
  const name = opts.binary ?? 'nats-server';
  if (name.includes('/')) {
    if (isExecutableFile(name)) return name;
    throw new SplitnetError('E_USAGE', `nats-server binary '${name}' not found or not executable: ${NATS_SERVER_INSTALL_HINT}`);
  }
  const dirs = [...(opts.searchPath ?? process.env['PATH'] ?? '').split(delimiter), ...(opts.fallbackDirs ?? FALLBACK_DIRS)];
  for (const dir of dirs) {
    if (dir === '' || !isAbsolute(dir)) continue; // relative PATH entries depend on the cwd: never trust them
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  const what = opts.binary === undefined ? 'nats-server' : `nats-server binary '${name}'`;
  throw new SplitnetError('E_USAGE', `${what} not found on PATH: ${NATS_SERVER_INSTALL_HINT}`);
}

/**
 * A program that makes itself a process group leader (setpgid(0, 0), not setsid) and then execs the rest of its
 * arguments, so the server keeps its pid, its session and its scheduler autogroup. Node's spawn offers only
 * `detached`, which is setsid: a new session and, with `kernel.sched_autogroup_enabled=1` (Debian's default), a
 * new autogroup — measured here, a live run's lag p99 at 8 Gbit/s grew from 5–19 ms to 130–250 ms when the
 * server and the actor processes each had one. perl is part of every Debian-based system (perl-base is
 * essential) and of macOS; where it is missing the server is started detached, as before.
 */
function groupLauncher(): { program: string; args: string[] } | undefined {
  const perl = ['/usr/bin/perl', '/bin/perl'].find(isExecutableFile);
  if (perl === undefined) return undefined;
  return { program: perl, args: ['-e', 'setpgrp(0, 0) or die "setpgrp: $!\\n"; exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\\n";'] };
}

function validate(opts: NatsServerOptions): { host: string; port: number; readyTimeoutMs: number; stopTimeoutMs: number } {
  const host = opts.host ?? '127.0.0.1';
  if (host.trim() === '' || /\s/.test(host)) throw new SplitnetError('E_USAGE', `nats-server host must be an address, got '${host}'`);
  const port = opts.port ?? -1;
  if (!Number.isInteger(port) || port < -1 || port > 65535) {
    throw new SplitnetError('E_USAGE', `nats-server port must be an integer in 1..65535 (or omitted for a random one), got ${String(opts.port)}`);
  }
  const readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 5_000;
  for (const [k, v] of [
    ['readyTimeoutMs', readyTimeoutMs],
    ['stopTimeoutMs', stopTimeoutMs],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0) throw new SplitnetError('E_USAGE', `nats-server ${k} must be a positive number, got ${String(v)}`);
  }
  // Port 0 means "any" to most tools; nats-server spells that -1.
  return { host, port: port === 0 ? -1 : port, readyTimeoutMs, stopTimeoutMs };
}

/** An address a client can dial for a server listening on `host` (wildcards are reached via loopback). */
function dialHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function urlFor(host: string, port: number): string {
  return host.includes(':') ? `nats://[${host}]:${port}` : `nats://${host}:${port}`;
}

/** Resolves once a TCP connection to host:port succeeds; rejects with the socket error. */
function probe(host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = tcpConnect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      socket.destroy();
      reject(err);
    });
  });
}

/** The server's log as it comes: both streams split into lines, a short tail kept, the listening address and slow consumers noticed. */
class ServerLog {
  readonly tail: string[] = [];
  readonly listeners = new Set<(line: string) => void>();
  slowConsumers = 0;
  listening: { host: string; port: number } | undefined;
  onListening: (() => void) | undefined;
  private readonly file: WriteStream | undefined;

  constructor(
    child: ChildProcess,
    private readonly host: string,
    logFile: string | undefined,
    exited: Promise<NatsServerExit>,
  ) {
    this.file = logFile === undefined ? undefined : createWriteStream(logFile, { flags: 'a' });
    this.file?.on('error', () => {
      // A log file that cannot be written must not take the server down; the tail still has the lines.
    });
    this.attach(child.stdout);
    this.attach(child.stderr);
    // After a successful spawn 'error' only means a signal could not be sent; without a listener it would throw.
    child.on('error', (err) => this.line(`[splitnet] ${err.message}`));
    void exited.then(() => this.file?.end());
  }

  /** The last lines the server logged, for error messages. */
  text(): string {
    return this.tail.length === 0 ? '(no output)' : this.tail.join('\n');
  }

  private line(line: string): void {
    if (line === '') return;
    this.tail.push(line);
    if (this.tail.length > LOG_TAIL_LINES) this.tail.shift();
    if (SLOW_CONSUMER.test(line)) this.slowConsumers++;
    if (this.listening === undefined) {
      const m = LISTENING.exec(line);
      if (m !== null) {
        this.listening = { host: m[1] ?? this.host, port: Number(m[2]) };
        this.onListening?.();
      }
    }
    for (const listener of this.listeners) listener(line);
  }

  private attach(stream: NodeJS.ReadableStream | null): void {
    if (stream === null) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.file?.write(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.line(line.replace(/\r$/, ''));
    });
    stream.on('end', () => {
      if (partial !== '') this.line(partial);
      partial = '';
    });
  }
}

/** Send a signal to a server that still runs (false if it is gone), keeping this process alive until it has exited. */
function signalServer(child: ChildProcess, signal: NodeJS.Signals): boolean {
  if (child.exitCode !== null || child.signalCode !== null) return false;
  child.ref(); // whoever signals it will likely await `exited`: keep this process alive until then
  return child.kill(signal);
}

/** SIGTERM, then SIGKILL after `stopTimeoutMs`; resolves once the process is gone. */
async function stopServer(child: ChildProcess, exited: Promise<NatsServerExit>, stopTimeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    await exited;
    return;
  }
  signalServer(child, 'SIGTERM');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const escalate = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      signalServer(child, 'SIGKILL');
      resolve();
    }, stopTimeoutMs);
  });
  await Promise.race([exited, escalate]);
  await exited;
  clearTimeout(timer);
}

/** Readiness: the listening line, then a TCP connect to that port; or the exit or the timeout, with the log tail. */
function untilReady(log: ServerLog, exited: Promise<NatsServerExit>, binary: string, args: readonly string[], readyTimeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new TransportError('E_SERVER', `nats-server (${binary}) did not report listening within ${readyTimeoutMs} ms; its last log lines:\n${log.text()}`),
      );
    }, readyTimeoutMs);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      if (err === undefined) resolve();
      else reject(err);
    };
    void exited.then((e) => {
      done(
        new TransportError(
          'E_SERVER',
          `nats-server (${binary} ${args.join(' ')}) exited before it was ready (${e.signal ?? `code ${String(e.code)}`}); its last log lines:\n${log.text()}`,
        ),
      );
    });
    log.onListening = () => {
      const at = log.listening;
      if (at === undefined) return;
      void probe(dialHost(at.host), at.port).then(
        () => done(),
        (err: unknown) =>
          done(
            new TransportError(
              'E_SERVER',
              `nats-server said it listens on ${at.host}:${at.port} but a TCP connect failed: ${String(err)}; its last log lines:\n${log.text()}`,
              { cause: err },
            ),
          ),
      );
    };
    if (log.listening !== undefined) log.onListening();
  });
}

/**
 * Start a private nats-server and resolve once it accepts client connections: its log said
 * "Listening for client connections on …:PORT" (the port is read from there, so `-p -1` works and
 * so do ports set in a config file) and a TCP connect to that port succeeded.
 *
 * The child is unref'd: it never keeps this process alive. Nothing here ties its life to this
 * process's: whoever owns the process (the CLI, a test harness) kills what it started when it exits.
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const { host, port, readyTimeoutMs, stopTimeoutMs } = validate(opts);
  const binary = findNatsServerBinary(opts.binary === undefined ? {} : { binary: opts.binary });
  const args = ['-a', host, '-p', String(port), ...(opts.args ?? [])];
  const env: Record<string, string | undefined> = { ...process.env, GOMAXPROCS: '1', ...opts.env };
  const launcher = opts.ownProcessGroup === true ? groupLauncher() : undefined;
  const child =
    launcher === undefined
      ? spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: opts.ownProcessGroup === true })
      : spawn(launcher.program, [...launcher.args, '--', binary, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) {
    // spawn reports the reason asynchronously through 'error'.
    const reason = await new Promise<string>((resolve) => child.once('error', (e) => resolve(e.message)));
    throw new TransportError('E_SERVER', `cannot start ${binary}: ${reason}`);
  }
  // 'close', not 'exit': it comes after stdout/stderr are drained, so the log tail is complete.
  const exited = new Promise<NatsServerExit>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const log = new ServerLog(child, host, opts.logFile, exited);
  try {
    await untilReady(log, exited, binary, args, readyTimeoutMs);
  } catch (err) {
    signalServer(child, 'SIGKILL');
    await exited;
    throw err;
  }
  const at = log.listening;
  if (at === undefined) throw new TransportError('E_SERVER', 'nats-server readiness resolved without a port (bug)');
  const dial = dialHost(at.host);
  // Unref only once ready: the readiness wait itself must keep the process alive.
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  let stopping: Promise<void> | undefined;
  return {
    url: urlFor(dial, at.port),
    host: dial,
    port: at.port,
    pid,
    exited,
    get slowConsumers() {
      return log.slowConsumers;
    },
    logTail: () => log.text(),
    onLog(listener) {
      log.listeners.add(listener);
      return () => {
        log.listeners.delete(listener);
      };
    },
    stop: () => (stopping ??= stopServer(child, exited, stopTimeoutMs)),
    kill: (signal: NodeJS.Signals = 'SIGTERM') => signalServer(child, signal),
  };
}
