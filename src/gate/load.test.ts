import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { loadIgnoreFile, loadVexFiles } from './load.ts';

test('loaders: digests of the bytes read, display names, missing files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-gate-load-'));
  try {
    const text = 'CVE-1 # why\n';
    await writeFile(join(dir, '.trivyignore'), text);
    const got = await loadIgnoreFile(join(dir, '.trivyignore'), { required: true, name: '.trivyignore' });
    assert.equal(got?.file.digest, `sha256:${createHash('sha256').update(text).digest('hex')}`);
    assert.equal(got?.file.path, '.trivyignore');
    assert.deepEqual(got?.exceptions[0]?.source, { file: '.trivyignore', line: 1 });

    assert.equal(
      await loadIgnoreFile(join(dir, 'none'), { required: false }),
      undefined,
      'default file absent: no exceptions',
    );
    await assert.rejects(
      loadIgnoreFile(join(dir, 'none'), { required: true, name: 'none' }),
      (e: unknown) => isVouchError(e, 'IO_ERROR') && e.message === 'ignore file none does not exist',
    );
    await writeFile(join(dir, 'bin'), Buffer.from([0xff, 0xfe, 0x00]));
    await assert.rejects(loadIgnoreFile(join(dir, 'bin'), { required: true }), (e: unknown) =>
      isVouchError(e, 'IGNOREFILE_INVALID'),
    );

    const vex = (name: string) =>
      JSON.stringify({
        '@context': 'https://openvex.dev/ns/v0.2.0',
        statements: [{ vulnerability: { name }, products: ['pkg:npm/a'], status: 'fixed' }],
      });
    await writeFile(join(dir, 'a.json'), vex('CVE-1'));
    await writeFile(join(dir, 'b.json'), vex('CVE-2'));
    const v = await loadVexFiles([join(dir, 'a.json'), join(dir, 'b.json')], ['a.json', 'b.json']);
    assert.deepEqual(
      v.files.map((f) => f.path),
      ['a.json', 'b.json'],
    );
    assert.deepEqual(
      v.statements.map((s) => [s.source.file, s.order]),
      [
        ['a.json', 0],
        ['b.json', 1],
      ],
    );
    await assert.rejects(loadVexFiles([join(dir, 'c.json')]), (e: unknown) => isVouchError(e, 'IO_ERROR'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
