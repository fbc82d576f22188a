import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { bodyChunks } from './blob-reader.ts';

test('bodyChunks yields every chunk in order, pausing the source while the consumer lags', async () => {
  const body = new PassThrough();
  const sent: Buffer[] = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10, i));
  let paused = false;
  body.on('pause', () => {
    paused = true;
  });
  setImmediate(() => {
    for (const c of sent) body.write(c);
    body.end();
  });
  const got: Uint8Array[] = [];
  for await (const c of bodyChunks(body)) {
    got.push(c);
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(Buffer.concat(got), Buffer.concat(sent));
  assert.ok(paused, 'the body was paused while chunks queued up');
});

test('bodyChunks fails when the body closes before its end, after the bytes it had', async () => {
  const body = new PassThrough();
  setImmediate(() => {
    body.write(Buffer.from('abc'));
    setImmediate(() => body.destroy());
  });
  const got: Uint8Array[] = [];
  await assert.rejects(
    (async () => {
      for await (const c of bodyChunks(body)) got.push(c);
    })(),
    { code: 'ECONNRESET' },
  );
  assert.equal(Buffer.concat(got).toString(), 'abc');
});

test('bodyChunks passes on a stream error', async () => {
  const body = new PassThrough();
  setImmediate(() => body.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' })));
  await assert.rejects(
    (async () => {
      for await (const _ of bodyChunks(body)) {
        // nothing arrives
      }
    })(),
    /reset/,
  );
});
