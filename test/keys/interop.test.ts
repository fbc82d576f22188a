/**
 * vouch's keys against independent implementations: Python (hashlib.scrypt + PyNaCl +
 * pyca/cryptography), Go (x/crypto + encoding/json, the libraries cosign's format comes from),
 * and openssl for key files and signatures.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ErrorCode } from '../../src/errors.ts';
import { type GenerateAlgorithm, generateKeyPair } from '../../src/sign/keys/generate.ts';
import { loadSigningKey, loadVerificationKey } from '../../src/sign/keys/load.ts';
import { encodePem, parsePem } from '../../src/sign/keys/pem.ts';
import { vouchErrorWith } from '../helpers/errors.ts';
import { findPython, goOracle, haveOpenssl, need, pythonOracle, runOk, tempDir } from './oracles.ts';

const PYTHON_MISSING =
  'python3 with PyNaCl and cryptography is missing (apt-get install python3-nacl python3-cryptography)';
const GO_MISSING =
  'go or golang.org/x/crypto is missing (apt-get install golang-go golang-golang-x-crypto-dev)';

/** `openssl pkey -pubout` of a private key file: the reference public key. */
async function opensslPublic(file: string, passphrase?: string): Promise<string> {
  const pass = passphrase === undefined ? [] : ['-passin', `pass:${passphrase}`];
  return runOk('openssl', ['pkey', '-in', file, '-pubout', ...pass]);
}

test('(a) keys vouch encrypts decrypt in Python, and the PKCS#8 inside loads in pyca/cryptography', async (t) => {
  const python = await findPython();
  if (!need(t, python !== undefined, PYTHON_MISSING)) return;
  await using dir = await tempDir('keys-py-a');
  const py = await pythonOracle(python!, dir.path);
  const cases: [GenerateAlgorithm, string, 32768 | 65536 | 131072][] = [
    ['ecdsa-p256', 'correct horse battery staple', 65536],
    ['ed25519', '', 32768],
    ['rsa-2048', 'pässwörd ✓', 32768],
    ['ecdsa-p384', 'x', 131072],
    ['ecdsa-p521', 'x', 32768],
  ];
  await Promise.all(
    cases.map(async ([algorithm, passphrase, N]) => {
      const pair = await generateKeyPair({ algorithm, passphrase, scrypt: { N, r: 8, p: 1 } });
      const file = join(dir.path, `${algorithm}.key`);
      await writeFile(file, pair.privatePem);
      assert.equal(await py.decrypt(file, passphrase), pair.publicPem, algorithm);
    }),
  );
});

test('(b) keys Python encrypts load in vouch, at every accepted strength and under both labels', async (t) => {
  const python = await findPython();
  if (!need(t, python !== undefined, PYTHON_MISSING)) return;
  if (!need(t, await haveOpenssl(), 'openssl is missing')) return;
  await using dir = await tempDir('keys-py-b');
  const py = await pythonOracle(python!, dir.path);
  const cases: [string, string[], number, string, string][] = [
    [
      'p256',
      ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      65536,
      'ENCRYPTED SIGSTORE PRIVATE KEY',
      's3cret',
    ],
    ['ed25519', ['-algorithm', 'ED25519'], 32768, 'ENCRYPTED COSIGN PRIVATE KEY', ''],
    [
      'rsa',
      ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
      131072,
      'ENCRYPTED SIGSTORE PRIVATE KEY',
      'ü',
    ],
  ];
  await Promise.all(
    cases.map(async ([name, genArgs, n, label, passphrase]) => {
      const plain = join(dir.path, `${name}.pem`);
      await runOk('openssl', ['genpkey', ...genArgs, '-out', plain]);
      const file = join(dir.path, `${name}.key`);
      await writeFile(file, await py.encrypt(plain, passphrase, n, label));
      const key = await loadSigningKey(file, { env: { COSIGN_PASSWORD: passphrase } });
      assert.equal(key.publicKeyPem, await opensslPublic(plain), name);
      await assert.rejects(
        loadSigningKey(file, { env: { COSIGN_PASSWORD: `${passphrase}!` } }),
        vouchErrorWith('PASSPHRASE_WRONG'),
      );
    }),
  );
  // A file Python really encrypted, but at N=1024: refused before any key derivation.
  const weak = join(dir.path, 'weak.key');
  await writeFile(
    weak,
    await py.encrypt(join(dir.path, 'p256.pem'), 'pw', 1024, 'ENCRYPTED SIGSTORE PRIVATE KEY'),
  );
  await assert.rejects(
    loadSigningKey(weak, { env: { VOUCH_PASSWORD: 'pw' } }),
    vouchErrorWith('KEY_UNSUPPORTED', /kdf\.params\.N = 1024/),
  );
});

test('Go: json.Marshal of go-securesystemslib structs re-creates vouch JSON byte for byte; Go keys load', async (t) => {
  await using dir = await tempDir('keys-go');
  const go = await goOracle(dir.path);
  if (!need(t, go !== undefined, GO_MISSING)) return;
  const pair = await generateKeyPair({ passphrase: 'from vouch' });
  const file = join(dir.path, 'vouch.key');
  await writeFile(file, pair.privatePem);
  const { json, publicPem } = await go!.decrypt(file, 'from vouch');
  assert.equal(json, parsePem(pair.privatePem, 'k')[0]!.der.toString('utf8'));
  assert.equal(publicPem, pair.publicPem);
  // And the other way: a key file written as cosign writes it (Go), and a signature Go made.
  await go!.generate(dir.path, 'from go');
  const key = await loadSigningKey(join(dir.path, 'cosign.key'), { env: { VOUCH_PASSWORD: 'from go' } });
  const pub = await loadVerificationKey(join(dir.path, 'cosign.pub'));
  assert.equal(key.publicKeyPem, pub.publicKeyPem);
  assert.equal(key.publicKeyPem, await readFile(join(dir.path, 'cosign.pub'), 'utf8'));
  const sig = await readFile(join(dir.path, 'sig'));
  assert.ok(pub.verify(Buffer.from('signed in go'), sig));
  assert.ok(!pub.verify(Buffer.from('signed in go?'), sig));
});

test('(c) signatures: vouch signs what openssl verifies, and verifies what openssl signs', async (t) => {
  if (!need(t, await haveOpenssl(), 'openssl is missing')) return;
  await using dir = await tempDir('keys-sig');
  const data = join(dir.path, 'data');
  await writeFile(data, 'the bytes being signed\n');
  const message = await readFile(data);
  const cases: [string, string[], 'sha256' | 'sha384' | 'sha512' | 'raw'][] = [
    ['p256', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'sha256'],
    ['p384', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'sha384'],
    ['p521', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'], 'sha512'],
    ['rsa', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], 'sha256'],
    ['ed25519', ['-algorithm', 'ED25519'], 'raw'],
  ];
  for (const [name, genArgs, digest] of cases) {
    const keyFile = join(dir.path, `${name}.pem`);
    const pubFile = join(dir.path, `${name}.pub`);
    await runOk('openssl', ['genpkey', ...genArgs, '-out', keyFile]);
    await writeFile(pubFile, await opensslPublic(keyFile));
    const key = await loadSigningKey(keyFile, {});
    const pub = await loadVerificationKey(pubFile);

    const vouchSig = join(dir.path, `${name}.vouch.sig`);
    await writeFile(vouchSig, key.sign(message));
    const verifyArgs =
      digest === 'raw'
        ? ['pkeyutl', '-verify', '-pubin', '-inkey', pubFile, '-rawin', '-in', data, '-sigfile', vouchSig]
        : ['dgst', `-${digest}`, '-verify', pubFile, '-signature', vouchSig, data];
    assert.match(await runOk('openssl', verifyArgs), /Verified OK|Signature Verified Successfully/, name);

    const opensslSig = join(dir.path, `${name}.openssl.sig`);
    const signArgs =
      digest === 'raw'
        ? ['pkeyutl', '-sign', '-inkey', keyFile, '-rawin', '-in', data, '-out', opensslSig]
        : ['dgst', `-${digest}`, '-sign', keyFile, '-out', opensslSig, data];
    await runOk('openssl', signArgs);
    const sig = await readFile(opensslSig);
    assert.ok(pub.verify(message, sig), name);
    assert.ok(!pub.verify(Buffer.concat([message, Buffer.from('x')]), sig), name);
  }
});

test('(d) keys openssl writes load in every PEM flavour, encrypted ones too', async (t) => {
  if (!need(t, await haveOpenssl(), 'openssl is missing')) return;
  await using dir = await tempDir('keys-openssl');
  const f = (name: string) => join(dir.path, name);
  const ssl = (...args: string[]) => runOk('openssl', args);
  await ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('ec.p8'));
  await ssl('ec', '-in', f('ec.p8'), '-out', f('ec.sec1'));
  await ssl('ecparam', '-name', 'prime256v1', '-genkey', '-out', f('ecparam.pem'));
  await ssl('ec', '-in', f('ec.p8'), '-aes256', '-passout', 'pass:pw', '-out', f('ec.legacy'));
  await ssl(
    'pkcs8',
    '-topk8',
    '-in',
    f('ec.p8'),
    '-v2',
    'aes-256-cbc',
    '-passout',
    'pass:pw',
    '-out',
    f('ec.p8enc'),
  );
  await ssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', f('rsa.p8'));
  await ssl('rsa', '-in', f('rsa.p8'), '-traditional', '-out', f('rsa.pkcs1'));
  await ssl('genpkey', '-algorithm', 'ED25519', '-out', f('ed.p8'));
  const files: [string, string, string | undefined][] = [
    ['ec.p8', 'PRIVATE KEY', undefined],
    ['ec.sec1', 'EC PRIVATE KEY', undefined],
    ['ecparam.pem', 'EC PARAMETERS', undefined],
    ['ec.legacy', 'EC PRIVATE KEY', 'pw'],
    ['ec.p8enc', 'ENCRYPTED PRIVATE KEY', 'pw'],
    ['rsa.p8', 'PRIVATE KEY', undefined],
    ['rsa.pkcs1', 'RSA PRIVATE KEY', undefined],
    ['ed.p8', 'PRIVATE KEY', undefined],
  ];
  for (const [name, firstBlock, passphrase] of files) {
    const text = await readFile(f(name), 'utf8');
    assert.equal(parsePem(text, name)[0]?.type, firstBlock, `${name} is the flavour it should be`);
    const src = passphrase === undefined ? {} : { env: { VOUCH_PASSWORD: passphrase } };
    const key = await loadSigningKey(f(name), src);
    assert.equal(key.publicKeyPem, await opensslPublic(f(name), passphrase), name);
  }
  // Public keys: SPKI, PKCS#1 RSA, and a certificate's key.
  await writeFile(f('ec.pub'), await opensslPublic(f('ec.p8')));
  await ssl('rsa', '-in', f('rsa.p8'), '-RSAPublicKey_out', '-out', f('rsa.pkcs1pub'));
  await ssl('req', '-x509', '-key', f('ed.p8'), '-subj', '/CN=vouch', '-days', '1', '-out', f('ed.crt'));
  assert.match(await readFile(f('rsa.pkcs1pub'), 'utf8'), /BEGIN RSA PUBLIC KEY/);
  for (const [pubName, privName] of [
    ['ec.pub', 'ec.p8'],
    ['rsa.pkcs1pub', 'rsa.p8'],
    ['ed.crt', 'ed.p8'],
  ]) {
    const pub = await loadVerificationKey(f(pubName!));
    assert.equal(pub.publicKeyPem, await opensslPublic(f(privName!)), pubName);
  }
});

test('(e) each bad key file is refused with its own code', async (t) => {
  if (!need(t, await haveOpenssl(), 'openssl is missing')) return;
  await using dir = await tempDir('keys-bad');
  const f = (name: string) => join(dir.path, name);
  const pair = await generateKeyPair({ passphrase: 'right', scrypt: { N: 32768, r: 8, p: 1 } });
  const body = JSON.parse(parsePem(pair.privatePem, 'k')[0]!.der.toString());
  /** The vouch key with one JSON field replaced. */
  const edited = (change: (d: typeof body) => void) => {
    const d = structuredClone(body);
    change(d);
    return encodePem('ENCRYPTED SIGSTORE PRIVATE KEY', Buffer.from(JSON.stringify(d)));
  };
  const ct = Buffer.from(body.ciphertext, 'base64');
  await writeFile(f('good.key'), pair.privatePem);
  await writeFile(
    f('truncated.key'),
    edited((d) => {
      d.ciphertext = ct.subarray(0, ct.length - 20).toString('base64');
    }),
  );
  await writeFile(
    f('n1024.key'),
    edited((d) => {
      d.kdf.params.N = 1024;
    }),
  );
  await writeFile(
    f('argon.key'),
    edited((d) => {
      d.kdf.name = 'argon2id';
    }),
  );
  await writeFile(
    f('aes.key'),
    edited((d) => {
      d.cipher.name = 'aes-256-gcm';
    }),
  );
  await runOk('openssl', [
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-192',
    '-out',
    f('p192.pem'),
  ]);
  await runOk('openssl', [
    'genpkey',
    '-genparam',
    '-algorithm',
    'DSA',
    '-pkeyopt',
    'pbits:1024',
    '-out',
    f('dsa.param'),
  ]);
  await runOk('openssl', ['genpkey', '-paramfile', f('dsa.param'), '-out', f('dsa.pem')]);
  await runOk('openssl', [
    'req',
    '-x509',
    '-key',
    f('p192.pem'),
    '-subj',
    '/CN=x',
    '-days',
    '1',
    '-out',
    f('cert.pem'),
  ]);
  const right = { env: { VOUCH_PASSWORD: 'right' } };
  const cases: [string, { env: NodeJS.ProcessEnv }, ErrorCode, RegExp][] = [
    [
      'good.key',
      { env: { VOUCH_PASSWORD: 'wrong' } },
      'PASSPHRASE_WRONG',
      /wrong passphrase for .*good\.key/,
    ],
    ['truncated.key', right, 'KEY_INVALID', /ciphertext is truncated/],
    ['n1024.key', right, 'KEY_UNSUPPORTED', /kdf\.params\.N = 1024 is not accepted/],
    ['argon.key', right, 'KEY_UNSUPPORTED', /kdf\.name "argon2id"/],
    ['aes.key', right, 'KEY_UNSUPPORTED', /cipher\.name "aes-256-gcm"/],
    ['p192.pem', right, 'KEY_UNSUPPORTED', /prime192v1/],
    ['dsa.pem', right, 'KEY_UNSUPPORTED', /dsa keys are not supported/],
    ['cert.pem', right, 'KEY_INVALID', /holds a CERTIFICATE, not a private key/],
  ];
  for (const [name, src, code, message] of cases) {
    await assert.rejects(loadSigningKey(f(name), src), vouchErrorWith(code, message), name);
  }
  await assert.rejects(loadSigningKey(f('good.key'), {}), vouchErrorWith('PASSPHRASE_MISSING'));
  assert.ok(await loadSigningKey(f('good.key'), right));
});
