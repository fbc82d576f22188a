import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { storeCommand } from '../../src/cli/commands/store.ts';
import { isVouchError } from '../../src/errors.ts';
import { DirectoryStore } from '../../src/store/directory.ts';
import { S3Store } from '../../src/store/s3.ts';
import { type CliResult, runCommand } from '../helpers/cli.ts';
import { tempDir } from '../helpers/layout.ts';
import { startS3Server, type TestS3Server } from './s3-server.ts';

/** `vouch store ARGS`, parsed like cli/main.ts; VouchErrors propagate so tests can check their codes. */
function ls(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliResult> {
  return runCommand(storeCommand, args, { env, cwd, rethrow: true });
}

let s3: TestS3Server;
before(async () => {
  s3 = await startS3Server(['cli-bucket']);
});
after(async () => {
  await s3?.stop();
});

const TYPE = { contentType: 'application/json' };

test('store ls lists a directory store in key order, whole or under a prefix', async () => {
  await using dir = await tempDir('store-cli');
  const store = await DirectoryStore.open(join(dir.path, 'artifacts'));
  await store.put('scans/amd64/scan-app-1.0.json', Buffer.from('{"Results":[]}'), TYPE);
  await store.put('sboms/amd64/sbom-app-1.0-spdx.json', Buffer.from('{}'), TYPE);
  await store.put('sboms/amd64/sbom-app-1.0-spdx.json.sig', Buffer.from('MEUCIQ=='), TYPE);
  const all = await ls(['ls', 'dir:artifacts'], {}, dir.path);
  assert.equal(all.code, 0);
  assert.equal(
    all.stdout,
    [
      ' 2  sboms/amd64/sbom-app-1.0-spdx.json',
      ' 8  sboms/amd64/sbom-app-1.0-spdx.json.sig',
      '14  scans/amd64/scan-app-1.0.json',
      '',
    ].join('\n'),
  );
  const scans = await ls(['ls', `dir:${join(dir.path, 'artifacts')}`, 'scans/', '--json'], {}, '/');
  assert.deepEqual(JSON.parse(scans.stdout), {
    store: store.description,
    objects: [{ key: 'scans/amd64/scan-app-1.0.json', size: 14 }],
  });
  const none = await ls(['ls', 'dir:artifacts', 'attestations/'], {}, dir.path);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /no objects under "attestations\/"/);
});

test('store ls reads an s3:// URL with credentials from the environment it is given', async () => {
  const store = new S3Store({ bucket: 'cli-bucket', prefix: 'rel', endpoint: s3.endpoint }, { env: s3.env });
  await store.put('attestations/arm64/attestation-app-1.0.json', Buffer.from('{"a":1}'), TYPE);
  await store.close();
  const r = await ls(['ls', `s3://cli-bucket/rel?endpoint=${s3.endpoint}`, '--json'], s3.env, '/');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).objects, [
    { key: 'attestations/arm64/attestation-app-1.0.json', size: 7 },
  ]);
});

test('store ls: a missing directory is an error, not an empty store; usage mistakes are USAGE', async () => {
  await using dir = await tempDir('store-cli');
  await assert.rejects(ls(['ls', 'dir:nope'], {}, dir.path), (e) => isVouchError(e, 'STORE_ERROR'));
  for (const args of [[], ['cp', 'dir:x'], ['ls'], ['ls', 'dir:x', 'p', 'extra'], ['ls', 'ftp://x']]) {
    await assert.rejects(ls(args, {}, dir.path), (e) => isVouchError(e, 'USAGE'), args.join(' '));
  }
});
