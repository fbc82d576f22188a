/**
 * The CLI end to end against the real registry, with skopeo as the independent client:
 * a whole multi-platform index travels layout → registry → layout/archives with digests intact.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomIndex, writeLayout } from '../helpers/random-image.ts';
import { REGISTRY_BIN, requireBinary, startRegistry, type TestRegistry } from '../helpers/registry.ts';

const run = promisify(execFile);
const VOUCH = fileURLToPath(new URL('../../bin/vouch.js', import.meta.url));
const skip = (await requireBinary(REGISTRY_BIN)) || (await requireBinary('skopeo'));
let open: TestRegistry;
let authed: TestRegistry;
let dir: string;

before(async () => {
  if (skip) return;
  open = await startRegistry();
  authed = await startRegistry({ htpasswd: { user: 'alice', password: 's3cret-pw' } });
  dir = await mkdtemp(join(tmpdir(), 'vouch-e2e-'));
});
after(async () => {
  await open?.stop();
  await authed?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function vouch(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [VOUCH, ...args], {
      env: { ...process.env, HOME: dir },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

async function skopeo(...args: string[]): Promise<string> {
  return (await run('skopeo', args, { maxBuffer: 16 << 20 })).stdout;
}

test('an index copied by vouch to a registry is read by skopeo with the same digests', { skip }, async () => {
  const idx = await randomIndex();
  const src = join(dir, 'src');
  await writeLayout(src, [{ descriptor: idx.descriptor, tag: 'v1' }], idx.blobs);
  const r = await vouch('copy', `oci:${src}:v1`, `${open.host}/e2e/app:1.0`, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).descriptor.digest, idx.descriptor.digest);
  const raw = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${open.host}/e2e/app:1.0`);
  assert.equal(raw, Buffer.from(idx.index).toString());
  for (const img of idx.images) {
    const m = await skopeo(
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${open.host}/e2e/app@${img.descriptor.digest}`,
    );
    assert.equal(m, Buffer.from(img.manifest).toString());
  }
  // skopeo copies every platform back; vouch reads that layout with identical digests
  const back = join(dir, 'back');
  await skopeo(
    'copy',
    '--all',
    '--src-tls-verify=false',
    `docker://${open.host}/e2e/app:1.0`,
    `oci:${back}:x`,
  );
  const i = await vouch('inspect', `oci:${back}:x`, '--format', 'json', '--platform', 'linux/arm64/v8');
  assert.equal(i.code, 0, i.stderr);
  const d = JSON.parse(i.stdout);
  assert.equal(d.index.digest, idx.descriptor.digest);
  assert.equal(d.digest, idx.images[1]!.descriptor.digest);
});

test('one platform of a registry index becomes a docker-archive skopeo reads', { skip }, async () => {
  const idx = await randomIndex();
  const src = join(dir, 'src2');
  await writeLayout(src, [{ descriptor: idx.descriptor, tag: 'v1' }], idx.blobs);
  assert.equal((await vouch('copy', `oci:${src}:v1`, `docker://${open.host}/e2e/two:1.0`)).code, 0);
  const tar = join(dir, 'arm.tar');
  const r = await vouch(
    'copy',
    `${open.host}/e2e/two:1.0`,
    `docker-archive:${tar}:app:arm`,
    '--platform',
    'linux/arm64',
  );
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(await skopeo('inspect', '--config', `docker-archive:${tar}`));
  const arm = idx.images[1]!;
  assert.equal(info.architecture, 'arm64');
  assert.deepEqual(info.rootfs.diff_ids, arm.diffIds);
  const config = await skopeo('inspect', '--raw', `docker-archive:${tar}`);
  assert.equal(JSON.parse(config).config.digest, arm.configDescriptor.digest);
});

test(
  'registry credentials: --creds works, a wrong password exits 1 without echoing it',
  { skip },
  async () => {
    const idx = await randomIndex();
    const src = join(dir, 'src3');
    await writeLayout(src, [{ descriptor: idx.descriptor, tag: 'v1' }], idx.blobs);
    const ok = await vouch(
      'copy',
      `oci:${src}:v1`,
      `${authed.host}/private/app:1`,
      '--creds',
      'alice:s3cret-pw',
    );
    assert.equal(ok.code, 0, ok.stderr);
    const raw = await skopeo(
      'inspect',
      '--raw',
      '--tls-verify=false',
      '--creds',
      'alice:s3cret-pw',
      `docker://${authed.host}/private/app:1`,
    );
    assert.equal(raw, Buffer.from(idx.index).toString());
    const bad = await vouch('inspect', `${authed.host}/private/app:1`, '--creds', 'alice:wrong-password-xyz');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /UNAUTHORIZED/);
    assert.doesNotMatch(bad.stderr, /wrong-password-xyz/);
    const none = await vouch('inspect', `${authed.host}/private/app:1`);
    assert.equal(none.code, 1);
  },
);

test(
  'a tampered blob in the registry is refused and no tag is written at the destination',
  { skip },
  async () => {
    const idx = await randomIndex();
    const src = join(dir, 'src4');
    await writeLayout(src, [{ descriptor: idx.descriptor, tag: 'v1' }], idx.blobs);
    assert.equal((await vouch('copy', `oci:${src}:v1`, `${open.host}/e2e/tamper:1`)).code, 0);
    const { blobDataPath } = await import('../helpers/registry.ts');
    const { readFile, writeFile } = await import('node:fs/promises');
    const layer = idx.images[0]!.layers[0]!.digest;
    const p = blobDataPath(open.storageDir, layer);
    const b = await readFile(p);
    b[b.length - 3]! ^= 0xff;
    await writeFile(p, b);
    const out = join(dir, 'tampered-out');
    const r = await vouch('copy', `${open.host}/e2e/tamper:1`, `oci:${out}:t`, '--all');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /DIGEST_MISMATCH/);
    assert.match(r.stderr, new RegExp(layer));
    const i = await vouch('inspect', `oci:${out}:t`);
    assert.equal(i.code, 1);
    assert.match(i.stderr, /IMAGE_NOT_FOUND/);
  },
);
