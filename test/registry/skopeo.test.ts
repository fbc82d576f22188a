/** skopeo as the oracle: what vouch pushes skopeo reads unchanged, and the other way round. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { digestHex } from '../../src/digest/digest.ts';
import { RegistryClient } from '../../src/registry/client.ts';
import { openRegistryDestination, openRegistrySource } from '../../src/registry/source.ts';
import { randomImage, randomIndex, writeLayout } from '../helpers/random-image.ts';
import { REGISTRY_BIN, requireBinary, startRegistry, type TestRegistry } from '../helpers/registry.ts';

const run = promisify(execFile);
const skip = (await requireBinary(REGISTRY_BIN)) || (await requireBinary('skopeo'));
let reg: TestRegistry;
let dir: string;
const opts = { retry: { attempts: 3, baseDelayMs: 20 } };

before(async () => {
  if (skip) return;
  reg = await startRegistry();
  dir = await mkdtemp(join(tmpdir(), 'vouch-skopeo-'));
});
after(async () => {
  await reg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await run('skopeo', args, { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

async function* stream(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

test('an image vouch pushes is read by skopeo with the same digest and bytes', { skip }, async () => {
  const img = await randomImage({ layerCount: 2, compression: 'zstd' });
  const ref = { registry: reg.host, repository: 'oracle/pushed', tag: 'v1' };
  const dst = await openRegistryDestination(ref, opts);
  for (const d of [...img.layers, img.configDescriptor])
    await dst.putBlob(d, async () => stream(img.blobs.get(d.digest)!));
  await dst.putManifest(img.descriptor, img.manifest);
  await dst.commit(img.descriptor);
  await dst.close();

  const name = `docker://${reg.host}/oracle/pushed:v1`;
  const inspect = JSON.parse(await skopeo('inspect', '--tls-verify=false', name)) as { Digest: string };
  assert.equal(inspect.Digest, img.descriptor.digest);
  const raw = await skopeo('inspect', '--tls-verify=false', '--raw', name);
  assert.equal(raw, Buffer.from(img.manifest).toString());

  const out = join(dir, 'from-vouch');
  await skopeo('copy', '-q', '--preserve-digests', '--src-tls-verify=false', name, `oci:${out}:v1`);
  const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  assert.equal(index.manifests[0]?.digest, img.descriptor.digest);
  for (const [digest, bytes] of img.blobs) {
    assert.deepEqual(await readFile(join(out, 'blobs', 'sha256', digestHex(digest))), Buffer.from(bytes));
  }
});

test('an image skopeo pushes is pulled by vouch with identical digests and bytes', { skip }, async () => {
  const img = await randomImage({ layerCount: 2 });
  const layout = join(dir, 'to-registry');
  await writeLayout(layout, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  await skopeo(
    'copy',
    '-q',
    '--preserve-digests',
    '--dest-tls-verify=false',
    `oci:${layout}:v1`,
    `docker://${reg.host}/oracle/skopeo:v1`,
  );

  const src = await openRegistrySource({ registry: reg.host, repository: 'oracle/skopeo', tag: 'v1' }, opts);
  const root = await src.resolve();
  assert.equal(root.digest, img.descriptor.digest);
  assert.deepEqual(Buffer.from(await src.getManifest(root)), Buffer.from(img.manifest));
  for (const d of [...img.layers, img.configDescriptor]) {
    assert.deepEqual(await collect(await src.openBlob(d)), Buffer.from(img.blobs.get(d.digest)!));
  }
  await src.close();
});

test('a multi-platform index skopeo pushes (--all) resolves to the same index digest', { skip }, async () => {
  const idx = await randomIndex();
  const layout = join(dir, 'index-layout');
  await writeLayout(layout, [{ descriptor: idx.descriptor, tag: 'multi' }], idx.blobs);
  await skopeo(
    'copy',
    '-q',
    '--all',
    '--preserve-digests',
    '--dest-tls-verify=false',
    `oci:${layout}:multi`,
    `docker://${reg.host}/oracle/index:multi`,
  );
  const c = new RegistryClient(opts);
  const got = await c.getManifest({ registry: reg.host, repository: 'oracle/index', tag: 'multi' });
  assert.equal(got.descriptor.digest, idx.descriptor.digest);
  for (const img of idx.images) {
    const m = await c.getManifest({
      registry: reg.host,
      repository: 'oracle/index',
      digest: img.descriptor.digest,
    });
    assert.deepEqual(Buffer.from(m.bytes), Buffer.from(img.manifest));
  }
  await c.close();
});
