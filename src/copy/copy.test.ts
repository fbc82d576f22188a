import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { drain, tempDir } from '../../test/helpers/layout.ts';
import { randomImage, randomIndex, writeLayout } from '../../test/helpers/random-image.ts';
import { digestHex } from '../digest/digest.ts';
import { isVouchError } from '../errors.ts';
import { fetchManifest, loadImage } from '../image/image.ts';
import { MediaType } from '../oci/media-types.ts';
import { openLayoutDestination, openLayoutSource } from '../source/layout/layout.ts';
import { copyImage } from './copy.ts';

test('copying an index between layouts keeps every digest and byte', async () => {
  await using a = await tempDir('copy-a');
  await using b = await tempDir('copy-b');
  const idx = await randomIndex();
  await writeLayout(a.path, [{ descriptor: idx.descriptor, tag: 'v1' }], idx.blobs);
  const src = await openLayoutSource(a.path, { tag: 'v1' });
  const dst = await openLayoutDestination(b.path, { tag: 'v2' });
  const r = await copyImage(src, dst);
  assert.equal(r.descriptor.digest, idx.descriptor.digest);
  assert.equal(r.images.length, 2);
  for (const [d, bytes] of idx.blobs) {
    assert.deepEqual(await readFile(join(b.path, 'blobs', 'sha256', digestHex(d))), Buffer.from(bytes));
  }
  const back = await openLayoutSource(b.path, { tag: 'v2' });
  assert.equal((await back.resolve()).digest, idx.descriptor.digest);
});

test('--platform picks one image out of an index', async () => {
  await using a = await tempDir('copy-a');
  await using b = await tempDir('copy-b');
  const idx = await randomIndex();
  await writeLayout(a.path, [{ descriptor: idx.descriptor, tag: 'v1' }], idx.blobs);
  const r = await copyImage(
    await openLayoutSource(a.path, { tag: 'v1' }),
    await openLayoutDestination(b.path, { tag: 'arm' }),
    { platform: { os: 'linux', architecture: 'arm64' } },
  );
  assert.equal(r.descriptor.digest, idx.images[1]!.descriptor.digest);
  const back = await openLayoutSource(b.path, { tag: 'arm' });
  assert.equal((await back.resolve()).digest, idx.images[1]!.descriptor.digest);
});

test('converting to docker format and zstd keeps the config and layer contents', async () => {
  await using a = await tempDir('copy-a');
  await using b = await tempDir('copy-b');
  const img = await randomImage({ layerCount: 3 });
  await writeLayout(a.path, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  const r = await copyImage(
    await openLayoutSource(a.path, { tag: 'v1' }),
    await openLayoutDestination(b.path, { tag: 'z' }),
    { format: 'docker', compression: 'zstd' },
  );
  assert.notEqual(r.descriptor.digest, img.descriptor.digest);
  assert.equal(r.descriptor.mediaType, MediaType.DockerManifest);
  const src = await openLayoutSource(b.path, { tag: 'z' });
  const resolved = await fetchManifest(src, await src.resolve());
  assert.equal(resolved.kind, 'image');
  if (resolved.kind !== 'image') return;
  const image = await loadImage(src, resolved);
  assert.equal(image.manifest.config.digest, img.configDescriptor.digest);
  assert.deepEqual(image.config.rootfs.diff_ids, img.diffIds);
  for (const l of image.layers) {
    assert.equal(l.descriptor.mediaType, MediaType.DockerLayerZstd);
    await drain(await l.openUncompressed()); // verifies the diff_id
  }
});

test('a failed copy leaves no tag in the destination', async () => {
  await using a = await tempDir('copy-a');
  await using b = await tempDir('copy-b');
  const img = await randomImage({ layerCount: 2 });
  await writeLayout(a.path, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  const victim = join(a.path, 'blobs', 'sha256', digestHex(img.layers[1]!.digest));
  const bytes = await readFile(victim);
  bytes[bytes.length - 5]! ^= 0xff;
  await writeFile(victim, bytes);
  await assert.rejects(
    copyImage(
      await openLayoutSource(a.path, { tag: 'v1' }),
      await openLayoutDestination(b.path, { tag: 'v1' }),
    ),
    (e) => isVouchError(e, 'DIGEST_MISMATCH') && (e as Error).message.includes(img.layers[1]!.digest),
  );
  const index = JSON.parse(await readFile(join(b.path, 'index.json'), 'utf8'));
  assert.deepEqual(index.manifests, []);
});

test('a destination that cannot hold an index refuses --all', async () => {
  await using a = await tempDir('copy-a');
  await using b = await tempDir('copy-b');
  const idx = await randomIndex();
  await writeLayout(a.path, [{ descriptor: idx.descriptor, tag: 'v1' }], idx.blobs);
  const { openDockerArchiveDestination } = await import('../source/archive/docker-archive.ts');
  await assert.rejects(
    copyImage(
      await openLayoutSource(a.path, { tag: 'v1' }),
      await openDockerArchiveDestination(join(b.path, 'x.tar'), {}),
      { platform: 'all' },
    ),
    (e) => isVouchError(e, 'USAGE'),
  );
});
