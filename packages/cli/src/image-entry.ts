#!/usr/bin/env node
// The Docker image's entry point (docker/Dockerfile): the `actor` and `partition` commands start from the actor processes' bundle, every other command from the CLI (main.js).
/*
 * A container of a live or lockstep run is one actor or partition process: started from the bundle
 * (dist/bundle/actor-main.mjs, made by scripts/bundle-actor.mjs) it loads one file instead of ~500 (docs/live.md,
 * "The actor processes"). The image makes the bundle from the same tree as dist/src, in the same build step, so it
 * cannot be behind the files it was made of: actor-entry.ts's freshness check (for a host, where a `tsc -b` may follow
 * `npm run build`) is not made here. SPLITNET_ACTOR_BUNDLE=0 starts the CLI, as on a host.
 */
const command = process.argv[2];
const bundled = (command === 'actor' || command === 'partition') && process.env['SPLITNET_ACTOR_BUNDLE'] !== '0';
await import(bundled ? '../bundle/actor-main.mjs' : './main.js');
