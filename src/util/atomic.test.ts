import assert from 'node:assert/strict';
import { lstat, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isVouchError, VouchError } from '../errors.ts';
import { createAtomicWriteStream, tempPathFor, writeFileAtomic, writeStreamAtomic } from './atomic.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-atomic-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('tempPathFor stays in the same directory with a .tmp suffix', () => {
  const t = tempPathFor('/a/b/file.json');
  assert.match(t, /^\/a\/b\/file\.json\.[0-9a-f]{12}\.tmp$/);
  assert.notEqual(tempPathFor('/a/b/file.json'), t);
});

test('writeFileAtomic creates and replaces a file, leaving no temp', async () => {
  const p = join(dir, 'x.json');
  await writeFileAtomic(p, 'one');
  assert.equal(await readFile(p, 'utf8'), 'one');
  await writeFileAtomic(p, new TextEncoder().encode('two'));
  assert.equal(await readFile(p, 'utf8'), 'two');
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.startsWith('x.json')),
    ['x.json'],
  );
});

test('a failing source leaves the old file and no temp', async () => {
  const p = join(dir, 'keep.bin');
  await writeFile(p, 'old');
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield new Uint8Array([1, 2, 3]);
    throw new VouchError('DIGEST_MISMATCH', 'bad');
  }
  await assert.rejects(writeStreamAtomic(p, failing()), (e) => isVouchError(e, 'DIGEST_MISMATCH'));
  assert.equal(await readFile(p, 'utf8'), 'old');
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.startsWith('keep.bin')),
    ['keep.bin'],
  );
});

test('an aborted signal stops the write with ABORTED and cleans up', async () => {
  const p = join(dir, 'aborted.bin');
  const ac = new AbortController();
  async function* slow(): AsyncGenerator<Uint8Array> {
    yield new Uint8Array(10);
    ac.abort();
    yield new Uint8Array(10);
  }
  await assert.rejects(writeStreamAtomic(p, slow(), { signal: ac.signal }), (e) =>
    isVouchError(e, 'ABORTED'),
  );
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.startsWith('aborted.bin')),
    [],
  );
});

test('createAtomicWriteStream: invisible until commit, abort after commit is a no-op', async () => {
  const p = join(dir, 'stream.bin');
  const w = await createAtomicWriteStream(p);
  await w.write(new Uint8Array([1, 2]));
  await w.write(new Uint8Array([3]));
  assert.equal(w.bytesWritten, 3);
  await assert.rejects(readFile(p), { code: 'ENOENT' });
  await w.commit();
  await w.abort();
  assert.deepEqual([...(await readFile(p))], [1, 2, 3]);
  await assert.rejects(w.write(new Uint8Array(1)), (e) => isVouchError(e, 'INTERNAL'));
});

test('abort removes the temp file', async () => {
  const p = join(dir, 'gone.bin');
  const w = await createAtomicWriteStream(p);
  await w.write(new Uint8Array([1]));
  await w.abort();
  await w.abort();
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.startsWith('gone.bin')),
    [],
  );
});

test('a missing directory is an IO_ERROR naming the path', async () => {
  const p = join(dir, 'no', 'such', 'file');
  await assert.rejects(
    writeFileAtomic(p, 'x'),
    (e) => isVouchError(e, 'IO_ERROR') && e.message.includes(join(dir, 'no', 'such')),
  );
});

test('a large stream of small chunks arrives whole (gathered into batched writes)', async () => {
  const p = join(dir, 'large.bin');
  const chunk = (i: number) => new Uint8Array(64 * 1024).fill(i % 251);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 600; i++) yield chunk(i); // 37.5 MiB: many batches
  }
  assert.equal(await writeStreamAtomic(p, chunks()), 600 * 64 * 1024);
  const back = await readFile(p);
  assert.equal(back.byteLength, 600 * 64 * 1024);
  for (const i of [0, 1, 250, 251, 599]) assert.equal(back[i * 64 * 1024 + 5], i % 251);
});

test('writing to a device or through a symlink never replaces them', async () => {
  const before = await lstat('/dev/null');
  await writeFileAtomic('/dev/null', 'discarded');
  const after = await lstat('/dev/null');
  assert.equal(after.isCharacterDevice(), true);
  assert.equal(after.ino, before.ino);
  const dir = await mkdtemp(join(tmpdir(), 'vouch-atomic-link-'));
  try {
    await writeFile(join(dir, 'real.json'), 'old');
    await symlink('real.json', join(dir, 'link.json'));
    await writeFileAtomic(join(dir, 'link.json'), 'new');
    assert.equal((await lstat(join(dir, 'link.json'))).isSymbolicLink(), true);
    assert.equal(await readFile(join(dir, 'real.json'), 'utf8'), 'new');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
