import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, link, mkdir, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { chunks, layer, layerFromBytes, snapshot, tempDir } from '../../test/fs/helpers.ts';
import { EXPECTED, LAYERS } from '../../test/fs/scenario.ts';
import { isVouchError } from '../errors.ts';
import { mergedEntries } from '../fs/flatten.ts';
import { openMergedView } from '../fs/merged.ts';
import { readTar } from '../fs/tar.ts';
import { type LayerEntry, type LayerResult, layerFromDirectory, writeLayer } from './layer.ts';

const LONG = `${'deep/'.repeat(30)}${'n'.repeat(120)}.txt`;

/** A tree with everything a layer can hold; `variant` changes only mtimes and creation order. */
async function makeTree(dir: string, variant: number): Promise<void> {
  const files: [string, string, number][] = [
    ['bin/tool', '#!/bin/sh\necho hi\n', 0o755],
    ['etc/app.conf', 'key=value\n', 0o644],
    ['etc/secret', 'x', 0o600],
    ['héllo wörld.txt', 'unicode name', 0o644],
    ['a-b', 'sorts before a/', 0o644],
    ['a/z', 'z', 0o644],
    [LONG, 'long path', 0o644],
    ['empty', '', 0o644],
  ];
  if (variant % 2 === 1) files.reverse();
  for (const [p, content, mode] of files) {
    await mkdir(join(dir, p, '..'), { recursive: true });
    await writeFile(join(dir, p), content);
    await chmod(join(dir, p), mode);
  }
  await mkdir(join(dir, 'var/empty-dir'), { recursive: true });
  await chmod(join(dir, 'var/empty-dir'), 0o1777);
  await symlink('../etc/app.conf', join(dir, 'bin/conf-link'));
  await symlink('/absolute/target', join(dir, 'abs-link'));
  await link(join(dir, 'bin/tool'), join(dir, 'bin/tool-hardlink'));
  // Different real mtimes for every build.
  const when = new Date(1_600_000_000_000 + variant * 86_400_000);
  for (const p of ['bin/tool', 'etc/app.conf', 'a', 'var/empty-dir', '.'])
    await utimes(join(dir, p), when, when);
}

test('building twice gives identical digests; mtimes on disk do not matter, modes and content do', async (t) => {
  const dir = await tempDir(t);
  const results: (LayerResult & { variant: number })[] = [];
  for (const variant of [0, 1]) {
    const src = join(dir, `src${variant}`);
    await makeTree(src, variant);
    for (const compression of ['gzip', 'zstd', 'none'] as const) {
      const r = await layerFromDirectory(src, {
        compression,
        output: join(dir, `out-${variant}-${compression}`),
        sourceDateEpoch: 1_700_000_000,
      });
      results.push({ variant, ...r });
    }
  }
  for (const c of ['gzip', 'zstd', 'none']) {
    const [a, b] = results.filter((r) => r.compression === c);
    assert.equal(a!.digest, b!.digest, `${c}: same digest`);
    assert.equal(a!.diffId, b!.diffId, `${c}: same diffId`);
    assert.deepEqual(await readFile(a!.path), await readFile(b!.path));
  }
  const diffIds = new Set(results.map((r) => r.diffId));
  assert.equal(diffIds.size, 1, 'one uncompressed tar whatever the compression');
  for (const r of results) {
    const blob = await readFile(r.path);
    assert.equal(r.size, blob.byteLength);
    assert.equal(r.digest, `sha256:${createHash('sha256').update(blob).digest('hex')}`);
    const raw =
      r.compression === 'gzip'
        ? gunzipSync(blob)
        : r.compression === 'zstd'
          ? zstdDecompressSync(blob)
          : blob;
    assert.equal(r.diffId, `sha256:${createHash('sha256').update(raw).digest('hex')}`);
    const paths = execFileSync('find', [join(dir, `src${r.variant}`), '-mindepth', '1'], {
      encoding: 'utf8',
    });
    assert.equal(r.entries, paths.trim().split('\n').length, 'every path is one entry');
  }
  const gz = results.find((r) => r.compression === 'gzip')!;
  assert.equal(gz.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  // gzip header: magic, deflate, no flags (no name), mtime 0, xfl 0, OS 3 (Unix).
  assert.deepEqual([...(await readFile(gz.path)).subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

  const src = join(dir, 'src0');
  const base = { compression: 'gzip' as const, sourceDateEpoch: 1_700_000_000 };
  const again = await layerFromDirectory(src, { ...base, output: join(dir, 'again') });
  assert.equal(again.digest, gz.digest);
  await chmod(join(src, 'etc/app.conf'), 0o640);
  const moded = await layerFromDirectory(src, { ...base, output: join(dir, 'moded') });
  assert.notEqual(moded.digest, gz.digest, 'a mode change changes the digest');
  await chmod(join(src, 'etc/app.conf'), 0o644);
  await writeFile(join(src, 'etc/app.conf'), 'key=other\n');
  const edited = await layerFromDirectory(src, { ...base, output: join(dir, 'edited') });
  assert.notEqual(edited.diffId, gz.diffId, 'a content change changes the diffId');
  const epoch = await layerFromDirectory(src, { ...base, sourceDateEpoch: 1, output: join(dir, 'epoch') });
  assert.notEqual(epoch.diffId, edited.diffId, 'SOURCE_DATE_EPOCH is what sets mtimes');
  assert.deepEqual(
    (await readdir(dir)).filter((n) => n.endsWith('.tmp')),
    [],
    'no temp files left',
  );
});

test('GNU tar lists the layer sorted, with SOURCE_DATE_EPOCH mtimes and owner 0/0, and extracts the same tree', async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  await makeTree(src, 1);
  const prev = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = '1700000000';
  t.after(() => {
    if (prev === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = prev;
  });
  for (const compression of ['gzip', 'zstd'] as const) {
    const out = join(dir, `layer-${compression}`);
    await layerFromDirectory(src, { compression, output: out, uid: 0, gid: 0 });
    const flag = compression === 'gzip' ? '-z' : '--zstd';
    const listing = execFileSync('tar', [flag, '--numeric-owner', '--full-time', '-tvf', out], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    })
      .trim()
      .split('\n');
    const names = execFileSync('tar', [flag, '-tf', out], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((n) => n.replace(/\/$/, ''));
    const sorted = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual(names, sorted, 'entries in byte order');
    assert.ok(names.includes(LONG) && names.includes('héllo wörld.txt') && names.includes('a-b'));
    assert.ok(names.indexOf('a-b') < names.indexOf('a/z'), 'byte order, not tree order');
    for (const line of listing) {
      assert.match(line, / 0\/0 /, `owner 0/0: ${line}`);
      assert.match(line, / 2023-11-14 22:13:20 /, `mtime = SOURCE_DATE_EPOCH: ${line}`);
    }
    assert.ok(
      listing.some((l) => /^hrwxr-xr-x .* bin\/tool-hardlink link to bin\/tool$/.test(l)),
      'hardlink',
    );
    assert.ok(
      listing.some((l) => /^lrwxrwxrwx .* bin\/conf-link -> \.\.\/etc\/app\.conf$/.test(l)),
      'symlink',
    );
    assert.ok(
      listing.some((l) => /^drwxrwxrwt .* var\/empty-dir\/$/.test(l)),
      'sticky directory',
    );

    const x = join(dir, `x-${compression}`);
    await mkdir(x);
    execFileSync('tar', [flag, '-xpf', out, '-C', x]);
    execFileSync('diff', ['-r', '--no-dereference', src, x]);
    assert.deepEqual(await snapshot(x), await snapshot(src), 'same modes, contents and links');
  }
});

test('a prefix puts the tree under a directory, with its parents', async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  await mkdir(src, { mode: 0o750 });
  await chmod(src, 0o750);
  await writeFile(join(src, 'main.js'), 'console.log(1)');
  const r = await layerFromDirectory(src, {
    compression: 'none',
    output: join(dir, 'l.tar'),
    prefix: '/opt/app/',
  });
  const entries = [];
  for await (const e of readTar(chunks(await readFile(r.path), 512)))
    entries.push([e.path, e.type, e.mode.toString(8)]);
  assert.deepEqual(entries, [
    ['opt', 'dir', '755'],
    ['opt/app', 'dir', '750'],
    ['opt/app/main.js', 'file', '644'],
  ]);
  await assert.rejects(
    layerFromDirectory(src, { compression: 'none', output: join(dir, 'x'), prefix: '../up' }),
    (e) => isVouchError(e, 'USAGE'),
  );
  const prev = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = 'yesterday';
  try {
    await assert.rejects(
      layerFromDirectory(src, { compression: 'none', output: join(dir, 'y') }),
      (e) => isVouchError(e, 'USAGE') && /SOURCE_DATE_EPOCH/.test(e.message),
    );
  } finally {
    if (prev === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = prev;
  }
});

test('a mode (COPY --chmod) sets files and directories, keeps symlinks 0777, and refuses a FIFO', async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  await mkdir(join(src, 'bin'), { recursive: true });
  await writeFile(join(src, 'bin', 'run'), '#!/bin/sh\n');
  await chmod(join(src, 'bin', 'run'), 0o700);
  await link(join(src, 'bin', 'run'), join(src, 'run2'));
  await symlink('bin/run', join(src, 'start'));
  const r = await layerFromDirectory(src, { compression: 'none', output: join(dir, 'l.tar'), mode: 0o640 });
  const entries = [];
  for await (const e of readTar(chunks(await readFile(r.path), 512)))
    entries.push([e.path, e.type, e.mode.toString(8)]);
  assert.deepEqual(entries, [
    ['bin', 'dir', '640'],
    ['bin/run', 'file', '640'],
    ['run2', 'hardlink', '640'],
    ['start', 'symlink', '777'],
  ]);
  execFileSync('mkfifo', [join(src, 'pipe')]);
  await assert.rejects(
    layerFromDirectory(src, { compression: 'none', output: join(dir, 'm.tar'), mode: 0o640 }),
    (e) => isVouchError(e, 'USAGE') && /pipe: only files, directories and symlinks/.test(e.message),
  );
  const plain = await layerFromDirectory(src, { compression: 'none', output: join(dir, 'n.tar') });
  assert.equal(plain.entries, 5, 'without a mode the FIFO is kept');
});

test('writeLayer checks order and sizes, writes nothing on failure, and round-trips through readTar', async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'l.tar');
  const file = (path: string, text: string, extra: Partial<LayerEntry> = {}): LayerEntry => ({
    path,
    type: 'file',
    mode: 0o644,
    size: Buffer.byteLength(text),
    body: chunks(Buffer.from(text), 3),
    ...extra,
  });
  await assert.rejects(
    writeLayer([file('b', 'x'), file('a', 'y')], { compression: 'gzip', output: out }),
    (e) => isVouchError(e, 'USAGE') && /sorted/.test(e.message),
  );
  await assert.rejects(
    writeLayer([file('a', 'x'), file('a', 'y')], { compression: 'gzip', output: out }),
    (e) => isVouchError(e, 'USAGE'),
  );
  await assert.rejects(
    writeLayer([file('a', 'xyz', { size: 2 })], { compression: 'gzip', output: out }),
    (e) => isVouchError(e, 'SIZE_MISMATCH'),
  );
  await assert.rejects(writeLayer([file('../a', 'x')], { compression: 'none', output: out }), (e) =>
    isVouchError(e, 'USAGE'),
  );
  assert.deepEqual(await readdir(dir), [], 'no output and no temp file after failures');

  const big = 3_000_000;
  const r = await writeLayer(
    [
      file('big-ids', 'ids', { uid: big, gid: big, mtime: 1_700_000_000.75 }),
      { path: 'dev', type: 'dir', mode: 0o755 },
      { path: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
      file('xattr', 'x', { xattrs: { 'user.b': '2', 'user.a': '1' } }),
      { path: 'z'.repeat(200), type: 'symlink', mode: 0o777, linkname: 'y'.repeat(300) },
    ],
    { compression: 'none', output: out },
  );
  const back = [];
  for await (const e of readTar(chunks(await readFile(r.path), 1000))) {
    back.push({
      path: e.path,
      type: e.type,
      uid: e.uid,
      mtime: e.mtime,
      linkname: e.linkname,
      xattrs: e.xattrs,
    });
  }
  assert.deepEqual(back, [
    { path: 'big-ids', type: 'file', uid: big, mtime: 1_700_000_000, linkname: undefined, xattrs: undefined },
    { path: 'dev', type: 'dir', uid: 0, mtime: 0, linkname: undefined, xattrs: undefined },
    { path: 'dev/null', type: 'char', uid: 0, mtime: 0, linkname: undefined, xattrs: undefined },
    {
      path: 'xattr',
      type: 'file',
      uid: 0,
      mtime: 0,
      linkname: undefined,
      xattrs: { 'user.a': '1', 'user.b': '2' },
    },
    {
      path: 'z'.repeat(200),
      type: 'symlink',
      uid: 0,
      mtime: 0,
      linkname: 'y'.repeat(300),
      xattrs: undefined,
    },
  ]);
  // GNU tar agrees, including the PAX records.
  const listing = execFileSync('tar', ['--numeric-owner', '-tvf', r.path], { encoding: 'utf8' });
  assert.match(listing, / 3000000\/3000000 /);
  assert.match(listing, /dev\/null/);
  assert.match(listing, new RegExp(`${'z'.repeat(200)} -> ${'y'.repeat(300)}`));
});

test('a merged view squashes into one layer with the same tree', async (t) => {
  const dir = await tempDir(t);
  const inputs = await Promise.all(LAYERS.map(layer));
  const view = await openMergedView(inputs);
  const epoch = { compression: 'gzip' as const, sourceDateEpoch: 0 };
  const a = await writeLayer(mergedEntries(view), { ...epoch, output: join(dir, 'a') });
  const b = await writeLayer(mergedEntries(view), { ...epoch, output: join(dir, 'b') });
  await view.close();
  assert.equal(a.digest, b.digest, 'squashing is reproducible');
  assert.equal(a.entries, EXPECTED.length - 1);
  const { gunzipSync: gunzip } = await import('node:zlib');
  const squashed = await openMergedView([layerFromBytes(gunzip(await readFile(a.path)))]);
  const got: string[] = [];
  for await (const r of squashed.walk()) {
    const content = r.type === 'file' ? Buffer.from(await squashed.readFile(r.path)).toString() : r.linkname;
    got.push([r.path, r.type, content].filter((x) => x !== undefined).join(' '));
  }
  assert.deepEqual(
    got,
    EXPECTED.map((e) => e.join(' ')),
  );
  assert.equal((await squashed.stat('/usr/bin/tool2'))!.hardlinkOf, '/usr/bin/tool', 'hardlinks survive');
});
