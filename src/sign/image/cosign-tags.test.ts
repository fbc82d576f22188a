import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { randomImage, writeLayout } from '../../../test/helpers/random-image.ts';
import { type Digest, digestOf } from '../../digest/digest.ts';
import { isVouchError } from '../../errors.ts';
import { parseManifest } from '../../oci/manifest.ts';
import { MediaType } from '../../oci/media-types.ts';
import type { ImageManifest } from '../../oci/types.ts';
import { appendAttachment, cosignTag, goTime, readAttachments, signaturesConfig } from './cosign-tags.ts';
import { LayoutStore } from './layout-store.ts';

let dir: string;
let store: LayoutStore;
let image: Digest;
const NOW = new Date('2025-06-01T10:20:30.120Z');

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-cosign-tags-'));
  const img = await randomImage({ layerCount: 1 });
  await writeLayout(dir, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  image = img.descriptor.digest;
  store = new LayoutStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const layer = (text: string, sig: string) => ({
  mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
  payload: Buffer.from(text),
  annotations: { 'dev.cosignproject.cosign/signature': sig },
});

test('tags are <alg>-<hex>.<kind>', () => {
  assert.equal(cosignTag(image, 'sig'), `sha256-${image.slice(7)}.sig`);
  assert.equal(cosignTag(image, 'att'), `sha256-${image.slice(7)}.att`);
});

test("goTime writes Go's RFC3339Nano (no trailing zeros, none for whole seconds)", () => {
  assert.equal(goTime(NOW), '2025-06-01T10:20:30.12Z');
  assert.equal(goTime(new Date('2025-06-01T10:20:30.000Z')), '2025-06-01T10:20:30Z');
  assert.equal(goTime(new Date('2025-06-01T10:20:30.007Z')), '2025-06-01T10:20:30.007Z');
});

test('the first signature creates the manifest; later ones are appended with a config to match', async () => {
  assert.equal(await readAttachments(store, image, 'sig'), undefined);
  const first = await appendAttachment(store, image, 'sig', layer('one', 'c2lnMQ=='), { now: NOW });
  assert.equal(first.added, true);
  assert.equal(first.tag, cosignTag(image, 'sig'));
  const second = await appendAttachment(store, image, 'sig', layer('two', 'c2lnMg=='), { now: NOW });
  assert.notEqual(second.manifest.digest, first.manifest.digest);

  const got = await readAttachments(store, image, 'sig');
  assert.deepEqual(
    got?.layers.map((l) => [l.digest, l.annotations]),
    [
      [digestOf('one'), { 'dev.cosignproject.cosign/signature': 'c2lnMQ==' }],
      [digestOf('two'), { 'dev.cosignproject.cosign/signature': 'c2lnMg==' }],
    ],
  );
  const manifest = (parseManifest(got!.manifest.bytes) as { manifest: ImageManifest }).manifest;
  assert.equal(manifest.mediaType, MediaType.OciManifest);
  const config = Buffer.from(await store.readBlob(manifest.config, 1 << 20)).toString();
  assert.equal(
    config,
    `{"architecture":"","created":"2025-06-01T10:20:30.12Z","history":[{"created":"0001-01-01T00:00:00Z"},{"created":"0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":["${digestOf('one')}","${digestOf('two')}"]},"config":{}}`,
  );
  assert.deepEqual(
    Buffer.from(signaturesConfig(manifest.layers, '2025-06-01T10:20:30.12Z')),
    Buffer.from(config),
  );
});

test('an identical layer is not added twice; a custom duplicate check can see the stored bytes', async () => {
  await appendAttachment(store, image, 'sig', layer('one', 'c2lnMQ=='));
  const again = await appendAttachment(store, image, 'sig', layer('one', 'c2lnMQ=='));
  assert.equal(again.added, false);
  const otherSig = await appendAttachment(store, image, 'sig', layer('one', 'b3RoZXI='));
  assert.equal(otherSig.added, true, 'same payload, other signature: a new layer by default');
  const seen: string[] = [];
  const custom = await appendAttachment(store, image, 'sig', layer('three', 'eA=='), {
    isDuplicate: async (_d, read) => {
      seen.push(Buffer.from(await read()).toString());
      return false;
    },
  });
  assert.equal(custom.added, true);
  assert.deepEqual(seen, ['one', 'one']);
  assert.equal((await readAttachments(store, image, 'sig'))?.layers.length, 3);
});

test('a manifest another tool started with Docker media types keeps them; an index at the tag is refused', async () => {
  const tag = cosignTag(image, 'sig');
  const cfg = Buffer.from('{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]},"config":{}}');
  const cfgDesc = { mediaType: MediaType.DockerConfig, digest: digestOf(cfg), size: cfg.byteLength };
  await store.putBlob(cfgDesc, cfg);
  const docker = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.DockerManifest, config: cfgDesc, layers: [] }),
  );
  await store.putManifest(docker, MediaType.DockerManifest, tag);
  const r = await appendAttachment(store, image, 'sig', layer('one', 'c2lnMQ=='));
  assert.equal(r.manifest.mediaType, MediaType.DockerManifest);
  const got = await readAttachments(store, image, 'sig');
  const m = (parseManifest(got!.manifest.bytes) as { manifest: ImageManifest }).manifest;
  assert.equal(m.config.mediaType, MediaType.DockerConfig);

  const index = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }),
  );
  await store.putManifest(index, MediaType.OciIndex, cosignTag(image, 'att'));
  await assert.rejects(readAttachments(store, image, 'att'), (e) => isVouchError(e, 'MANIFEST_INVALID'));
});
