/**
 * cosign legacy formats derived from real (mock) Rekor entries: the RekorBundle annotation's SET
 * verifies with the log key the way cosign checks it, and old sign-blob bundles convert back to
 * Sigstore bundles that @sigstore/verify accepts.
 */
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { json as coreJson } from '@sigstore/core';
import { isVouchError } from '../../src/errors.ts';
import { signingKeyFromKeyObject } from '../../src/sign/keys/signing-key.ts';
import {
  BUNDLE_V01_MEDIA_TYPE,
  COSIGN_ANNOTATIONS,
  cosignAnnotations,
  isLegacyBlobBundle,
  legacyBlobBundleToBundle,
  legacyFromBundle,
  parseLegacyBlobBundle,
  type RekorBundle,
  toLegacyBlobBundle,
} from '../../src/sigstore/legacy.ts';
import { signDsse, signMessage } from '../../src/sigstore/sign.ts';
import { BUNDLE_V03_MEDIA_TYPE, type SerializedBundle } from '../../src/sigstore/types.ts';
import { type SigstoreMock, startSigstoreMock } from '../helpers/sigstore-mock.ts';
import { sigstoreVerify } from './helpers.ts';

const DATA = Buffer.from('legacy artifact\n');
const key = signingKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);

let mock: SigstoreMock;
let keyless: SerializedBundle;
before(async () => {
  mock = await startSigstoreMock({ tsa: true });
  keyless = await signMessage(DATA, {
    identity: { kind: 'keyless', fulcioUrl: mock.fulcioUrl, identityToken: async () => mock.identityToken() },
    rekorUrl: mock.rekorUrl,
    tsaUrl: mock.tsaUrl,
  });
});
after(async () => {
  await mock.close();
});

/** Rekor's key from the mock trusted root. */
function rekorKey() {
  const tlogs = mock.trustedRoot.tlogs as { publicKey: { rawBytes: string } }[];
  return createPublicKey({
    key: Buffer.from(tlogs[0]?.publicKey.rawBytes ?? '', 'base64'),
    format: 'der',
    type: 'spki',
  });
}

/** cosign's check of a RekorBundle: the SET signs the canonical JSON of Payload. */
function setVerifies(rb: RekorBundle): boolean {
  const canonical = coreJson.canonicalize(rb.Payload);
  return verify('sha256', Buffer.from(canonical), rekorKey(), Buffer.from(rb.SignedEntryTimestamp, 'base64'));
}

describe('legacy material from a keyless bundle', () => {
  test('signature, certificate PEM and a RekorBundle whose SET verifies with the log key', () => {
    const m = legacyFromBundle(keyless);
    assert.equal(m.content, 'message-signature');
    assert.equal(m.signature, keyless.messageSignature?.signature);
    assert.ok(m.certificatePem?.startsWith('-----BEGIN CERTIFICATE-----\n'));
    assert.equal(
      new X509Certificate(m.certificatePem ?? '').raw.toString('base64'),
      keyless.verificationMaterial.certificate?.rawBytes,
    );
    const entry = keyless.verificationMaterial.tlogEntries[0];
    const rb = m.rekorBundle;
    assert.ok(entry && rb);
    assert.deepEqual(rb.Payload, {
      body: entry.canonicalizedBody,
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex),
      logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex'),
    });
    assert.equal(setVerifies(rb), true);
    assert.equal(
      setVerifies({ ...rb, Payload: { ...rb.Payload, logIndex: rb.Payload.logIndex + 1 } }),
      false,
    );
    assert.equal(
      m.rfc3161Timestamp,
      keyless.verificationMaterial.timestampVerificationData?.rfc3161Timestamps[0]?.signedTimestamp,
    );
  });

  test('cosign layer annotations', () => {
    const m = legacyFromBundle(keyless);
    const a = cosignAnnotations(m);
    assert.equal(a[COSIGN_ANNOTATIONS.signature], m.signature);
    assert.equal(a[COSIGN_ANNOTATIONS.certificate], m.certificatePem);
    assert.equal(a[COSIGN_ANNOTATIONS.chain], undefined);
    const bundleAnnotation = JSON.parse(a[COSIGN_ANNOTATIONS.bundle] ?? '{}') as RekorBundle;
    assert.deepEqual(Object.keys(bundleAnnotation), ['SignedEntryTimestamp', 'Payload']);
    assert.deepEqual(Object.keys(bundleAnnotation.Payload), ['body', 'integratedTime', 'logIndex', 'logID']);
    assert.equal(setVerifies(bundleAnnotation), true);
    assert.deepEqual(JSON.parse(a[COSIGN_ANNOTATIONS.rfc3161Timestamp] ?? '{}'), {
      SignedRFC3161Timestamp: m.rfc3161Timestamp,
    });
  });

  test('a DSSE bundle gives the envelope signature; it has no legacy sign-blob form', async () => {
    const b = await signDsse(Buffer.from('{}'), 'application/vnd.in-toto+json', {
      identity: { kind: 'key', key },
    });
    const m = legacyFromBundle(b);
    assert.equal(m.content, 'dsse-envelope');
    assert.equal(m.signature, b.dsseEnvelope?.signatures[0]?.sig);
    assert.equal(m.rekorBundle, undefined);
    assert.throws(
      () => toLegacyBlobBundle(b),
      (e) => isVouchError(e, 'BUNDLE_INVALID'),
    );
  });

  test('not a bundle: BUNDLE_INVALID', () => {
    assert.throws(
      () => legacyFromBundle({ mediaType: 'x' }),
      (e) => isVouchError(e, 'BUNDLE_INVALID'),
    );
  });
});

describe('old sign-blob bundles round-trip', () => {
  test('keyless: legacy JSON -> v0.1 bundle that @sigstore/verify accepts (SET, SCT)', () => {
    const legacy = JSON.parse(JSON.stringify(toLegacyBlobBundle(keyless))) as unknown;
    assert.equal(isLegacyBlobBundle(legacy), true);
    assert.equal(isLegacyBlobBundle(keyless), false);
    const parsed = parseLegacyBlobBundle(legacy);
    assert.match(Buffer.from(parsed.cert ?? '', 'base64').toString(), /^-----BEGIN CERTIFICATE-----/);
    for (const artifact of [{ bytes: DATA }, undefined]) {
      const b = legacyBlobBundleToBundle(parsed, artifact);
      assert.equal(b.mediaType, BUNDLE_V01_MEDIA_TYPE);
      assert.equal(b.verificationMaterial.x509CertificateChain?.certificates.length, 1);
      assert.equal(b.verificationMaterial.tlogEntries[0]?.inclusionProof, undefined);
      const signer = sigstoreVerify(b, {
        trustedRoot: mock.trustedRoot,
        artifact: DATA,
        tlogThreshold: 1,
        ctlogThreshold: 1,
        timestampThreshold: 1,
      });
      assert.equal(signer.identity?.subjectAlternativeName, 'signer@example.com');
    }
    // The converted bundle still binds the artifact: other bytes fail.
    const b = legacyBlobBundleToBundle(parsed, { bytes: Buffer.from('other') });
    assert.throws(() => sigstoreVerify(b, { trustedRoot: mock.trustedRoot, artifact: Buffer.from('other') }));
  });

  test('key-based without a tlog entry: a v0.3 bundle with the key hint', async () => {
    const b = await signMessage(DATA, { identity: { kind: 'key', key } });
    const legacy = toLegacyBlobBundle(b, key.publicKeyPem);
    assert.equal(legacy.rekorBundle, undefined);
    assert.equal(Buffer.from(legacy.cert ?? '', 'base64').toString(), key.publicKeyPem);
    const back = legacyBlobBundleToBundle(legacy, { bytes: DATA });
    assert.equal(back.mediaType, BUNDLE_V03_MEDIA_TYPE);
    assert.deepEqual(back.verificationMaterial.publicKey, { hint: key.hint });
    sigstoreVerify(back, { key, artifact: DATA });
  });

  test('key-based with a tlog entry: v0.1, verifies with the key and the log', async () => {
    const b = await signMessage(DATA, { identity: { kind: 'key', key }, rekorUrl: mock.rekorUrl });
    const back = legacyBlobBundleToBundle(toLegacyBlobBundle(b, key.publicKeyPem));
    assert.equal(back.mediaType, BUNDLE_V01_MEDIA_TYPE);
    sigstoreVerify(back, { key, artifact: DATA, trustedRoot: mock.trustedRoot, tlogThreshold: 1 });
  });

  const good = () => JSON.parse(JSON.stringify(toLegacyBlobBundle(keyless))) as Record<string, unknown>;
  const broken: [string, (o: Record<string, unknown>) => void, RegExp][] = [
    ['no base64Signature', (o) => delete o.base64Signature, /base64Signature is not base64/],
    [
      'cert not a PEM',
      (o) => {
        o.cert = Buffer.from('hello').toString('base64');
      },
      /cert is not a base64 PEM/,
    ],
    [
      'logID not hex',
      (o) => {
        (o.rekorBundle as { Payload: { logID: string } }).Payload.logID = 'xyz';
      },
      /Payload\.logID is not 64 hex/,
    ],
    [
      'integratedTime a string',
      (o) => {
        (o.rekorBundle as { Payload: { integratedTime: unknown } }).Payload.integratedTime = '1';
      },
      /Payload\.integratedTime is not a non-negative integer/,
    ],
    [
      'no SET',
      (o) => delete (o.rekorBundle as Record<string, unknown>).SignedEntryTimestamp,
      /SignedEntryTimestamp/,
    ],
  ];
  for (const [name, mutate, pattern] of broken) {
    test(`refused: ${name}`, () => {
      const o = good();
      mutate(o);
      assert.throws(
        () => parseLegacyBlobBundle(o, 'sig.bundle'),
        (e) =>
          isVouchError(e, 'BUNDLE_INVALID') && e.message.startsWith('sig.bundle') && pattern.test(e.message),
      );
    });
  }

  test('no artifact and no hashedrekord entry: BUNDLE_INVALID asks for the artifact', () => {
    assert.throws(
      () => legacyBlobBundleToBundle({ base64Signature: legacyFromBundle(keyless).signature }),
      (e) => isVouchError(e, 'BUNDLE_INVALID') && /pass the artifact/.test(e.message),
    );
  });
});
