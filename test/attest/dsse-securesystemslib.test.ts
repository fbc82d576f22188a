/**
 * DSSE interop with an independent implementation: Debian's python3-securesystemslib checks the
 * signatures vouch makes over PAE (ECDSA P-256 DER, Ed25519), and vouch checks the ones it makes.
 * securesystemslib 0.26 has no DSSE model, so the PAE is computed here and passed as bytes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { envelopeToJson, pae, parseEnvelope, signEnvelope, verifyEnvelope } from '../../src/attest/dsse.ts';
import { isVouchError } from '../../src/errors.ts';
import { signingKeyFromKeyObject, verificationKeyFromKeyObject } from '../../src/sign/keys/signing-key.ts';

const ORACLE = fileURLToPath(new URL('./sslib_oracle.py', import.meta.url));
const TYPE = 'application/vnd.in-toto+json';
const PAYLOAD = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'app', digest: { sha256: 'ab'.repeat(32) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {},
  }),
);

/** A python3 that can import securesystemslib (Debian's is /usr/bin/python3; pyenv shims may lack it). */
function findPython(): string | undefined {
  for (const p of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(p, ['-c', 'import securesystemslib.keys'], { stdio: 'ignore' });
    if (r.status === 0) return p;
  }
  return undefined;
}
const PYTHON = findPython();
const skip = PYTHON
  ? false
  : 'python3-securesystemslib is not installed (apt-get install -y python3-securesystemslib python3-nacl)';

type Req =
  | { op: 'verify'; keytype: 'ecdsa' | 'ed25519'; public: string; data: string; sig: string }
  | { op: 'sign'; keytype: 'ecdsa' | 'ed25519'; data: string }
  | { op: 'sign_dsse'; keytype: 'ecdsa' | 'ed25519'; payloadType: string; payload: string };

function oracle<T>(reqs: Req[]): T[] {
  const r = spawnSync(PYTHON!, [ORACLE], { input: JSON.stringify(reqs), encoding: 'utf8' });
  assert.equal(r.status, 0, `securesystemslib oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T[];
}

/** securesystemslib's public key forms: SPKI PEM for ECDSA, raw hex for Ed25519. */
function sslibPublic(key: KeyObject, keytype: 'ecdsa' | 'ed25519'): string {
  if (keytype === 'ecdsa') return key.export({ type: 'spki', format: 'pem' }).toString();
  const x = key.export({ format: 'jwk' }).x!;
  return Buffer.from(x, 'base64url').toString('hex');
}

const KEYS = [
  { keytype: 'ecdsa' as const, make: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey },
  { keytype: 'ed25519' as const, make: () => generateKeyPairSync('ed25519').privateKey },
];

test('securesystemslib verifies vouch DSSE signatures (and rejects a changed PAE)', { skip }, async () => {
  const reqs: Req[] = [];
  for (const { keytype, make } of KEYS) {
    const key = signingKeyFromKeyObject(make());
    const env = await signEnvelope(TYPE, PAYLOAD, [key]);
    // through JSON, as the envelope travels
    const back = parseEnvelope(JSON.stringify(envelopeToJson(env)));
    const sig = Buffer.from(back.signatures[0]!.sig).toString('hex');
    const pub = sslibPublic(key.publicKey, keytype);
    const good = pae(back.payloadType, back.payload).toString('base64');
    const bad = pae(back.payloadType, Buffer.concat([back.payload, Buffer.from(' ')])).toString('base64');
    reqs.push({ op: 'verify', keytype, public: pub, data: good, sig });
    reqs.push({ op: 'verify', keytype, public: pub, data: bad, sig });
  }
  const got = oracle<{ ok: boolean }>(reqs).map((a) => a.ok);
  assert.deepEqual(got, [true, false, true, false]);
});

test(
  'vouch verifies DSSE envelopes signed by securesystemslib; tampering is SIGNATURE_INVALID',
  { skip },
  () => {
    const bytes = pae(TYPE, PAYLOAD).toString('base64');
    const answers = oracle<{ public: string; sig: string }>(
      KEYS.map(({ keytype }) => ({ op: 'sign', keytype, data: bytes })),
    );
    KEYS.forEach(({ keytype }, i) => {
      const a = answers[i]!;
      const publicKey =
        keytype === 'ecdsa'
          ? createPublicKey(a.public)
          : createPublicKey({
              key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(a.public, 'hex').toString('base64url') },
              format: 'jwk',
            });
      const key = verificationKeyFromKeyObject(publicKey);
      const json = JSON.stringify({
        payloadType: TYPE,
        payload: PAYLOAD.toString('base64'),
        signatures: [{ keyid: 'sslib', sig: Buffer.from(a.sig, 'hex').toString('base64') }],
      });
      const v = verifyEnvelope(parseEnvelope(json), [key]);
      assert.deepEqual(Buffer.from(v.payload), PAYLOAD, keytype);
      const tampered = JSON.stringify({
        payloadType: TYPE,
        payload: Buffer.concat([PAYLOAD, Buffer.from('\n')]).toString('base64'),
        signatures: [{ sig: Buffer.from(a.sig, 'hex').toString('base64') }],
      });
      assert.throws(
        () => verifyEnvelope(parseEnvelope(tampered), [key]),
        (e) => isVouchError(e, 'SIGNATURE_INVALID'),
        keytype,
      );
    });
  },
);

test(
  'the DSSE spec vector: PAE built by the oracle from the spec, signed there, verified by vouch',
  { skip },
  () => {
    const [a] = oracle<{ public: string; sig: string; pae: string }>([
      {
        op: 'sign_dsse',
        keytype: 'ecdsa',
        payloadType: 'http://example.com/HelloWorld',
        payload: Buffer.from('hello world').toString('base64'),
      },
    ]);
    assert.equal(
      Buffer.from(a!.pae, 'base64').toString('utf8'),
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
    assert.deepEqual(
      pae('http://example.com/HelloWorld', Buffer.from('hello world')),
      Buffer.from(a!.pae, 'base64'),
    );
    // URL-safe, unpadded base64 and unknown fields, as the spec allows
    const urlSafe = (b: Buffer) => b.toString('base64url');
    const json = JSON.stringify({
      payload: urlSafe(Buffer.from('hello world')),
      payloadType: 'http://example.com/HelloWorld',
      signatures: [{ keyid: '66301bbf', sig: urlSafe(Buffer.from(a!.sig, 'hex')), comment: 'x' }],
      extension: { ignored: true },
    });
    const key = verificationKeyFromKeyObject(createPublicKey(a!.public));
    assert.equal(Buffer.from(verifyEnvelope(parseEnvelope(json), [key]).payload).toString(), 'hello world');
  },
);
