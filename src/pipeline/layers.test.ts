import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createGunzip } from 'node:zlib';
import { isVouchError } from '../errors.ts';
import { readTar } from '../fs/tar.ts';
import { buildLayer, buildLayers } from './layers.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-layers-'));
  await mkdir(join(dir, 'src', 'bin'), { recursive: true });
  await writeFile(join(dir, 'src', 'bin', 'run'), '#!/bin/sh\necho hi\n');
  await writeFile(join(dir, 'src', 'conf.json'), '{}');
  await chmod(join(dir, 'src', 'conf.json'), 0o600);
  await symlink('bin/run', join(dir, 'src', 'start'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function entries(path: string): Promise<{ path: string; mode: number; uid: number; type: string }[]> {
  const out: { path: string; mode: number; uid: number; type: string }[] = [];
  for await (const e of readTar(createReadStream(path).pipe(createGunzip()))) {
    out.push({ path: e.path, mode: e.mode, uid: e.uid, type: e.type });
  }
  return out;
}

test('a mode sets every file and directory (not symlinks), under parents made 0755; owners applied', async () => {
  const out = join(dir, 'a.tar.gz');
  const r = await buildLayer(
    { source: join(dir, 'src'), target: '/opt/app', uid: 10, gid: 20, mode: 0o750 },
    out,
    1700000000,
  );
  const e = await entries(out);
  assert.deepEqual(
    e.map((x) => [x.path, x.type, x.mode.toString(8), x.uid]),
    [
      ['opt', 'dir', '755', 10],
      ['opt/app', 'dir', '750', 10],
      ['opt/app/bin', 'dir', '750', 10],
      ['opt/app/bin/run', 'file', '750', 10],
      ['opt/app/conf.json', 'file', '750', 10],
      ['opt/app/start', 'symlink', '777', 10],
    ],
  );
  assert.equal(r.entries, 6);
});

test('the same tree gives the same digest with or without a mode run twice; a directory is required', async () => {
  const spec = { source: join(dir, 'src'), target: '/app', mode: 0o755 };
  const a = await buildLayer(spec, join(dir, 'b1.tar.gz'), 1);
  const b = await buildLayer(spec, join(dir, 'b2.tar.gz'), 1);
  assert.equal(a.digest, b.digest);
  const plain = await buildLayers([{ source: join(dir, 'src'), target: '/app' }], {
    dir,
    epoch: 1,
    configDir: dir,
  });
  assert.notEqual(plain[0]?.digest, a.digest, 'the mode is part of the layer');
  assert.equal(plain[0]?.history?.created_by, 'vouch: add src as /app (owner 0:0)');
  await assert.rejects(
    buildLayer({ source: join(dir, 'src', 'conf.json'), target: '/x' }, join(dir, 'c.tar.gz'), 1),
    (e: unknown) => isVouchError(e, 'USAGE'),
  );
  await assert.rejects(
    buildLayer({ source: join(dir, 'missing'), target: '/x' }, join(dir, 'c.tar.gz'), 1),
    (e: unknown) => isVouchError(e, 'FILE_NOT_FOUND'),
  );
});
