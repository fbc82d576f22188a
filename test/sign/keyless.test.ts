/**
 * Keyless image signatures and attestations against the mock Sigstore services on 127.0.0.1
 * (Fulcio, Rekor, TSA): the bundle turns into cosign's legacy layer annotations (certificate,
 * Rekor SET, RFC 3161 timestamp), and verification turns those back into a bundle.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isVouchError } from '../../src/errors.ts';
import { CosignAnnotation, readAttachments } from '../../src/sign/image/cosign-tags.ts';
import { attestImage, type ImageSigningOptions, signImage } from '../../src/sign/image/sign.ts';
import { type ImageTarget, openImageTarget } from '../../src/sign/image/target.ts';
import { verifyImageAttestations } from '../../src/verify/attestation.ts';
import { type VerifyOptions, verifyImageSignatures } from '../../src/verify/image.ts';
import { randomImage, writeLayout } from '../helpers/random-image.ts';
import { MOCK_ISSUER, type SigstoreMock, startSigstoreMock } from '../helpers/sigstore-mock.ts';
import { newKey } from './helpers.ts';

let mock: SigstoreMock;
let dir: string;
before(async () => {
  mock = await startSigstoreMock({ tsa: true });
  dir = await mkdtemp(join(tmpdir(), 'vouch-sign-keyless-'));
});
after(async () => {
  await mock?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function layoutImage(name: string): Promise<ImageTarget> {
  const layout = join(dir, name);
  const img = await randomImage({ layerCount: 1 });
  await writeLayout(layout, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  return openImageTarget(`oci:${layout}:v1`);
}

function keyless(extra: Partial<ImageSigningOptions> = {}): ImageSigningOptions {
  const token = mock.identityToken();
  return {
    identity: { kind: 'keyless', fulcioUrl: mock.fulcioUrl, identityToken: async () => token },
    rekorUrl: mock.rekorUrl,
    ...extra,
  };
}

const signer = (identity = 'signer@example.com'): VerifyOptions => ({
  trust: { kind: 'keyless', identity: { identity, issuer: MOCK_ISSUER }, trustedRoot: mock.trustedRoot },
});

test('keyless .sig layer: certificate, SET and timestamp annotations; verified from them', async () => {
  const t = await layoutImage('sig');
  await signImage(t.store, t.image, t.repository, keyless({ tsaUrl: mock.tsaUrl }));
  const layer = (await readAttachments(t.store, t.image.digest, 'sig'))!.layers[0]!;
  const a = layer.annotations ?? {};
  assert.match(a[CosignAnnotation.Certificate] ?? '', /^-----BEGIN CERTIFICATE-----\n/);
  const set = JSON.parse(a[CosignAnnotation.Bundle] ?? '{}') as {
    Payload?: { logID?: string; logIndex?: number };
  };
  assert.match(set.Payload?.logID ?? '', /^[0-9a-f]{64}$/);
  assert.equal(typeof set.Payload?.logIndex, 'number');
  assert.ok(JSON.parse(a[CosignAnnotation.Timestamp] ?? '{}').SignedRFC3161Timestamp);
  assert.ok(a[CosignAnnotation.Signature]);

  const v = await verifyImageSignatures(t.store, t.image.digest, t.repository, {
    ...signer(),
    timestampThreshold: 1,
  });
  assert.equal(v.verified.length, 1);
  const s = v.verified[0]!;
  assert.equal(s.signer.kind, 'certificate');
  assert.equal(s.claims.optional?.Subject, 'signer@example.com');
  assert.equal(s.claims.optional?.Issuer, MOCK_ISSUER);
  assert.deepEqual(s.timestamps.map((x) => x.source).sort(), ['timestamp-authority', 'transparency-log']);

  await assert.rejects(
    verifyImageSignatures(t.store, t.image.digest, t.repository, signer('someone-else@example.com')),
    (e) => isVouchError(e, 'IDENTITY_MISMATCH'),
  );
  // Anchored matching: a longer identity that contains the expected one is refused.
  await assert.rejects(
    verifyImageSignatures(t.store, t.image.digest, t.repository, signer('er@example.com')),
    (e) => isVouchError(e, 'IDENTITY_MISMATCH'),
  );
  // Checked with a key instead: the layer's certificate key signed it, not this key.
  await assert.rejects(
    verifyImageSignatures(t.store, t.image.digest, t.repository, { trust: { kind: 'key', key: newKey() } }),
    (e) => isVouchError(e, 'KEY_MISMATCH'),
  );
});

test('keyless .att layer (Rekor dsse entry) and keyless referrers verify with the identity', async () => {
  const t = await layoutImage('att');
  await attestImage(t.store, t.image, t.repository, {
    ...keyless(),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { buildDefinition: { buildType: 'x' }, runDetails: {} },
  });
  const layer = (await readAttachments(t.store, t.image.digest, 'att'))!.layers[0]!;
  assert.equal(layer.annotations?.[CosignAnnotation.Signature], '', 'cosign leaves it empty on attestations');
  assert.ok(layer.annotations?.[CosignAnnotation.Certificate]);
  await attestImage(t.store, t.image, t.repository, {
    ...keyless({ storage: 'referrers' }),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { buildDefinition: { buildType: 'y' }, runDetails: {} },
  });
  await signImage(t.store, t.image, t.repository, keyless({ storage: 'referrers' }));

  const atts = await verifyImageAttestations(t.store, t.image.digest, {
    ...signer(),
    predicateType: 'https://slsa.dev/provenance/v1',
  });
  assert.deepEqual(
    atts.verified.map((x) => [
      x.scheme,
      (x.statement.predicate as { buildDefinition: { buildType: string } }).buildDefinition.buildType,
    ]),
    [
      ['referrer', 'y'],
      ['tag', 'x'],
    ],
  );
  const sigs = await verifyImageSignatures(t.store, t.image.digest, t.repository, signer());
  assert.deepEqual(
    sigs.verified.map((x) => x.scheme),
    ['referrer'],
    'the attestation referrer is not counted as a signature',
  );
  await assert.rejects(
    verifyImageAttestations(t.store, t.image.digest, {
      ...signer('x@example.com'),
      predicateType: 'https://slsa.dev/provenance/v1',
    }),
    (e) => isVouchError(e, 'IDENTITY_MISMATCH'),
  );
});

test('an image signed with a key does not pass a keyless identity check (KEY_MISMATCH)', async () => {
  const t = await layoutImage('key-signed');
  await signImage(t.store, t.image, t.repository, { identity: { kind: 'key', key: newKey() } });
  await signImage(t.store, t.image, t.repository, {
    identity: { kind: 'key', key: newKey() },
    storage: 'referrers',
  });
  await attestImage(t.store, t.image, t.repository, {
    identity: { kind: 'key', key: newKey() },
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {},
  });
  const err = await verifyImageSignatures(t.store, t.image.digest, t.repository, signer()).then(
    () => assert.fail('verified'),
    (e: unknown) => e,
  );
  assert.ok(isVouchError(err, 'KEY_MISMATCH'), String(err));
  assert.match((err as Error).message, /referrer sha256:.*tag sha256-/);
  await assert.rejects(verifyImageAttestations(t.store, t.image.digest, signer()), (e) =>
    isVouchError(e, 'KEY_MISMATCH'),
  );
});
