import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type MiniRegistry, startMiniRegistry } from '../../test/helpers/http-server.ts';
import { randomIndex } from '../../test/helpers/random-image.ts';
import { digestOf } from '../digest/digest.ts';
import { isVouchError } from '../errors.ts';
import type { Reference } from '../oci/reference.ts';
import { openRegistryDestination, openRegistrySource } from './source.ts';

async function* stream(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* parts;
}

const opts = { retry: { attempts: 2, baseDelayMs: 5 } };

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

async function pushIndex(reg: MiniRegistry, ref: Reference) {
  const idx = await randomIndex();
  const dst = await openRegistryDestination(ref, opts);
  for (const img of idx.images) {
    for (const d of [...img.layers, img.configDescriptor]) {
      await dst.putBlob(d, async () => stream(img.blobs.get(d.digest)!));
    }
    await dst.putManifest(img.descriptor, img.manifest);
  }
  await dst.putManifest(idx.descriptor, idx.index);
  assert.equal(reg.manifests.has(`${ref.repository}@${ref.tag}`), false, 'no tag before commit');
  await dst.commit(idx.descriptor);
  await dst.close();
  return idx;
}

test('destination: manifests go by digest, the tag only at commit; source reads it all back verified', async () => {
  const reg = await startMiniRegistry();
  try {
    const ref: Reference = { registry: reg.host, repository: 'team/app', tag: 'v1' };
    const idx = await pushIndex(reg, ref);
    assert.deepEqual(reg.manifests.get('team/app@v1')?.bytes, Buffer.from(idx.index));

    const src = await openRegistrySource(ref, opts);
    assert.equal(src.name, `docker://${reg.host}/team/app:v1`);
    const root = await src.resolve();
    assert.equal(root.digest, idx.descriptor.digest);
    const gets = () => reg.requests.filter((r) => r.method === 'GET' && r.url.includes('/manifests/')).length;
    const before = gets();
    assert.deepEqual(Buffer.from(await src.getManifest(root)), Buffer.from(idx.index));
    assert.equal(gets(), before, 'the root manifest is not fetched twice');
    for (const img of idx.images) {
      assert.deepEqual(Buffer.from(await src.getManifest(img.descriptor)), Buffer.from(img.manifest));
      for (const l of img.layers)
        assert.deepEqual(await collect(await src.openBlob(l)), Buffer.from(img.blobs.get(l.digest)!));
    }
    await assert.rejects(src.getManifest({ ...root, size: root.size + 1 }), (e) =>
      isVouchError(e, 'SIZE_MISMATCH'),
    );
    await src.close();
  } finally {
    await reg.close();
  }
});

test('commit: a pinned digest must match; a digest-only reference only checks presence', async () => {
  const reg = await startMiniRegistry();
  try {
    const base: Reference = { registry: reg.host, repository: 'team/app', tag: 'v1' };
    const idx = await pushIndex(reg, base);
    const pinned = await openRegistryDestination(
      { ...base, tag: undefined, digest: digestOf('other') },
      opts,
    );
    await assert.rejects(pinned.commit(idx.descriptor), (e) => isVouchError(e, 'DIGEST_MISMATCH'));
    const byDigest = await openRegistryDestination(
      { registry: reg.host, repository: 'team/app', digest: idx.descriptor.digest },
      opts,
    );
    await byDigest.commit(idx.descriptor);
    const missing = await openRegistryDestination(
      { registry: reg.host, repository: 'team/other', digest: idx.descriptor.digest },
      opts,
    );
    await assert.rejects(missing.commit(idx.descriptor), (e) => isVouchError(e, 'MANIFEST_UNKNOWN'));
    // A new tag for a root pushed earlier: fetched back from the registry, then tagged.
    const retag = await openRegistryDestination({ ...base, tag: 'v2' }, opts);
    await retag.commit(idx.descriptor);
    assert.deepEqual(reg.manifests.get('team/app@v2')?.bytes, Buffer.from(idx.index));
    for (const d of [pinned, byDigest, missing, retag]) await d.close();
  } finally {
    await reg.close();
  }
});

test('source: an unknown tag is MANIFEST_UNKNOWN; a failed resolve can be retried', async () => {
  const reg = await startMiniRegistry();
  try {
    const ref: Reference = { registry: reg.host, repository: 'team/app', tag: 'v1' };
    const src = await openRegistrySource(ref, opts);
    await assert.rejects(src.resolve(), (e) => isVouchError(e, 'MANIFEST_UNKNOWN'));
    const idx = await pushIndex(reg, ref);
    assert.equal((await src.resolve()).digest, idx.descriptor.digest);
    await src.close();
  } finally {
    await reg.close();
  }
});
