/** Signatures stored in an OCI image layout directory: both schemes, index.json, skopeo still reads it. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isVouchError } from '../../src/errors.ts';
import type { ImageIndex } from '../../src/oci/types.ts';
import { BUNDLE_ARTIFACT_TYPE, listBundleReferrers } from '../../src/sign/image/bundle-referrer.ts';
import { cosignTag } from '../../src/sign/image/cosign-tags.ts';
import { signImage } from '../../src/sign/image/sign.ts';
import { openImageTarget } from '../../src/sign/image/target.ts';
import { verifyImageSignatures } from '../../src/verify/image.ts';
import { randomImage, writeLayout } from '../helpers/random-image.ts';
import { requireBinary } from '../helpers/registry.ts';
import { newKey, run } from './helpers.ts';

let dir: string;
const key = newKey();
const other = newKey();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-sign-layout-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('sign in a layout with both schemes, verify, and the layout stays a valid one-image layout', async () => {
  const layout = join(dir, 'one');
  const img = await randomImage({ layerCount: 2 });
  await writeLayout(layout, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  const t = await openImageTarget(`oci:${layout}:v1`);
  assert.equal(t.image.digest, img.descriptor.digest);
  assert.equal(t.repository, layout, 'no image name annotation: the directory names it');
  const tag = await signImage(t.store, t.image, t.repository, { identity: { kind: 'key', key } });
  const ref = await signImage(t.store, t.image, t.repository, {
    identity: { kind: 'key', key },
    storage: 'referrers',
  });
  assert.equal(tag.location, cosignTag(img.descriptor.digest, 'sig'));

  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as ImageIndex;
  const byTag = (n: string) =>
    index.manifests.find((d) => d.annotations?.['org.opencontainers.image.ref.name'] === n);
  assert.equal(byTag('v1')?.digest, img.descriptor.digest, 'the image entry is untouched');
  assert.equal(byTag(tag.location)?.digest, tag.manifest.digest);
  const referrer = index.manifests.find((d) => d.digest === ref.manifest.digest);
  assert.equal(referrer?.artifactType, BUNDLE_ARTIFACT_TYPE);
  assert.equal(
    referrer?.annotations?.['org.opencontainers.image.ref.name'],
    undefined,
    'referrers are untagged',
  );
  assert.deepEqual(
    (await listBundleReferrers(t.store, img.descriptor.digest)).map((d) => d.digest),
    [ref.manifest.digest],
  );

  const v = await verifyImageSignatures(t.store, t.image.digest, t.repository, {
    trust: { kind: 'key', key },
  });
  assert.deepEqual(
    v.verified.map((s) => s.scheme),
    ['referrer', 'tag'],
  );
  await assert.rejects(
    verifyImageSignatures(t.store, t.image.digest, t.repository, { trust: { kind: 'key', key: other } }),
    (e) => isVouchError(e, 'KEY_MISMATCH'),
  );

  // With attachments in index.json, `oci:DIR` still means the one image, and a digest names it too.
  const untagged = await openImageTarget(`oci:${layout}`);
  assert.equal(untagged.image.digest, img.descriptor.digest);
  const byDigest = await openImageTarget(`oci:${layout}:${img.descriptor.digest}`);
  assert.equal(byDigest.image.digest, img.descriptor.digest);
  assert.equal(byDigest.tag, undefined);
});

test('skopeo reads the signed layout image unchanged', { skip: await requireBinary('skopeo') }, async () => {
  const layout = join(dir, 'skopeo');
  const img = await randomImage({ layerCount: 1 });
  await writeLayout(layout, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  const t = await openImageTarget(`oci:${layout}:v1`);
  await signImage(t.store, t.image, t.repository, { identity: { kind: 'key', key } });
  await signImage(t.store, t.image, t.repository, { identity: { kind: 'key', key }, storage: 'referrers' });
  const { stdout } = await run('skopeo', ['inspect', '--raw', `oci:${layout}:v1`]);
  assert.equal(stdout, Buffer.from(img.manifest).toString());
  const copy = join(dir, 'skopeo-copy');
  await run('skopeo', ['copy', '-q', `oci:${layout}:v1`, `oci:${copy}:v1`]);
  const index = JSON.parse(await readFile(join(copy, 'index.json'), 'utf8')) as ImageIndex;
  assert.equal(index.manifests[0]?.digest, img.descriptor.digest);
});

test('an image name annotation in index.json gives the repository; archives cannot hold signatures', async () => {
  const layout = join(dir, 'named');
  const img = await randomImage({ layerCount: 1 });
  await writeLayout(layout, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  const raw = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as ImageIndex;
  raw.manifests[0]!.annotations = {
    ...raw.manifests[0]!.annotations,
    'io.containerd.image.name': 'docker.io/library/debian:12',
  };
  await writeFile(join(layout, 'index.json'), JSON.stringify(raw));
  const t = await openImageTarget(`oci:${layout}:v1`);
  assert.equal(t.repository, 'index.docker.io/library/debian');
  await assert.rejects(openImageTarget(`oci-archive:${join(dir, 'x.tar')}`), (e) => isVouchError(e, 'USAGE'));
  await assert.rejects(openImageTarget(`oci:${layout}:nope`), (e) => isVouchError(e, 'IMAGE_NOT_FOUND'));
});
