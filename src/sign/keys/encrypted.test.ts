import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { isVouchError } from '../../errors.ts';
import {
  DEFAULT_SCRYPT,
  decryptPrivateKey,
  decryptSecret,
  encryptPrivateKey,
  encryptSecret,
  SCRYPT_N_VALUES,
} from './encrypted.ts';
import { parsePem } from './pem.ts';

/**
 * Known-answer vectors written by Go (secure-systems-lab/go-securesystemslib
 * encrypted/encrypted_test.go), passphrase "supersecret". The strength vectors hold the JSON
 * encoding of the bytes "reallyimportant" (that test goes through encrypted.Marshal).
 */
const GO_VECTORS = [
  {
    json: '{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"WO3mVvyTwJ9vwT5/Tk5OW5WPIBUofMjcpEfrLnfY4uA="},"cipher":{"name":"nacl/secretbox","nonce":"tCy7HcTFr4uxv4Nrg/DWmncuZ148U1MX"},"ciphertext":"08n43p5G5yviPEZpO7tPPF4aZQkWiWjkv4taFdhDBA0tamKH4nw="}',
    plaintext: '"cmVhbGx5aW1wb3J0YW50"',
  },
  {
    json: '{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"FhzPOt9/bJG4PTq6lQ6ecG6GzaOuOy/ynG5+yRiFlNs="},"cipher":{"name":"nacl/secretbox","nonce":"aw1ng1jHaDz/tQ7V2gR9O2+IGQ8xJEuE"},"ciphertext":"HycvuLZL4sYH0BrYTh4E/H20VtAW6u5zL5Pr+IBjYLYnCPzDkq8="}',
    plaintext: '"cmVhbGx5aW1wb3J0YW50"',
  },
  {
    json: '{"kdf":{"name":"scrypt","params":{"N":131072,"r":8,"p":1},"salt":"m38E3kouJTtiheLQN22NQ8DTito5hrjpUIskqcd375k="},"cipher":{"name":"nacl/secretbox","nonce":"Y6PM13yA+o44pE/W1ZBwczeGnTV/m9Zc"},"ciphertext":"6H8sqj1K6B6yDjtH5AQ6lbFigg/C2yDDJc4rYJ79w9aVPImFIPI="}',
    plaintext: '"cmVhbGx5aW1wb3J0YW50"',
  },
  {
    json: '{"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g="},"cipher":{"name":"nacl/secretbox","nonce":"2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik"},"ciphertext":"SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ=="}',
    plaintext: 'reallyimportant',
  },
] as const;

/** go-securesystemslib's TestUnsupportedKDFParameters input. */
const GO_UNSUPPORTED =
  '{"kdf":{"name":"scrypt","params":{"N":99,"r":99,"p":99},"salt":"cZFcQJdwPhPyhU1R4qkl0qVOIjZd4V/7LYYAavq166k="},"cipher":{"name":"nacl/secretbox","nonce":"7vhRS7j0hEPBWV05skAdgLj81AkGeE7U"},"ciphertext":"6WYU/YSXVbYzl/NzaeAzmjLyfFhOOjLc0d8/GFV0aBFdJvyCcXc="}';

/** The cheapest accepted strength, where the test is not about strength. */
const FAST = { N: 32768, r: 8, p: 1 } as const;

function codeIs(code: Parameters<typeof isVouchError>[1], message?: RegExp) {
  return (e: unknown) => {
    assert.ok(isVouchError(e, code), `expected ${code}, got ${String(e)}`);
    if (message) assert.match(e.message, message);
    return true;
  };
}

test('decrypts the vectors Go wrote at all three accepted strengths', async () => {
  const got = await Promise.all(GO_VECTORS.map((v) => decryptSecret(v.json, 'supersecret', 'vector')));
  assert.deepEqual(
    got.map((b) => b.toString('utf8')),
    GO_VECTORS.map((v) => v.plaintext),
  );
});

test('refuses parameters Go refuses, before spending any work on them', async () => {
  await assert.rejects(
    decryptSecret(GO_UNSUPPORTED, 'supersecret', 'v'),
    codeIs('KEY_UNSUPPORTED', /N = 99/),
  );
});

test('encrypts in the JSON shape and field order Go writes, and round-trips at every strength', async () => {
  const json = await encryptSecret(Buffer.from('hello'), 'pw');
  assert.match(
    json,
    /^\{"kdf":\{"name":"scrypt","params":\{"N":65536,"r":8,"p":1\},"salt":"[A-Za-z0-9+/]{43}="\},"cipher":\{"name":"nacl\/secretbox","nonce":"[A-Za-z0-9+/]{32}"\},"ciphertext":"[A-Za-z0-9+/]{28}"\}$/,
  );
  // 5 bytes of plaintext + the 16-byte Poly1305 tag
  assert.equal(Buffer.from(JSON.parse(json).ciphertext, 'base64').length, 21);
  assert.equal((await decryptSecret(json, 'pw', 'x')).toString(), 'hello');
  await Promise.all(
    SCRYPT_N_VALUES.map(async (N) => {
      const j = await encryptSecret(Buffer.from([1, 2, 3]), 'pässwörd', { N, r: 8, p: 1 });
      assert.equal(JSON.parse(j).kdf.params.N, N);
      assert.deepEqual(await decryptSecret(j, 'pässwörd', 'x'), Buffer.from([1, 2, 3]));
    }),
  );
  // A fresh salt and nonce every time.
  const again = await encryptSecret(Buffer.from('hello'), 'pw');
  assert.notEqual(JSON.parse(again).kdf.salt, JSON.parse(json).kdf.salt);
  assert.notEqual(JSON.parse(again).cipher.nonce, JSON.parse(json).cipher.nonce);
});

test('the empty passphrase is a passphrase (cosign allows it)', async () => {
  const json = await encryptSecret(Buffer.from('k'), '', FAST);
  assert.equal((await decryptSecret(json, '', 'x')).toString(), 'k');
  await assert.rejects(decryptSecret(json, ' ', 'x'), codeIs('PASSPHRASE_WRONG'));
});

test('a private key round-trips through the cosign PEM; wrong passphrase is PASSPHRASE_WRONG', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = await encryptPrivateKey(privateKey, 'correct horse', { params: FAST });
  const [block] = parsePem(pem, 'k');
  assert.equal(block?.type, 'ENCRYPTED SIGSTORE PRIVATE KEY');
  const back = await decryptPrivateKey(block!.der, 'correct horse', 'cosign.key');
  assert.ok(back.equals(privateKey));
  await assert.rejects(
    decryptPrivateKey(block!.der, 'correct horse!', 'cosign.key'),
    codeIs('PASSPHRASE_WRONG', /^wrong passphrase for cosign\.key$/),
  );
  const older = await encryptPrivateKey(privateKey, '', {
    params: FAST,
    pemType: 'ENCRYPTED COSIGN PRIVATE KEY',
  });
  assert.match(older, /^-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n/);
});

test('damaged ciphertext: truncation and corruption are told apart from a wrong passphrase', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const json = JSON.parse(
    Buffer.from(
      parsePem(await encryptPrivateKey(privateKey, 'pw', { params: FAST }), 'k')[0]!.der,
    ).toString(),
  );
  const ct = Buffer.from(json.ciphertext, 'base64');
  const truncated = JSON.stringify({
    ...json,
    ciphertext: ct.subarray(0, ct.length - 10).toString('base64'),
  });
  await assert.rejects(
    decryptSecret(truncated, 'pw', 'k.key'),
    codeIs('KEY_INVALID', /truncated \(\d+ of \d+ key bytes\)/),
  );
  // with a wrong passphrase nothing can be said about the damage
  await assert.rejects(decryptSecret(truncated, 'nope', 'k.key'), codeIs('PASSPHRASE_WRONG'));
  const flipped = Buffer.from(ct);
  flipped[flipped.length - 1]! ^= 1;
  await assert.rejects(
    decryptSecret(JSON.stringify({ ...json, ciphertext: flipped.toString('base64') }), 'pw', 'k.key'),
    codeIs('KEY_INVALID', /corrupt/),
  );
  const stub = JSON.stringify({ ...json, ciphertext: ct.subarray(0, 10).toString('base64') });
  await assert.rejects(
    decryptSecret(stub, 'pw', 'k.key'),
    codeIs('KEY_INVALID', /shorter than its 16-byte tag/),
  );
});

test('every malformed or unsupported field is named, with its own code', async () => {
  const good = JSON.parse(await encryptSecret(Buffer.from('x'), 'pw', FAST));
  /** The good JSON with the field at `path` set to `value` (undefined: removed). */
  const edit = (path: string, value: unknown) => {
    const d = structuredClone(good);
    const keys = path.split('.');
    const last = keys.pop()!;
    const parent = keys.reduce((o, k) => o[k], d);
    if (value === undefined) delete parent[last];
    else parent[last] = value;
    return JSON.stringify(d);
  };
  const cases: [string, Parameters<typeof isVouchError>[1], RegExp][] = [
    ['{"kdf":', 'KEY_INVALID', /not JSON/],
    ['[]', 'KEY_INVALID', /the encrypted key must be a JSON object, found an array/],
    [edit('kdf', undefined), 'KEY_INVALID', /kdf must be a JSON object, found nothing/],
    [edit('cipher', 'x'), 'KEY_INVALID', /cipher must be a JSON object, found a string/],
    [edit('kdf.name', 'argon2id'), 'KEY_UNSUPPORTED', /kdf\.name "argon2id" is not supported/],
    [edit('kdf.name', 7), 'KEY_INVALID', /kdf\.name must be a string, found a number/],
    [edit('cipher.name', 'aes-gcm'), 'KEY_UNSUPPORTED', /cipher\.name "aes-gcm" is not supported/],
    [edit('kdf.params.N', 1024), 'KEY_UNSUPPORTED', /kdf\.params\.N = 1024 is not accepted/],
    [edit('kdf.params.N', 1 << 30), 'KEY_UNSUPPORTED', /kdf\.params\.N = 1073741824/],
    [edit('kdf.params.N', '65536'), 'KEY_INVALID', /kdf\.params\.N must be an integer/],
    [edit('kdf.params.r', 16), 'KEY_UNSUPPORTED', /kdf\.params\.r = 16, expected 8/],
    [edit('kdf.params.p', 2), 'KEY_UNSUPPORTED', /kdf\.params\.p = 2, expected 1/],
    [edit('kdf.params', undefined), 'KEY_INVALID', /kdf\.params must be a JSON object/],
    [edit('kdf.salt', 'not base64!'), 'KEY_INVALID', /kdf\.salt is not standard base64/],
    [edit('kdf.salt', 'AAAA'), 'KEY_INVALID', /kdf\.salt is 3 bytes, expected 32/],
    [edit('cipher.nonce', 'AAAA'), 'KEY_INVALID', /cipher\.nonce is 3 bytes, expected 24/],
    [edit('cipher.nonce', null), 'KEY_INVALID', /cipher\.nonce must be a string, found null/],
    [edit('ciphertext', 'YQ'), 'KEY_INVALID', /ciphertext is not standard base64/],
    // URL-safe base64 is not what Go writes or reads for []byte
    [edit('ciphertext', `-_${good.ciphertext.slice(2)}`), 'KEY_INVALID', /ciphertext is not standard/],
  ];
  for (const [json, code, message] of cases) {
    await assert.rejects(decryptSecret(json, 'pw', 'cosign.key'), codeIs(code, message), json);
    await assert.rejects(decryptSecret(json, 'pw', 'cosign.key'), (e) =>
      /^cosign\.key: /.test((e as Error).message),
    );
  }
  assert.equal(DEFAULT_SCRYPT.N, 65536);
});

test('never writes with parameters readers refuse', async () => {
  await assert.rejects(
    encryptSecret(Buffer.from('x'), 'pw', { N: 1024, r: 8, p: 1 } as never),
    codeIs('KEY_UNSUPPORTED', /N = 1024/),
  );
});
