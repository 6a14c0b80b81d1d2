// Loaded by ava before each test file (ava.config.js, "require"): nats-servers the file's process started directly are killed when it exits, however it ends.
//
// The launcher (@splitnet/transport/nats-server) installs no process-wide hooks: ending what a process started is the
// job of whoever owns the process (the CLI's lifetime.ts; here, the test harness). A test stops its servers itself;
// this catches those a failing or timed-out test file (ava sends it SIGTERM) leaves behind.
import { readdirSync, readFileSync } from 'node:fs';

/** Child processes of this process that run nats-server (Linux /proc; elsewhere none are found). */
function serverChildren(): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      // /proc/<pid>/stat: pid (comm) state ppid …; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${e}/stat`, 'latin1');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && comm === 'nats-server') out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function killServers(): void {
  for (const pid of serverChildren()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

export default function reapServers(): void {
  process.once('exit', killServers);
  // SIGTERM ends a Node process without 'exit': kill the servers, then die of the signal as before.
  process.once('SIGTERM', () => {
    killServers();
    process.kill(process.pid, 'SIGTERM');
  });
}
