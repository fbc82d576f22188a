import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { collect, gzipLayer, layer, type TestLayer } from '../../test/fs/helpers.ts';
import { EXPECTED, LAYERS } from '../../test/fs/scenario.ts';
import { makeTar, type TarEntry } from '../../test/helpers/random-image.ts';
import { digestOf } from '../digest/digest.ts';
import { isVouchError } from '../errors.ts';
import { type MergedView, openMergedView } from './merged.ts';

async function view(layers: TarEntry[][], opts = {}): Promise<{ v: MergedView; inputs: TestLayer[] }> {
  const inputs = await Promise.all(layers.map(layer));
  return { v: await openMergedView(inputs, opts), inputs };
}

async function tree(v: MergedView): Promise<[string, string, string?][]> {
  const out: [string, string, string?][] = [];
  for await (const r of v.walk()) {
    if (r.type === 'file') out.push([r.path, r.type, Buffer.from(await v.readFile(r.path)).toString()]);
    else if (r.type === 'symlink') out.push([r.path, r.type, r.linkname!]);
    else out.push([r.path, r.type]);
  }
  return out;
}

test('layers merge base first with whiteouts, opaque dirs, symlinked parents and hardlinks', async () => {
  const { v } = await view(LAYERS);
  assert.deepEqual(await tree(v), EXPECTED);
  assert.equal(v.size, EXPECTED.length);
  assert.deepEqual(
    v.problems.map((p) => [p.path, p.layer, p.reason]),
    [
      ['.wh.', 1, "bare '.wh.' whiteout names nothing"],
      ['../escape', 1, "path climbs out with '..'"],
    ],
  );
  const tool2 = (await v.stat('/usr/bin/tool2'))!;
  assert.equal(tool2.hardlinkOf, '/usr/bin/tool');
  assert.equal(tool2.mode, 0o755, 'a hardlink has its target inode mode');
  assert.equal(tool2.digest, (await v.stat('/usr/bin/tool'))!.digest);
  // Locations for SBOMs: which layer made each path.
  const c = (await v.stat('/lib/c.so'))!;
  assert.deepEqual([c.path, c.layer, c.layerDigest], ['/usr/lib/c.so', 1, v.layers[1]!.digest]);
  assert.equal((await v.stat('/etc/passwd'))!.layer, 1);
  assert.equal((await v.stat('/usr/lib/b.so'))!.layer, 0);
});

test('an opaque marker hides lower children only, before or after same-layer entries', async () => {
  const lower: TarEntry[] = [
    { name: 'd/', type: 'directory' },
    { name: 'd/x', content: 'x' },
    { name: 'd/y/', type: 'directory' },
    { name: 'd/y/z', content: 'z' },
    { name: 'keep', content: 'k' },
  ];
  const marker: TarEntry = { name: 'd/.wh..wh..opq', content: '' };
  const fresh: TarEntry[] = [
    { name: 'd/y/', type: 'directory' },
    { name: 'd/y/new', content: 'new' },
  ];
  for (const upper of [
    [marker, ...fresh],
    [...fresh, marker],
  ]) {
    const { v } = await view([lower, upper]);
    assert.deepEqual(
      (await tree(v)).map((e) => e[0]),
      ['/', '/d', '/d/y', '/d/y/new', '/keep'],
    );
  }
  // A whiteout reaches only layers below; the next layer may bring the name back.
  const { v } = await view([lower, [{ name: 'd/.wh.x', content: '' }], [{ name: 'd/x', content: 'again' }]]);
  assert.equal(Buffer.from(await v.readFile('d/x')).toString(), 'again');
  assert.equal((await v.stat('d/x'))!.layer, 2);
});

test('symlinks resolve inside the image root, with loop detection', async () => {
  const { v } = await view([
    [
      { name: 'etc/', type: 'directory' },
      { name: 'etc/passwd', content: 'root' },
      { name: 'up', type: 'symlink', linkname: '../../../../etc' },
      { name: 'abs', type: 'symlink', linkname: '/../../etc/passwd' },
      { name: 'c1', type: 'symlink', linkname: 'c2' },
      { name: 'c2', type: 'symlink', linkname: '/c3' },
      { name: 'c3', type: 'symlink', linkname: './etc/' },
      { name: 'l1', type: 'symlink', linkname: 'l2' },
      { name: 'l2', type: 'symlink', linkname: 'l1' },
      { name: 'dangling', type: 'symlink', linkname: 'nowhere' },
    ],
  ]);
  assert.equal(await v.realPath('/up/passwd'), '/etc/passwd');
  assert.equal(await v.realPath('abs'), '/etc/passwd');
  assert.equal(await v.realPath('/c1/passwd'), '/etc/passwd');
  assert.equal(Buffer.from(await v.readFile('/c1/passwd')).toString(), 'root');
  assert.equal((await v.lstat('/c1'))!.type, 'symlink');
  assert.equal((await v.stat('/c1'))!.path, '/etc');
  assert.equal(await v.realPath('l1'), undefined);
  assert.equal(await v.stat('dangling'), undefined);
  assert.deepEqual(
    (await v.list('/c1')).map((r) => r.path),
    ['/etc/passwd'],
  );
  await assert.rejects(
    v.readFile('/l1'),
    (e) => isVouchError(e, 'FILE_NOT_FOUND') && /symlinks/.test(e.message),
  );
  await assert.rejects(
    v.readFile('/etc'),
    (e) => isVouchError(e, 'FILE_NOT_FOUND') && /is a dir/.test(e.message),
  );
});

test('entries under a regular file are problems; a later non-directory replaces a subtree', async () => {
  const { v } = await view([
    [
      { name: 'f', content: 'file' },
      { name: 'd/', type: 'directory' },
      { name: 'd/inner', content: 'i' },
    ],
    [
      { name: 'f/x', content: 'x' },
      { name: 'd', content: 'now a file' },
    ],
  ]);
  assert.deepEqual(
    v.problems.map((p) => [p.path, p.reason]),
    [['f/x', '/f is not a directory']],
  );
  assert.deepEqual(
    (await tree(v)).map((e) => e.join(' ')),
    ['/ dir', '/d file now a file', '/f file file'],
  );
});

test('contents are read lazily: kept in memory, prefetched to disk once, or re-streamed and checked', async () => {
  const { v, inputs } = await view(LAYERS, { keepContents: (p: string) => p.startsWith('/etc/') });
  const opensAfterBuild = inputs.map((l) => l.opens);
  assert.deepEqual(opensAfterBuild, [1, 1, 1], 'one indexing pass per layer');
  assert.equal(Buffer.from(await v.readFile('/etc/passwd')).toString(), 'root1');
  assert.deepEqual(
    inputs.map((l) => l.opens),
    [1, 1, 1],
    'kept files need no second read',
  );
  assert.equal(await collect(await v.open('/usr/lib/b.so')), 'b');
  assert.equal(inputs[0]!.opens, 2, 'other files re-read their layer');

  await v.prefetch((r) => r.path.startsWith('/usr/'));
  const opens = inputs.map((l) => l.opens);
  assert.equal(await collect(await v.open('/usr/lib/c.so')), 'c');
  assert.equal(await collect(await v.open('/usr/bin/tool2')), 'tool');
  assert.deepEqual(
    inputs.map((l) => l.opens),
    opens,
    'prefetched files come from the cache',
  );

  await assert.rejects(v.readFile('/usr/lib/b.so', { maxBytes: 0 }), (e) =>
    isVouchError(e, 'BLOB_TOO_LARGE'),
  );
  await v.close();

  // A layer that changes between reads cannot feed different bytes.
  const bytes = inputs[2]!.bytes;
  const at = Buffer.from(bytes).indexOf('n2');
  const tampered = Buffer.from(bytes);
  tampered.write('N2', at);
  inputs[2]!.bytes = tampered;
  await assert.rejects(v.readFile('/opt/app/new2.txt'), (e) => isVouchError(e, 'DIGEST_MISMATCH'));
});

test('glob, list and walk are sorted in byte order', async () => {
  const { v } = await view([
    [
      { name: 'a/package.json', content: '{}' },
      { name: 'a-b/package.json', content: '{}' },
      { name: 'a/node_modules/x/package.json', content: '{}' },
      { name: 'é', content: '' },
      { name: 'z', content: '' },
    ],
  ]);
  assert.deepEqual(
    (await v.glob('**/package.json')).map((r) => r.path),
    ['/a-b/package.json', '/a/node_modules/x/package.json', '/a/package.json'],
  );
  const all: string[] = [];
  for await (const r of v.walk()) all.push(r.path);
  assert.deepEqual(all.slice(-2), ['/z', '/é']);
  assert.deepEqual(
    (await v.list('/')).map((r) => r.path),
    ['/a', '/a-b', '/z', '/é'],
  );
  assert.equal((await v.stat('/a'))!.implicit, true, 'parents without an entry are implicit dirs');
});

test('reads compressed layers through decompress and enforces limits', async () => {
  const tarBytes = await makeTar([{ name: 'zeros', content: new Uint8Array(4 * 1024 * 1024) }]);
  const v = await openMergedView([gzipLayer(tarBytes)]);
  assert.equal((await v.stat('zeros'))!.size, 4 * 1024 * 1024);
  await assert.rejects(
    openMergedView([gzipLayer(tarBytes)], { limits: { maxRatio: 50, ratioFloorBytes: 0 } }),
    (e) => isVouchError(e, 'DECOMPRESSION_BOMB'),
  );
  await assert.rejects(
    openMergedView([gzipLayer(tarBytes), gzipLayer(tarBytes)], {
      limits: { maxTotalBytes: 6 * 1024 * 1024 },
    }),
    (e) => isVouchError(e, 'DECOMPRESSION_BOMB'),
  );
});

/** Run with os.tmpdir() at a fresh dir, so temp files made there can be counted. */
async function inOwnTmp(t: TestContext): Promise<() => Promise<string[]>> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-merged-test-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  t.after(async () => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    await rm(dir, { recursive: true, force: true });
  });
  return () => readdir(dir);
}

test('capture: one pass keeps, spills, hashes and keeps heads as asked; close() removes the spill', async (t) => {
  const temps = await inOwnTmp(t);
  const big = Buffer.alloc(3 * 1024 * 1024 + 5);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 251;
  const lib = Buffer.from('\x7fELF-a-shared-library-with-a-long-enough-body');
  const { v, inputs } = await view(
    [
      [
        { name: 'etc/small', content: 'kept' },
        { name: 'opt/big.bin', content: big, mode: 0o755 },
        { name: 'opt/tool', content: 'spilled tool', mode: 0o755 },
        { name: 'usr/lib/libx.so', content: lib },
        { name: 'usr/share/other', content: 'lazy' },
        { name: 'empty', content: '', mode: 0o755 },
      ],
    ],
    {
      keepMaxBytes: 1024 * 1024,
      capture: (f: { path: string; size: number; mode: number }) => {
        if (f.path === '/etc/small' || f.path === '/opt/big.bin') return { keep: true, spill: true };
        if ((f.mode & 0o111) !== 0) return { spill: true };
        if (f.path.endsWith('.so')) return { hash: true, head: 4 };
        return undefined;
      },
    },
  );
  const opens = () => inputs[0]!.opens;
  assert.equal(opens(), 1);
  assert.equal(Buffer.from(await v.readFile('/etc/small')).toString(), 'kept');
  // Too big to keep: spilled instead, and read back exactly (across write batches).
  assert.ok(Buffer.from(await v.readFile('/opt/big.bin')).equals(big));
  assert.equal(await collect(await v.open('/opt/tool')), 'spilled tool');
  assert.equal(await collect(await v.open('/empty')), '');
  // A head is enough for a magic check; reading on fetches the rest, checked against the digest.
  const it = (await v.open('/usr/lib/libx.so'))[Symbol.asyncIterator]();
  assert.equal(Buffer.from((await it.next()).value!).toString('latin1'), '\x7fELF');
  await it.return?.();
  assert.equal(opens(), 1, 'kept, spilled and head reads need no second read of the layer');
  assert.equal((await v.stat('/usr/lib/libx.so'))!.digest, digestOf(lib));
  assert.equal((await v.stat('/opt/tool'))!.digest, undefined, 'hashed only when asked');
  assert.equal(Buffer.from(await v.readFile('/usr/lib/libx.so')).toString('latin1'), lib.toString('latin1'));
  assert.equal(await collect(await v.open('/usr/share/other')), 'lazy');
  assert.equal(opens(), 3, 'the rest of a head, and files not captured, re-read the layer');
  assert.equal((await temps()).length, 1, 'one spill file for all spilled entries');
  await v.close();
  assert.deepEqual(await temps(), [], 'close() removes it');

  // A file cannot change under a re-read: the rest after a head is checked against the digest.
  const { v: v2, inputs: in2 } = await view([[{ name: 'usr/lib/liby.so', content: lib }]], {
    capture: () => ({ hash: true, head: 4 }),
  });
  const tampered = Buffer.from(in2[0]!.bytes);
  tampered.write('Z', tampered.indexOf('shared'));
  in2[0]!.bytes = tampered;
  await assert.rejects(v2.readFile('/usr/lib/liby.so'), (e) => isVouchError(e, 'DIGEST_MISMATCH'));
});

test('capture: a layer failing mid-way leaves no spill behind', async (t) => {
  const temps = await inOwnTmp(t);
  const good = await layer([{ name: 'bin/a', content: 'a'.repeat(100), mode: 0o755 }]);
  const broken = {
    digest: good.digest,
    async open() {
      const bytes = good.bytes.subarray(0, 700);
      return (async function* () {
        yield bytes;
      })();
    },
  };
  await assert.rejects(openMergedView([good, broken], { capture: () => ({ spill: true }) }), (e) =>
    isVouchError(e, 'LAYER_INVALID'),
  );
  assert.deepEqual(await temps(), []);
});
