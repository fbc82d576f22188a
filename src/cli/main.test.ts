import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers/layout.ts';
import { randomIndex, writeLayout } from '../../test/helpers/random-image.ts';
import type { CliIO } from './io.ts';
import { main } from './main.ts';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => {
    out += c;
  });
  stderr.on('data', (c) => {
    err += c;
  });
  const io: CliIO = { stdout, stderr, env: {}, cwd: process.cwd() };
  const code = await main(args, io);
  return { code, out, err };
}

test('usage errors exit 2 and say what is wrong', async () => {
  assert.equal((await run(['nope'])).code, 2);
  const r = await run(['copy', 'oci:/x']);
  assert.equal(r.code, 2);
  assert.match(r.err, /expected SRC and DST/);
  const bad = await run(['inspect', '--bogus', 'x']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /bogus/);
});

test('--help teaches every command', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  for (const c of ['copy', 'inspect', 'flatten', 'demo']) assert.match(r.out, new RegExp(`\\b${c}\\b`));
  const h = await run(['copy', '--help']);
  assert.match(h.out, /--platform/);
  assert.match(h.out, /Examples:/);
});

test('inspect --format json describes an index entry; failures exit 1 with the error code', async () => {
  await using dir = await tempDir('cli');
  const idx = await randomIndex();
  await writeLayout(dir.path, [{ descriptor: idx.descriptor, tag: 'v1' }], idx.blobs);
  const r = await run(['inspect', `oci:${dir.path}:v1`, '--format', 'json', '--platform', 'linux/arm64']);
  assert.equal(r.code, 0, r.err);
  const d = JSON.parse(r.out);
  assert.equal(d.digest, idx.images[1]!.descriptor.digest);
  assert.equal(d.index.digest, idx.descriptor.digest);
  assert.deepEqual(
    d.index.platforms.map((p: { platform: string }) => p.platform),
    ['linux/amd64', 'linux/arm64/v8'],
  );
  const missing = await run(['inspect', `oci:${dir.path}:nope`]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /\[IMAGE_NOT_FOUND\]/);
});
