import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVouchError } from '../../src/errors.ts';
import { DirectoryStore } from '../../src/store/directory.ts';
import { openStore } from '../../src/store/open.ts';
import { listAll, readAll } from '../../src/store/store.ts';
import { listFiles, tempDir } from '../helpers/layout.ts';
import { storeContract } from './contract.ts';

const JSON_TYPE = { contentType: 'application/json' };

storeContract('DirectoryStore', async () => {
  const dir = await tempDir('store-dir');
  const store = await DirectoryStore.open(join(dir.path, 'artifacts'));
  return {
    store,
    async dispose() {
      await store.close();
      await dir[Symbol.asyncDispose]();
    },
  };
});

/** A store root and, beside it, a directory that stands for "outside the store". */
async function withRoot(
  fn: (root: string, outside: string, store: DirectoryStore) => Promise<void>,
): Promise<void> {
  await using dir = await tempDir('store-dir');
  const root = join(dir.path, 'root');
  const outside = join(dir.path, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret.json'), 'precious');
  await fn(root, outside, await DirectoryStore.open(root));
}

test('a symlinked directory inside the root is never followed, for any operation', async () => {
  await withRoot(async (root, outside, store) => {
    await mkdir(join(root, 'sboms'));
    await symlink(outside, join(root, 'sboms', 'amd64'));
    const refused = (e: unknown) =>
      isVouchError(e, 'UNSAFE_PATH') && /sboms\/amd64 is a symbolic link/.test(e.message);
    await assert.rejects(store.put('sboms/amd64/secret.json', Buffer.from('evil'), JSON_TYPE), refused);
    await assert.rejects(store.put('sboms/amd64/new.json', Buffer.from('evil'), JSON_TYPE), refused);
    await assert.rejects(store.get('sboms/amd64/secret.json'), refused);
    await assert.rejects(store.head('sboms/amd64/secret.json'), refused);
    await assert.rejects(store.delete('sboms/amd64/secret.json'), refused);
    await assert.rejects(listAll(store, 'sboms/amd64/'), refused);
    // The full listing does not descend into the link either.
    assert.deepEqual(await listAll(store), []);
    assert.deepEqual(await readdir(outside), ['secret.json']);
    assert.equal(await readFile(join(outside, 'secret.json'), 'utf8'), 'precious');
  });
});

test('a symlink in place of the file is refused, not written through or replaced', async () => {
  await withRoot(async (root, outside, store) => {
    await mkdir(join(root, 'scans', 'amd64'), { recursive: true });
    const link = join(root, 'scans', 'amd64', 'scan-app-1.0.json');
    await symlink(join(outside, 'secret.json'), link);
    const refused = (e: unknown) => isVouchError(e, 'UNSAFE_PATH');
    await assert.rejects(store.put('scans/amd64/scan-app-1.0.json', Buffer.from('evil'), JSON_TYPE), refused);
    await assert.rejects(store.get('scans/amd64/scan-app-1.0.json'), refused);
    await assert.rejects(store.head('scans/amd64/scan-app-1.0.json'), refused);
    await assert.rejects(store.delete('scans/amd64/scan-app-1.0.json'), refused);
    assert.equal(await readFile(join(outside, 'secret.json'), 'utf8'), 'precious');
    assert.deepEqual(await listAll(store), [], 'links are not listed');
  });
});

test('the root itself may be reached through a link (it is resolved once, when opened)', async () => {
  await using dir = await tempDir('store-dir');
  await mkdir(join(dir.path, 'real'));
  await symlink(join(dir.path, 'real'), join(dir.path, 'via-link'));
  const store = await DirectoryStore.open(join(dir.path, 'via-link'));
  assert.equal(store.root, join(dir.path, 'real'));
  assert.equal(store.description, `dir:${join(dir.path, 'real')}`);
  await store.put('sboms/arm/x.json', Buffer.from('x'), JSON_TYPE);
  assert.equal(await readFile(join(dir.path, 'real', 'sboms', 'arm', 'x.json'), 'utf8'), 'x');
});

test('a failed write leaves the previous file byte for byte and no temp file', async () => {
  await withRoot(async (root, _outside, store) => {
    await store.put('attestations/arm64/a.json', Buffer.from('the old attestation'), JSON_TYPE);
    async function* breaking(): AsyncGenerator<Uint8Array> {
      yield Buffer.alloc(300_000, 0x41);
      throw new Error('disk gone');
    }
    await assert.rejects(
      store.put('attestations/arm64/a.json', { stream: breaking() }, JSON_TYPE),
      /disk gone/,
    );
    assert.equal(
      await readFile(join(root, 'attestations', 'arm64', 'a.json'), 'utf8'),
      'the old attestation',
    );
    assert.deepEqual(await listFiles(root), ['attestations/arm64/a.json']);
  });
});

test('temp files left by a crash are neither listed nor readable as keys', async () => {
  await withRoot(async (root, _outside, store) => {
    await store.put('scans/arm64/scan.json', Buffer.from('{}'), JSON_TYPE);
    await writeFile(join(root, 'scans', 'arm64', 'scan.json.0123456789ab.tmp'), 'half a wri');
    await writeFile(join(root, 'scans', 'arm64', 'odd name.json'), 'not a valid key');
    assert.deepEqual(await listAll(store), [{ key: 'scans/arm64/scan.json', size: 2 }]);
    await assert.rejects(store.get('scans/arm64/scan.json.0123456789ab.tmp'), (e) =>
      isVouchError(e, 'UNSAFE_PATH'),
    );
  });
});

test('a key whose directory is a file, or whose file is a directory, is a STORE_ERROR naming it', async () => {
  await withRoot(async (root, _outside, store) => {
    await store.put('sboms/amd64', Buffer.from('a file'), JSON_TYPE);
    await assert.rejects(
      store.put('sboms/amd64/x.json', Buffer.from('x'), JSON_TYPE),
      (e) => isVouchError(e, 'STORE_ERROR') && /sboms\/amd64 is not a directory/.test(e.message),
    );
    await mkdir(join(root, 'scans', 'x.json'), { recursive: true });
    await assert.rejects(
      store.get('scans/x.json'),
      (e) =>
        isVouchError(e, 'STORE_ERROR') && /scans\/x\.json exists but is not a regular file/.test(e.message),
    );
  });
});

test('get pins the version it opened while a put replaces the file', async () => {
  await withRoot(async (_root, _outside, store) => {
    await store.put('scans/amd64/s.json', Buffer.from('first version'), JSON_TYPE);
    const reader = await store.get('scans/amd64/s.json');
    assert.ok(reader);
    await store.put('scans/amd64/s.json', Buffer.from('second'), JSON_TYPE);
    assert.equal(Buffer.from(await readAll(reader)).toString(), 'first version');
    const again = await store.get('scans/amd64/s.json');
    assert.equal(Buffer.from(await readAll(again!)).toString(), 'second');
  });
});

test('openStore opens the directory of a vouch.yaml store section; create: false refuses a missing one', async () => {
  await using dir = await tempDir('store-dir');
  const store = await openStore({ kind: 'directory', directory: join(dir.path, 'a', 'b') });
  await store.put('sboms/amd64/s.json', Buffer.from('{}'), JSON_TYPE);
  assert.deepEqual(await listFiles(join(dir.path, 'a', 'b')), ['sboms/amd64/s.json']);
  await rm(join(dir.path, 'a'), { recursive: true });
  await assert.rejects(
    openStore({ kind: 'directory', directory: join(dir.path, 'missing') }, { create: false }),
    (e) => isVouchError(e, 'STORE_ERROR') && e.message.includes('missing') && e.message.includes('ENOENT'),
  );
});
