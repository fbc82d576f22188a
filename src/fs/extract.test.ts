import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipLayer, layer, layerFromBytes, snapshot, tempDir } from '../../test/fs/helpers.ts';
import { EXPECTED, LAYERS } from '../../test/fs/scenario.ts';
import { makeTar, type TarEntry } from '../../test/helpers/random-image.ts';
import { isVouchError } from '../errors.ts';
import { type ExtractOptions, extractLayers, extractMerged } from './extract.ts';
import { openMergedView } from './merged.ts';

/** base/target is extracted into; base/sentinel (with a secret file) must never change. */
async function arena(t: { after(fn: () => Promise<void>): void }) {
  const base = await tempDir(t);
  const target = join(base, 'target');
  const sentinel = join(base, 'sentinel');
  await mkdir(sentinel, { mode: 0o700 });
  await writeFile(join(sentinel, 'secret'), 'secret');
  const before = await snapshot(base);
  return {
    base,
    target,
    sentinel,
    async untouched() {
      assert.deepEqual((await readdir(base)).sort(), ['sentinel', 'target']);
      assert.deepEqual(await snapshot(sentinel), ['secret file 644 2bb80d537b1d']);
      assert.equal((await lstat(join(sentinel, 'secret'))).nlink, 1, 'no hardlink to the secret');
      assert.equal((await lstat(sentinel)).mode & 0o777, 0o700);
      assert.deepEqual(
        (await snapshot(base)).filter((l) => !l.startsWith('target')),
        before.filter((l) => !l.startsWith('target')),
      );
    },
  };
}

async function extract(target: string, layers: TarEntry[][], opts?: ExtractOptions) {
  return extractLayers(await Promise.all(layers.map(layer)), target, opts);
}

const reasons = (r: { problems: { path: string; reason: string }[] }) =>
  r.problems.map((p) => `${p.path}: ${p.reason}`);

test('layers and the merged view extract to the same tree', async (t) => {
  const dir = await tempDir(t);
  const inputs = await Promise.all(LAYERS.map(layer));
  const byLayers = await extractLayers(inputs, join(dir, 'layers'));
  const view = await openMergedView(inputs);
  const byView = await extractMerged(view, join(dir, 'merged'));
  await view.close();
  const expected = EXPECTED.filter(([p]) => p !== '/').map(([p, type]) => `${p.slice(1)} ${type}`);
  const got = await snapshot(join(dir, 'layers'), { modes: false });
  assert.deepEqual(
    got.map((l) => l.split(' ').slice(0, 2).join(' ')),
    expected,
  );
  assert.deepEqual(await snapshot(join(dir, 'merged')), await snapshot(join(dir, 'layers')));
  assert.equal(await readFile(join(dir, 'layers', 'etc/passwd'), 'utf8'), 'root1');
  // Hardlinks stay hardlinks.
  for (const root of ['layers', 'merged']) {
    const a = await lstat(join(dir, root, 'usr/bin/tool'));
    const b = await lstat(join(dir, root, 'usr/bin/tool2'));
    assert.equal(a.ino, b.ino, `${root}: tool2 is a hardlink of tool`);
  }
  assert.deepEqual(reasons(byLayers), [
    ".wh.: bare '.wh.' whiteout names nothing",
    "../escape: path climbs out with '..'",
  ]);
  assert.ok(byView.written > 10);
});

test('extracting an archive made by GNU tar gives what GNU tar extracts', async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  await mkdir(join(src, 'a/b/c'), { recursive: true });
  await writeFile(join(src, 'a/b/c/file'), 'x'.repeat(5000), { mode: 0o640 });
  await writeFile(join(src, 'a/exec'), '#!/bin/sh\n', { mode: 0o755 });
  await writeFile(join(src, `a/${'long'.repeat(40)}`), 'long');
  await symlink('b/c/file', join(src, 'a/link'));
  await symlink('/etc/passwd', join(src, 'a/abs'));
  execFileSync('ln', [join(src, 'a/exec'), join(src, 'a/exec2')]);
  execFileSync('tar', ['-cf', join(dir, 'l.tar'), '-C', src, '.']);
  await mkdir(join(dir, 'gnu'));
  execFileSync('tar', ['-xf', join(dir, 'l.tar'), '-C', join(dir, 'gnu')]);
  const r = await extractLayers([layerFromBytes(await readFile(join(dir, 'l.tar')))], join(dir, 'ours'), {
    preserveMtime: true,
  });
  assert.deepEqual(r.problems, []);
  execFileSync('diff', ['-r', '--no-dereference', join(dir, 'gnu'), join(dir, 'ours')]);
  assert.deepEqual(await snapshot(join(dir, 'ours')), await snapshot(join(dir, 'gnu')));
  const [ours, gnu] = await Promise.all([
    lstat(join(dir, 'ours/a/b/c/file')),
    lstat(join(dir, 'gnu/a/b/c/file')),
  ]);
  assert.equal(ours.mtimeMs, gnu.mtimeMs);
  assert.equal((await lstat(join(dir, 'ours/a/exec'))).ino, (await lstat(join(dir, 'ours/a/exec2'))).ino);
});

test("attack: '..' and absolute entry paths are skipped", async (t) => {
  const a = await arena(t);
  const r = await extract(a.target, [
    [
      { name: '../sentinel/pwned', content: 'x' },
      { name: 'ok/../../pwned', content: 'x' },
      { name: `${a.sentinel}/pwned-abs`, content: 'x' },
      { name: 'fine', content: 'ok' },
    ],
  ]);
  assert.deepEqual(reasons(r), [
    "../sentinel/pwned: path climbs out with '..'",
    "ok/../../pwned: path climbs out with '..'",
    `${a.sentinel.slice(1)}/pwned-abs: path is absolute`,
  ]);
  assert.deepEqual(await readdir(a.target), ['fine']);
  await a.untouched();
});

test('attack: writing through a symlink that points outside stays inside the target', async (t) => {
  const a = await arena(t);
  const r = await extract(a.target, [
    [
      { name: 'evil', type: 'symlink', linkname: a.sentinel },
      { name: 'evil/pwned', content: 'x' },
      { name: 'rel', type: 'symlink', linkname: '../sentinel' },
      { name: 'rel/pwned', content: 'x' },
      // Chains: each hop is resolved inside the target.
      { name: 'c1', type: 'symlink', linkname: 'c2' },
      { name: 'c2', type: 'symlink', linkname: `../../../..${a.base}` },
      { name: 'c1/sentinel/pwned', content: 'x' },
      { name: 'l1', type: 'symlink', linkname: 'l2' },
      { name: 'l2', type: 'symlink', linkname: 'l1' },
      { name: 'l1/pwned', content: 'x' },
    ],
  ]);
  assert.deepEqual(reasons(r), ['l1/pwned: too many levels of symlinks at /l1']);
  // The writes landed where the links lead when the target is the root.
  assert.equal(await readFile(join(a.target, a.sentinel, 'pwned'), 'utf8'), 'x');
  assert.equal(await readFile(join(a.target, 'sentinel', 'pwned'), 'utf8'), 'x');
  assert.equal(await readlink(join(a.target, 'evil')), a.sentinel, 'the symlink itself is kept');
  await a.untouched();
});

test('attack: hardlinks to outside or to files the archive did not write are refused', async (t) => {
  const a = await arena(t);
  await mkdir(a.target);
  await writeFile(join(a.target, 'preexisting'), 'not from the archive');
  const r = await extract(a.target, [
    [
      { name: 'h1', type: 'link', linkname: '../sentinel/secret' },
      { name: 'h2', type: 'link', linkname: `${a.sentinel}/secret` },
      { name: 'out', type: 'symlink', linkname: a.sentinel },
      { name: 'h3', type: 'link', linkname: 'out/secret' },
      { name: 'h4', type: 'link', linkname: 'preexisting' },
      { name: 'h5', type: 'link', linkname: 'missing' },
      { name: 'real', content: 'mine' },
      { name: 'h6', type: 'link', linkname: 'real' },
    ],
  ]);
  assert.deepEqual(reasons(r), [
    "h1: hardlink target climbs out with '..'",
    'h2: hardlink target is absolute',
    'h3: hardlink target "out/secret" was not written by this archive',
    'h4: hardlink target "preexisting" was not written by this archive',
    'h5: hardlink target "missing" was not written by this archive',
  ]);
  assert.equal((await lstat(join(a.target, 'h6'))).ino, (await lstat(join(a.target, 'real'))).ino);
  assert.deepEqual((await readdir(a.target)).sort(), ['h6', 'out', 'preexisting', 'real']);
  await a.untouched();
});

test('attack: a directory replaced by a symlink in a later layer', async (t) => {
  const a = await arena(t);
  const r = await extract(a.target, [
    [
      { name: 'd/', type: 'directory' },
      { name: 'd/f', content: 'f' },
      { name: 's', type: 'symlink', linkname: `${a.sentinel}/secret` },
      { name: 's2', type: 'symlink', linkname: a.sentinel },
    ],
    [
      { name: 'd', type: 'symlink', linkname: a.sentinel },
      // Regular file and directory entries over symlinks replace them, never follow them.
      { name: 's', content: 'overwritten' },
      { name: 's2/', type: 'directory', mode: 0o777 },
    ],
    [{ name: 'd/pwned', content: 'x' }],
  ]);
  assert.deepEqual(r.problems, []);
  assert.equal(await readlink(join(a.target, 'd')), a.sentinel);
  assert.equal(await readFile(join(a.target, a.sentinel, 'pwned'), 'utf8'), 'x');
  assert.equal(await readFile(join(a.target, 's'), 'utf8'), 'overwritten');
  assert.ok((await lstat(join(a.target, 's2'))).isDirectory());
  await a.untouched();
});

test('devices and fifos are skipped unless allowed (and root); setuid only when asked', async (t) => {
  const a = await arena(t);
  const entries: TarEntry[][] = [
    [
      { name: 'null', type: 'character-device' },
      { name: 'disk', type: 'block-device' },
      { name: 'pipe', type: 'fifo' },
      { name: 'suid', content: '#!/bin/sh\n', mode: 0o4755 },
      { name: 'sgid-dir/', type: 'directory', mode: 0o2775 },
    ],
  ];
  const r = await extract(a.target, entries);
  assert.deepEqual(reasons(r), [
    'null: char device skipped (needs root and allowDevices)',
    'disk: block device skipped (needs root and allowDevices)',
    'pipe: fifo skipped (needs root and allowDevices)',
  ]);
  assert.deepEqual((await readdir(a.target)).sort(), ['sgid-dir', 'suid']);
  assert.equal((await lstat(join(a.target, 'suid'))).mode & 0o7777, 0o755);
  assert.equal((await lstat(join(a.target, 'sgid-dir'))).mode & 0o7777, 0o775);

  const kept = join(a.base, 'target', 'kept');
  const r2 = await extract(kept, entries, { keepSetuid: true, allowDevices: true });
  assert.equal((await lstat(join(kept, 'suid'))).mode & 0o7777, 0o4755);
  assert.equal((await lstat(join(kept, 'sgid-dir'))).mode & 0o7777, 0o2775);
  if (process.getuid?.() === 0) {
    assert.deepEqual(r2.problems, []);
    assert.ok((await lstat(join(kept, 'null'))).isCharacterDevice());
    assert.ok((await lstat(join(kept, 'disk'))).isBlockDevice());
    assert.ok((await lstat(join(kept, 'pipe'))).isFIFO());
  } else {
    assert.equal(r2.problems.length, 3);
  }
  await a.untouched();
});

test('owners and mtimes are applied only when asked', async (t) => {
  const dir = await tempDir(t);
  const entries: TarEntry[][] = [
    [
      { name: 'd/', type: 'directory', uid: 1234, gid: 4321, mtime: new Date(1_000_000_000) },
      { name: 'd/f', content: 'x', uid: 1234, gid: 4321, mtime: new Date(1_500_000_000_000) },
    ],
  ];
  await extract(join(dir, 'plain'), entries);
  const plain = await lstat(join(dir, 'plain/d/f'));
  assert.notEqual(plain.mtimeMs, 1_500_000_000_000);
  await extract(join(dir, 'full'), entries, { chown: true, preserveMtime: true });
  const f = await lstat(join(dir, 'full/d/f'));
  const d = await lstat(join(dir, 'full/d'));
  assert.equal(f.mtimeMs, 1_500_000_000_000);
  assert.equal(d.mtimeMs, 1_000_000_000, 'directory mtimes are set after their children are written');
  if (process.getuid?.() === 0) {
    assert.deepEqual([f.uid, f.gid, d.uid], [1234, 4321, 1234]);
    assert.equal(plain.uid, 0);
  }
});

test('bomb limits abort with DECOMPRESSION_BOMB and nothing escapes', async (t) => {
  const a = await arena(t);
  const zeros = await makeTar([{ name: 'zeros', content: new Uint8Array(8 * 1024 * 1024) }]);
  const many = Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, content: 'x' }));
  const cases: [string, () => Promise<unknown>][] = [
    ['entries', () => extract(join(a.target, '1'), [many], { limits: { maxEntries: 10 } })],
    [
      'total',
      () =>
        extractLayers([gzipLayer(zeros)], join(a.target, '2'), { limits: { maxTotalBytes: 1024 * 1024 } }),
    ],
    [
      'ratio',
      () =>
        extractLayers([gzipLayer(zeros)], join(a.target, '3'), {
          limits: { maxRatio: 20, ratioFloorBytes: 0 },
        }),
    ],
    [
      'path',
      () =>
        extract(join(a.target, '4'), [[{ name: `${'x/'.repeat(100)}f`, content: '' }]], {
          limits: { maxPathLength: 100 },
        }),
    ],
    ['layers', () => extract(join(a.target, '5'), [many, many], { limits: { maxEntries: 45 } })],
  ];
  for (const [name, p] of cases) {
    await assert.rejects(p(), (e) => isVouchError(e, 'DECOMPRESSION_BOMB'), name);
  }
  const partial = await lstat(join(a.target, '3', 'zeros')).catch(() => undefined);
  assert.ok(partial === undefined || partial.size < 8 * 1024 * 1024, 'the bomb was not fully expanded');
  await a.untouched();
});
