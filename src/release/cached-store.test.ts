import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Digest, digestOf } from '../digest/digest.ts';
import { VouchError } from '../errors.ts';
import type { Descriptor } from '../oci/types.ts';
import type { AttachmentStore, StoredManifest } from '../sign/image/store.ts';
import { CachedStore } from './cached-store.ts';

/** A store that counts what it is asked and fails the first read of blob `flaky`. */
function countingStore() {
  const calls: string[] = [];
  const bytes = new TextEncoder().encode('{}');
  const manifest: StoredManifest = {
    descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digestOf(bytes), size: 2 },
    bytes,
  };
  let flakyFailures = 1;
  const store: AttachmentStore = {
    name: 'oci:/test',
    async resolve() {
      calls.push('resolve');
      return manifest;
    },
    async getTagged(tag) {
      calls.push(`tag ${tag}`);
      return tag === 'missing' ? undefined : manifest;
    },
    async getManifest(d) {
      calls.push(`manifest ${d}`);
      return manifest;
    },
    async readBlob(desc) {
      calls.push(`blob ${desc.digest}`);
      if (desc.annotations?.flaky && flakyFailures-- > 0)
        throw new VouchError('REGISTRY_UNREACHABLE', 'flaky');
      return bytes;
    },
    async putBlob() {
      calls.push('putBlob');
    },
    async putManifest() {
      calls.push('putManifest');
      return manifest.descriptor;
    },
    async listReferrers(subject, artifactType) {
      calls.push(`referrers ${subject} ${artifactType ?? ''}`);
      return [];
    },
    async pushReferrer() {
      calls.push('pushReferrer');
      return manifest.descriptor;
    },
    async close() {
      calls.push('close');
    },
  };
  return { store, calls, manifest };
}

const D = `sha256:${'a'.repeat(64)}` as Digest;

test('each question is asked of the store once, also when asked concurrently', async () => {
  const { store, calls } = countingStore();
  const c = new CachedStore(store);
  assert.equal(c.name, 'oci:/test');
  const blob: Descriptor = { mediaType: 'x', digest: D, size: 2 };
  await Promise.all([c.getManifest(D), c.getManifest(D), c.listReferrers(D), c.listReferrers(D)]);
  await c.getTagged('sha256-a.sig');
  assert.equal(await c.getTagged('missing'), undefined);
  assert.equal(await c.getTagged('missing'), undefined, 'an absent tag is remembered as absent');
  await c.readBlob(blob, 100);
  await c.readBlob(blob, 100);
  await c.listReferrers(D, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  assert.deepEqual(calls, [
    `manifest ${D}`,
    `referrers ${D} `,
    'tag sha256-a.sig',
    'tag missing',
    `blob ${D}`,
    `referrers ${D} application/vnd.dev.sigstore.bundle.v0.3+json`,
  ]);
  await c.close();
  assert.equal(calls.at(-1), 'close');
});

test('a failed read is not remembered: the next call asks again', async () => {
  const { store, calls } = countingStore();
  const c = new CachedStore(store);
  const flaky: Descriptor = { mediaType: 'x', digest: D, size: 2, annotations: { flaky: '1' } };
  await assert.rejects(c.readBlob(flaky, 10), { code: 'REGISTRY_UNREACHABLE' });
  assert.deepEqual(await c.readBlob(flaky, 10), new TextEncoder().encode('{}'));
  assert.equal(calls.filter((x) => x.startsWith('blob')).length, 2);
});

test('writes go straight through', async () => {
  const { store, calls, manifest } = countingStore();
  const c = new CachedStore(store);
  await c.putBlob(manifest.descriptor, manifest.bytes);
  await c.putManifest(manifest.bytes, manifest.descriptor.mediaType, 'v1');
  await c.pushReferrer(manifest.bytes, manifest.descriptor.mediaType);
  await c.resolve({ tag: 'v1' });
  await c.resolve({ tag: 'v1' });
  assert.deepEqual(calls, ['putBlob', 'putManifest', 'pushReferrer', 'resolve', 'resolve']);
});
