/**
 * cosign / containers-image encrypted private keys: go-securesystemslib's `encrypted` format.
 * The PEM body is JSON, written by Go's encoding/json in struct field order:
 *   {"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":"<b64 32B>"},
 *    "cipher":{"name":"nacl/secretbox","nonce":"<b64 24B>"},"ciphertext":"<b64>"}
 * key = scrypt(passphrase, salt, N, r, p, 32); ciphertext = NaCl secretbox (XSalsa20-Poly1305,
 * 16-byte tag first) of the PKCS#8 DER of the private key.
 */
import { createPrivateKey, type KeyObject, randomBytes, scrypt } from 'node:crypto';
import { xsalsa20, xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import { VouchError } from '../../errors.ts';
import { encodePem } from './pem.ts';

/** `ENCRYPTED SIGSTORE PRIVATE KEY` is what cosign writes now; `ENCRYPTED COSIGN PRIVATE KEY` is older. */
export const ENCRYPTED_PEM_TYPES = [
  'ENCRYPTED SIGSTORE PRIVATE KEY',
  'ENCRYPTED COSIGN PRIVATE KEY',
] as const;
export type EncryptedPemType = (typeof ENCRYPTED_PEM_TYPES)[number];

/** go-securesystemslib's Legacy, Standard and OWASP strengths: the only ones readers accept. */
export const SCRYPT_N_VALUES = [32768, 65536, 131072] as const;
export interface ScryptParams {
  N: (typeof SCRYPT_N_VALUES)[number];
  r: 8;
  p: 1;
}
export const DEFAULT_SCRYPT: ScryptParams = { N: 65536, r: 8, p: 1 };

const KDF_NAME = 'scrypt';
const CIPHER_NAME = 'nacl/secretbox';
const SALT_BYTES = 32;
const MIN_SALT_BYTES = 16;
const NONCE_BYTES = 24;
const KEY_BYTES = 32;
const TAG_BYTES = 16;

/** The parsed JSON, every field checked. */
interface Sealed {
  params: ScryptParams;
  salt: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
}

export function isEncryptedPemType(type: string): type is EncryptedPemType {
  return (ENCRYPTED_PEM_TYPES as readonly string[]).includes(type);
}

function deriveKey(passphrase: string, salt: Uint8Array, { N, r, p }: ScryptParams): Promise<Buffer> {
  // node's default maxmem (32 MiB) is below what N=65536, r=8 needs (128·N·r = 64 MiB).
  const maxmem = 2 * 128 * N * r * p;
  return new Promise((resolve, reject) => {
    scrypt(Buffer.from(passphrase, 'utf8'), salt, KEY_BYTES, { N, r, p, maxmem }, (err, key) =>
      err ? reject(new VouchError('INTERNAL', 'scrypt failed', { cause: err })) : resolve(key),
    );
  });
}

/** Encrypt bytes as go-securesystemslib's encrypted.Encrypt does; returns the JSON text. */
export async function encryptSecret(
  plaintext: Uint8Array,
  passphrase: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<string> {
  checkParams(params, 'scrypt parameters');
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const key = await deriveKey(passphrase, salt, params);
  const ciphertext = xsalsa20poly1305(key, nonce).encrypt(plaintext);
  key.fill(0);
  // Field order = the Go structs' order, so the bytes match what cosign writes.
  return JSON.stringify({
    kdf: { name: KDF_NAME, params: { N: params.N, r: params.r, p: params.p }, salt: salt.toString('base64') },
    cipher: { name: CIPHER_NAME, nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  });
}

/**
 * Decrypt the JSON of encryptSecret (or of Go's encrypted.Encrypt). `what` names the file in errors.
 * Errors: KEY_INVALID (malformed field, corrupt data), KEY_UNSUPPORTED (kdf, cipher, parameters),
 * PASSPHRASE_WRONG.
 */
export async function decryptSecret(
  json: Uint8Array | string,
  passphrase: string,
  what: string,
): Promise<Buffer> {
  const sealed = parseSealed(typeof json === 'string' ? json : Buffer.from(json).toString('utf8'), what);
  const key = await deriveKey(passphrase, sealed.salt, sealed.params);
  try {
    return Buffer.from(xsalsa20poly1305(key, sealed.nonce).decrypt(sealed.ciphertext));
  } catch {
    throw openFailure(key, sealed, what);
  } finally {
    key.fill(0);
  }
}

/**
 * Secretbox cannot tell a wrong passphrase from damaged ciphertext. With the right key, though,
 * the (unauthenticated) start of the plaintext is a DER SEQUENCE whose length says how long the
 * PKCS#8 key is; random bytes from a wrong key match that shape with odds near 2^-32. Only the
 * error message depends on this: the bytes are never used.
 */
function openFailure(key: Uint8Array, sealed: Sealed, what: string): VouchError {
  const body = sealed.ciphertext.subarray(TAG_BYTES);
  // secretbox: keystream bytes 0..31 key Poly1305, the message is XORed from byte 32 on.
  const stream = xsalsa20(key, sealed.nonce, new Uint8Array(32 + body.length)).subarray(32);
  const plain = body.map((b, i) => b ^ (stream[i] ?? 0));
  const total = pkcs8Length(plain);
  plain.fill(0);
  if (total !== undefined && total > body.length) {
    return new VouchError(
      'KEY_INVALID',
      `${what}: the ciphertext is truncated (${body.length} of ${total} key bytes); the passphrase is right`,
      { hint: 'restore the key file from a backup' },
    );
  }
  if (total !== undefined) {
    return new VouchError('KEY_INVALID', `${what}: the ciphertext is corrupt (authentication failed)`, {
      hint: 'restore the key file from a backup',
    });
  }
  return new VouchError('PASSPHRASE_WRONG', `wrong passphrase for ${what}`, {
    hint: 'the passphrase comes from VOUCH_PASSWORD, COSIGN_PASSWORD, --password-file or the terminal',
  });
}

/** The full DER length announced by a PKCS#8 header `30 len 02 01 00|01`, if `b` starts with one. */
function pkcs8Length(b: Uint8Array): number | undefined {
  if (b[0] !== 0x30 || b.length < 2) return undefined;
  let len = b[1] ?? 0;
  let hdr = 2;
  if (len === 0x81 || len === 0x82) {
    const n = len - 0x80;
    if (b.length < 2 + n) return undefined;
    len = n === 1 ? (b[2] ?? 0) : ((b[2] ?? 0) << 8) | (b[3] ?? 0);
    hdr += n;
  } else if (len >= 0x80) {
    return undefined;
  }
  const version = [b[hdr], b[hdr + 1], b[hdr + 2]];
  if (version[0] !== 0x02 || version[1] !== 0x01 || (version[2] !== 0x00 && version[2] !== 0x01)) {
    return undefined;
  }
  return hdr + len;
}

function parseSealed(text: string, what: string): Sealed {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new VouchError('KEY_INVALID', `${what}: the encrypted key is not JSON`, { cause: e });
  }
  const top = object(doc, 'the encrypted key', what);
  const kdf = object(top.kdf, 'kdf', what);
  const cipher = object(top.cipher, 'cipher', what);
  // Names first, then parameters, as go-securesystemslib checks them.
  const kdfName = string(kdf.name, 'kdf.name', what);
  if (kdfName !== KDF_NAME) {
    throw new VouchError(
      'KEY_UNSUPPORTED',
      `${what}: kdf.name "${kdfName}" is not supported (expected "scrypt")`,
    );
  }
  const cipherName = string(cipher.name, 'cipher.name', what);
  if (cipherName !== CIPHER_NAME) {
    throw new VouchError(
      'KEY_UNSUPPORTED',
      `${what}: cipher.name "${cipherName}" is not supported (expected "${CIPHER_NAME}")`,
    );
  }
  const p = object(kdf.params, 'kdf.params', what);
  const params = {
    N: int(p.N, 'kdf.params.N', what),
    r: int(p.r, 'kdf.params.r', what),
    p: int(p.p, 'kdf.params.p', what),
  };
  checkParams(params, what);
  const salt = bytes(kdf.salt, 'kdf.salt', what);
  if (salt.length < MIN_SALT_BYTES) {
    throw new VouchError('KEY_INVALID', `${what}: kdf.salt is ${salt.length} bytes, expected ${SALT_BYTES}`);
  }
  const nonce = bytes(cipher.nonce, 'cipher.nonce', what);
  if (nonce.length !== NONCE_BYTES) {
    throw new VouchError(
      'KEY_INVALID',
      `${what}: cipher.nonce is ${nonce.length} bytes, expected ${NONCE_BYTES}`,
    );
  }
  const ciphertext = bytes(top.ciphertext, 'ciphertext', what);
  if (ciphertext.length < TAG_BYTES) {
    throw new VouchError(
      'KEY_INVALID',
      `${what}: ciphertext is ${ciphertext.length} bytes, shorter than its ${TAG_BYTES}-byte tag (truncated)`,
    );
  }
  return { params, salt, nonce, ciphertext };
}

/** Only the three strengths Go accepts: anything else could be a cost attack (huge N) or too weak. */
function checkParams(
  params: { N: number; r: number; p: number },
  what: string,
): asserts params is ScryptParams {
  if (!(SCRYPT_N_VALUES as readonly number[]).includes(params.N)) {
    throw new VouchError(
      'KEY_UNSUPPORTED',
      `${what}: kdf.params.N = ${params.N} is not accepted (expected one of ${SCRYPT_N_VALUES.join(', ')})`,
    );
  }
  if (params.r !== 8)
    throw new VouchError('KEY_UNSUPPORTED', `${what}: kdf.params.r = ${params.r}, expected 8`);
  if (params.p !== 1)
    throw new VouchError('KEY_UNSUPPORTED', `${what}: kdf.params.p = ${params.p}, expected 1`);
}

function object(v: unknown, field: string, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new VouchError('KEY_INVALID', `${what}: ${field} must be a JSON object, found ${describe(v)}`);
  }
  return v as Record<string, unknown>;
}

function string(v: unknown, field: string, what: string): string {
  if (typeof v !== 'string') {
    throw new VouchError('KEY_INVALID', `${what}: ${field} must be a string, found ${describe(v)}`);
  }
  return v;
}

function int(v: unknown, field: string, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new VouchError('KEY_INVALID', `${what}: ${field} must be an integer, found ${describe(v)}`);
  }
  return v;
}

/** Go encodes []byte as standard base64 with padding. */
function bytes(v: unknown, field: string, what: string): Buffer {
  const s = string(v, field, what);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new VouchError('KEY_INVALID', `${what}: ${field} is not standard base64`);
  }
  return Buffer.from(s, 'base64');
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  return Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}

/** A private key as a cosign key file (PEM), encrypted with `passphrase`. */
export async function encryptPrivateKey(
  privateKey: KeyObject,
  passphrase: string,
  o: { params?: ScryptParams; pemType?: EncryptedPemType } = {},
): Promise<string> {
  if (privateKey.type !== 'private') throw new VouchError('KEY_INVALID', 'expected a private key to encrypt');
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  try {
    const json = await encryptSecret(der, passphrase, o.params);
    return encodePem(o.pemType ?? 'ENCRYPTED SIGSTORE PRIVATE KEY', Buffer.from(json, 'utf8'));
  } finally {
    der.fill(0);
  }
}

/** The private key inside the body (DER = the JSON bytes) of an encrypted PEM block. */
export async function decryptPrivateKey(
  body: Uint8Array,
  passphrase: string,
  what: string,
): Promise<KeyObject> {
  const der = await decryptSecret(body, passphrase, what);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new VouchError('KEY_INVALID', `${what}: the decrypted key is not a PKCS#8 private key`, {
      cause: e,
    });
  } finally {
    der.fill(0);
  }
}
