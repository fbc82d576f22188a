import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { isVouchError, VouchError } from '../errors.ts';
import { decompress } from './compression.ts';

async function collect(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of src) parts.push(c);
  return Buffer.concat(parts);
}

async function* chunks(bytes: Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const text = Buffer.from('hello layer '.repeat(1000));

test('auto detects gzip, zstd and plain data', async () => {
  assert.deepEqual(await collect(decompress(chunks(gzipSync(text)), 'auto')), text);
  assert.deepEqual(await collect(decompress(chunks(zstdCompressSync(text)), 'auto')), text);
  assert.deepEqual(await collect(decompress(chunks(text), 'auto')), text);
});

test('corrupt gzip becomes LAYER_INVALID', async () => {
  const bad = Buffer.from(gzipSync(text));
  bad.fill(0x55, 20, 60);
  await assert.rejects(collect(decompress(chunks(bad), 'gzip')), (e) => isVouchError(e, 'LAYER_INVALID'));
});

test('an error of the input comes out unchanged and ends the output', async () => {
  async function* failing(): AsyncGenerator<Uint8Array> {
    const z = gzipSync(text);
    yield z.subarray(0, 30);
    throw new VouchError('DIGEST_MISMATCH', 'input failed');
  }
  await assert.rejects(collect(decompress(failing(), 'auto')), (e) => isVouchError(e, 'DIGEST_MISMATCH'));
});
