// The test runner's configuration (here rather than in package.json because only a config file can order the test files): which files, two at a time, the longest first.
import process from 'node:process';

/**
 * The e2e files that take longest on a fresh 2-core machine (wall time of the file in /tmp/ci2.log-style runs, the
 * docker image build of its before hook included), longest first. They start first, so that the two lanes of
 * `concurrency: 2` end together on short files instead of one lane waiting alone for a long docker file started last.
 * Every file not named here starts after them, in path order.
 */
const LONGEST_FIRST = [
  'docker-placement', // ~165 s serial, plus the image build
  'faults-tx-live', // ~210 s serial (ten live runs one after the other)
  'live', // ~180 s serial
  'faults-live', // ~125 s serial
  'compose', // ~90 s serial, plus the bases and the image
  'forged-traffic', // ~100 s serial
  'faults-docker', // ~70 s serial, plus the image build
  'tcp-restart-live', // ~80 s serial
  'tcp-partition-live', // ~45 s
  'lockstep', // ~70 s
  'fault-command-rules', // ~52 s serial (one live run of 40 s wall time)
  'live-bus', // ~45 s serial
  'live-budget', // ~35 s
  'lockstep-join', // ~30 s, plus the image build
  'nats-cluster', // ~30 s, plus the nats base
  'swarm', // ~20 s, plus the image build
  'cli-bad-input',
  'live-orphans',
  'cli',
];

/** Where `file` (an absolute path) comes in LONGEST_FIRST; files not named come after all of them. */
function rank(file) {
  const i = LONGEST_FIRST.findIndex((name) => file.endsWith(`/test/dist/e2e/${name}.test.js`));
  return i === -1 ? LONGEST_FIRST.length : i;
}

/**
 * The e2e files that assert a live run is valid at a tight lag bound (and agrees with sim): a second test file beside
 * them (docker builds, lockstep partitions) delays their actors past the bound on 2 cores. `npm test` runs them in a lane
 * of their own, one file at a time, after the rest (SPLITNET_TEST_LANE=alone); every other file runs in the shared lane
 * (SPLITNET_TEST_LANE=shared). Without the variable (`npx ava <file>` by hand) every file is selectable.
 */
const ALONE = ['live-agreement', 'docker-agreement'];

const lane = process.env.SPLITNET_TEST_LANE;
const aloneFiles = ALONE.map((name) => `test/dist/e2e/${name}.test.js`);

export default {
  files:
    lane === 'alone'
      ? aloneFiles
      : ['packages/*/dist/test/**/*.test.js', 'test/dist/**/*.test.js', ...(lane === 'shared' ? aloneFiles.map((f) => `!${f}`) : [])],
  timeout: '120s',
  workerThreads: false,
  // Two test files at a time on the 2-core CI machine: most e2e files spend their time waiting on wall-clock live
  // runs (TDF 100–4000) and docker, so a second file fills the idle core. The live tests' lag bounds are set for a
  // load average of 12 (test/e2e/live-helpers.ts); the files that need a quiet machine run alone (ALONE).
  concurrency: lane === 'alone' ? 1 : 2,
  sortTestFiles: (a, b) => rank(a) - rank(b) || a.localeCompare(b, [], { numeric: true }),
  require: ['./test/dist/support/temp-root.js', './test/dist/support/reap-servers.js'],
};
