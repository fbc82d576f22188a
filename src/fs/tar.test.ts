import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { chunks, collect, tempDir } from '../../test/fs/helpers.ts';
import { makeTar } from '../../test/helpers/random-image.ts';
import { isVouchError, VouchError } from '../errors.ts';
import { decompress } from '../oci/compression.ts';
import { type ReadTarOptions, readTar, TarBudget, type TarHeader } from './tar.ts';

async function headers(bytes: Uint8Array, opts?: ReadTarOptions): Promise<(TarHeader & { text: string })[]> {
  const out = [];
  for await (const e of readTar(chunks(bytes, 1000), opts)) {
    const { body, ...h } = e;
    out.push({ ...h, text: await collect(body) });
  }
  return out;
}

async function rejects(p: Promise<unknown>, code: Parameters<typeof isVouchError>[1], re?: RegExp) {
  await assert.rejects(p, (e) => {
    assert.ok(isVouchError(e, code), `expected ${code}, got ${String(e)}`);
    if (re) assert.match((e as Error).message, re);
    return true;
  });
}

test('reads an archive made by GNU tar: long names, PAX, links, devices, fifos', async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  const longDir = 'd'.repeat(120);
  const longName = `${'n'.repeat(150)}.txt`;
  await mkdir(join(src, 'sub', longDir), { recursive: true });
  await writeFile(join(src, 'sub', longDir, longName), 'long');
  await writeFile(join(src, 'sub', 'héllo wörld.txt'), 'unicode');
  await writeFile(join(src, 'a.sh'), '#!/bin/sh\n', { mode: 0o4755 });
  await symlink(`../${'t'.repeat(130)}`, join(src, 'sub', 'longlink'));
  execFileSync('ln', [join(src, 'a.sh'), join(src, 'hard.sh')]);
  execFileSync('mkfifo', [join(src, 'fifo')]);
  for (const format of ['gnu', 'posix']) {
    const out = join(dir, `${format}.tar`);
    execFileSync('tar', ['--format', format, '--sort=name', '-cf', out, '-C', src, '.']);
    execFileSync('tar', ['--format', format, '-rf', out, '-C', '/', 'dev/null']);
    const list = await headers(await readFile(out));
    const byPath = new Map(list.map((h) => [h.path, h]));
    assert.equal(byPath.get('')?.type, 'dir', 'the ./ entry is the root');
    assert.equal(byPath.get(`sub/${longDir}/${longName}`)?.text, 'long', format);
    assert.equal(byPath.get('sub/héllo wörld.txt')?.text, 'unicode', format);
    assert.equal(byPath.get('sub/longlink')?.linkname, `../${'t'.repeat(130)}`);
    const a = byPath.get('a.sh')!;
    const hard = byPath.get('hard.sh')!;
    assert.equal(a.mode, 0o4755);
    // GNU tar stores the second name of an inode as a hardlink to the first.
    const [first, second] = a.type === 'file' ? [a, hard] : [hard, a];
    assert.equal(second.type, 'hardlink');
    assert.equal(second.linkname, first.path);
    assert.equal(byPath.get('fifo')?.type, 'fifo');
    const dev = byPath.get('dev/null')!;
    assert.deepEqual([dev.type, dev.devmajor, dev.devminor], ['char', 1, 3]);
    assert.deepEqual(
      list.map((h) => h.index),
      list.map((_, i) => i),
    );
  }
});

test('PAX records override the ustar fields and expose xattrs', async () => {
  const tar = (await import('tar-stream')).default;
  const pack = tar.pack();
  const parts: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    parts.push(c as Buffer);
  });
  const ended = new Promise<void>((r) => pack.on('end', () => r()));
  pack.entry(
    {
      name: 'bin/ping',
      mode: 0o755,
      mtime: new Date(1000),
      uid: 1,
      pax: { mtime: '1700000000.5', uid: '3000000', 'SCHILY.xattr.security.capability': 'cap' },
    },
    'x',
  );
  pack.finalize();
  await ended;
  const [h] = await headers(Buffer.concat(parts));
  assert.equal(h!.mtime, 1700000000.5);
  assert.equal(h!.uid, 3000000);
  assert.deepEqual(h!.xattrs, { 'security.capability': 'cap' });
});

test('paths are normalised; unsafe ones are rejected or flagged', async () => {
  const bytes = await makeTar([
    { name: './a//b/./c', content: '1' },
    { name: 'dir/', type: 'directory' },
    { name: '../evil', content: '2' },
    { name: '/etc/passwd', content: '3' },
    { name: 'x/../y', content: '4' },
    { name: 'link', type: 'link', linkname: '../../outside' },
  ]);
  await rejects(headers(bytes), 'UNSAFE_PATH', /"\.\.\/evil"/);
  const list = await headers(bytes, { unsafePaths: 'flag' });
  assert.deepEqual(
    list.map((h) => [h.path, h.unsafe]),
    [
      ['a/b/c', undefined],
      ['dir', undefined],
      ['../evil', "path climbs out with '..'"],
      ['etc/passwd', 'path is absolute'],
      ['x/../y', "path climbs out with '..'"],
      ['link', "hardlink target climbs out with '..'"],
    ],
  );
});

test('a malformed or truncated tar is LAYER_INVALID with the position', async () => {
  const good = await makeTar([
    { name: 'a', content: 'x'.repeat(600) },
    { name: 'b', content: 'y' },
  ]);
  const corrupt = Buffer.from(good);
  corrupt[1536] = corrupt[1536]! ^ 0xff; // the name field of b's header: checksum no longer matches
  await rejects(headers(corrupt), 'LAYER_INVALID', /at byte 1536 \(after entry "a"\)/);
  await rejects(headers(good.subarray(0, 700)), 'LAYER_INVALID', /truncated.*byte 700/);
  await rejects(headers(gzipSync(good)), 'LAYER_INVALID', /before the first entry/);
  const odd = Buffer.from(good);
  odd[156] = 'S'.charCodeAt(0); // GNU sparse file: not supported
  let sum = 0;
  odd.fill(0x20, 148, 156);
  for (let i = 0; i < 512; i++) sum += odd[i]!;
  odd.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  await rejects(headers(odd), 'LAYER_INVALID', /"a".*unsupported type/);
});

test('limits stop a bomb early with DECOMPRESSION_BOMB', async () => {
  const many = await makeTar(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, content: '' })));
  await rejects(headers(many, { limits: { maxEntries: 20 } }), 'DECOMPRESSION_BOMB', /more than 20 entries/);
  const long = await makeTar([{ name: `${'a'.repeat(300)}`, content: '' }]);
  await rejects(headers(long, { limits: { maxPathLength: 255 } }), 'DECOMPRESSION_BOMB', /300 bytes/);

  const zeros = await makeTar([{ name: 'zeros', content: new Uint8Array(16 * 1024 * 1024) }]);
  const gz = gzipSync(zeros);
  let expanded = 0;
  async function* counting(src: AsyncIterable<Uint8Array>) {
    for await (const c of src) {
      expanded += c.byteLength;
      yield c;
    }
  }
  const ratio = readTar(counting(decompress(chunks(gz, 1024), 'auto')), {
    compressedSize: gz.byteLength,
    limits: { maxRatio: 10, ratioFloorBytes: 0 },
  });
  await rejects(collectAll(ratio), 'DECOMPRESSION_BOMB', /expands more than 10x/);
  // Stopped near 10 x the compressed size (~160 KB), long before the 16 MiB were expanded.
  assert.ok(expanded < 2 * 1024 * 1024, `stopped expanding early (${expanded} bytes)`);

  // One budget across several archives: the total counts them all.
  const small = await makeTar([{ name: 'a', content: new Uint8Array(100_000) }]);
  const budget = new TarBudget({ maxTotalBytes: 150_000 });
  await collectAll(readTar(chunks(small, 65536), { budget }));
  await rejects(collectAll(readTar(chunks(small, 65536), { budget })), 'DECOMPRESSION_BOMB', /in total/);
});

async function collectAll(it: AsyncIterable<{ body: AsyncIterable<Uint8Array> }>): Promise<number> {
  let n = 0;
  for await (const e of it) {
    for await (const _ of e.body) n++;
  }
  return n;
}

test('a failing source keeps its own error; early exits do not hang', async () => {
  const bytes = await makeTar([
    { name: 'a', content: 'a'.repeat(100_000) },
    { name: 'b', content: 'b' },
  ]);
  async function* failing() {
    yield* chunks(bytes, 4096);
    throw new VouchError('DIGEST_MISMATCH', 'layer digest mismatch');
  }
  await rejects(collectAll(readTar(failing())), 'DIGEST_MISMATCH');

  // Unread and half-read bodies are skipped; break leaves cleanly.
  const names: string[] = [];
  for await (const e of readTar(chunks(bytes, 100))) {
    names.push(e.path);
    for await (const _ of e.body) break;
  }
  assert.deepEqual(names, ['a', 'b']);
  for await (const e of readTar(chunks(bytes, 100))) {
    assert.equal(e.path, 'a');
    break;
  }
});

test('the source is read to its end after the last entry, and released when the reader leaves early', async () => {
  const bytes = await makeTar([
    { name: 'a', content: 'a'.repeat(3000) },
    { name: 'b', content: 'b' },
  ]);
  let ended = false;
  let released = false;
  async function* source() {
    try {
      yield* chunks(bytes, 512);
      ended = true;
    } finally {
      released = true;
    }
  }
  const names: string[] = [];
  for await (const e of readTar(source())) names.push(e.path);
  assert.deepEqual(names, ['a', 'b']);
  assert.ok(ended, 'read past the end-of-archive blocks, so a digest check at the end runs');
  ended = released = false;
  for await (const e of readTar(source())) {
    assert.equal(e.path, 'a');
    break;
  }
  assert.deepEqual([ended, released], [false, true]);
});
