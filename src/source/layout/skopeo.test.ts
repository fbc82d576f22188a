/**
 * skopeo (containers/image) as the oracle: it must read what vouch writes with identical
 * digests, and vouch must read what skopeo writes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { copyImage, drain, tempDir } from '../../../test/helpers/layout.ts';
import { randomImage, randomIndex, writeLayout } from '../../../test/helpers/random-image.ts';
import type { Digest } from '../../digest/digest.ts';
import { digestHex } from '../../digest/digest.ts';
import { parseManifest } from '../../oci/manifest.ts';
import type { ImageSource } from '../types.ts';
import { openOciArchiveDestination, openOciArchiveSource } from './archive.ts';
import { openLayoutDestination } from './destination.ts';
import { openLayoutSource } from './source.ts';

const run = promisify(execFile);
const hasSkopeo = await run('skopeo', ['--version']).then(
  () => true,
  () => false,
);
const skip = hasSkopeo ? false : 'skopeo is not installed';

async function skopeo(...args: string[]): Promise<Buffer> {
  const { stdout } = await run('skopeo', args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Read every manifest and blob reachable from the root through vouch (all verified). */
async function readAll(src: ImageSource): Promise<Map<Digest, Buffer>> {
  const out = new Map<Digest, Buffer>();
  const root = await src.resolve();
  const walk = async (d: typeof root): Promise<void> => {
    const bytes = await src.getManifest(d);
    out.set(d.digest, Buffer.from(bytes));
    const p = parseManifest(bytes, d.mediaType);
    if (p.kind === 'index') for (const c of p.index.manifests) await walk(c);
    else
      for (const b of [p.manifest.config, ...p.manifest.layers])
        out.set(b.digest, await drain(await src.openBlob(b)));
  };
  await walk(root);
  return out;
}

test('skopeo reads layouts and archives vouch writes, byte for byte', { skip }, async () => {
  await using tmp = await tempDir('skopeo-read');
  const idx = await randomIndex();
  // OCI types: skopeo 1.9.3 (containers/image 5.23) ignores index.json entries with Docker
  // media types ("no descriptor found"); newer containers/image accepts them, as vouch does.
  const single = await randomImage({ compression: 'none' });
  const srcDir = join(tmp.path, 'src');
  const blobs = new Map([...idx.blobs, ...single.blobs]);
  await writeLayout(
    srcDir,
    [
      { descriptor: idx.descriptor, tag: 'multi' },
      { descriptor: single.descriptor, tag: 'single' },
    ],
    blobs,
  );
  for (const [tag, root] of [
    ['multi', idx.index],
    ['single', single.manifest],
  ] as const) {
    const dir = join(tmp.path, `vouch-${tag}`);
    const dst = await openLayoutDestination(dir, { tag });
    await copyImage(await openLayoutSource(srcDir, { tag }), dst);
    await dst.close();
    assert.deepEqual(await skopeo('inspect', '--raw', `oci:${dir}:${tag}`), Buffer.from(root));

    const file = join(tmp.path, `vouch-${tag}.tar`);
    const adst = await openOciArchiveDestination(file, { tag });
    await copyImage(await openLayoutSource(srcDir, { tag }), adst);
    await adst.close();
    assert.deepEqual(await skopeo('inspect', '--raw', `oci-archive:${file}:${tag}`), Buffer.from(root));

    // skopeo copies (and so checks) every blob; the result must be the same image
    for (const from of [`oci:${dir}:${tag}`, `oci-archive:${file}:${tag}`]) {
      const out = join(tmp.path, `skopeo-copy-${tag}-${from.startsWith('oci:') ? 'dir' : 'tar'}`);
      await skopeo('copy', '--all', '--preserve-digests', '-q', from, `oci:${out}:${tag}`);
      const got = await readAll(await openLayoutSource(out, { tag }));
      for (const [d, bytes] of got) assert.deepEqual(bytes, Buffer.from(blobs.get(d)!), d);
      assert.ok(got.size >= 3);
    }
  }
});

test('vouch reads layouts and archives skopeo writes, with the same digests', { skip }, async () => {
  await using tmp = await tempDir('skopeo-write');
  const idx = await randomIndex(undefined, { compression: 'zstd' });
  const srcDir = join(tmp.path, 'src');
  await writeLayout(srcDir, [{ descriptor: idx.descriptor, tag: 'v1' }], idx.blobs);
  const dir = join(tmp.path, 'by-skopeo');
  const file = join(tmp.path, 'by-skopeo.tar');
  await skopeo('copy', '--all', '--preserve-digests', '-q', `oci:${srcDir}:v1`, `oci:${dir}:v1`);
  await skopeo('copy', '--all', '--preserve-digests', '-q', `oci:${srcDir}:v1`, `oci-archive:${file}:v1`);
  for (const src of [
    await openLayoutSource(dir, { tag: 'v1' }),
    await openOciArchiveSource(file, { tag: 'v1' }),
  ]) {
    assert.equal((await src.resolve()).digest, idx.descriptor.digest, src.name);
    const got = await readAll(src);
    assert.deepEqual([...got.keys()].sort(), [...idx.blobs.keys()].sort());
    for (const [d, bytes] of got) assert.deepEqual(bytes, Buffer.from(idx.blobs.get(d)!));
    await src.close();
  }
  // skopeo adds to an existing vouch layout and vouch still reads both tags
  const mixed = join(tmp.path, 'mixed');
  const one = await randomImage();
  const oneDir = join(tmp.path, 'one');
  await writeLayout(oneDir, [{ descriptor: one.descriptor, tag: 'x' }], one.blobs);
  const dst = await openLayoutDestination(mixed, { tag: 'from-vouch' });
  await copyImage(await openLayoutSource(oneDir), dst);
  await skopeo('copy', '--all', '--preserve-digests', '-q', `oci:${srcDir}:v1`, `oci:${mixed}:from-skopeo`);
  assert.equal(
    (await (await openLayoutSource(mixed, { tag: 'from-vouch' })).resolve()).digest,
    one.descriptor.digest,
  );
  assert.equal(
    (await (await openLayoutSource(mixed, { tag: 'from-skopeo' })).resolve()).digest,
    idx.descriptor.digest,
  );
  const blob = await readFile(join(mixed, 'blobs', 'sha256', digestHex(one.layers[0]!.digest)));
  assert.deepEqual(blob, Buffer.from(one.blobs.get(one.layers[0]!.digest)!));
});
