// The reaper: a small process that outlives a splitnet command that dies without cleaning up (SIGKILL, OOM) and kills the children it had started.
//
// The command writes one line per child on the reaper's stdin: `+ <pid> <start>` when it started one,
// `- <pid>` when that child is gone. The pipe's write end is the command's alone, so end-of-file on stdin
// means the command is gone, however it ended (the kernel closes a dead process's descriptors): the reaper
// then kills every child still listed whose start time is still the one recorded (a pid the system has
// given to another process since is left alone) and exits. Node has no prctl(PR_SET_PDEATHSIG), and
// nats-server cannot be told to watch a pipe; this process does it for every child alike.
import { createInterface } from 'node:readline';
import { identify } from './process-identity.js';

const children = new Map<number, string>();

// Ctrl-C reaches the whole foreground process group, a closed terminal sends SIGHUP: the command handles
// those itself; the reaper's only signal is its stdin.
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => {});

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [op, pidText, start] = line.trim().split(' ');
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return;
  if (op === '+' && start !== undefined) children.set(pid, start);
  else if (op === '-') children.delete(pid);
});
lines.on('close', () => {
  for (const [pid, start] of children) {
    if (identify(pid)?.start !== start) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  process.exit(0);
});
