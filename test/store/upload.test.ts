/**
 * uploadArtifacts and fetchArtifact over both stores: layout, cosign-format signatures checked
 * by openssl, idempotent re-runs, replaced content, and what an interrupted upload leaves.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { isVouchError } from '../../src/errors.ts';
import { signingKeyFromKeyObject } from '../../src/sign/keys/signing-key.ts';
import type { SigningKey } from '../../src/sign/keys/types.ts';
import { DirectoryStore } from '../../src/store/directory.ts';
import { fetchArtifact } from '../../src/store/fetch.ts';
import { type ArtifactKind, type ImageId, releaseKeys } from '../../src/store/layout.ts';
import { S3Store } from '../../src/store/s3.ts';
import { decodeSignature } from '../../src/store/signature.ts';
import { type ArtifactStore, listAll, readAll } from '../../src/store/store.ts';
import { type ArtifactFile, type UploadManifest, uploadArtifacts } from '../../src/store/upload.ts';
import { tempDir } from '../helpers/layout.ts';
import { requireBinary } from '../helpers/registry.ts';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from './s3-server.ts';

const run = promisify(execFile);
const IMAGE: ImageId = { name: '127.0.0.1:5000/team/app', version: '1.2.3' };
const BUCKET = 'vouch-upload';

function newKey(): SigningKey {
  return signingKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
}

const signer = (k: SigningKey) => async (bytes: Uint8Array) => k.sign(bytes);
const checker = (k: SigningKey) => (bytes: Uint8Array, sig: Uint8Array) => k.verify(bytes, sig);

/** The four artifacts of a release as files in `dir`. */
async function artifactFiles(dir: string, tag = 'v1'): Promise<ArtifactFile[]> {
  const files: [ArtifactKind, string][] = [
    ['sbom-cyclonedx', `{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"${tag}"}`],
    ['sbom-spdx', `{"spdxVersion":"SPDX-2.3","name":"${tag}"}`],
    ['attestation', `{"payloadType":"application/vnd.in-toto+json","payload":"${tag}"}`],
    ['scan', `{"SchemaVersion":2,"Results":[],"tag":"${tag}"}`],
  ];
  const out: ArtifactFile[] = [];
  for (const [kind, content] of files) {
    const path = join(dir, `${kind}.json`);
    await writeFile(path, content);
    out.push({ kind, path });
  }
  return out;
}

/** key → sha256 of everything in the store (the store's own view, via head). */
async function snapshot(store: ArtifactStore): Promise<Record<string, string | undefined>> {
  const out: Record<string, string | undefined> = {};
  for (const e of await listAll(store)) out[e.key] = (await store.head(e.key))?.sha256;
  return out;
}

function statuses(m: UploadManifest): string[] {
  return m.objects.map((o) => `${o.status} ${o.key}`);
}

/**
 * The invariant an upload must keep after every single write: any `.sig` in the store is a valid
 * signature, by `key`, of the artifact bytes beside it.
 */
async function assertNoStraySignature(store: ArtifactStore, key: SigningKey): Promise<void> {
  for (const e of releaseKeys(IMAGE, 'amd64')) {
    const sig = await store.get(e.signatureKey);
    if (sig === undefined) continue;
    const art = await store.get(e.key);
    assert.ok(art, `${e.signatureKey} exists without ${e.key}`);
    const ok = key.verify(await readAll(art), decodeSignature(await readAll(sig), e.signatureKey));
    assert.ok(ok, `${e.signatureKey} does not sign the bytes of ${e.key}`);
  }
}

/** Wrap a store: check the invariant after each write, and "crash" on a chosen write. */
function watched(
  inner: ArtifactStore,
  key: SigningKey,
  crashOn?: (op: 'put' | 'delete', k: string) => boolean,
): ArtifactStore & { writes: string[] } {
  const writes: string[] = [];
  return {
    writes,
    description: inner.description,
    async put(k, body, options) {
      if (crashOn?.('put', k)) throw new Error(`crash before put ${k}`);
      const r = await inner.put(k, body, options);
      writes.push(`put ${k}`);
      await assertNoStraySignature(inner, key);
      return r;
    },
    async delete(k, options) {
      if (crashOn?.('delete', k)) throw new Error(`crash before delete ${k}`);
      await inner.delete(k, options);
      writes.push(`delete ${k}`);
      await assertNoStraySignature(inner, key);
    },
    get: (k, o) => inner.get(k, o),
    head: (k, o) => inner.head(k, o),
    list: (p, o) => inner.list(p, o),
    close: () => inner.close(),
  };
}

let s3: TestS3Server;
before(async () => {
  s3 = await startS3Server([BUCKET]);
});
after(async () => {
  await s3?.stop();
});

const STORES: { name: string; open(dir: string): Promise<ArtifactStore> }[] = [
  { name: 'directory', open: (dir) => DirectoryStore.open(join(dir, 'store')) },
  {
    name: 's3',
    open: async () =>
      new S3Store(
        { bucket: BUCKET, prefix: `u-${randomBytes(6).toString('hex')}`, endpoint: s3.endpoint },
        { credentials: S3RVER_CREDENTIALS, maxAttempts: 1 },
      ),
  },
];

for (const kind of STORES) {
  describe(`uploadArtifacts into a ${kind.name} store`, () => {
    test('writes the four artifacts where the issue says, each with a valid .sig', async () => {
      await using dir = await tempDir('upload');
      const store = await kind.open(dir.path);
      const key = newKey();
      try {
        const files = await artifactFiles(dir.path);
        const m = await uploadArtifacts(store, { image: IMAGE, arch: 'amd64', files, sign: signer(key) });
        assert.equal(m.image, 'app-1.2.3');
        assert.equal(m.store, store.description);
        assert.deepEqual(statuses(m), [
          'created sboms/amd64/sbom-app-1.2.3-cyclonedx.json',
          'created sboms/amd64/sbom-app-1.2.3-cyclonedx.json.sig',
          'created sboms/amd64/sbom-app-1.2.3-spdx.json',
          'created sboms/amd64/sbom-app-1.2.3-spdx.json.sig',
          'created attestations/amd64/attestation-app-1.2.3.json',
          'created attestations/amd64/attestation-app-1.2.3.json.sig',
          'created scans/amd64/scan-app-1.2.3.json',
          'created scans/amd64/scan-app-1.2.3.json.sig',
        ]);
        for (const [i, f] of files.entries()) {
          const got = await fetchArtifact(store, m.objects[i * 2]!.key, { verify: checker(key) });
          assert.deepEqual(Buffer.from(got.bytes), await readFile(f.path));
          assert.equal(got.sha256, m.objects[i * 2]!.sha256);
          assert.equal(got.verified, true);
          const sigText = Buffer.from(await readAll((await store.get(got.signatureKey))!)).toString();
          assert.match(sigText, /^[A-Za-z0-9+/]+={0,2}$/, 'plain base64, no newline, as cosign sign-blob');
          assert.equal(m.objects[i * 2 + 1]!.sha256, (await store.head(got.signatureKey))?.sha256);
        }
        await assert.rejects(
          fetchArtifact(store, m.objects[0]!.key, { verify: checker(newKey()) }),
          (e) =>
            isVouchError(e, 'SIGNATURE_INVALID') && e.message.includes('sbom-app-1.2.3-cyclonedx.json.sig'),
        );
      } finally {
        await store.close();
      }
    });

    test('a re-run with the same files changes nothing and reports every object unchanged', async () => {
      await using dir = await tempDir('upload');
      const store = await kind.open(dir.path);
      const key = newKey();
      try {
        const files = await artifactFiles(dir.path);
        await uploadArtifacts(store, { image: IMAGE, arch: 'arm64', files, sign: signer(key) });
        const first = await snapshot(store);
        const w = watched(store, key);
        for (const verify of [undefined, checker(key)]) {
          const again = await uploadArtifacts(w, {
            image: IMAGE,
            arch: 'arm64',
            files,
            sign: signer(key),
            verify,
          });
          assert.ok(
            again.objects.every((o) => o.status === 'unchanged'),
            statuses(again).join('\n'),
          );
        }
        assert.deepEqual(w.writes, [], 'no write at all on a re-run');
        assert.deepEqual(await snapshot(store), first);
      } finally {
        await store.close();
      }
    });

    test('changed content replaces the artifact and its signature; the rest stays', async () => {
      await using dir = await tempDir('upload');
      const store = await kind.open(dir.path);
      const key = newKey();
      try {
        const files = await artifactFiles(dir.path);
        await uploadArtifacts(store, { image: IMAGE, arch: 'amd64', files, sign: signer(key) });
        await writeFile(files[3]!.path, '{"SchemaVersion":2,"Results":[{"Target":"new findings"}]}');
        const w = watched(store, key);
        const m = await uploadArtifacts(w, { image: IMAGE, arch: 'amd64', files, sign: signer(key) });
        assert.deepEqual(
          m.objects.filter((o) => o.status !== 'unchanged').map((o) => `${o.status} ${o.key}`),
          ['replaced scans/amd64/scan-app-1.2.3.json', 'replaced scans/amd64/scan-app-1.2.3.json.sig'],
        );
        // the old .sig goes first, so it never sits beside the new bytes
        assert.deepEqual(w.writes, [
          'delete scans/amd64/scan-app-1.2.3.json.sig',
          'put scans/amd64/scan-app-1.2.3.json',
          'put scans/amd64/scan-app-1.2.3.json.sig',
        ]);
        const got = await fetchArtifact(store, 'scans/amd64/scan-app-1.2.3.json', { verify: checker(key) });
        assert.match(Buffer.from(got.bytes).toString(), /new findings/);
      } finally {
        await store.close();
      }
    });

    test('an upload interrupted at any write leaves no .sig beside other bytes, and a re-run repairs it', async () => {
      await using dir = await tempDir('upload');
      const store = await kind.open(dir.path);
      const key = newKey();
      try {
        const files = await artifactFiles(dir.path);
        await uploadArtifacts(store, { image: IMAGE, arch: 'amd64', files, sign: signer(key) });
        const scan = 'scans/amd64/scan-app-1.2.3.json';
        await writeFile(files[3]!.path, '{"SchemaVersion":2,"v":2}');
        // crash before the artifact is written (after the old .sig was removed)
        const crash1 = watched(store, key, (op, k) => op === 'put' && k === scan);
        await assert.rejects(
          uploadArtifacts(crash1, { image: IMAGE, arch: 'amd64', files, sign: signer(key) }),
          /crash/,
        );
        await assert.rejects(fetchArtifact(store, scan), (e) => isVouchError(e, 'SIGNATURE_NOT_FOUND'));
        // crash between the artifact and its .sig
        await writeFile(files[3]!.path, '{"SchemaVersion":2,"v":3}');
        const crash2 = watched(store, key, (op, k) => op === 'put' && k === `${scan}.sig`);
        await assert.rejects(
          uploadArtifacts(crash2, { image: IMAGE, arch: 'amd64', files, sign: signer(key) }),
          /crash/,
        );
        assert.equal(await store.head(`${scan}.sig`), undefined);
        await assert.rejects(
          fetchArtifact(store, scan),
          (e) => isVouchError(e, 'SIGNATURE_NOT_FOUND') && e.message.includes(`${scan}.sig`),
        );
        // the re-run finds the new bytes already there and only adds the signature
        const m = await uploadArtifacts(watched(store, key), {
          image: IMAGE,
          arch: 'amd64',
          files,
          sign: signer(key),
        });
        assert.deepEqual(
          m.objects.filter((o) => o.key.startsWith('scans/')).map((o) => o.status),
          ['unchanged', 'created'],
        );
        const got = await fetchArtifact(store, scan, { verify: checker(key) });
        assert.equal(Buffer.from(got.bytes).toString(), '{"SchemaVersion":2,"v":3}');
      } finally {
        await store.close();
      }
    });

    test('a failing signer changes nothing in the store', async () => {
      await using dir = await tempDir('upload');
      const store = await kind.open(dir.path);
      const key = newKey();
      try {
        const files = await artifactFiles(dir.path);
        await uploadArtifacts(store, { image: IMAGE, arch: 'amd64', files, sign: signer(key) });
        const before = await snapshot(store);
        await writeFile(files[0]!.path, '{"bomFormat":"CycloneDX","changed":true}');
        await assert.rejects(
          uploadArtifacts(store, {
            image: IMAGE,
            arch: 'amd64',
            files,
            sign: async () => {
              throw new Error('HSM unavailable');
            },
          }),
          (e) =>
            isVouchError(e, 'SIGNING_FAILED') &&
            /sbom-app-1\.2\.3-cyclonedx\.json.*HSM unavailable/.test(e.message),
        );
        await assert.rejects(
          uploadArtifacts(store, { image: IMAGE, arch: 'amd64', files, sign: async () => new Uint8Array() }),
          (e) => isVouchError(e, 'SIGNING_FAILED'),
        );
        assert.deepEqual(await snapshot(store), before);
      } finally {
        await store.close();
      }
    });

    test('a rotated key: with verify the old signatures are replaced, without it they are kept', async () => {
      await using dir = await tempDir('upload');
      const store = await kind.open(dir.path);
      const oldKey = newKey();
      const newer = newKey();
      try {
        const files = await artifactFiles(dir.path);
        await uploadArtifacts(store, { image: IMAGE, arch: 'amd64', files, sign: signer(oldKey) });
        const kept = await uploadArtifacts(store, {
          image: IMAGE,
          arch: 'amd64',
          files,
          sign: signer(newer),
        });
        assert.ok(kept.objects.every((o) => o.status === 'unchanged'));
        const m = await uploadArtifacts(store, {
          image: IMAGE,
          arch: 'amd64',
          files,
          sign: signer(newer),
          verify: checker(newer),
        });
        assert.deepEqual(
          m.objects.map((o) => o.status),
          [
            'unchanged',
            'replaced',
            'unchanged',
            'replaced',
            'unchanged',
            'replaced',
            'unchanged',
            'replaced',
          ],
        );
        for (const e of releaseKeys(IMAGE, 'amd64'))
          await fetchArtifact(store, e.key, { verify: checker(newer) });
      } finally {
        await store.close();
      }
    });

    test('a damaged .sig of unchanged bytes is replaced on the next run', async () => {
      await using dir = await tempDir('upload');
      const store = await kind.open(dir.path);
      const key = newKey();
      try {
        const files = await artifactFiles(dir.path);
        await uploadArtifacts(store, { image: IMAGE, arch: 'amd64', files, sign: signer(key) });
        const sigKey = 'sboms/amd64/sbom-app-1.2.3-spdx.json.sig';
        await store.put(sigKey, Buffer.from('not base64 !!'), { contentType: 'text/plain' });
        await assert.rejects(fetchArtifact(store, 'sboms/amd64/sbom-app-1.2.3-spdx.json'), (e) =>
          isVouchError(e, 'SIGNATURE_INVALID'),
        );
        const m = await uploadArtifacts(store, { image: IMAGE, arch: 'amd64', files, sign: signer(key) });
        assert.deepEqual(
          m.objects.filter((o) => o.status !== 'unchanged').map((o) => `${o.status} ${o.key}`),
          [`replaced ${sigKey}`],
        );
        await fetchArtifact(store, 'sboms/amd64/sbom-app-1.2.3-spdx.json', { verify: checker(key) });
      } finally {
        await store.close();
      }
    });
  });
}

test('the .sig files verify with openssl as cosign sign-blob signatures (DER ECDSA over SHA-256)', async (t) => {
  const skip = await requireBinary('openssl');
  if (skip) return t.skip(skip);
  await using dir = await tempDir('upload');
  const store = await DirectoryStore.open(join(dir.path, 'store'));
  const key = newKey();
  const files = await artifactFiles(dir.path);
  await uploadArtifacts(store, { image: IMAGE, arch: 'ppc64le', files, sign: signer(key) });
  const pub = join(dir.path, 'cosign.pub');
  await writeFile(pub, key.publicKeyPem);
  for (const e of releaseKeys(IMAGE, 'ppc64le')) {
    const artifact = join(store.root, e.key);
    const der = join(dir.path, 'sig.der');
    await run('openssl', ['base64', '-d', '-A', '-in', join(store.root, e.signatureKey), '-out', der]);
    const { stdout } = await run('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', der, artifact]);
    assert.equal(stdout.trim(), 'Verified OK', e.key);
    // and a flipped byte in the artifact fails the same check
    const bytes = await readFile(artifact);
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    const tampered = join(dir.path, 'tampered.json');
    await writeFile(tampered, bytes);
    await assert.rejects(
      run('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', der, tampered]),
      (err) => /Verification failure/.test(String((err as { stdout?: string }).stdout)),
    );
  }
});

test('bad requests are refused before anything is written', async () => {
  await using dir = await tempDir('upload');
  const store = await DirectoryStore.open(join(dir.path, 'store'));
  const files = await artifactFiles(dir.path);
  const sign = signer(newKey());
  const cases: [Parameters<typeof uploadArtifacts>[1], string, RegExp][] = [
    [
      { image: IMAGE, arch: 'amd64', files: [files[0]!, files[0]!], sign },
      'USAGE',
      /sbom-cyclonedx is given twice/,
    ],
    [{ image: IMAGE, arch: 'mips', files, sign }, 'PLATFORM_INVALID', /"mips"/],
    [
      { image: { name: IMAGE.name, version: '../../etc' }, arch: 'amd64', files, sign },
      'UNSAFE_PATH',
      /version/,
    ],
    [
      { image: { name: `${IMAGE.name}:1.0`, version: '1.0' }, arch: 'amd64', files, sign },
      'REFERENCE_INVALID',
      /tag/,
    ],
    [
      {
        image: IMAGE,
        arch: 'amd64',
        files: [files[0]!, { kind: 'scan', path: join(dir.path, 'absent.json') }],
        sign,
      },
      'FILE_NOT_FOUND',
      /absent\.json/,
    ],
    [
      { image: IMAGE, arch: 'amd64', files: [{ kind: 'vex' as ArtifactKind, path: files[0]!.path }], sign },
      'USAGE',
      /unknown artifact kind "vex"/,
    ],
  ];
  for (const [req, code, message] of cases) {
    await assert.rejects(
      uploadArtifacts(store, req),
      (e) => isVouchError(e, code as 'USAGE') && message.test(e.message),
      `${code} ${message}`,
    );
  }
  assert.deepEqual(await listAll(store), []);
  await assert.rejects(fetchArtifact(store, 'scans/amd64/scan-app-1.2.3.json'), (e) =>
    isVouchError(e, 'FILE_NOT_FOUND'),
  );
  await assert.rejects(fetchArtifact(store, 'scans/amd64/scan-app-1.2.3.json.sig'), (e) =>
    isVouchError(e, 'USAGE'),
  );
});

test('S3: bytes changed behind the recorded checksum are caught by the ETag and uploaded again', async () => {
  await using dir = await tempDir('upload');
  const prefix = `etag-${randomBytes(4).toString('hex')}`;
  const store = new S3Store(
    { bucket: BUCKET, prefix, endpoint: s3.endpoint },
    { credentials: S3RVER_CREDENTIALS, maxAttempts: 1 },
  );
  const key = newKey();
  try {
    const files = await artifactFiles(dir.path);
    await uploadArtifacts(store, { image: IMAGE, arch: 'amd64', files, sign: signer(key) });
    const scan = 'scans/amd64/scan-app-1.2.3.json';
    const onDisk = s3.objectPath(BUCKET, `${prefix}/${scan}`);
    const original = await readFile(onDisk);
    const damaged = Buffer.from(original);
    damaged[5] = (damaged[5] ?? 0) ^ 0x20;
    await writeFile(onDisk, damaged);
    await unlink(`${onDisk}.md5`); // s3rver recomputes the ETag from the bytes it now holds
    await assert.rejects(fetchArtifact(store, scan, { verify: checker(key) }), (e) =>
      isVouchError(e, 'DIGEST_MISMATCH'),
    );
    const m = await uploadArtifacts(store, { image: IMAGE, arch: 'amd64', files, sign: signer(key) });
    assert.deepEqual(
      m.objects.filter((o) => o.status !== 'unchanged').map((o) => `${o.status} ${o.key}`),
      [`replaced ${scan}`, `replaced ${scan}.sig`],
    );
    assert.deepEqual(await readFile(onDisk), original);
    await fetchArtifact(store, scan, { verify: checker(key) });
  } finally {
    await store.close();
  }
});
