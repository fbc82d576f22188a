/**
 * refreshTrustedRoot against a real TUF repository served on 127.0.0.1: root, timestamp,
 * snapshot and targets metadata signed with an Ed25519 key, and the trusted_root.json target.
 * Proves the online path end to end (TUF update, target hash check, validation, atomic write)
 * without leaving the machine, and that tampering and outages are reported, never ignored.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVouchError } from '../../src/errors.ts';
import { loadTrustedRoot, refreshTrustedRoot } from '../../src/sigstore/trust-root.ts';
import { tempDir } from '../helpers/layout.ts';
import { createInstance } from './helpers/instance.ts';

/** OLPC canonical JSON as TUF signs it (sorted keys, no spaces); enough for ASCII metadata. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

interface Repo {
  files: Map<string, Buffer>;
  rootJson: Buffer;
}

function tufRepo(target: Buffer): Repo {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(-32);
  const key = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw.toString('hex') } };
  const keyid = createHash('sha256').update(canonical(key)).digest('hex');
  const expires = '2099-01-01T00:00:00Z';
  const common = { spec_version: '1.0.31', version: 1, expires };
  const signed = (s: Record<string, unknown>, k: KeyObject = privateKey) =>
    Buffer.from(
      JSON.stringify({
        signed: s,
        signatures: [{ keyid, sig: sign(null, Buffer.from(canonical(s)), k).toString('hex') }],
      }),
    );
  const role = { keyids: [keyid], threshold: 1 };
  const root = signed({
    _type: 'root',
    ...common,
    consistent_snapshot: false,
    keys: { [keyid]: key },
    roles: { root: role, snapshot: role, targets: role, timestamp: role },
  });
  const targets = signed({
    _type: 'targets',
    ...common,
    targets: {
      'trusted_root.json': {
        length: target.length,
        hashes: { sha256: createHash('sha256').update(target).digest('hex') },
      },
    },
  });
  const snapshot = signed({ _type: 'snapshot', ...common, meta: { 'targets.json': { version: 1 } } });
  const timestamp = signed({ _type: 'timestamp', ...common, meta: { 'snapshot.json': { version: 1 } } });
  const files = new Map<string, Buffer>([
    ['/1.root.json', root],
    ['/timestamp.json', timestamp],
    ['/snapshot.json', snapshot],
    ['/targets.json', targets],
    ['/targets/trusted_root.json', target],
  ]);
  return { files, rootJson: root };
}

async function serve(files: Map<string, Buffer>) {
  const server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    [Symbol.asyncDispose]: () => new Promise<void>((r) => server.close(() => r())),
  };
}

test('refreshTrustedRoot: TUF update from a mirror, target checked, written atomically', async () => {
  const doc = createInstance().trustedRoot();
  const target = Buffer.from(JSON.stringify(doc));
  const repo = tufRepo(target);
  await using mirror = await serve(repo.files);
  await using dir = await tempDir('tuf');
  const rootPath = join(dir.path, 'root.json');
  await writeFile(rootPath, repo.rootJson);
  const cache = join(dir.path, 'cache');
  const { path, trustedRoot } = await refreshTrustedRoot(cache, { mirrorUrl: mirror.url, rootPath });
  assert.equal(path, join(cache, 'trusted_root.json'));
  assert.deepEqual(trustedRoot.tlogs, doc.tlogs);
  const written = await loadTrustedRoot(path);
  assert.deepEqual(written.certificateAuthorities, doc.certificateAuthorities);
  assert.equal(await readFile(path, 'utf8'), target.toString('utf8')); // the signed bytes, unchanged
});

test('refreshTrustedRoot: a target that does not match the signed hash is refused', async () => {
  const target = Buffer.from(JSON.stringify(createInstance().trustedRoot()));
  const repo = tufRepo(target);
  const evil = Buffer.from(target); // same length, one bit changed: only the hash can tell
  evil.writeUInt8(evil.readUInt8(10) ^ 1, 10);
  repo.files.set('/targets/trusted_root.json', evil);
  await using mirror = await serve(repo.files);
  await using dir = await tempDir('tuf');
  const rootPath = join(dir.path, 'root.json');
  await writeFile(rootPath, repo.rootJson);
  await assert.rejects(
    refreshTrustedRoot(join(dir.path, 'cache'), { mirrorUrl: mirror.url, rootPath }),
    (e: unknown) => {
      assert.ok(isVouchError(e, 'TRUST_ROOT_INVALID'), String(e));
      assert.match(e.message, /cannot refresh the trusted root from TUF mirror http:\/\/127\.0\.0\.1:\d+/);
      return true;
    },
  );
});

test('refreshTrustedRoot: a mirror that is down is TRUST_ROOT_INVALID with a hint, nothing written', async () => {
  const repo = tufRepo(Buffer.from('{}'));
  await using dir = await tempDir('tuf');
  const rootPath = join(dir.path, 'root.json');
  await writeFile(rootPath, repo.rootJson);
  const mirror = await serve(new Map());
  const url = mirror.url;
  await mirror[Symbol.asyncDispose](); // nothing listens on the port any more
  await assert.rejects(
    refreshTrustedRoot(join(dir.path, 'cache'), { mirrorUrl: url, rootPath, timeoutMs: 2000 }),
    (e: unknown) => isVouchError(e, 'TRUST_ROOT_INVALID') && /offline, keep using/.test(e.hint ?? ''),
  );
  await assert.rejects(readFile(join(dir.path, 'cache', 'trusted_root.json')), { code: 'ENOENT' });
});
