/** Authentication and TLS against the real registry: htpasswd Basic auth, self-signed TLS. */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isVouchError } from '../../src/errors.ts';
import { RegistryClient } from '../../src/registry/client.ts';
import type { RegistryOptions } from '../../src/registry/options.ts';
import { openRegistryDestination, openRegistrySource } from '../../src/registry/source.ts';
import { randomImage } from '../helpers/random-image.ts';
import { REGISTRY_BIN, requireBinary, startRegistry, type TestRegistry } from '../helpers/registry.ts';

const skip = await requireBinary(REGISTRY_BIN);
const USER = 'vouch-user';
const PASSWORD = 'pa55-w0rd-not-in-logs';
let reg: TestRegistry;
let tlsReg: TestRegistry;
let dir: string;

before(async () => {
  if (skip) return;
  [reg, tlsReg] = await Promise.all([
    startRegistry({ htpasswd: { user: USER, password: PASSWORD } }),
    startRegistry({ tls: true, htpasswd: { user: USER, password: PASSWORD } }),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'vouch-auth-it-'));
});
after(async () => {
  await Promise.all([reg?.stop(), tlsReg?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function* stream(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** Push a small image with `o`, read it back, return its digest. */
async function roundTrip(r: TestRegistry, repository: string, o: RegistryOptions): Promise<string> {
  const img = await randomImage({ layerCount: 1 });
  const ref = { registry: r.host, repository, tag: 'v1' };
  const dst = await openRegistryDestination(ref, o);
  for (const d of [...img.layers, img.configDescriptor])
    await dst.putBlob(d, async () => stream(img.blobs.get(d.digest)!));
  await dst.putManifest(img.descriptor, img.manifest);
  await dst.commit(img.descriptor);
  await dst.close();
  const src = await openRegistrySource(ref, o);
  const root = await src.resolve();
  await src.close();
  assert.equal(root.digest, img.descriptor.digest);
  return root.digest;
}

test('htpasswd: explicit credentials', { skip }, async () => {
  await roundTrip(reg, 'auth/explicit', { credentials: { username: USER, password: PASSWORD } });
});

test('htpasswd: a config.json auths entry', { skip }, async () => {
  const authFile = join(dir, 'config.json');
  await writeFile(
    authFile,
    JSON.stringify({
      auths: { [`http://${reg.host}`]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } },
    }),
  );
  await roundTrip(reg, 'auth/config', { authFile });
});

test('htpasswd: a credential helper on PATH', { skip }, async () => {
  const bin = join(dir, 'bin');
  await import('node:fs/promises').then((fs) => fs.mkdir(bin, { recursive: true }));
  await writeFile(
    join(bin, 'docker-credential-vouchtest'),
    `#!/bin/sh\nread server\n[ "$server" = "${reg.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '{"ServerURL":"${reg.host}","Username":"${USER}","Secret":"${PASSWORD}"}'\n`,
  );
  await chmod(join(bin, 'docker-credential-vouchtest'), 0o755);
  const authFile = join(dir, 'helper.json');
  await writeFile(authFile, JSON.stringify({ credHelpers: { [reg.host]: 'vouchtest' } }));
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  try {
    await roundTrip(reg, 'auth/helper', { authFile });
  } finally {
    process.env.PATH = path;
  }
});

test(
  'htpasswd: a wrong password is UNAUTHORIZED and the password is nowhere in the error',
  { skip },
  async () => {
    const c = new RegistryClient({
      credentials: { username: USER, password: 'wrong-secret-123' },
      retry: { attempts: 2, baseDelayMs: 5 },
    });
    await assert.rejects(
      c.getManifest({ registry: reg.host, repository: 'auth/explicit', tag: 'v1' }),
      (e) => {
        assert.ok(isVouchError(e, 'UNAUTHORIZED'));
        const text = JSON.stringify({ m: e.message, h: e.hint });
        assert.ok(!text.includes('wrong-secret-123'), text);
        assert.ok(!text.includes(Buffer.from(`${USER}:wrong-secret-123`).toString('base64')), text);
        return true;
      },
    );
    await c.close();
  },
);

test('htpasswd: no credentials at all is UNAUTHORIZED with a hint', { skip }, async () => {
  const c = new RegistryClient({ authFile: join(dir, 'empty.json'), retry: { attempts: 1, baseDelayMs: 1 } });
  await writeFile(join(dir, 'empty.json'), '{}');
  await assert.rejects(c.getManifest({ registry: reg.host, repository: 'auth/explicit', tag: 'v1' }), (e) => {
    assert.ok(isVouchError(e, 'UNAUTHORIZED'));
    assert.match(e.hint ?? '', /credentials/);
    return true;
  });
  await c.close();
});

test('TLS: a self-signed registry needs caFile or insecure', { skip }, async () => {
  const creds = { credentials: { username: USER, password: PASSWORD } };
  const strict = new RegistryClient({ ...creds, retry: { attempts: 1, baseDelayMs: 1 } });
  await assert.rejects(
    strict.ping(tlsReg.host),
    (e) => isVouchError(e, 'REGISTRY_UNREACHABLE') && /--ca-file/.test(e.hint ?? ''),
  );
  await strict.close();
  await roundTrip(tlsReg, 'tls/ca', { ...creds, caFile: tlsReg.certFile! });
  await roundTrip(tlsReg, 'tls/insecure', { ...creds, insecure: true });
  const c = new RegistryClient({ ...creds, caFile: tlsReg.certFile! });
  assert.equal((await c.transport.endpoint(tlsReg.host)).base.protocol, 'https:');
  await c.close();
});
