import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { copyImage, listFiles, tempDir } from '../../../test/helpers/layout.ts';
import { randomImage, randomIndex, writeLayout } from '../../../test/helpers/random-image.ts';
import { digestHex } from '../../digest/digest.ts';
import { isVouchError } from '../../errors.ts';
import { Annotation, type Descriptor, type ImageIndex } from '../../oci/types.ts';
import { isLayoutDirectory, openLayoutDestination } from './destination.ts';
import { openLayoutSource } from './source.ts';

const once = (bytes: Uint8Array) => async () =>
  (async function* () {
    yield bytes;
  })();

async function readIndex(dir: string): Promise<ImageIndex> {
  return JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
}

test('round trip layout → layout keeps every byte and digest', async () => {
  await using a = await tempDir('dst-a');
  await using b = await tempDir('dst-b');
  const idx = await randomIndex(undefined, { compression: 'zstd' });
  await writeLayout(a.path, [{ descriptor: idx.descriptor, tag: 'v1' }], idx.blobs);
  const out = join(b.path, 'new', 'layout');
  const dst = await openLayoutDestination(out, { tag: 'copy' });
  assert.deepEqual(dst.capabilities, { index: true });
  assert.equal(dst.name, `oci:${out}:copy`);
  const root = await copyImage(await openLayoutSource(a.path, { tag: 'v1' }), dst);
  await dst.close();
  assert.equal(root.digest, idx.descriptor.digest);
  // every blob byte-identical, nothing else besides the metadata files
  const want = [...idx.blobs.keys()].map((d) => `blobs/sha256/${digestHex(d)}`);
  assert.deepEqual(await listFiles(out), [...want, 'index.json', 'oci-layout'].sort());
  for (const [d, bytes] of idx.blobs) {
    assert.deepEqual(await readFile(join(out, 'blobs', 'sha256', digestHex(d))), Buffer.from(bytes));
  }
  assert.equal(await readFile(join(out, 'oci-layout'), 'utf8'), '{"imageLayoutVersion":"1.0.0"}');
  const index = await readIndex(out);
  assert.equal(index.manifests.length, 1);
  assert.deepEqual(index.manifests[0], {
    mediaType: idx.descriptor.mediaType,
    digest: idx.descriptor.digest,
    size: idx.descriptor.size,
    annotations: { [Annotation.RefName]: 'copy' },
  });
  assert.equal(
    (await (await openLayoutSource(out, { tag: 'copy' })).resolve()).digest,
    idx.descriptor.digest,
  );
  assert.ok(await isLayoutDirectory(out));
  assert.ok(!(await isLayoutDirectory(b.path)));
});

test('a corrupt putBlob stream leaves no file at the final path and no temp', async () => {
  await using tmp = await tempDir('dst-corrupt');
  const img = await randomImage();
  const dst = await openLayoutDestination(tmp.path, { tag: 'v1' });
  const layer = img.layers[0]!;
  const bytes = Buffer.from(img.blobs.get(layer.digest)!);
  const bad = Buffer.from(bytes);
  bad[10]! ^= 1;
  await assert.rejects(dst.putBlob(layer, once(bad)), (e) => isVouchError(e, 'DIGEST_MISMATCH'));
  await assert.rejects(dst.putBlob(layer, once(bytes.subarray(1))), (e) => isVouchError(e, 'SIZE_MISMATCH'));
  await assert.rejects(dst.putBlob(layer, once(Buffer.concat([bytes, bytes]))), (e) =>
    isVouchError(e, 'SIZE_MISMATCH'),
  );
  assert.equal(await dst.hasBlob(layer), false);
  assert.deepEqual(await listFiles(tmp.path), ['index.json', 'oci-layout']);
  // a bad manifest is refused before anything is written
  const m = Buffer.from(img.manifest);
  m[m.length - 2] = 0x20;
  await assert.rejects(dst.putManifest(img.descriptor, m), (e) => isVouchError(e, 'DIGEST_MISMATCH'));
  assert.deepEqual(await listFiles(tmp.path), ['index.json', 'oci-layout']);
  // committing a root that was never written fails and leaves index.json alone
  await assert.rejects(
    dst.commit(img.descriptor),
    (e) => isVouchError(e, 'BLOB_UNKNOWN') && e.message.includes(img.descriptor.digest),
  );
  assert.deepEqual((await readIndex(tmp.path)).manifests, []);
});

test('concurrent writers of the same blob are safe', async () => {
  await using tmp = await tempDir('dst-conc');
  const img = await randomImage();
  const dst = await openLayoutDestination(tmp.path);
  const layer = img.layers[1]!;
  const bytes = img.blobs.get(layer.digest)!;
  await Promise.all(Array.from({ length: 8 }, () => dst.putBlob(layer, once(bytes))));
  assert.ok(await dst.hasBlob(layer));
  assert.equal(await dst.hasBlob({ ...layer, size: layer.size + 1 }), false);
  assert.deepEqual(
    await readFile(join(tmp.path, 'blobs', 'sha256', digestHex(layer.digest))),
    Buffer.from(bytes),
  );
  assert.deepEqual(await listFiles(tmp.path), [
    `blobs/sha256/${digestHex(layer.digest)}`,
    'index.json',
    'oci-layout',
  ]);
});

async function writeImage(
  dir: string,
  tag: string | undefined,
  img: Awaited<ReturnType<typeof randomImage>>,
) {
  const dst = await openLayoutDestination(dir, tag === undefined ? {} : { tag });
  for (const [d, bytes] of img.blobs) {
    if (d === img.descriptor.digest) continue;
    await dst.putBlob({ mediaType: 'x', digest: d, size: bytes.length }, once(bytes));
  }
  await dst.putManifest(img.descriptor, img.manifest);
  await dst.commit(img.descriptor);
  await dst.close();
}

test('commit replaces an entry with the same tag and keeps the others', async () => {
  await using tmp = await tempDir('dst-commit');
  const [a, b, c] = [await randomImage(), await randomImage(), await randomImage()];
  await writeImage(tmp.path, 'v1', a);
  await writeImage(tmp.path, 'v2', b);
  await writeImage(tmp.path, 'v1', c);
  const index = await readIndex(tmp.path);
  assert.deepEqual(
    index.manifests.map((d) => [d.annotations?.[Annotation.RefName], d.digest]),
    [
      ['v1', c.descriptor.digest],
      ['v2', b.descriptor.digest],
    ],
  );
  // the platform of the committed descriptor is kept; nothing else invented
  assert.deepEqual(index.manifests[0]!.platform, c.descriptor.platform);
});

test('untagged commits add a descriptor once, and never copy a stale ref.name', async () => {
  await using tmp = await tempDir('dst-untagged');
  const a = await randomImage();
  const b = await randomImage();
  await writeImage(tmp.path, 'v1', a);
  await writeImage(tmp.path, undefined, a); // already present (tagged): no new entry
  await writeImage(tmp.path, undefined, b);
  await writeImage(tmp.path, undefined, b);
  const dst = await openLayoutDestination(tmp.path);
  const withName: Descriptor = {
    ...b.descriptor,
    annotations: { [Annotation.RefName]: 'from-elsewhere', k: 'v' },
  };
  const c = await randomImage();
  for (const [d, bytes] of c.blobs)
    await dst.putBlob({ mediaType: 'x', digest: d, size: bytes.length }, once(bytes));
  await dst.commit({ ...withName, digest: c.descriptor.digest, size: c.descriptor.size });
  const index = await readIndex(tmp.path);
  assert.deepEqual(
    index.manifests.map((d) => d.digest),
    [a.descriptor.digest, b.descriptor.digest, c.descriptor.digest],
  );
  assert.deepEqual(index.manifests[2]!.annotations, { k: 'v' });
});

test('an existing layout is kept; a non-layout directory with files is refused', async () => {
  await using tmp = await tempDir('dst-existing');
  const a = await randomImage();
  await writeLayout(tmp.path, [{ descriptor: a.descriptor, tag: 'old' }], a.blobs);
  const b = await randomImage();
  await writeImage(tmp.path, 'new', b);
  const src = await openLayoutSource(tmp.path, { tag: 'old' });
  assert.equal((await src.resolve()).digest, a.descriptor.digest);
  assert.equal(
    (await (await openLayoutSource(tmp.path, { tag: 'new' })).resolve()).digest,
    b.descriptor.digest,
  );

  const junk = join(tmp.path, 'junk');
  await mkdir(junk);
  await writeFile(join(junk, 'notes.txt'), 'mine');
  await assert.rejects(
    openLayoutDestination(junk),
    (e) => isVouchError(e, 'LAYOUT_INVALID') && e.message.includes('refusing to write'),
  );
  assert.deepEqual(await listFiles(junk), ['notes.txt']);

  const badVersion = join(tmp.path, 'v2');
  await mkdir(badVersion);
  await writeFile(join(badVersion, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
  await assert.rejects(openLayoutDestination(badVersion), (e) => isVouchError(e, 'LAYOUT_INVALID'));
});

test('an aborted signal stops putBlob with ABORTED and leaves nothing', async () => {
  await using tmp = await tempDir('dst-abort');
  const img = await randomImage();
  const dst = await openLayoutDestination(tmp.path);
  const layer = img.layers[0]!;
  const bytes = img.blobs.get(layer.digest)!;
  const ac = new AbortController();
  const open = async () =>
    (async function* () {
      yield bytes.subarray(0, 10);
      ac.abort();
      yield bytes.subarray(10);
    })();
  await assert.rejects(dst.putBlob(layer, open, { signal: ac.signal }), (e) => isVouchError(e, 'ABORTED'));
  assert.deepEqual(await listFiles(tmp.path), ['index.json', 'oci-layout']);
  await dst.close();
  await assert.rejects(dst.hasBlob(layer), (e) => isVouchError(e, 'INTERNAL'));
});
