// Launches and stops a private nats-server child process (integration tests, the CLI's `processes` placement).

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

export const NATS_SERVER_INSTALL_HINT =
  'install it (Debian/Ubuntu: apt-get install nats-server; macOS: brew install nats-server) or pass --nats <url>';

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
export function findNatsServerBinary(
  opts: { binary?: string; searchPath?: string; fallbackDirs?: readonly string[] } = {},
): string {
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

// Every server this process started and that is still running is killed if the process ends first,
// so a crashed or killed test run leaves no server behind:
// - 'exit' covers a normal end, process.exit() and an uncaught exception;
// - SIGTERM/SIGINT/SIGHUP end a Node process without 'exit' (ava stops a timed-out test file with
//   SIGTERM). The hook acts only when it is the sole listener, i.e. when the signal is about to kill
//   the process anyway; it then kills the servers and re-raises the signal so the process still dies
//   of it. When the application handles the signal itself, it owns the shutdown (and may want the
//   server for a graceful one), so the hook stays out of the way.
// Only a SIGKILL of this process leaks the server (nothing runs); Ctrl-C in a terminal reaches the
// server too, as it shares the foreground process group.
const running = new Set<ChildProcess>();
let hooksInstalled = false;
const FATAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

function onFatalSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  killAll();
  for (const s of FATAL_SIGNALS) process.removeListener(s, onFatalSignal);
  process.kill(process.pid, signal);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAll);
  for (const s of FATAL_SIGNALS) process.on(s, onFatalSignal);
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
  for (const [k, v] of [['readyTimeoutMs', readyTimeoutMs], ['stopTimeoutMs', stopTimeoutMs]] as const) {
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

/**
 * Start a private nats-server and resolve once it accepts client connections: its log said
 * "Listening for client connections on …:PORT" (the port is read from there, so `-p -1` works and
 * so do ports set in a config file) and a TCP connect to that port succeeded.
 *
 * The child is unref'd: it never keeps this process alive, and it does not outlive it either (see
 * the hooks above).
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const { host, port, readyTimeoutMs, stopTimeoutMs } = validate(opts);
  const binary = findNatsServerBinary(opts.binary === undefined ? {} : { binary: opts.binary });
  const args = ['-a', host, '-p', String(port), ...(opts.args ?? [])];
  const env: Record<string, string | undefined> = { ...process.env, GOMAXPROCS: '1', ...opts.env };

  installHooks();

  const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) {
    // spawn reports the reason asynchronously through 'error'.
    const reason = await new Promise<string>((resolve) => child.once('error', (e) => resolve(e.message)));
    throw new TransportError('E_SERVER', `cannot start ${binary}: ${reason}`);
  }
  running.add(child);

  // 'close', not 'exit': it comes after stdout/stderr are drained, so the log tail is complete.
  const exited = new Promise<NatsServerExit>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });

  // Log: both streams, split into lines, kept as a short tail and scanned for what we need.
  const tail: string[] = [];
  const logListeners = new Set<(line: string) => void>();
  let slowConsumers = 0;
  let listening: { host: string; port: number } | undefined;
  let onListening: (() => void) | undefined;
  const logFile: WriteStream | undefined = opts.logFile === undefined ? undefined : createWriteStream(opts.logFile, { flags: 'a' });
  logFile?.on('error', () => {
    // A log file that cannot be written must not take the server down; the tail still has the lines.
  });
  const onLine = (line: string): void => {
    if (line === '') return;
    tail.push(line);
    if (tail.length > LOG_TAIL_LINES) tail.shift();
    if (SLOW_CONSUMER.test(line)) slowConsumers++;
    if (listening === undefined) {
      const m = LISTENING.exec(line);
      if (m !== null) {
        listening = { host: m[1] ?? host, port: Number(m[2]) };
        onListening?.();
      }
    }
    for (const listener of logListeners) listener(line);
  };
  const attach = (stream: NodeJS.ReadableStream | null): void => {
    if (stream === null) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      logFile?.write(chunk);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line.replace(/\r$/, ''));
    });
    stream.on('end', () => {
      if (partial !== '') onLine(partial);
      partial = '';
    });
  };
  attach(child.stdout);
  attach(child.stderr);
  // After a successful spawn 'error' only means a signal could not be sent; without a listener it would throw.
  child.on('error', (err) => onLine(`[splitnet] ${err.message}`));
  void exited.then(() => logFile?.end());

  const logTail = (): string => (tail.length === 0 ? '(no output)' : tail.join('\n'));

  const kill = (signal: NodeJS.Signals = 'SIGTERM'): boolean => {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    child.ref(); // whoever signals it will likely await `exited`: keep this process alive until then
    return child.kill(signal);
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    if (stopping === undefined) {
      stopping = (async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          await exited;
          return;
        }
        kill('SIGTERM');
        let timer: ReturnType<typeof setTimeout> | undefined;
        const escalate = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            kill('SIGKILL');
            resolve();
          }, stopTimeoutMs);
        });
        await Promise.race([exited, escalate]);
        await exited;
        clearTimeout(timer);
      })();
    }
    return stopping;
  };

  // Readiness: the listening line, then a TCP connect; or exit / timeout with the log tail.
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new TransportError('E_SERVER', `nats-server (${binary}) did not report listening within ${readyTimeoutMs} ms; its last log lines:\n${logTail()}`));
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
            `nats-server (${binary} ${args.join(' ')}) exited before it was ready (${e.signal ?? `code ${String(e.code)}`}); its last log lines:\n${logTail()}`,
          ),
        );
      });
      onListening = () => {
        const at = listening;
        if (at === undefined) return;
        void probe(dialHost(at.host), at.port).then(
          () => done(),
          (err: unknown) =>
            done(new TransportError('E_SERVER', `nats-server said it listens on ${at.host}:${at.port} but a TCP connect failed: ${String(err)}; its last log lines:\n${logTail()}`, { cause: err })),
        );
      };
      if (listening !== undefined) onListening();
    });
  } catch (err) {
    kill('SIGKILL');
    await exited;
    throw err;
  }

  const at = listening;
  if (at === undefined) throw new TransportError('E_SERVER', 'nats-server readiness resolved without a port (bug)');
  const dial = dialHost(at.host);
  // Unref only once ready: the readiness wait itself must keep the process alive.
  child.unref();
  (child.stdout as { unref?: () => void } | null)?.unref?.();
  (child.stderr as { unref?: () => void } | null)?.unref?.();

  return {
    url: urlFor(dial, at.port),
    host: dial,
    port: at.port,
    pid,
    exited,
    get slowConsumers() {
      return slowConsumers;
    },
    logTail,
    onLog(listener) {
      logListeners.add(listener);
      return () => {
        logListeners.delete(listener);
      };
    },
    stop,
    kill,
  };
}
