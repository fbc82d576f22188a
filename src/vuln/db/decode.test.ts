import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { runDecodeTask } from './decode.ts';

let dir: string;
const files: Record<string, Buffer> = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-decode-'));
  const rec = (id: string, details: string) =>
    Buffer.from(JSON.stringify({ id, modified: '2024-05-06T07:08:09Z', details }, null, 2));
  // small, then big enough to grow the shared read buffer past 1 MiB, then small again, then
  // exactly the initial buffer size: each must come back byte for byte, never mixed up
  files['a.json'] = rec('A-1', 'small');
  files['b.json'] = rec('B-1', 'x'.repeat(3 << 20));
  files['c.json'] = rec('C-1', 'after the big one');
  const d = rec('D-1', '');
  files['d.json'] = rec('D-1', 'y'.repeat((1 << 16) - d.length));
  assert.equal(files['d.json'].length, 1 << 16);
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('files decode to their own bytes and hashes, whatever their size and order', () => {
  const names = ['a.json', 'b.json', 'c.json', 'd.json', 'missing.json'];
  const b = runDecodeTask({ kind: 'files', root: dir, files: names });
  assert.deepEqual(b.ids, ['A-1', 'B-1', 'C-1', 'D-1']);
  assert.deepEqual(b.hashes, [
    ...names.slice(0, 4).map((n) => createHash('sha256').update(files[n]!).digest('hex')),
    'unreadable',
  ]);
  for (const [i, n] of names.slice(0, 4).entries()) {
    const blob = b.blobs.subarray(i === 0 ? 0 : b.blobEnds[i - 1]!, b.blobEnds[i]!);
    assert.deepEqual(inflateRawSync(blob), files[n], n);
  }
  assert.deepEqual(b.problems, [{ entry: 'missing.json', message: 'cannot read (ENOENT)' }]);
});
