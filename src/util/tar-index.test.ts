import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { makeTar } from '../../test/helpers/random-image.ts';
import { isVouchError } from '../errors.ts';
import { indexTar, normaliseTarName } from './tar-index.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-tar-index-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tarFile(name: string, bytes: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

async function rejectsCode(p: Promise<unknown> | (() => unknown), code: string, re?: RegExp) {
  await assert.rejects(
    async () => (typeof p === 'function' ? p() : p),
    (e: unknown) => {
      assert.ok(isVouchError(e), `expected a VouchError, got ${String(e)}`);
      assert.equal(e.code, code, e.message);
      if (re) assert.match(e.message, re);
      return true;
    },
  );
}

describe('normaliseTarName', () => {
  it('strips ./ and empty segments, refuses escapes', () => {
    assert.equal(normaliseTarName('./a/./b/'), 'a/b');
    assert.equal(normaliseTarName('a//b'), 'a/b');
    assert.equal(normaliseTarName('./'), '');
    assert.equal(normaliseTarName('../x'), undefined);
    assert.equal(normaliseTarName('a/../../x'), undefined);
    assert.equal(normaliseTarName('/etc/passwd'), undefined);
  });
});

describe('indexTar', () => {
  it('indexes members and streams each by offset, in any order', async () => {
    const big = randomBytes(300_000);
    const small = randomBytes(10);
    const file = await tarFile(
      'basic.tar',
      await makeTar([
        { name: './', type: 'directory' },
        { name: './dir/', type: 'directory' },
        { name: './dir/big.bin', content: big },
        { name: 'small.bin', content: small },
        { name: 'empty', content: '' },
        { name: 'dir/sym', type: 'symlink', linkname: '../small.bin' },
        { name: 'hard', type: 'link', linkname: 'dir/big.bin' },
      ]),
    );
    const idx = await indexTar(file);
    assert.equal(idx.compression, 'none');
    assert.deepEqual(
      idx.entries().map((m) => [m.name, m.type]),
      [
        ['dir', 'directory'],
        ['dir/big.bin', 'file'],
        ['small.bin', 'file'],
        ['empty', 'file'],
        ['dir/sym', 'symlink'],
        ['hard', 'link'],
      ],
    );
    assert.equal(idx.get('./dir/big.bin')?.size, big.length);
    assert.equal(idx.get('nope'), undefined);
    assert.deepEqual(await collect(idx.open('small.bin')), Buffer.from(small));
    assert.deepEqual(await collect(idx.open('./dir/big.bin')), big);
    assert.deepEqual(await collect(idx.open('dir/sym')), Buffer.from(small));
    assert.deepEqual(await collect(idx.open('hard')), big);
    assert.equal(idx.resolve('hard').name, 'dir/big.bin');
    assert.deepEqual(await collect(idx.open('empty')), Buffer.alloc(0));
    assert.deepEqual(Buffer.from(await idx.read('dir/sym', 100)), Buffer.from(small));
    await rejectsCode(idx.read('dir/big.bin', 1000), 'ARCHIVE_INVALID', /over the 1000-byte limit/);
    await idx.close();
  });

  it('reads GNU, pax and ustar long names written by GNU tar', async () => {
    const src = join(dir, 'src');
    const deep = `${'d'.repeat(80)}/${'e'.repeat(80)}`;
    const long = `${deep}/${'f'.repeat(120)}.txt`;
    await mkdir(join(src, deep), { recursive: true });
    await writeFile(join(src, long), 'long name content');
    await symlink(`../../${'x'.repeat(150)}`, join(src, deep, 'link'));
    for (const format of ['gnu', 'pax'] as const) {
      const out = join(dir, `long-${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-cf', out, '-C', src, '.'], { stdio: 'ignore' });
      const idx = await indexTar(out);
      assert.equal(Buffer.from(await idx.read(long, 100)).toString(), 'long name content', format);
      assert.equal(idx.get(`${deep}/link`)?.linkname, `../../${'x'.repeat(150)}`, format);
      await idx.close();
    }
    // ustar splits a name of up to 255 bytes into prefix + name
    const src2 = join(dir, 'src2');
    const mid = `${'d'.repeat(60)}/${'e'.repeat(60)}/short.txt`;
    await mkdir(join(src2, 'd'.repeat(60), 'e'.repeat(60)), { recursive: true });
    await writeFile(join(src2, mid), 'prefix split');
    const out = join(dir, 'long-ustar.tar');
    execFileSync('tar', ['--format=ustar', '-cf', out, '-C', src2, 'd'.repeat(60)], { stdio: 'ignore' });
    const idx = await indexTar(out);
    assert.equal(Buffer.from(await idx.read(mid, 100)).toString(), 'prefix split');
    await idx.close();
  });

  it('decompresses gzip and zstd archives to a temp file removed by close()', async () => {
    const raw = await makeTar([{ name: 'a.txt', content: 'hello' }]);
    for (const [name, bytes] of [
      ['c.tar.gz', gzipSync(raw)],
      ['c.tar.zst', zstdCompressSync(raw)],
    ] as const) {
      const file = await tarFile(name, bytes);
      const idx = await indexTar(file);
      assert.equal(idx.compression, name.endsWith('gz') ? 'gzip' : 'zstd');
      assert.equal(Buffer.from(await idx.read('a.txt', 10)).toString(), 'hello');
      assert.notEqual(idx.tarFile, file);
      assert.ok(idx.tarFile.startsWith(join(tmpdir(), 'vouch-tar-')));
      assert.equal((await stat(idx.tarFile)).size, raw.byteLength);
      await idx.close();
      await assert.rejects(stat(dirname(idx.tarFile)), { code: 'ENOENT' });
    }
  });

  it('caps decompression with maxDecompressedBytes', async () => {
    const raw = await makeTar([{ name: 'zeros', content: new Uint8Array(1 << 20) }]);
    const file = await tarFile('bomb.tar.gz', gzipSync(raw));
    await rejectsCode(indexTar(file, { maxDecompressedBytes: 64 * 1024 }), 'DECOMPRESSION_BOMB');
  });

  it('refuses duplicate members, escaping paths and escaping links', async () => {
    const dup = await tarFile(
      'dup.tar',
      await makeTar([
        { name: 'a', content: '1' },
        { name: './a', content: '2' },
      ]),
    );
    await rejectsCode(indexTar(dup), 'ARCHIVE_INVALID', /"a" appears more than once/);
    const dirsTwice = await tarFile(
      'dirs.tar',
      await makeTar([
        { name: 'd/', type: 'directory' },
        { name: './d/', type: 'directory' },
      ]),
    );
    await (await indexTar(dirsTwice)).close();
    for (const bad of ['../evil', 'a/../../evil', '/etc/passwd']) {
      const f = await tarFile('escape.tar', await makeTar([{ name: bad, content: 'x' }]));
      await rejectsCode(indexTar(f), 'ARCHIVE_INVALID', /leaves the archive/);
    }
    const links = await tarFile(
      'links.tar',
      await makeTar([
        { name: 'up', type: 'symlink', linkname: '../../etc/passwd' },
        { name: 'abs', type: 'symlink', linkname: '/etc/passwd' },
        { name: 'loop1', type: 'symlink', linkname: 'loop2' },
        { name: 'loop2', type: 'symlink', linkname: 'loop1' },
        { name: 'dangling', type: 'symlink', linkname: 'nothing' },
        { name: 'd/', type: 'directory' },
      ]),
    );
    const idx = await indexTar(links);
    assert.throws(
      () => idx.resolve('up'),
      (e) => isVouchError(e, 'ARCHIVE_INVALID'),
    );
    assert.throws(
      () => idx.resolve('abs'),
      (e) => isVouchError(e, 'ARCHIVE_INVALID'),
    );
    assert.throws(() => idx.resolve('loop1'), /too many levels of links/);
    assert.throws(() => idx.resolve('dangling'), /member "nothing" is missing \(via links from "dangling"\)/);
    assert.throws(() => idx.resolve('d'), /is a directory, not a file/);
    assert.throws(() => idx.resolve('missing.json'), /member "missing.json" is missing/);
    await idx.close();
  });

  it('refuses non-tar, truncated and xz input', async () => {
    await rejectsCode(
      indexTar(await tarFile('random.bin', randomBytes(2048))),
      'ARCHIVE_INVALID',
      /not a tar archive/,
    );
    const raw = await makeTar([{ name: 'a', content: randomBytes(5000) }]);
    await rejectsCode(
      indexTar(await tarFile('trunc.tar', raw.subarray(0, 2048))),
      'ARCHIVE_INVALID',
      /truncated/,
    );
    const corrupt = Buffer.from(raw);
    corrupt[10] = (corrupt[10] ?? 0) ^ 0xff;
    await rejectsCode(indexTar(await tarFile('corrupt.tar', corrupt)), 'ARCHIVE_INVALID', /checksum/);
    const xz = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]);
    await rejectsCode(indexTar(await tarFile('a.tar.xz', xz)), 'ARCHIVE_INVALID', /xz-compressed/);
    const gz = gzipSync(raw);
    await rejectsCode(
      indexTar(await tarFile('cut.tar.gz', gz.subarray(0, gz.length - 20))),
      'ARCHIVE_INVALID',
      /corrupt gzip data/,
    );
    const zst = Buffer.from(zstdCompressSync(raw));
    zst.fill(0x55, 4, 12);
    await rejectsCode(indexTar(await tarFile('bad.tar.zst', zst)), 'ARCHIVE_INVALID', /corrupt zstd data/);
    await rejectsCode(indexTar(join(dir, 'does-not-exist.tar')), 'IO_ERROR', /does-not-exist/);
  });

  it('maps an aborted read to ABORTED', async () => {
    const file = await tarFile('abort.tar', await makeTar([{ name: 'big', content: randomBytes(1 << 20) }]));
    const idx = await indexTar(file);
    const ac = new AbortController();
    ac.abort();
    await rejectsCode(collect(idx.open('big', { signal: ac.signal })), 'ABORTED');
    await idx.close();
  });
});
