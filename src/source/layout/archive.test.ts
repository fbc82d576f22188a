import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import tar from 'tar-stream';
import { copyImage, drain, tempDir } from '../../../test/helpers/layout.ts';
import { randomImage, randomIndex, writeLayout } from '../../../test/helpers/random-image.ts';
import { digestOf } from '../../digest/digest.ts';
import { isVouchError } from '../../errors.ts';
import { parseManifest } from '../../oci/manifest.ts';
import { openOciArchiveDestination, openOciArchiveSource, writeLayoutTar } from './archive.ts';
import { openLayoutSource } from './source.ts';

interface Header {
  name: string;
  mtime?: Date;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  mode?: number;
  type?: string | null;
}

/** Headers of a tar, read by tar-stream (independent of vouch's indexer). */
async function headers(file: string): Promise<Header[]> {
  const ex = tar.extract();
  const out: Header[] = [];
  ex.on('entry', (h, stream, next) => {
    out.push(h);
    stream.on('end', next);
    stream.resume();
  });
  const done = new Promise<void>((resolve, reject) => {
    ex.on('finish', () => resolve());
    ex.on('error', reject);
  });
  ex.end(await readFile(file));
  await done;
  return out;
}

test('oci-archive round trip keeps every byte; the tar is sorted and deterministic', async () => {
  await using tmp = await tempDir('archive-rt');
  const idx = await randomIndex();
  const layout = join(tmp.path, 'layout');
  await writeLayout(layout, [{ descriptor: idx.descriptor, tag: 'v1' }], idx.blobs);
  const files = [join(tmp.path, 'a.tar'), join(tmp.path, 'b.tar')];
  for (const f of files) {
    const dst = await openOciArchiveDestination(f, { tag: 'v1' });
    assert.equal(dst.name, `oci-archive:${f}:v1`);
    await copyImage(await openLayoutSource(layout, { tag: 'v1' }), dst);
    await dst.close();
  }
  const [a, b] = [await readFile(files[0]!), await readFile(files[1]!)];
  assert.equal(digestOf(a), digestOf(b), 'same image → same archive bytes');
  // no staging directories left behind
  assert.deepEqual((await readdir(tmp.path)).sort(), ['a.tar', 'b.tar', 'layout']);

  const hs = await headers(files[0]!);
  const names = hs.map((h) => h.name);
  assert.deepEqual(names, [...names].sort());
  assert.deepEqual(names.slice(0, 2), ['blobs/', 'blobs/sha256/']);
  assert.deepEqual(names.slice(-2), ['index.json', 'oci-layout']);
  for (const h of hs) {
    assert.equal(h.mtime?.getTime(), 0, h.name);
    assert.equal(h.uid, 0);
    assert.equal(h.gid, 0);
    assert.equal(h.uname, '');
    assert.equal(h.mode, h.type === 'directory' ? 0o755 : 0o644);
  }

  const src = await openOciArchiveSource(files[0]!, { tag: 'v1' });
  assert.equal(src.name, `oci-archive:${files[0]}:v1`);
  const root = await src.resolve();
  assert.equal(root.digest, idx.descriptor.digest);
  const p = parseManifest(await src.getManifest(root), root.mediaType);
  assert.equal(p.kind, 'index');
  for (const img of idx.images) {
    assert.deepEqual(await src.getManifest(img.descriptor), img.manifest);
    for (const l of [img.configDescriptor, ...img.layers]) {
      assert.deepEqual(await drain(await src.openBlob(l)), Buffer.from(idx.blobs.get(l.digest)!));
    }
  }
  await src.close();
});

test('oci-archive source reads a GNU tar of a layout (./ names) and verifies in place', async () => {
  await using tmp = await tempDir('archive-gnu');
  const img = await randomImage({ compression: 'zstd' });
  const layout = join(tmp.path, 'layout');
  await writeLayout(layout, [{ descriptor: img.descriptor, tag: 'latest' }], img.blobs);
  const file = join(tmp.path, 'gnu.tar');
  execFileSync('tar', ['-C', layout, '-cf', file, '.']);
  const src = await openOciArchiveSource(file);
  const root = await src.resolve();
  assert.equal(root.digest, img.descriptor.digest);
  const layer = img.layers[0]!;
  assert.deepEqual(await drain(await src.openBlob(layer)), Buffer.from(img.blobs.get(layer.digest)!));

  // flip one byte of the layer inside the tar: the in-place read must fail the digest check
  const bytes = await readFile(file);
  const at = bytes.indexOf(Buffer.from(img.blobs.get(layer.digest)!));
  assert.ok(at > 0);
  bytes[at + 5]! ^= 0xff;
  await writeFile(file, bytes);
  const src2 = await openOciArchiveSource(file);
  await assert.rejects(
    drain(await src2.openBlob(layer)),
    (e) => isVouchError(e, 'DIGEST_MISMATCH') && e.message.includes(layer.digest),
  );
  await assert.rejects(
    src2.openBlob({ ...layer, digest: digestOf('nothing') }),
    (e) => isVouchError(e, 'BLOB_UNKNOWN') && e.message.includes(file),
  );
});

test('gzip and zstd compressed oci-archives are read; junk and missing oci-layout are not', async () => {
  await using tmp = await tempDir('archive-compressed');
  const img = await randomImage();
  const layout = join(tmp.path, 'layout');
  await writeLayout(layout, [{ descriptor: img.descriptor }], img.blobs);
  const plain = join(tmp.path, 'plain.tar');
  await writeLayoutTar(layout, plain);
  for (const [ext, tool] of [
    ['gz', 'gzip'],
    ['zst', 'zstd'],
  ] as const) {
    const f = join(tmp.path, `img.tar.${ext}`);
    await writeFile(f, execFileSync(tool, ['-q', '-c', plain]));
    const src = await openOciArchiveSource(f);
    const root = await src.resolve();
    assert.equal(root.digest, img.descriptor.digest);
    for (const l of img.layers) {
      assert.deepEqual(await drain(await src.openBlob(l)), Buffer.from(img.blobs.get(l.digest)!));
    }
    await src.close();
  }
  const junk = join(tmp.path, 'junk.tar');
  await writeFile(junk, randomBytes(4096));
  await assert.rejects(
    openOciArchiveSource(junk),
    (e) => isVouchError(e, 'ARCHIVE_INVALID') && e.message.includes(junk),
  );
  const noMarker = join(tmp.path, 'nomarker.tar');
  execFileSync('tar', ['-C', layout, '-cf', noMarker, 'index.json', 'blobs']);
  await assert.rejects(
    openOciArchiveSource(noMarker),
    (e) =>
      isVouchError(e, 'LAYOUT_INVALID') && e.message.includes(noMarker) && e.message.includes('oci-layout'),
  );
  await assert.rejects(openOciArchiveSource(join(tmp.path, 'missing.tar')), (e) =>
    isVouchError(e, 'IO_ERROR'),
  );
});

// GNU tar is an independent writer: every format it has must read back through the layout.
for (const format of ['gnu', 'posix', 'ustar', 'v7']) {
  test(`oci-archive written by GNU tar --format=${format} is read in place`, async () => {
    await using tmp = await tempDir(`archive-${format}`);
    const idx = await randomIndex();
    const layout = join(tmp.path, 'layout');
    await writeLayout(layout, [{ descriptor: idx.descriptor, tag: 'v1' }], idx.blobs);
    const file = join(tmp.path, 'a.tar');
    execFileSync('tar', [`--format=${format}`, '-C', layout, '-cf', file, '.']);
    const src = await openOciArchiveSource(file, { tag: 'v1' });
    assert.equal((await src.resolve()).digest, idx.descriptor.digest);
    for (const [d, bytes] of idx.blobs) {
      const desc = { mediaType: 'application/octet-stream', digest: d, size: bytes.length };
      assert.deepEqual(await drain(await src.openBlob(desc)), Buffer.from(bytes));
    }
    await src.close();
  });
}

test('writing replaces an existing archive (as skopeo does); close without commit leaves it alone', async () => {
  await using tmp = await tempDir('archive-replace');
  const [a, b] = [await randomImage(), await randomImage()];
  const la = join(tmp.path, 'la');
  const lb = join(tmp.path, 'lb');
  await writeLayout(la, [{ descriptor: a.descriptor, tag: 'a' }], a.blobs);
  await writeLayout(lb, [{ descriptor: b.descriptor, tag: 'b' }], b.blobs);
  const file = join(tmp.path, 'out.tar');
  for (const [layout, tag] of [
    [la, 'a'],
    [lb, 'b'],
  ] as const) {
    const dst = await openOciArchiveDestination(file, { tag });
    await copyImage(await openLayoutSource(layout), dst);
    await dst.close();
  }
  const src = await openOciArchiveSource(file);
  assert.equal((await src.resolve()).digest, b.descriptor.digest);
  await assert.rejects((await openOciArchiveSource(file, { tag: 'a' })).resolve(), (e) =>
    isVouchError(e, 'IMAGE_NOT_FOUND'),
  );
  const before = await readFile(file);
  // an aborted write: blobs staged, never committed
  const dst = await openOciArchiveDestination(file, { tag: 'c' });
  const layer = a.layers[0]!;
  await dst.putBlob(layer, () => openLayoutSource(la).then((s) => s.openBlob(layer)));
  await dst.close();
  assert.deepEqual(await readFile(file), before);
  assert.deepEqual((await readdir(tmp.path)).sort(), ['la', 'lb', 'out.tar']);
  // the staging directory lives next to the target: a missing parent is an IO_ERROR
  await assert.rejects(
    openOciArchiveDestination(join(tmp.path, 'no', 'such', 'x.tar')),
    (e) => isVouchError(e, 'IO_ERROR') && e.message.includes('x.tar'),
  );
});
