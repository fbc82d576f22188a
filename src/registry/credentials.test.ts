import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { configKey, lookupCredential, normaliseKey } from './credentials.ts';

let dir: string;
let env: NodeJS.ProcessEnv;

const HELPER = `#!/bin/sh
[ "$1" = get ] || exit 9
read server
case "$server" in
  good.example) echo '{"ServerURL":"good.example","Username":"alice","Secret":"s3cret-helper"}' ;;
  token.example) echo '{"ServerURL":"token.example","Username":"<token>","Secret":"refresh-xyz"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"hub","Username":"hubuser","Secret":"hubpass"}' ;;
  broken.example) echo "keychain locked" >&2; exit 3 ;;
  junk.example) echo "not json s3cret-junk" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-creds-'));
  await writeFile(join(dir, 'docker-credential-test'), HELPER);
  await chmod(join(dir, 'docker-credential-test'), 0o755);
  env = { PATH: `${dir}:${process.env.PATH}`, DOCKER_CONFIG: join(dir, 'nothing-here') };
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(name: string, v: unknown): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, JSON.stringify(v));
  return p;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

test('no credentials anywhere → anonymous', async () => {
  assert.equal(await lookupCredential('r.example', { env }), undefined);
});

test('explicit credentials win over DOCKER_AUTH_CONFIG and files', async () => {
  const authFile = await configFile('c0.json', { auths: { 'r.example': { auth: b64('file:f') } } });
  const c = await lookupCredential('r.example', {
    credentials: { username: 'cli', password: 'c' },
    authFile,
    env: { ...env, DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'r.example': { auth: b64('env:e') } } }) },
  });
  assert.deepEqual(c, { kind: 'basic', username: 'cli', password: 'c' });
});

test('DOCKER_AUTH_CONFIG beats the config file, which is the fallback', async () => {
  const authFile = await configFile('c1.json', {
    auths: { 'r.example': { auth: b64('file:f') }, 'other.example': { auth: b64('other:o') } },
  });
  const e = {
    ...env,
    DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { 'r.example': { auth: b64('env:e:with:colons') } } }),
  };
  assert.deepEqual(await lookupCredential('r.example', { authFile, env: e }), {
    kind: 'basic',
    username: 'env',
    password: 'e:with:colons',
  });
  assert.deepEqual(await lookupCredential('other.example', { authFile, env: e }), {
    kind: 'basic',
    username: 'other',
    password: 'o',
  });
});

test('auths: exact key, URL-normalised keys, username/password, tokens', async () => {
  const authFile = await configFile('c2.json', {
    auths: {
      'https://legacy.example:5000/v1/': { auth: b64('leg:acy') },
      'plain.example': { username: 'u', password: 'p' },
      'id.example': { identitytoken: 'refresh-1' },
      'rt.example': { registrytoken: 'bearer-1' },
      'bad.example': { auth: b64('no-colon') },
      'https://index.docker.io/v1/': { auth: b64('hub:h') },
    },
  });
  const o = { authFile, env };
  assert.deepEqual(await lookupCredential('legacy.example:5000', o), {
    kind: 'basic',
    username: 'leg',
    password: 'acy',
  });
  assert.deepEqual(await lookupCredential('plain.example', o), {
    kind: 'basic',
    username: 'u',
    password: 'p',
  });
  assert.deepEqual(await lookupCredential('id.example', o), { kind: 'identity-token', token: 'refresh-1' });
  assert.deepEqual(await lookupCredential('rt.example', o), { kind: 'registry-token', token: 'bearer-1' });
  assert.deepEqual(await lookupCredential('docker.io', o), { kind: 'basic', username: 'hub', password: 'h' });
  await assert.rejects(lookupCredential('bad.example', o), (e) => isVouchError(e, 'CREDENTIALS_ERROR'));
});

test('$DOCKER_CONFIG/config.json is read when no authFile is given', async () => {
  const cfgDir = await mkdtemp(join(dir, 'cfg-'));
  await writeFile(
    join(cfgDir, 'config.json'),
    JSON.stringify({ auths: { 'r.example': { auth: b64('dc:x') } } }),
  );
  assert.deepEqual(await lookupCredential('r.example', { env: { ...env, DOCKER_CONFIG: cfgDir } }), {
    kind: 'basic',
    username: 'dc',
    password: 'x',
  });
});

test('a missing explicit authFile is an error; bad JSON too', async () => {
  await assert.rejects(lookupCredential('r.example', { authFile: join(dir, 'nope.json'), env }), (e) =>
    isVouchError(e, 'CREDENTIALS_ERROR'),
  );
  await writeFile(join(dir, 'bad.json'), '{nope');
  await assert.rejects(lookupCredential('r.example', { authFile: join(dir, 'bad.json'), env }), (e) =>
    isVouchError(e, 'CREDENTIALS_ERROR'),
  );
});

test('credHelpers → credsStore → auths, with "not found" falling through', async () => {
  const authFile = await configFile('c3.json', {
    credHelpers: { 'good.example': 'test', 'missing.example': 'test' },
    credsStore: 'test',
    auths: { 'missing.example': { auth: b64('fromauths:a') } },
  });
  const o = { authFile, env };
  assert.deepEqual(await lookupCredential('good.example', o), {
    kind: 'basic',
    username: 'alice',
    password: 's3cret-helper',
  });
  assert.deepEqual(await lookupCredential('token.example', o), {
    kind: 'identity-token',
    token: 'refresh-xyz',
  });
  assert.deepEqual(await lookupCredential('docker.io', o), {
    kind: 'basic',
    username: 'hubuser',
    password: 'hubpass',
  });
  assert.deepEqual(await lookupCredential('missing.example', o), {
    kind: 'basic',
    username: 'fromauths',
    password: 'a',
  });
  assert.equal(await lookupCredential('unknown.example', o), undefined);
});

test('helper failures are CREDENTIALS_ERROR and never quote the output', async () => {
  const authFile = await configFile('c4.json', { credsStore: 'test' });
  await assert.rejects(lookupCredential('broken.example', { authFile, env }), (e) => {
    assert.ok(isVouchError(e, 'CREDENTIALS_ERROR'));
    assert.match(e.message, /docker-credential-test get failed for broken\.example: keychain locked/);
    return true;
  });
  await assert.rejects(lookupCredential('junk.example', { authFile, env }), (e) => {
    assert.ok(isVouchError(e, 'CREDENTIALS_ERROR'));
    assert.ok(!e.message.includes('s3cret'), e.message);
    return true;
  });
  const missing = await configFile('c5.json', { credsStore: 'absent' });
  await assert.rejects(lookupCredential('x.example', { authFile: missing, env }), (e) => {
    assert.ok(isVouchError(e, 'CREDENTIALS_ERROR'));
    assert.match(e.message, /docker-credential-absent is not on PATH/);
    return true;
  });
  const evil = await configFile('c6.json', { credsStore: '../../bin/sh' });
  await assert.rejects(lookupCredential('x.example', { authFile: evil, env }), (e) =>
    isVouchError(e, 'CREDENTIALS_ERROR'),
  );
});

test('config keys: Docker Hub uses the legacy index URL, URLs normalise to hosts', () => {
  assert.equal(configKey('docker.io'), 'https://index.docker.io/v1/');
  assert.equal(configKey('ghcr.io'), 'ghcr.io');
  assert.equal(normaliseKey('https://ghcr.io/v2/'), 'ghcr.io');
  assert.equal(normaliseKey('http://127.0.0.1:5000'), '127.0.0.1:5000');
  assert.equal(normaliseKey('https://index.docker.io/v1/'), 'docker.io');
});
