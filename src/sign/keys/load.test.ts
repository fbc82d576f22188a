import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyExportOptions, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { vouchErrorWith } from '../../../test/helpers/errors.ts';
import type { ErrorCode } from '../../errors.ts';
import { encryptPrivateKey } from './encrypted.ts';
import {
  findPrivateKeyBlock,
  loadSigningKey,
  loadVerificationKey,
  parsePrivateKey,
  parseSigningKey,
  parseVerificationKey,
} from './load.ts';
import { encodePem } from './pem.ts';
import type { PassphraseSource } from './types.ts';

const FAST = { N: 32768, r: 8, p: 1 } as const;

/** A self-signed P-256 certificate (openssl req -x509, CN=vouch test) and its public key. */
const CERT = `-----BEGIN CERTIFICATE-----
MIIBgTCCASegAwIBAgIUfvKjwDY3u+I/8aJrAz+4i364jnswCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKdm91Y2ggdGVzdDAgFw0yNjExMjIwMDA3MjdaGA8yMTI2MTAy
OTAwMDcyN1owFTETMBEGA1UEAwwKdm91Y2ggdGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABMVOFmDH+9qXvQ+PV6ApKtEb0FRDX/503Kn7evVwivQ2h7lpZ92o
Wg2Z+shrHnuFtTwaAhn+Ba3QsQmn1CnZXsmjUzBRMB0GA1UdDgQWBBSGbwosFh3D
Nr5XP96PhNuCwl4E4jAfBgNVHSMEGDAWgBSGbwosFh3DNr5XP96PhNuCwl4E4jAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIAcuBe0auMnnztb1lDsl
zQEr6BQTrToDx5LBQ2aJzkYUAiEAxvMOvXg7vHIWIG5exsPLpNgdUjnUQ2J3zLRW
jnBPOQc=
-----END CERTIFICATE-----
`;
const CERT_PUBLIC_KEY = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExU4WYMf72pe9D49XoCkq0RvQVENf
/nTcqft69XCK9DaHuWln3ahaDZn6yGsee4W1PBoCGf4FrdCxCafUKdleyQ==
-----END PUBLIC KEY-----
`;

const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

const pem = (
  k: KeyObject,
  type: KeyExportOptions<'pem'>['type'],
  extra: { cipher?: string; passphrase?: string } = {},
) => k.export({ format: 'pem', type, ...extra }).toString();

/** A passphrase source that fails the test if asked. */
const noPassphrase: PassphraseSource = {
  prompt: async () => assert.fail('asked for a passphrase for a plain key'),
};

test('plain private keys in every PEM flavour load and sign what their public key verifies', async () => {
  const cases: [string, string, KeyObject][] = [
    ['EC PKCS#8', pem(p256.privateKey, 'pkcs8'), p256.publicKey],
    ['EC SEC 1', pem(p256.privateKey, 'sec1'), p256.publicKey],
    [
      'EC SEC 1 after EC PARAMETERS (openssl ecparam -genkey)',
      `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${pem(p256.privateKey, 'sec1')}`,
      p256.publicKey,
    ],
    ['RSA PKCS#1', pem(rsa.privateKey, 'pkcs1'), rsa.publicKey],
    ['RSA PKCS#8', pem(rsa.privateKey, 'pkcs8'), rsa.publicKey],
    ['Ed25519 PKCS#8', pem(ed.privateKey, 'pkcs8'), ed.publicKey],
  ];
  for (const [name, text, publicKey] of cases) {
    const key = await parseSigningKey(text, name, noPassphrase);
    assert.equal(key.publicKeyPem, publicKey.export({ format: 'pem', type: 'spki' }).toString(), name);
    const data = Buffer.from(`signed by ${name}`);
    const sig = key.sign(data);
    assert.ok(key.verify(data, sig), name);
    assert.ok(!key.verify(Buffer.from('other data'), sig), name);
    const spki = publicKey.export({ format: 'der', type: 'spki' });
    assert.equal(key.hint, createHash('sha256').update(spki).digest('base64'));
  }
  for (const [curve, algorithm] of [
    ['P-384', 'ecdsa-p384'],
    ['P-521', 'ecdsa-p521'],
  ] as const) {
    const k = generateKeyPairSync('ec', { namedCurve: curve });
    assert.equal(
      (await parseSigningKey(pem(k.privateKey, 'pkcs8'), curve, noPassphrase)).algorithm,
      algorithm,
    );
  }
});

test('passphrase-protected keys: cosign (both labels), PKCS#8 and OpenSSL legacy encryption', async () => {
  const src: PassphraseSource = { env: { VOUCH_PASSWORD: 'open sesame' } };
  const cosign = await encryptPrivateKey(p256.privateKey, 'open sesame', { params: FAST });
  const older = await encryptPrivateKey(ed.privateKey, 'open sesame', {
    params: FAST,
    pemType: 'ENCRYPTED COSIGN PRIVATE KEY',
  });
  const pkcs8 = pem(p256.privateKey, 'pkcs8', { cipher: 'aes-256-cbc', passphrase: 'open sesame' });
  const legacy = pem(p256.privateKey, 'sec1', { cipher: 'aes-256-cbc', passphrase: 'open sesame' });
  assert.match(pkcs8, /BEGIN ENCRYPTED PRIVATE KEY/);
  assert.match(legacy, /Proc-Type: 4,ENCRYPTED/);
  for (const [text, pemType] of [
    [cosign, 'ENCRYPTED SIGSTORE PRIVATE KEY'],
    [older, 'ENCRYPTED COSIGN PRIVATE KEY'],
    [pkcs8, 'ENCRYPTED PRIVATE KEY'],
    [legacy, 'EC PRIVATE KEY'],
  ] as const) {
    const parsed = await parsePrivateKey(text, pemType, src);
    assert.equal(parsed.pemType, pemType);
    assert.equal(parsed.encrypted, true);
    await assert.rejects(
      parsePrivateKey(text, 'k.pem', { env: { COSIGN_PASSWORD: 'open says me' } }),
      (e) => vouchErrorWith('PASSPHRASE_WRONG')(e) && !(e as Error).message.includes('open says me'),
      pemType,
    );
    await assert.rejects(parsePrivateKey(text, 'k.pem', {}), vouchErrorWith('PASSPHRASE_MISSING'), pemType);
  }
  assert.ok((await parsePrivateKey(cosign, 'k', src)).privateKey.equals(p256.privateKey));
  assert.equal(findPrivateKeyBlock(pem(p256.privateKey, 'sec1'), 'k').encrypted, false);
});

test('files: loadSigningKey and loadVerificationKey read PEM files; a missing file is FILE_NOT_FOUND', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-keys-'));
  try {
    const keyFile = join(dir, 'cosign.key');
    const pubFile = join(dir, 'cosign.pub');
    await writeFile(keyFile, await encryptPrivateKey(p256.privateKey, '', { params: FAST }), { mode: 0o600 });
    await writeFile(pubFile, pem(p256.publicKey, 'spki'));
    const key = await loadSigningKey(keyFile, { env: { VOUCH_PASSWORD: '' } });
    const pub = await loadVerificationKey(pubFile);
    assert.ok(pub.verify(Buffer.from('x'), key.sign(Buffer.from('x'))));
    await assert.rejects(
      loadSigningKey(join(dir, 'nope.key'), {}),
      vouchErrorWith('FILE_NOT_FOUND', /nope\.key/),
    );
    await assert.rejects(loadVerificationKey(join(dir, 'nope.pub')), vouchErrorWith('FILE_NOT_FOUND'));
    await assert.rejects(loadVerificationKey(dir), vouchErrorWith('IO_ERROR', /not a regular file/));
    const der = join(dir, 'key.der');
    await writeFile(der, p256.privateKey.export({ format: 'der', type: 'pkcs8' }));
    await assert.rejects(
      loadSigningKey(der, noPassphrase),
      (e) =>
        vouchErrorWith('KEY_INVALID', /not a PEM file/)(e) &&
        /openssl pkey -inform DER/.test((e as Error & { hint: string }).hint),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('wrong kinds of keys and files are refused with the code that says why', async () => {
  const x25519 = generateKeyPairSync('x25519');
  const p192 = generateKeyPairSync('ec', { namedCurve: 'prime192v1' });
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const cases: [string, string, ErrorCode, RegExp][] = [
    ['garbage', 'not a key at all', 'KEY_INVALID', /not a PEM file/],
    ['certificate', CERT, 'KEY_INVALID', /holds a CERTIFICATE, not a private key/],
    ['public key', pem(p256.publicKey, 'spki'), 'KEY_INVALID', /holds a PUBLIC KEY, not a private key/],
    [
      'P-192',
      pem(p192.privateKey, 'pkcs8'),
      'KEY_UNSUPPORTED',
      /P-192: EC curve prime192v1 is not supported/,
    ],
    ['secp256k1', pem(k1.privateKey, 'sec1'), 'KEY_UNSUPPORTED', /secp256k1/],
    ['X25519', pem(x25519.privateKey, 'pkcs8'), 'KEY_UNSUPPORTED', /x25519 keys are not supported/],
    ['RSA-1024', pem(small.privateKey, 'pkcs1'), 'KEY_UNSUPPORTED', /1024 bits, at least 2048/],
    [
      'DSA label',
      encodePem('DSA PRIVATE KEY', Buffer.from([0x30, 0])),
      'KEY_UNSUPPORTED',
      /DSA PRIVATE KEY keys/,
    ],
    ['OpenSSH', encodePem('OPENSSH PRIVATE KEY', Buffer.from('openssh')), 'KEY_UNSUPPORTED', /OPENSSH/],
    [
      'bad DER',
      encodePem('EC PRIVATE KEY', Buffer.from([0x30, 3, 2, 1, 0])),
      'KEY_INVALID',
      /not a valid SEC1/,
    ],
    ['bad PKCS#8', encodePem('PRIVATE KEY', Buffer.from('nonsense')), 'KEY_INVALID', /not a valid PKCS8/],
    [
      'truncated PEM',
      pem(p256.privateKey, 'pkcs8').slice(0, 100),
      'KEY_INVALID',
      /no "-----END PRIVATE KEY-----"/,
    ],
  ];
  for (const [name, text, code, message] of cases) {
    await assert.rejects(parseSigningKey(text, name, noPassphrase), vouchErrorWith(code, message), name);
  }
});

test('public keys: SPKI, EC/RSA PUBLIC KEY and certificates; private keys and junk refused', () => {
  const fromCert = parseVerificationKey(CERT, 'cert.pem');
  assert.equal(fromCert.publicKeyPem, CERT_PUBLIC_KEY);
  assert.equal(fromCert.algorithm, 'ecdsa-p256');
  const spki = p256.publicKey.export({ format: 'der', type: 'spki' });
  const cases: [string, string, KeyObject][] = [
    ['SPKI EC', pem(p256.publicKey, 'spki'), p256.publicKey],
    ['EC PUBLIC KEY', encodePem('EC PUBLIC KEY', spki), p256.publicKey],
    ['SPKI Ed25519', pem(ed.publicKey, 'spki'), ed.publicKey],
    ['RSA PUBLIC KEY', pem(rsa.publicKey, 'pkcs1'), rsa.publicKey],
  ];
  for (const [name, text, key] of cases) {
    const v = parseVerificationKey(text, name);
    assert.ok(v.publicKey.equals(key), name);
  }
  const refused: [string, ErrorCode, RegExp][] = [
    [pem(p256.privateKey, 'pkcs8'), 'KEY_INVALID', /holds a PRIVATE KEY, not a public key/],
    [encodePem('CERTIFICATE', Buffer.from('junk')), 'KEY_INVALID', /not a valid X\.509 certificate/],
    [encodePem('PUBLIC KEY', Buffer.from('junk')), 'KEY_INVALID', /not a valid SPKI public key/],
    [
      encodePem('X509 CRL', Buffer.from('junk')),
      'KEY_INVALID',
      /found a X509 CRL block, expected one of PUBLIC KEY/,
    ],
    [
      pem(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey, 'spki'),
      'KEY_UNSUPPORTED',
      /secp256k1/,
    ],
  ];
  for (const [text, code, message] of refused) {
    assert.throws(() => parseVerificationKey(text, 'k.pub'), vouchErrorWith(code, message));
  }
});
