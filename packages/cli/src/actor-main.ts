#!/usr/bin/env node
// The entry point of the processes a live or lockstep run starts (`actor`, `partition`): those two commands only,
// so that a process loads what it runs — and, bundled (actor-entry.ts), starts in less than half the CPU time.
import { Command } from 'commander';
import { defineActorCommand, definePartitionCommand } from './actor-commands.js';
import { runAsEntry, runProgram } from './entry.js';
import type { ProcessLifetime } from './lifetime.js';

async function main(argv: readonly string[], lifetime: ProcessLifetime): Promise<number> {
  const program = new Command()
    .name('splitnet')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`splitnet: error: ${str.replace(/^error: /, '')}`) });
  defineActorCommand(program, lifetime);
  definePartitionCommand(program, lifetime);
  return runProgram(program, argv, lifetime);
}

await runAsEntry(main);
