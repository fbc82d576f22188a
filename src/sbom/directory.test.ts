import assert from 'node:assert/strict';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { layer, tempDir } from '../../test/fs/helpers.ts';
import type { TarEntry } from '../../test/helpers/random-image.ts';
import { isVouchError } from '../errors.ts';
import { openMergedView } from '../fs/merged.ts';
import { openDirectory } from './directory.ts';

/** One tree, written both to disk and as a tar layer, so both resolvers can be compared. */
const TREE: TarEntry[] = [
  { name: 'etc/', type: 'directory' },
  { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
  { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
  { name: 'usr/', type: 'directory' },
  { name: 'usr/bin/', type: 'directory' },
  { name: 'usr/bin/tool', content: '\x7fELF-not-really', mode: 0o755 },
  { name: 'usr/lib/', type: 'directory' },
  { name: 'usr/lib/os-release', content: 'ID=debian\n' },
  { name: 'usr/lib/libz.so.1', type: 'symlink', linkname: 'libz.so.1.2.13' },
  { name: 'usr/lib/libz.so.1.2.13', content: 'zlib', mode: 0o644 },
  { name: 'bin', type: 'symlink', linkname: 'usr/bin' },
  { name: 'escape-abs', type: 'symlink', linkname: '/etc/passwd' },
  { name: 'escape-dotdot', type: 'symlink', linkname: '../../../../etc/passwd' },
  { name: 'loop-a', type: 'symlink', linkname: 'loop-b' },
  { name: 'loop-b', type: 'symlink', linkname: 'loop-a' },
  { name: 'dangling', type: 'symlink', linkname: '/nowhere' },
  { name: 'a b/', type: 'directory' },
  { name: 'a b/ü.txt', content: 'unicode' },
  { name: 'z/', type: 'directory' },
  { name: 'z/A', content: 'upper' },
  { name: 'z/a', content: 'lower' },
];

async function writeTree(dir: string, entries: TarEntry[]): Promise<void> {
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.type === 'directory') await mkdir(p, { recursive: true });
    else if (e.type === 'symlink') await symlink(e.linkname!, p);
    else {
      await writeFile(p, e.content ?? '', { mode: e.mode ?? 0o644 });
    }
  }
}

const PROBES = [
  '/etc/os-release',
  'etc/os-release',
  '/bin/tool',
  '/bin/../etc/passwd',
  '/usr/lib/libz.so.1',
  '/escape-abs',
  '/escape-dotdot',
  '/loop-a',
  '/dangling',
  '/a b/ü.txt',
  '/missing/file',
  '/etc/passwd/x',
  '/../../etc/passwd',
];

test('a directory resolves like the merged view of the same tree as a layer', async (t) => {
  const dir = await tempDir(t, 'vouch-dir-');
  await writeTree(dir, TREE);
  const dv = await openDirectory(dir);
  const mv = await openMergedView([await layer(TREE)]);

  const paths = async (r: AsyncIterable<{ path: string; type: string }>) => {
    const out: string[] = [];
    for await (const rec of r) out.push(`${rec.path} ${rec.type}`);
    return out;
  };
  assert.deepEqual(await paths(dv.walk()), await paths(mv.walk()));
  for (const p of PROBES) {
    assert.equal((await dv.stat(p))?.path, (await mv.stat(p))?.path, `stat ${p}`);
    assert.equal((await dv.lstat(p))?.type, (await mv.lstat(p))?.type, `lstat ${p}`);
    assert.equal(await dv.realPath(p), await mv.realPath(p), `realPath ${p}`);
  }
  assert.deepEqual(
    (await dv.glob('**/*.so*')).map((r) => r.path),
    (await mv.glob('**/*.so*')).map((r) => r.path),
  );
  assert.deepEqual(
    (await dv.list('/bin')).map((r) => r.path),
    ['/usr/bin/tool'],
  );
  // Escaping symlinks land inside the root, never on the host's /etc/passwd.
  assert.equal(Buffer.from(await dv.readFile('/escape-dotdot')).toString(), 'root:x:0:0::/root:/bin/sh\n');
  assert.equal(Buffer.from(await dv.readFile('/etc/os-release')).toString(), 'ID=debian\n');
  const rec = await dv.stat('/bin/tool');
  assert.equal(rec?.mode, 0o755);
  assert.equal(rec?.layer, 0);
  assert.equal(rec?.layerDigest, undefined);
  assert.equal(rec?.size, 15);
});

test('walk is in byte order and includes the root', async (t) => {
  const dir = await tempDir(t, 'vouch-dir-');
  await writeTree(dir, TREE);
  const dv = await openDirectory(dir);
  const all: string[] = [];
  for await (const r of dv.walk()) all.push(r.path);
  assert.equal(all[0], '/');
  assert.deepEqual(
    all,
    [...all].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
  );
  assert.ok(all.indexOf('/z/A') < all.indexOf('/z/a'));
  assert.equal(dv.size, all.length);
});

test('readFile caps, missing files and non-files are errors with codes', async (t) => {
  const dir = await tempDir(t, 'vouch-dir-');
  await writeTree(dir, TREE);
  await mkfifo(join(dir, 'fifo'));
  const dv = await openDirectory(dir);
  await assert.rejects(dv.readFile('/usr/bin/tool', { maxBytes: 4 }), (e) =>
    isVouchError(e, 'BLOB_TOO_LARGE'),
  );
  await assert.rejects(dv.readFile('/nope'), (e) => isVouchError(e, 'FILE_NOT_FOUND'));
  await assert.rejects(dv.readFile('/usr'), (e) => isVouchError(e, 'FILE_NOT_FOUND'));
  await assert.rejects(dv.readFile('/loop-a'), (e) => isVouchError(e, 'FILE_NOT_FOUND'));
  assert.equal((await dv.lstat('/fifo'))?.type, 'fifo');
  await assert.rejects(openDirectory(join(dir, 'etc/passwd')), (e) => isVouchError(e, 'FILE_NOT_FOUND'));
  await assert.rejects(openDirectory(join(dir, 'absent')), (e) => isVouchError(e, 'FILE_NOT_FOUND'));
});

async function mkfifo(p: string): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [p]);
}

test('a file swapped for a symlink after indexing is refused, not followed', async (t) => {
  const dir = await tempDir(t, 'vouch-dir-');
  await writeTree(dir, TREE);
  const outside = await tempDir(t, 'vouch-outside-');
  await writeFile(join(outside, 'secret'), 'secret');
  const dv = await openDirectory(dir);
  await rm(join(dir, 'etc/passwd'));
  await symlink(join(outside, 'secret'), join(dir, 'etc/passwd'));
  await assert.rejects(dv.readFile('/etc/passwd'), (e) => isVouchError(e, 'IO_ERROR'));
  await assert.rejects(dv.open('/etc/passwd'), (e) => isVouchError(e, 'IO_ERROR'));
  // A file rewritten in place (same inode) is still read.
  await writeFile(join(dir, 'z/a'), 'LOWER');
  assert.equal(Buffer.from(await dv.readFile('/z/a')).toString(), 'LOWER');
});

test('open streams content; /proc, /sys and /dev are not descended into by default', async (t) => {
  const dir = await tempDir(t, 'vouch-dir-');
  await writeTree(dir, TREE);
  await mkdir(join(dir, 'proc/1'), { recursive: true });
  await writeFile(join(dir, 'proc/1/status'), 'x');
  const big = Buffer.alloc(3 * 1024 * 1024 + 5, 7);
  await writeFile(join(dir, 'big'), big);
  const dv = await openDirectory(dir);
  let n = 0;
  for await (const c of await dv.open('/big')) n += c.byteLength;
  assert.equal(n, big.byteLength);
  assert.equal((await dv.stat('/proc'))?.type, 'dir');
  assert.equal(await dv.stat('/proc/1'), undefined);
  const all = await openDirectory(dir, { exclude: [] });
  assert.equal((await all.stat('/proc/1/status'))?.size, 1);
  await assert.rejects(openDirectory(dir, { maxEntries: 5 }), (e) => isVouchError(e, 'BLOB_TOO_LARGE'));
});
