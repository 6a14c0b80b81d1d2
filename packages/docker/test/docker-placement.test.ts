// The docker placement's checks of its options, which fail before any engine is contacted (no Docker needed).
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SplitnetError } from '@splitnet/model';
import type { Logger } from '@splitnet/model';
import { DockerPlacement, cleanupAll } from '../src/index.js';
import type { DockerPlacementOptions } from '../src/index.js';

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const base: DockerPlacementOptions = { runId: 'unit', image: 'splitnet', natsImage: 'nats', logger: quiet };

function refused(t: import('ava').ExecutionContext, o: Partial<DockerPlacementOptions>, message: RegExp): void {
  const err = t.throws(() => new DockerPlacement({ ...base, ...o }), { instanceOf: SplitnetError });
  t.is(err?.code, 'E_USAGE');
  t.regex(err?.message ?? '', message);
}

test('docker placement - an endpoint that is neither unix:// nor tcp://host:port is named', (t) => {
  refused(t, { endpoints: ['unix:///var/run/docker.sock', 'http://10.0.0.2:2375'] }, /--docker-host: expected unix:\/\/\/path or tcp:\/\/host:port, found "http:\/\/10\.0\.0\.2:2375"/);
  refused(t, { endpoints: ['tcp://10.0.0.2:99999'] }, /found "tcp:\/\/10\.0\.0\.2:99999"/);
});

test('docker placement - --docker-nodes with several engines is refused: each engine is one node', (t) => {
  refused(t, { endpoints: ['tcp://10.0.0.2:2376', 'tcp://10.0.0.3:2376'], nodes: 2 }, /--docker-nodes 2 emulates nodes on one engine; with 2 --docker-host engines each engine is one node/);
});

test('docker placement - --docker-advertise needs one address per engine', (t) => {
  refused(t, { endpoints: ['tcp://10.0.0.2:2376', 'tcp://10.0.0.3:2376'], advertise: ['10.0.0.2'] }, /give one address per --docker-host, in the same order \(2 engine\(s\), 1 address\(es\)\)/);
});

test('docker placement - several engines, IPv6 included, are accepted as nodes', (t) => {
  const p = new DockerPlacement({ ...base, endpoints: ['unix:///var/run/docker.sock', 'tcp://[fd00::2]:2376', 'tcp://host-b:2376'] });
  t.is(p.nodeCount, 3);
  t.is(new DockerPlacement({ ...base, nodes: 4 }).nodeCount, 4);
});

test.serial('docker placement - TLS asked for by DOCKER_CERT_PATH with no certificates there is named', (t) => {
  const saved = process.env['DOCKER_CERT_PATH'];
  process.env['DOCKER_CERT_PATH'] = mkdtempSync(join(tmpdir(), 'splitnet-certs-'));
  t.teardown(() => {
    if (saved === undefined) delete process.env['DOCKER_CERT_PATH'];
    else process.env['DOCKER_CERT_PATH'] = saved;
  });
  refused(t, { endpoints: ['tcp://10.0.0.2:2376'] }, /--docker-host tcp:\/\/10\.0\.0\.2:2376: TLS asked for .* but .*ca\.pem cannot be read/);
});

test('docker placement - cleanup checks every URL before it touches an engine', async (t) => {
  const err = await t.throwsAsync(cleanupAll(['unix:///nonexistent.sock', 'ftp://x']), { instanceOf: SplitnetError });
  t.regex(err?.message ?? '', /found "ftp:\/\/x"/);
});
