import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { DEMO_MARKER, openWorkDir } from './workdir.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-workdir-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const protect = ['/nonexistent/example'];

test('without --work-dir: a new temp directory, marked as the demo’s', async () => {
  const a = await openWorkDir(undefined, { cwd: root, protect });
  const b = await openWorkDir(undefined, { cwd: root, protect });
  try {
    assert.equal(a.temporary, true);
    assert.notEqual(a.path, b.path);
    assert.ok(a.path.startsWith(tmpdir()));
    assert.deepEqual(await readdir(a.path), [DEMO_MARKER]);
  } finally {
    await rm(a.path, { recursive: true, force: true });
    await rm(b.path, { recursive: true, force: true });
  }
});

test('a named directory: made when new, used when empty, replaced when an earlier demo’s', async () => {
  const fresh = await openWorkDir('new/dir', { cwd: root, protect });
  assert.deepEqual(fresh, { path: join(root, 'new', 'dir'), temporary: false });
  await writeFile(join(fresh.path, 'old-result'), 'x');
  const again = await openWorkDir(join(root, 'new', 'dir'), { cwd: root, protect });
  assert.deepEqual(await readdir(again.path), [DEMO_MARKER], 'the earlier demo is replaced');
  await mkdir(join(root, 'empty'));
  assert.equal((await openWorkDir('empty', { cwd: root, protect })).temporary, false);
});

test('refused: a directory holding anything else, a file, and one overlapping the example', async () => {
  await mkdir(join(root, 'mine'));
  await writeFile(join(root, 'mine', 'thesis.tex'), 'precious');
  await assert.rejects(
    openWorkDir('mine', { cwd: root, protect }),
    (e) => isVouchError(e, 'USAGE') && /not made by vouch demo/.test(e.message),
  );
  assert.ok((await stat(join(root, 'mine', 'thesis.tex'))).isFile(), 'nothing was deleted');
  await assert.rejects(openWorkDir('mine/thesis.tex', { cwd: root, protect }), (e) =>
    isVouchError(e, 'USAGE'),
  );
  const example = join(root, 'example');
  for (const dir of [example, join(example, 'out'), root]) {
    await assert.rejects(
      openWorkDir(dir, { cwd: root, protect: [example] }),
      (e) => isVouchError(e, 'USAGE') && /overlaps/.test(e.message),
      dir,
    );
  }
  // A sibling whose name merely starts like the example's is fine.
  assert.equal((await openWorkDir(`${example}-out`, { cwd: root, protect: [example] })).temporary, false);
});
