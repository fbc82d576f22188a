/**
 * Image signatures in a real registry (Debian's docker-registry 2.8: no referrers API, so the
 * referrers tag schema runs), checked against skopeo (copies cosign `.sig` tags) and openssl
 * (verifies the raw signature over the payload bytes).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { digestHex } from '../../src/digest/digest.ts';
import { isVouchError } from '../../src/errors.ts';
import { parseManifest } from '../../src/oci/manifest.ts';
import { MediaType } from '../../src/oci/media-types.ts';
import type { Descriptor, ImageIndex, ImageManifest } from '../../src/oci/types.ts';
import { RegistryClient } from '../../src/registry/client.ts';
import { referrersTag } from '../../src/registry/referrers.ts';
import {
  attachBundle,
  BUNDLE_ARTIFACT_TYPE,
  listBundleReferrers,
  readBundleReferrer,
} from '../../src/sign/image/bundle-referrer.ts';
import { appendAttachment, CosignAnnotation, readAttachments } from '../../src/sign/image/cosign-tags.ts';
import {
  cosignSignStatement,
  encodeStatement,
  SIMPLE_SIGNING_MEDIA_TYPE,
  simpleSigningPayload,
} from '../../src/sign/image/payload.ts';
import { signImage } from '../../src/sign/image/sign.ts';
import { openImageTarget } from '../../src/sign/image/target.ts';
import { type VerifyOptions, verifyImageSignatures } from '../../src/verify/image.ts';
import { REGISTRY_BIN, requireBinary, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import {
  keyDsseBundle,
  newKey,
  pushImage,
  run,
  selfSignedCertificate,
  sigstoreRegistriesD,
} from './helpers.ts';

const skip =
  (await requireBinary(REGISTRY_BIN)) || (await requireBinary('skopeo')) || (await requireBinary('openssl'));
let reg: TestRegistry;
let dir: string;
const keyA = newKey();
const keyB = newKey();
const byA: VerifyOptions = { trust: { kind: 'key', key: keyA } };

before(async () => {
  if (skip) return;
  reg = await startRegistry();
  dir = await mkdtemp(join(tmpdir(), 'vouch-sign-'));
});
after(async () => {
  await reg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function target(name: string) {
  return openImageTarget(`${reg.host}/${name}`, { registry: { retry: { attempts: 3, baseDelayMs: 20 } } });
}

async function rejects(p: Promise<unknown>, code: Parameters<typeof isVouchError>[1]): Promise<Error> {
  let err: unknown;
  await p.then(
    () => assert.fail(`expected ${code}, but it resolved`),
    (e: unknown) => {
      err = e;
    },
  );
  assert.ok(
    isVouchError(err, code),
    `expected ${code}, got ${(err as Error)?.name} ${(err as { code?: string })?.code}: ${(err as Error)?.message}`,
  );
  return err as Error;
}

describe('tag storage (cosign .sig) in a registry', { skip }, () => {
  test('sign with a key: cosign layout, exact payload, openssl verifies it, vouch verifies it', async () => {
    const { descriptor } = await pushImage({ registry: reg.host, repository: 'sign/app', tag: 'v1' });
    const t = await target('sign/app:v1');
    try {
      assert.equal(t.image.digest, descriptor.digest);
      assert.equal(t.tag, 'v1');
      assert.equal(t.repository, `${reg.host}/sign/app`);
      const signed = await signImage(t.store, t.image, t.repository, {
        identity: { kind: 'key', key: keyA },
      });
      assert.equal(signed.location, `sha256-${digestHex(descriptor.digest)}.sig`);
      assert.equal(signed.added, true);

      // What is in the registry, read with a plain client.
      const c = new RegistryClient();
      const m = await c.getManifest({ registry: reg.host, repository: 'sign/app', tag: signed.location });
      const manifest = (parseManifest(m.bytes) as { manifest: ImageManifest }).manifest;
      assert.equal(m.mediaType, MediaType.OciManifest);
      assert.equal(manifest.config.mediaType, MediaType.OciConfig);
      assert.equal(manifest.layers.length, 1);
      const layer = manifest.layers[0]!;
      assert.equal(layer.mediaType, SIMPLE_SIGNING_MEDIA_TYPE);
      const read = async (d: Descriptor) => {
        const parts: Uint8Array[] = [];
        for await (const p of await c.getBlob(
          { registry: reg.host, repository: 'sign/app' },
          d.digest,
          d.size,
        ))
          parts.push(p);
        return Buffer.concat(parts);
      };
      const payload = await read(layer);
      assert.equal(
        payload.toString(),
        `{"critical":{"identity":{"docker-reference":"${reg.host}/sign/app"},"image":{"docker-manifest-digest":"${descriptor.digest}"},"type":"cosign container image signature"},"optional":null}`,
      );
      const config = JSON.parse((await read(manifest.config)).toString()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(config), ['architecture', 'created', 'history', 'os', 'rootfs', 'config']);
      assert.deepEqual(config.rootfs, { type: 'layers', diff_ids: [layer.digest] });
      assert.deepEqual(config.history, [{ created: '0001-01-01T00:00:00Z' }]);
      await c.close();

      // openssl: the annotation is a DER ECDSA signature over SHA-256 of exactly these bytes.
      const sig = Buffer.from(layer.annotations![CosignAnnotation.Signature]!, 'base64');
      await writeFile(join(dir, 'payload.json'), payload);
      await writeFile(join(dir, 'sig.der'), sig);
      await writeFile(join(dir, 'cosign.pub'), keyA.publicKeyPem);
      const { stdout } = await run('openssl', [
        'dgst',
        '-sha256',
        '-verify',
        join(dir, 'cosign.pub'),
        '-signature',
        join(dir, 'sig.der'),
        join(dir, 'payload.json'),
      ]);
      assert.match(stdout, /Verified OK/);
      await writeFile(join(dir, 'payload.json'), Buffer.concat([payload, Buffer.from(' ')]));
      await assert.rejects(
        run('openssl', [
          'dgst',
          '-sha256',
          '-verify',
          join(dir, 'cosign.pub'),
          '-signature',
          join(dir, 'sig.der'),
          join(dir, 'payload.json'),
        ]),
      );

      const v = await verifyImageSignatures(t.store, t.image.digest, t.repository, byA);
      assert.equal(v.verified.length, 1);
      assert.equal(v.verified[0]!.scheme, 'tag');
      assert.equal(v.verified[0]!.claims.critical.image['docker-manifest-digest'], descriptor.digest);
      assert.deepEqual(v.verified[0]!.signer, { kind: 'key', hint: keyA.hint });
    } finally {
      await t.store.close();
    }
  });

  test('the same key again adds nothing; another key appends a layer that key A rejects', async () => {
    await pushImage({ registry: reg.host, repository: 'sign/twice', tag: 'v1' });
    const t = await target('sign/twice:v1');
    try {
      const first = await signImage(t.store, t.image, t.repository, { identity: { kind: 'key', key: keyA } });
      const again = await signImage(t.store, t.image, t.repository, { identity: { kind: 'key', key: keyA } });
      assert.equal(again.added, false);
      assert.equal(again.manifest.digest, first.manifest.digest);
      const annotated = await signImage(t.store, t.image, t.repository, {
        identity: { kind: 'key', key: keyA },
        annotations: { env: 'prod' },
      });
      assert.equal(annotated.added, true, 'other payload (annotations), new signature');
      await signImage(t.store, t.image, t.repository, { identity: { kind: 'key', key: keyB } });
      const sigs = await readAttachments(t.store, t.image.digest, 'sig');
      assert.equal(sigs?.layers.length, 3);

      const v = await verifyImageSignatures(t.store, t.image.digest, t.repository, byA);
      assert.equal(v.verified.length, 2);
      assert.deepEqual(
        v.verified.map((s) => s.claims.optional),
        [null, { env: 'prod' }],
      );
      assert.equal(v.rejected.length, 1);
      assert.equal(v.rejected[0]!.error.code, 'SIGNATURE_INVALID');
    } finally {
      await t.store.close();
    }
  });

  test('skopeo copy --all carries the .sig tag to another repository, where vouch verifies it', async () => {
    await pushImage({ registry: reg.host, repository: 'sign/src', tag: 'v1' });
    const t = await target('sign/src:v1');
    await signImage(t.store, t.image, t.repository, { identity: { kind: 'key', key: keyA } });
    await t.store.close();
    const registriesD = await sigstoreRegistriesD(dir, reg.host);
    await run('skopeo', [
      '--registries.d',
      registriesD,
      'copy',
      '-q',
      '--all',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${reg.host}/sign/src:v1`,
      `docker://${reg.host}/sign/dst:v1`,
    ]);
    const copy = await target('sign/dst:v1');
    try {
      assert.equal(copy.image.digest, t.image.digest);
      const sigs = await readAttachments(copy.store, copy.image.digest, 'sig');
      assert.equal(sigs?.layers.length, 1, 'skopeo wrote the .sig tag in the destination repository');
      const v = await verifyImageSignatures(copy.store, copy.image.digest, copy.repository, byA);
      assert.equal(v.verified.length, 1);
      // The payload still names the repository it was signed in: cosign ignores docker-reference.
      assert.equal(v.verified[0]!.claims.critical.identity['docker-reference'], `${reg.host}/sign/src`);
      await rejects(
        verifyImageSignatures(copy.store, copy.image.digest, copy.repository, {
          trust: { kind: 'key', key: keyB },
        }),
        'SIGNATURE_INVALID',
      );
    } finally {
      await copy.store.close();
    }
  });

  test('negatives: no signature, a layer copied from another image, a tampered payload, another signer', async () => {
    await pushImage({ registry: reg.host, repository: 'sign/neg', tag: 'x' });
    await pushImage({ registry: reg.host, repository: 'sign/neg', tag: 'y' });
    const x = await target('sign/neg:x');
    const y = await target('sign/neg:y');
    try {
      await rejects(verifyImageSignatures(y.store, y.image.digest, y.repository, byA), 'SIGNATURE_NOT_FOUND');

      // X's signature layer, bytes and annotations unchanged, put on Y: valid signature, wrong image.
      await signImage(x.store, x.image, x.repository, { identity: { kind: 'key', key: keyA } });
      const xs = (await readAttachments(x.store, x.image.digest, 'sig'))!;
      const xLayer = xs.layers[0]!;
      const xPayload = await x.store.readBlob(xLayer, 1 << 20);
      await appendAttachment(y.store, y.image.digest, 'sig', {
        mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
        payload: xPayload,
        annotations: xLayer.annotations!,
      });
      const moved = await rejects(
        verifyImageSignatures(y.store, y.image.digest, y.repository, byA),
        'SUBJECT_MISMATCH',
      );
      assert.match(moved.message, new RegExp(x.image.digest));

      // The raw signature of a key-based layer, checked with key B: it carries no key, so
      // tampering and another key look the same (documented as SIGNATURE_INVALID).
      await rejects(
        verifyImageSignatures(x.store, x.image.digest, x.repository, { trust: { kind: 'key', key: keyB } }),
        'SIGNATURE_INVALID',
      );
    } finally {
      await x.store.close();
      await y.store.close();
    }

    await pushImage({ registry: reg.host, repository: 'sign/neg', tag: 'z' });
    const z = await target('sign/neg:z');
    try {
      // Z's payload, signed by key A, then changed: the signature no longer covers it.
      const payload = simpleSigningPayload(z.repository, z.image.digest);
      const tampered = Buffer.from(
        Buffer.from(payload).toString().replace('"optional":null', '"optional":{"x":"y"}'),
      );
      assert.notDeepEqual(tampered, Buffer.from(payload));
      await appendAttachment(z.store, z.image.digest, 'sig', {
        mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
        payload: tampered,
        annotations: { [CosignAnnotation.Signature]: keyA.sign(payload).toString('base64') },
      });
      await rejects(verifyImageSignatures(z.store, z.image.digest, z.repository, byA), 'SIGNATURE_INVALID');

      // A keyless-style layer (certificate annotation) made by key B, checked with key A.
      const cert = await selfSignedCertificate(dir, keyB, 'signer-b');
      const signedByB = keyB.sign(payload);
      await appendAttachment(z.store, z.image.digest, 'sig', {
        mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
        payload,
        annotations: {
          [CosignAnnotation.Signature]: signedByB.toString('base64'),
          [CosignAnnotation.Certificate]: cert,
        },
      });
      // Both layers fail; the most specific reason wins and both are named.
      const err = await rejects(
        verifyImageSignatures(z.store, z.image.digest, z.repository, byA),
        'KEY_MISMATCH',
      );
      assert.match(err.message, /SIGNATURE_INVALID/);
    } finally {
      await z.store.close();
    }
  });
});

describe('referrers storage in a registry without the referrers API', { skip }, () => {
  test('a bundle referrer goes to the sha256-<hex> fallback index with its annotations and reads back', async () => {
    const { descriptor } = await pushImage({ registry: reg.host, repository: 'ref/app', tag: 'v1' });
    const t = await target('ref/app:v1');
    try {
      const statement = encodeStatement(cosignSignStatement(descriptor.digest));
      const bundle = keyDsseBundle(keyA, statement);
      const now = new Date('2025-01-02T03:04:05.678Z');
      const pushed = await attachBundle(t.store, t.image, bundle, {
        predicateType: 'https://sigstore.dev/cosign/sign/v1',
        now,
      });

      const c = new RegistryClient();
      const idx = await c.getManifest({
        registry: reg.host,
        repository: 'ref/app',
        tag: referrersTag(descriptor.digest),
      });
      const index = (parseManifest(idx.bytes) as { index: ImageIndex }).index;
      assert.equal(index.manifests.length, 1);
      assert.deepEqual(index.manifests[0], {
        mediaType: MediaType.OciManifest,
        digest: pushed.digest,
        size: pushed.size,
        artifactType: BUNDLE_ARTIFACT_TYPE,
        annotations: {
          'dev.sigstore.bundle.content': 'dsse-envelope',
          'dev.sigstore.bundle.predicateType': 'https://sigstore.dev/cosign/sign/v1',
          'org.opencontainers.image.created': '2025-01-02T03:04:05.678Z',
        },
      });
      const m = await c.getManifest({ registry: reg.host, repository: 'ref/app', digest: pushed.digest });
      const manifest = (parseManifest(m.bytes) as { manifest: ImageManifest }).manifest;
      assert.equal(manifest.artifactType, BUNDLE_ARTIFACT_TYPE);
      assert.deepEqual(manifest.config, {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
        size: 2,
      });
      assert.deepEqual(manifest.subject, {
        mediaType: descriptor.mediaType,
        digest: descriptor.digest,
        size: descriptor.size,
      });
      assert.equal(manifest.layers[0]?.mediaType, BUNDLE_ARTIFACT_TYPE);
      await c.close();

      const found = await listBundleReferrers(t.store, descriptor.digest);
      assert.deepEqual(
        found.map((d) => d.digest),
        [pushed.digest],
      );
      const back = await readBundleReferrer(t.store, found[0]!, descriptor.digest);
      assert.deepEqual(back.bundle, JSON.parse(JSON.stringify(bundle)));
      // The referrer is about this image only: asked for another digest it is SUBJECT_MISMATCH.
      const other = await pushImage({ registry: reg.host, repository: 'ref/app', tag: 'v2' });
      await rejects(readBundleReferrer(t.store, found[0]!, other.descriptor.digest), 'SUBJECT_MISMATCH');
    } finally {
      await t.store.close();
    }
  });

  test('verify finds referrer bundles first; a bundle naming another key is KEY_MISMATCH', async () => {
    const { descriptor } = await pushImage({ registry: reg.host, repository: 'ref/verify', tag: 'v1' });
    const t = await target('ref/verify:v1');
    try {
      await attachBundle(
        t.store,
        t.image,
        keyDsseBundle(keyA, encodeStatement(cosignSignStatement(descriptor.digest))),
      );
      await signImage(t.store, t.image, t.repository, { identity: { kind: 'key', key: keyA } });
      const v = await verifyImageSignatures(t.store, t.image.digest, t.repository, byA);
      assert.deepEqual(
        v.verified.map((s) => s.scheme),
        ['referrer', 'tag'],
      );
      assert.equal(v.verified[0]!.claims.critical.type, 'https://sigstore.dev/cosign/sign/v1');
      const e = await rejects(
        verifyImageSignatures(t.store, t.image.digest, t.repository, { trust: { kind: 'key', key: keyB } }),
        'KEY_MISMATCH',
      );
      assert.match(e.message, new RegExp(keyA.hint.replace(/[+/]/g, '.')));
    } finally {
      await t.store.close();
    }
  });

  test('signImage with referrers storage signs the v3 statement through signDsse', async () => {
    await pushImage({ registry: reg.host, repository: 'ref/v3', tag: 'v1' });
    const t = await target('ref/v3:v1');
    try {
      const s = await signImage(t.store, t.image, t.repository, {
        identity: { kind: 'key', key: keyA },
        storage: 'referrers',
        annotations: { team: 'a' },
      });
      assert.equal(s.storage, 'referrers');
      const v = await verifyImageSignatures(t.store, t.image.digest, t.repository, byA);
      assert.equal(v.verified.length, 1);
      assert.deepEqual(v.verified[0]!.claims.optional, { team: 'a' });
    } finally {
      await t.store.close();
    }
  });
});
