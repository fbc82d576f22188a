/**
 * Key-based Sigstore bundles: they verify with @sigstore/verify against the signing key, their
 * raw signatures verify with openssl, and a Rekor entry is made only when asked.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pae } from '../../src/attest/dsse.ts';
import { isVouchError } from '../../src/errors.ts';
import { signingKeyFromKeyObject } from '../../src/sign/keys/signing-key.ts';
import type { SigningKey } from '../../src/sign/keys/types.ts';
import { signDsse, signMessage } from '../../src/sigstore/sign.ts';
import { BUNDLE_V03_MEDIA_TYPE } from '../../src/sigstore/types.ts';
import { requireBinary } from '../helpers/registry.ts';
import { type SigstoreMock, startSigstoreMock } from '../helpers/sigstore-mock.ts';
import { openssl, sigstoreVerify, withTempDir } from './helpers.ts';

const ec = (namedCurve: string): SigningKey =>
  signingKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve }).privateKey);

const opensslSkip = await requireBinary('openssl');
const DATA = Buffer.from('the artifact vouch signs\n');
const STATEMENT = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'app', digest: { sha256: createHash('sha256').update(DATA).digest('hex') } }],
    predicateType: 'https://example.com/test/v1',
    predicate: {},
  }),
);
const IN_TOTO = 'application/vnd.in-toto+json';

/** openssl's verdict on `sig` (DER) over `data` with `key`'s public half. */
async function opensslVerifies(
  key: SigningKey,
  data: Uint8Array,
  sig: Buffer,
  digest: string,
): Promise<boolean> {
  return withTempDir(async (dir) => {
    await writeFile(join(dir, 'pub.pem'), key.publicKeyPem);
    await writeFile(join(dir, 'data'), data);
    await writeFile(join(dir, 'sig'), sig);
    const r =
      digest === 'none'
        ? await openssl([
            'pkeyutl',
            '-verify',
            '-pubin',
            '-inkey',
            join(dir, 'pub.pem'),
            '-rawin',
            '-in',
            join(dir, 'data'),
            '-sigfile',
            join(dir, 'sig'),
          ])
        : await openssl([
            'dgst',
            `-${digest}`,
            '-verify',
            join(dir, 'pub.pem'),
            '-signature',
            join(dir, 'sig'),
            join(dir, 'data'),
          ]);
    return r.ok && /Verified OK|Signature Verified Successfully/.test(r.out);
  });
}

describe('key-based message bundles', () => {
  const key = ec('P-256');

  test('v0.3 bundle with a key hint and a SHA-256 digest; no tlog entry, no timestamp', async () => {
    const b = await signMessage(DATA, { identity: { kind: 'key', key } });
    assert.equal(b.mediaType, BUNDLE_V03_MEDIA_TYPE);
    assert.deepEqual(b.verificationMaterial.publicKey, { hint: key.hint });
    assert.equal(b.verificationMaterial.certificate, undefined);
    assert.deepEqual(b.verificationMaterial.tlogEntries, []);
    assert.deepEqual(b.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? [], []);
    assert.deepEqual(b.messageSignature?.messageDigest, {
      algorithm: 'SHA2_256',
      digest: createHash('sha256').update(DATA).digest('base64'),
    });
  });

  test('verifies with @sigstore/verify against the key, and not against another key or artifact', async () => {
    const b = await signMessage(DATA, { identity: { kind: 'key', key } });
    const signer = sigstoreVerify(b, { key, artifact: DATA });
    assert.equal(signer.identity, undefined);
    assert.throws(() => sigstoreVerify(b, { key, artifact: Buffer.from('other bytes') }), /signature/i);
    const other = ec('P-256');
    // Same hint slot, other key: the hint in the bundle must find the right key.
    assert.throws(() => sigstoreVerify(b, { key: { ...other, hint: key.hint }, artifact: DATA }));
  });

  test(
    'the raw signature verifies with openssl (DER ECDSA over SHA-256)',
    { skip: opensslSkip },
    async () => {
      const b = await signMessage(DATA, { identity: { kind: 'key', key } });
      const sig = Buffer.from(b.messageSignature?.signature ?? '', 'base64');
      assert.equal(sig[0], 0x30, 'DER SEQUENCE');
      assert.equal(await opensslVerifies(key, DATA, sig, 'sha256'), true);
      assert.equal(await opensslVerifies(key, Buffer.from('tampered'), sig, 'sha256'), false);
    },
  );

  test(
    'P-384 keys record a SHA-384 digest; @sigstore/verify and openssl agree',
    { skip: opensslSkip },
    async () => {
      const k384 = ec('P-384');
      const b = await signMessage(DATA, { identity: { kind: 'key', key: k384 } });
      assert.equal(b.messageSignature?.messageDigest?.algorithm, 'SHA2_384');
      assert.equal(
        b.messageSignature?.messageDigest?.digest,
        createHash('sha384').update(DATA).digest('base64'),
      );
      sigstoreVerify(b, { key: k384, artifact: DATA });
      const sig = Buffer.from(b.messageSignature?.signature ?? '', 'base64');
      assert.equal(await opensslVerifies(k384, DATA, sig, 'sha384'), true);
    },
  );

  test('Ed25519 signatures are pure Ed25519 over the bytes (openssl)', { skip: opensslSkip }, async () => {
    const ed = signingKeyFromKeyObject(generateKeyPairSync('ed25519').privateKey);
    const b = await signMessage(DATA, { identity: { kind: 'key', key: ed } });
    const sig = Buffer.from(b.messageSignature?.signature ?? '', 'base64');
    assert.equal(sig.length, 64);
    assert.equal(await opensslVerifies(ed, DATA, sig, 'none'), true);
  });

  test('a Rekor upload is refused for keys that do not sign over SHA-256', async () => {
    await assert.rejects(
      signMessage(DATA, { identity: { kind: 'key', key: ec('P-384') }, rekorUrl: 'http://127.0.0.1:9' }),
      (e) => isVouchError(e, 'KEY_UNSUPPORTED') && /ecdsa-p384 key signs over SHA384/.test(e.message),
    );
    const ed = signingKeyFromKeyObject(generateKeyPairSync('ed25519').privateKey);
    await assert.rejects(
      signMessage(DATA, { identity: { kind: 'key', key: ed }, rekorUrl: 'http://127.0.0.1:9' }),
      (e) => isVouchError(e, 'KEY_UNSUPPORTED') && /hashedrekord/.test(e.message),
    );
    await assert.rejects(
      signDsse(STATEMENT, IN_TOTO, {
        identity: { kind: 'key', key: ec('P-521') },
        rekorUrl: 'http://127.0.0.1:9',
      }),
      (e) => isVouchError(e, 'KEY_UNSUPPORTED'),
    );
  });

  test('an aborted signal stops before anything is signed', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(signMessage(DATA, { identity: { kind: 'key', key }, signal: ac.signal }), (e) =>
      isVouchError(e, 'ABORTED'),
    );
  });
});

describe('key-based DSSE bundles', () => {
  const key = ec('P-256');

  test(
    'one signature over the PAE; verifies with @sigstore/verify and openssl',
    { skip: opensslSkip },
    async () => {
      const b = await signDsse(STATEMENT, IN_TOTO, { identity: { kind: 'key', key } });
      assert.equal(b.mediaType, BUNDLE_V03_MEDIA_TYPE);
      const env = b.dsseEnvelope;
      assert.ok(env);
      assert.equal(env.payloadType, IN_TOTO);
      assert.equal(Buffer.from(env.payload, 'base64').toString(), STATEMENT.toString());
      assert.equal(env.signatures.length, 1);
      sigstoreVerify(b, { key });
      const sig = Buffer.from(env.signatures[0]?.sig ?? '', 'base64');
      assert.equal(await opensslVerifies(key, pae(IN_TOTO, STATEMENT), sig, 'sha256'), true);
      // The signature covers the type too: the same payload under another type does not verify.
      assert.equal(await opensslVerifies(key, pae('text/plain', STATEMENT), sig, 'sha256'), false);
    },
  );

  test('a tampered payload fails @sigstore/verify', async () => {
    const b = await signDsse(STATEMENT, IN_TOTO, { identity: { kind: 'key', key } });
    const env = b.dsseEnvelope;
    assert.ok(env);
    const tampered = {
      ...b,
      dsseEnvelope: { ...env, payload: Buffer.from('{"_type":"x"}').toString('base64') },
    };
    assert.throws(() => sigstoreVerify(tampered, { key }), /signature/i);
  });

  test('an empty payloadType is refused', async () => {
    await assert.rejects(signDsse(STATEMENT, '', { identity: { kind: 'key', key } }), (e) =>
      isVouchError(e, 'ENVELOPE_INVALID'),
    );
  });
});

describe('key-based signing with --tlog-upload (mock Rekor)', () => {
  let mock: SigstoreMock;
  before(async () => {
    mock = await startSigstoreMock();
  });
  after(async () => {
    await mock.close();
  });
  const key = ec('P-256');

  test('no Rekor request unless asked', async () => {
    const before = mock.requests.length;
    await signMessage(DATA, { identity: { kind: 'key', key } });
    assert.equal(mock.requests.length, before);
  });

  test('message bundle: hashedrekord entry with proof and promise, verifies with a tlog threshold of 1', async () => {
    const b = await signMessage(DATA, { identity: { kind: 'key', key }, rekorUrl: mock.rekorUrl });
    const entry = b.verificationMaterial.tlogEntries[0];
    assert.ok(entry);
    assert.deepEqual(entry.kindVersion, { kind: 'hashedrekord', version: '0.0.1' });
    assert.ok(entry.inclusionProof?.checkpoint.envelope);
    assert.ok(entry.inclusionPromise?.signedEntryTimestamp);
    const body = JSON.parse(Buffer.from(entry.canonicalizedBody, 'base64').toString()) as {
      spec: { data: { hash: { value: string } }; signature: { publicKey: { content: string } } };
    };
    assert.equal(body.spec.data.hash.value, createHash('sha256').update(DATA).digest('hex'));
    assert.equal(Buffer.from(body.spec.signature.publicKey.content, 'base64').toString(), key.publicKeyPem);
    sigstoreVerify(b, {
      key,
      artifact: DATA,
      trustedRoot: mock.trustedRoot,
      tlogThreshold: 1,
      timestampThreshold: 1,
    });
  });

  test('Ed25519 DSSE bundles can be logged (Rekor verifies pure Ed25519 over the PAE)', async () => {
    const ed = signingKeyFromKeyObject(generateKeyPairSync('ed25519').privateKey);
    const b = await signDsse(STATEMENT, IN_TOTO, {
      identity: { kind: 'key', key: ed },
      rekorUrl: mock.rekorUrl,
    });
    assert.deepEqual(b.verificationMaterial.tlogEntries[0]?.kindVersion, { kind: 'dsse', version: '0.0.1' });
  });

  test('DSSE bundle: dsse entry, verifies with a tlog threshold of 1', async () => {
    const b = await signDsse(STATEMENT, IN_TOTO, { identity: { kind: 'key', key }, rekorUrl: mock.rekorUrl });
    assert.deepEqual(b.verificationMaterial.tlogEntries[0]?.kindVersion, { kind: 'dsse', version: '0.0.1' });
    sigstoreVerify(b, { key, trustedRoot: mock.trustedRoot, tlogThreshold: 1 });
  });
});
