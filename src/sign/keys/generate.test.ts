import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../../errors.ts';
import { decryptSecret } from './encrypted.ts';
import { exportKeyPair, GENERATE_ALGORITHMS, generateKeyPair } from './generate.ts';
import { parseSigningKey, parseVerificationKey } from './load.ts';
import { parsePem } from './pem.ts';

const FAST = { N: 32768, r: 8, p: 1 } as const;

test('generates a cosign key pair for every algorithm; the files load back as the same key', async () => {
  const expected = {
    'ecdsa-p256': 'ecdsa-p256',
    'ecdsa-p384': 'ecdsa-p384',
    'ecdsa-p521': 'ecdsa-p521',
    ed25519: 'ed25519',
    'rsa-2048': 'rsa',
    'rsa-3072': 'rsa',
    'rsa-4096': 'rsa',
  } as const;
  assert.deepEqual(Object.keys(expected), [...GENERATE_ALGORITHMS]);
  // RSA 3072/4096 generation is slow and says nothing new about the format.
  const algorithms = ['ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519', 'rsa-2048'] as const;
  // in parallel: scrypt runs on the thread pool
  await Promise.all(
    algorithms.map(async (algorithm) => {
      const pair = await generateKeyPair({ algorithm, passphrase: 'pw', scrypt: FAST });
      assert.equal(pair.signingKey.algorithm, expected[algorithm]);
      assert.match(pair.privatePem, /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
      assert.match(pair.publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
      const loaded = await parseSigningKey(pair.privatePem, 'cosign.key', { env: { VOUCH_PASSWORD: 'pw' } });
      assert.ok(loaded.privateKey.equals(pair.signingKey.privateKey), algorithm);
      const pub = parseVerificationKey(pair.publicPem, 'cosign.pub');
      const data = Buffer.from(algorithm);
      assert.ok(pub.verify(data, loaded.sign(data)), algorithm);
    }),
  );
});

test('the default is ECDSA P-256 encrypted at scrypt N=65536, the PKCS#8 key inside', async () => {
  const pair = await generateKeyPair({ passphrase: '' });
  assert.equal(pair.signingKey.algorithm, 'ecdsa-p256');
  const json = parsePem(pair.privatePem, 'k')[0]!.der;
  assert.deepEqual(JSON.parse(json.toString()).kdf.params, { N: 65536, r: 8, p: 1 });
  const der = await decryptSecret(json, '', 'k');
  assert.deepEqual(der, pair.signingKey.privateKey.export({ format: 'der', type: 'pkcs8' }));
});

test('exportKeyPair re-encrypts an existing key; unknown algorithms are KEY_UNSUPPORTED', async () => {
  const pair = await generateKeyPair({ algorithm: 'ed25519', passphrase: 'a', scrypt: FAST });
  const again = await exportKeyPair(pair.signingKey, 'b', FAST);
  assert.equal(again.publicPem, pair.publicPem);
  assert.notEqual(again.privatePem, pair.privatePem);
  const loaded = await parseSigningKey(again.privatePem, 'k', { env: { VOUCH_PASSWORD: 'b' } });
  assert.ok(loaded.privateKey.equals(pair.signingKey.privateKey));
  await assert.rejects(
    generateKeyPair({ algorithm: 'dsa' as never, passphrase: '' }),
    (e) => isVouchError(e, 'KEY_UNSUPPORTED') && /"dsa"/.test(e.message),
  );
});
