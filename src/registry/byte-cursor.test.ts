import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError, VouchError } from '../errors.ts';
import { ByteCursor } from './byte-cursor.ts';

async function* chunks(...parts: (string | Error)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) {
    if (p instanceof Error) throw p;
    yield Buffer.from(p);
  }
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<string> {
  const out: Uint8Array[] = [];
  for await (const c of it) out.push(c);
  return Buffer.concat(out).toString();
}

test('take cuts exact pieces across source chunk boundaries', async () => {
  const c = new ByteCursor(chunks('abc', 'defgh', 'ij'));
  assert.equal(await collect(c.take(4)), 'abcd');
  assert.equal(await collect(c.take(5)), 'efghi');
  assert.equal(c.position, 9);
  assert.equal(await collect(c.take(1, true)), 'j');
});

test('take(last) checks the end before releasing the final bytes', async () => {
  const released: string[] = [];
  const c = new ByteCursor(chunks('abc', 'def', new VouchError('DIGEST_MISMATCH', 'bad')));
  await assert.rejects(
    (async () => {
      for await (const piece of c.take(6, true)) released.push(Buffer.from(piece).toString());
    })(),
    (e) => isVouchError(e, 'DIGEST_MISMATCH'),
  );
  assert.deepEqual(released, ['abc'], 'the last piece is held back');
});

test('short and long sources are SIZE_MISMATCH', async () => {
  await assert.rejects(collect(new ByteCursor(chunks('ab')).take(3)), (e) =>
    isVouchError(e, 'SIZE_MISMATCH'),
  );
  await assert.rejects(collect(new ByteCursor(chunks('abcd')).take(3, true)), (e) =>
    isVouchError(e, 'SIZE_MISMATCH'),
  );
});

test('skip drops bytes, then take continues', async () => {
  const c = new ByteCursor(chunks('abc', 'def', 'ghi'));
  await c.skip(4);
  assert.equal(c.position, 4);
  assert.equal(await collect(c.take(5, true)), 'efghi');
});

test('close returns the source iterator', async () => {
  let closed = false;
  const src = (async function* () {
    try {
      yield Buffer.from('abc');
      yield Buffer.from('def');
    } finally {
      closed = true;
    }
  })();
  const c = new ByteCursor(src);
  await collect(c.take(2));
  await c.close();
  assert.equal(closed, true);
});
