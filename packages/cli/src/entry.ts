// What every splitnet entry point does around its commander program: exit codes, one-line errors, signals, EPIPE.
import type { Command } from 'commander';
import { CommanderError } from 'commander';
import { classifyFailure, EXIT } from './failure.js';
import { ProcessLifetime } from './lifetime.js';

/** Parse `argv` with `program` and run its command; returns the exit code (docs/cli.md). */
export async function runProgram(program: Command, argv: readonly string[], lifetime: ProcessLifetime): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" to commander; everything else is bad usage (commander printed it)
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? EXIT.ok : EXIT.badInput;
    }
    // Bad input and operational failures are one line; only a bug shows its stack (failure.ts).
    const failure = classifyFailure(err);
    process.stderr.write(`${failure.text}\n`);
    return failure.kind === 'interrupted' ? lifetime.interruptExitCode() : failure.exitCode;
  }
}

/** Run `main` as the process's entry point: signals, exit and unhandled rejections are handled here and only here (lifetime.ts). */
export async function runAsEntry(main: (argv: readonly string[], lifetime: ProcessLifetime) => Promise<number>): Promise<void> {
  // A reader that goes away (`splitnet run … | head`) is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const lifetime = new ProcessLifetime();
  lifetime.install({ ignoreInterrupt: process.env['SPLITNET_IGNORE_SIGINT'] === '1' });
  process.exitCode = await main(process.argv.slice(2), lifetime);
  // Whatever a command left open (a NATS client still reconnecting to a server that died) must not keep it alive.
  lifetime.leaveWithin(5000);
}
