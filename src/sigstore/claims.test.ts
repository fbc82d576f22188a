import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  certificate,
  extension,
  name,
  namedBits,
  octet,
  seq,
  tbs,
  utf8,
} from '../../test/sigstore/helpers/der.ts';
import { createInstance, ecKeyPair, T0 } from '../../test/sigstore/helpers/instance.ts';
import { isVouchError } from '../errors.ts';
import { certificateClaims } from './claims.ts';

const inst = createInstance();
const key = ecKeyPair().publicKey;

test('every Fulcio claim is read: raw 1.1-1.6, DER 1.8-1.22, 1.8 winning over 1.1', () => {
  const cert = inst.issue(key, {
    san: { uri: 'https://github.com/o/r/.github/workflows/rel.yml@refs/tags/v1' },
    issuer: 'https://token.actions.githubusercontent.com',
    issuerV1: 'https://old.example',
    rawClaims: { 2: 'push', 3: 'abc123', 4: 'Release', 5: 'o/r', 6: 'refs/tags/v1' },
    derClaims: {
      9: 'https://github.com/o/r/.github/workflows/rel.yml@refs/tags/v1',
      11: 'github-hosted',
      22: 'public',
    },
  });
  assert.deepEqual(certificateClaims(cert), {
    subjectAlternativeName: 'https://github.com/o/r/.github/workflows/rel.yml@refs/tags/v1',
    issuer: 'https://token.actions.githubusercontent.com',
    githubWorkflowTrigger: 'push',
    githubWorkflowSha: 'abc123',
    githubWorkflowName: 'Release',
    githubWorkflowRepository: 'o/r',
    githubWorkflowRef: 'refs/tags/v1',
    buildSignerURI: 'https://github.com/o/r/.github/workflows/rel.yml@refs/tags/v1',
    runnerEnvironment: 'github-hosted',
    sourceRepositoryVisibilityAtSigning: 'public',
  });
});

test('SAN choice: email, and the Fulcio username OtherName', () => {
  assert.equal(
    certificateClaims(inst.issue(key, { san: { email: 'a@b.c' } })).subjectAlternativeName,
    'a@b.c',
  );
  const other = certificateClaims(inst.issue(key, { san: { otherName: 'user!example.com' } }));
  assert.equal(other.subjectAlternativeName, 'user!example.com');
});

function leafWith(extensions: Buffer[]): Buffer {
  const issuer = ecKeyPair();
  return certificate(
    tbs({
      serial: 7n,
      issuer: name({ cn: 'x' }),
      subject: name({}),
      notBefore: T0,
      notAfter: new Date(T0.getTime() + 60_000),
      publicKey: key,
      extensions: [extension('2.5.29.15', true, namedBits([0])), ...extensions],
    }),
    issuer.privateKey,
  );
}

test('malformed certificates are CERTIFICATE_INVALID, naming the problem', () => {
  const cases: [Buffer, RegExp][] = [
    [leafWith([]), /no subject alternative name/],
    [
      leafWith([extension('2.5.29.17', true, seq(octet(Buffer.from('x'))))]),
      /no URI, email or Fulcio username/,
    ],
    [
      leafWith([
        extension('2.5.29.17', true, seq(Buffer.from([0x81, 1, 0x61]))),
        extension('1.3.6.1.4.1.57264.1.8', false, Buffer.from('raw, not DER')),
      ]),
      /1\.3\.6\.1\.4\.1\.57264\.1\.8 is not a DER UTF8String/,
    ],
    [Buffer.from('not a certificate'), /not a DER X\.509 certificate/],
  ];
  for (const [der, message] of cases) {
    assert.throws(
      () => certificateClaims(der),
      (e: unknown) => isVouchError(e, 'CERTIFICATE_INVALID') && message.test(e.message),
    );
  }
  // A well-formed DER UTF8String in a 1.8+ extension is read whatever else is present.
  const ok = leafWith([
    extension('2.5.29.17', true, seq(Buffer.from([0x81, 1, 0x61]))),
    extension('1.3.6.1.4.1.57264.1.8', false, utf8('https://issuer')),
  ]);
  assert.equal(certificateClaims(ok).issuer, 'https://issuer');
});
