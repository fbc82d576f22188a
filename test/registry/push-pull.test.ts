/**
 * The registry client and backend against a real registry: Debian's docker-registry
 * (CNCF distribution 2.8, no Referrers API).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open as openFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { digestOf } from '../../src/digest/digest.ts';
import { isVouchError } from '../../src/errors.ts';
import { MediaType } from '../../src/oci/media-types.ts';
import type { Reference } from '../../src/oci/reference.ts';
import type { Descriptor } from '../../src/oci/types.ts';
import { RegistryClient } from '../../src/registry/client.ts';
import { listReferrers, pushReferrer, referrersTag } from '../../src/registry/referrers.ts';
import { openRegistryDestination, openRegistrySource } from '../../src/registry/source.ts';
import type { ImageDestination } from '../../src/source/types.ts';
import { type BuiltImage, randomImage, randomIndex } from '../helpers/random-image.ts';
import {
  accessLog,
  blobDataPath,
  REGISTRY_BIN,
  requireBinary,
  startRegistry,
  type TestRegistry,
} from '../helpers/registry.ts';

const skip = await requireBinary(REGISTRY_BIN);
let reg: TestRegistry;
const opts = { retry: { attempts: 3, baseDelayMs: 20 } };

before(async () => {
  if (!skip) reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
});

async function* stream(b: Uint8Array, piece = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < b.byteLength; i += piece) yield b.subarray(i, i + piece);
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

async function pushImage(dst: ImageDestination, img: BuiltImage): Promise<void> {
  for (const d of [...img.layers, img.configDescriptor]) {
    const bytes = img.blobs.get(d.digest)!;
    await dst.putBlob(d, async () => stream(bytes));
  }
  await dst.putManifest(img.descriptor, img.manifest);
}

const ref = (repository: string, tag?: string): Reference => ({
  registry: reg.host,
  repository,
  ...(tag ? { tag } : {}),
});

test('push an image, pull it back byte-identical', { skip }, async () => {
  const img = await randomImage({ layerCount: 3 });
  const dst = await openRegistryDestination(ref('it/image', 'v1'), opts);
  await pushImage(dst, img);
  await dst.commit(img.descriptor);
  await dst.close();

  const src = await openRegistrySource(ref('it/image', 'v1'), opts);
  const root = await src.resolve();
  assert.equal(root.digest, img.descriptor.digest);
  assert.equal(root.mediaType, MediaType.OciManifest);
  assert.deepEqual(Buffer.from(await src.getManifest(root)), Buffer.from(img.manifest));
  for (const [digest, bytes] of img.blobs) {
    if (digest === img.descriptor.digest) continue;
    const d = [...img.layers, img.configDescriptor].find((x) => x.digest === digest)!;
    assert.deepEqual(await collect(await src.openBlob(d)), Buffer.from(bytes));
  }
  await src.close();
});

test('push a multi-platform index (docker flavour) and read every child back', { skip }, async () => {
  const idx = await randomIndex(undefined, { flavour: 'docker' });
  const dst = await openRegistryDestination(ref('it/index', 'multi'), opts);
  await Promise.all(idx.images.map((img) => pushImage(dst, img)));
  await dst.putManifest(idx.descriptor, idx.index);
  await dst.commit(idx.descriptor);
  await dst.close();
  const c = new RegistryClient(opts);
  const got = await c.getManifest(ref('it/index', 'multi'));
  assert.equal(got.mediaType, MediaType.DockerManifestList);
  assert.deepEqual(Buffer.from(got.bytes), Buffer.from(idx.index));
  for (const img of idx.images) {
    const m = await c.getManifest({ ...ref('it/index'), digest: img.descriptor.digest });
    assert.equal(m.mediaType, MediaType.DockerManifest);
  }
  assert.deepEqual(await c.listTags(ref('it/index')), ['multi']);
  await c.close();
});

test('a multi-MiB blob goes up in chunks with a small chunkSize', { skip }, async () => {
  const bytes = randomBytes(5 * 1024 * 1024 + 17);
  const desc: Descriptor = { mediaType: MediaType.OciLayer, digest: digestOf(bytes), size: bytes.length };
  const c = new RegistryClient({ ...opts, chunkSize: 1024 * 1024 });
  assert.equal(await c.putBlob(ref('it/chunked'), desc, async () => stream(bytes)), 'uploaded');
  assert.deepEqual(await collect(await c.getBlob(ref('it/chunked'), desc.digest, desc.size)), bytes);
  await c.close();
  const patches = (await accessLog(reg.logFile)).filter(
    (e) => e.method === 'PATCH' && e.url.includes('/it/chunked/'),
  );
  assert.equal(patches.length, 6);
  assert.ok(patches.every((p) => p.status === 202));
});

test('cross-repository mount: no content is uploaded again', { skip }, async () => {
  const img = await randomImage();
  const first = await openRegistryDestination(ref('it/mount-src', 'v1'), opts);
  await pushImage(first, img);
  await first.commit(img.descriptor);
  await first.close();
  const dst = await openRegistryDestination(ref('it/mount-dst', 'v1'), opts);
  for (const d of [...img.layers, img.configDescriptor]) {
    await dst.putBlob(
      d,
      async () => {
        throw new Error('should have been mounted, not read');
      },
      { mountFrom: { registry: reg.host, repository: 'it/mount-src' } },
    );
  }
  await dst.putManifest(img.descriptor, img.manifest);
  await dst.commit(img.descriptor);
  await dst.close();
  const log = (await accessLog(reg.logFile)).filter((e) =>
    e.url.startsWith('/v2/it/mount-dst/blobs/uploads/'),
  );
  assert.equal(log.length, 3);
  assert.ok(
    log.every((e) => e.method === 'POST' && e.status === 201 && /mount=.*from=it%2Fmount-src/.test(e.url)),
  );
});

test('a blob tampered with in the registry storage fails with DIGEST_MISMATCH', { skip }, async () => {
  const img = await randomImage({ layerCount: 1 });
  const dst = await openRegistryDestination(ref('it/tamper', 'v1'), opts);
  await pushImage(dst, img);
  await dst.commit(img.descriptor);
  await dst.close();
  const layer = img.layers[0]!;
  const fh = await openFile(blobDataPath(reg.storageDir, layer.digest), 'r+');
  const one = Buffer.alloc(1);
  await fh.read(one, 0, 1, 100);
  one[0] = (one[0] ?? 0) ^ 0xff;
  await fh.write(one, 0, 1, 100);
  await fh.close();
  const src = await openRegistrySource(ref('it/tamper', 'v1'), opts);
  await src.resolve();
  await assert.rejects(collect(await src.openBlob(layer)), (e) => {
    assert.ok(isVouchError(e, 'DIGEST_MISMATCH'));
    assert.match(e.message, new RegExp(layer.digest));
    return true;
  });
  await src.close();
});

test('referrers on registry 2.8 fall back to the sha256-<hex> tag index', { skip }, async () => {
  const img = await randomImage({ layerCount: 1 });
  const dst = await openRegistryDestination(ref('it/refs', 'v1'), opts);
  await pushImage(dst, img);
  await dst.commit(img.descriptor);
  await dst.close();
  const c = new RegistryClient(opts);
  const empty = new TextEncoder().encode('{}');
  const emptyDesc: Descriptor = { mediaType: MediaType.OciEmpty, digest: digestOf(empty), size: 2 };
  await c.putBlob(ref('it/refs'), emptyDesc, async () => stream(empty));
  const subject = {
    mediaType: img.descriptor.mediaType,
    digest: img.descriptor.digest,
    size: img.descriptor.size,
  };
  const make = (artifactType: string) =>
    new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType,
        config: emptyDesc,
        layers: [emptyDesc],
        subject,
        annotations: { 'org.example.kind': artifactType },
      }),
    );
  const sig = await pushReferrer(
    c,
    ref('it/refs'),
    make('application/vnd.example.sig'),
    MediaType.OciManifest,
  );
  const sbom = await pushReferrer(
    c,
    ref('it/refs'),
    make('application/vnd.example.sbom'),
    MediaType.OciManifest,
  );
  assert.equal(sig.fallbackTag, referrersTag(img.descriptor.digest));
  const all = await listReferrers(c, ref('it/refs'), img.descriptor.digest);
  assert.deepEqual(
    all.map((d) => [d.digest, d.artifactType]),
    [
      [sig.digest, 'application/vnd.example.sig'],
      [sbom.digest, 'application/vnd.example.sbom'],
    ],
  );
  const onlySbom = await listReferrers(c, ref('it/refs'), img.descriptor.digest, {
    artifactType: 'application/vnd.example.sbom',
  });
  assert.deepEqual(
    onlySbom.map((d) => d.digest),
    [sbom.digest],
  );
  assert.deepEqual(onlySbom[0]?.annotations, { 'org.example.kind': 'application/vnd.example.sbom' });
  const src = await openRegistrySource(ref('it/refs', 'v1'), opts);
  assert.equal((await src.listReferrers!(subject)).length, 2);
  await src.close();
  assert.ok((await c.listTags(ref('it/refs'))).includes(referrersTag(img.descriptor.digest)));
  await c.close();
});

test('delete a manifest by digest; it is then MANIFEST_UNKNOWN', { skip }, async () => {
  const img = await randomImage({ layerCount: 1 });
  const dst = await openRegistryDestination(ref('it/delete', 'v1'), opts);
  await pushImage(dst, img);
  await dst.commit(img.descriptor);
  await dst.close();
  const c = new RegistryClient(opts);
  const byDigest = { ...ref('it/delete'), digest: img.descriptor.digest };
  assert.ok(await c.headManifest(byDigest));
  await c.deleteManifest(byDigest);
  assert.equal(await c.headManifest(byDigest), undefined);
  await assert.rejects(c.getManifest(ref('it/delete', 'v1')), (e) => isVouchError(e, 'MANIFEST_UNKNOWN'));
  await c.close();
});
