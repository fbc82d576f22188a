/**
 * Private and public keys from PEM files, in every form cosign, skopeo and OpenSSL write them.
 * Private: cosign-encrypted (`ENCRYPTED SIGSTORE|COSIGN PRIVATE KEY`), PKCS#8 (`PRIVATE KEY`,
 * `ENCRYPTED PRIVATE KEY`), SEC 1 (`EC PRIVATE KEY`, also OpenSSL's legacy encrypted form with
 * Proc-Type headers), PKCS#1 (`RSA PRIVATE KEY`). Public: SPKI (`PUBLIC KEY`), `EC PUBLIC KEY`,
 * PKCS#1 (`RSA PUBLIC KEY`), or the key of a `CERTIFICATE`.
 */
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isVouchError, VouchError } from '../../errors.ts';
import { decryptPrivateKey, isEncryptedPemType } from './encrypted.ts';
import { readPassphrase } from './passphrase.ts';
import { type PemBlock, parsePem } from './pem.ts';
import { keyAlgorithm, signingKeyFromKeyObject, verificationKeyFromKeyObject } from './signing-key.ts';
import type { PassphraseSource, SigningKey, VerificationKey } from './types.ts';

export const PRIVATE_KEY_PEM_TYPES = [
  'ENCRYPTED SIGSTORE PRIVATE KEY',
  'ENCRYPTED COSIGN PRIVATE KEY',
  'PRIVATE KEY',
  'ENCRYPTED PRIVATE KEY',
  'EC PRIVATE KEY',
  'RSA PRIVATE KEY',
] as const;
export type PrivateKeyPemType = (typeof PRIVATE_KEY_PEM_TYPES)[number];

export const PUBLIC_KEY_PEM_TYPES = ['PUBLIC KEY', 'EC PUBLIC KEY', 'RSA PUBLIC KEY', 'CERTIFICATE'] as const;
export type PublicKeyPemType = (typeof PUBLIC_KEY_PEM_TYPES)[number];

/** cosign (sigstore goodkey) refuses smaller RSA keys. */
export const MIN_RSA_BITS = 2048;
/** Key files are small; refuse to read a big file into memory by mistake. */
const MAX_KEY_FILE = 1024 * 1024;

export interface ParsedPrivateKey {
  privateKey: KeyObject;
  /** The PEM label the key came from. */
  pemType: PrivateKeyPemType;
  /** Whether a passphrase protected it (cosign, PKCS#8 or OpenSSL legacy encryption). */
  encrypted: boolean;
}

/**
 * A private key from a file: cosign/containers-image encrypted PEM (`ENCRYPTED SIGSTORE PRIVATE KEY`
 * or `ENCRYPTED COSIGN PRIVATE KEY`), or plain `PRIVATE KEY` / `EC PRIVATE KEY` / `RSA PRIVATE KEY`.
 * Errors: FILE_NOT_FOUND, KEY_INVALID, KEY_UNSUPPORTED, PASSPHRASE_WRONG, PASSPHRASE_MISSING.
 */
export async function loadSigningKey(path: string, passphrase: PassphraseSource): Promise<SigningKey> {
  return parseSigningKey(await readKeyFile(path), path, passphrase);
}

/** A signing key from PEM text (see loadSigningKey); `what` names it in errors and prompts. */
export async function parseSigningKey(
  pem: string,
  what: string,
  passphrase: PassphraseSource,
): Promise<SigningKey> {
  const { privateKey } = await parsePrivateKey(pem, what, passphrase);
  return signingKeyFromKeyObject(privateKey);
}

/**
 * The private key in PEM text, decrypted if needed (the passphrase is asked for only then) and
 * checked to be an algorithm vouch signs with.
 */
export async function parsePrivateKey(
  pem: string,
  what: string,
  passphrase: PassphraseSource,
): Promise<ParsedPrivateKey> {
  const { block, pemType, encrypted } = findPrivateKeyBlock(pem, what);
  let privateKey: KeyObject;
  if (isEncryptedPemType(pemType)) {
    const pass = await readPassphrase(passphrase, { purpose: 'decrypt', what });
    privateKey = await decryptPrivateKey(block.der, pass, what);
  } else if (encrypted) {
    const pass = await readPassphrase(passphrase, { purpose: 'decrypt', what });
    privateKey = openSslDecrypt(block, pemType, pass, what);
  } else {
    privateKey = parsePlain(block, pemType, what);
  }
  checkSupported(privateKey, what);
  return { privateKey, pemType, encrypted };
}

/** The first private key block in PEM text, and whether it needs a passphrase. */
export function findPrivateKeyBlock(
  pem: string,
  what: string,
): { block: PemBlock; pemType: PrivateKeyPemType; encrypted: boolean } {
  const blocks = pemBlocks(pem, what);
  const block = blocks.find((b) => isPrivateType(b.type));
  if (block === undefined) throw noKeyBlock(blocks, what, 'private');
  const pemType = block.type as PrivateKeyPemType;
  const legacyEncrypted = /ENCRYPTED/i.test(block.headers['Proc-Type'] ?? '');
  const encrypted = isEncryptedPemType(pemType) || pemType === 'ENCRYPTED PRIVATE KEY' || legacyEncrypted;
  return { block, pemType, encrypted };
}

function parsePlain(block: PemBlock, pemType: PrivateKeyPemType, what: string): KeyObject {
  const type = pemType === 'EC PRIVATE KEY' ? 'sec1' : pemType === 'RSA PRIVATE KEY' ? 'pkcs1' : 'pkcs8';
  try {
    return createPrivateKey({ key: block.der, format: 'der', type });
  } catch (e) {
    throw parseError(e, what, `the ${pemType} block is not a valid ${type.toUpperCase()} private key`);
  }
}

/** PKCS#8 PBES2 (`ENCRYPTED PRIVATE KEY`) and OpenSSL's legacy Proc-Type encryption. */
function openSslDecrypt(block: PemBlock, pemType: PrivateKeyPemType, pass: string, what: string): KeyObject {
  try {
    return createPrivateKey({ key: block.text, format: 'pem', passphrase: pass });
  } catch (e) {
    const code = String((e as { code?: unknown }).code ?? '');
    // A wrong key decrypts to garbage: bad padding, or (rarely) padding that passes and bad ASN.1.
    if (code === 'ERR_OSSL_BAD_DECRYPT' || code.startsWith('ERR_OSSL_ASN1')) {
      const maybeCorrupt = code === 'ERR_OSSL_BAD_DECRYPT' ? '' : ' (or the key is corrupt)';
      throw new VouchError('PASSPHRASE_WRONG', `wrong passphrase for ${what}${maybeCorrupt}`, {
        hint: 'the passphrase comes from VOUCH_PASSWORD, COSIGN_PASSWORD, --password-file or the terminal',
      });
    }
    throw parseError(e, what, `the encrypted ${pemType} block cannot be decrypted`);
  }
}

/** A public key from PEM text: `PUBLIC KEY` (SPKI), `EC`/`RSA PUBLIC KEY`, or a certificate's key. */
export function parseVerificationKey(pem: string, what: string): VerificationKey {
  const blocks = pemBlocks(pem, what);
  const block = blocks.find((b) => (PUBLIC_KEY_PEM_TYPES as readonly string[]).includes(b.type));
  if (block === undefined) throw noKeyBlock(blocks, what, 'public');
  const pemType = block.type as PublicKeyPemType;
  let publicKey: KeyObject;
  if (pemType === 'CERTIFICATE') {
    try {
      publicKey = new X509Certificate(block.der).publicKey;
    } catch (e) {
      throw parseError(e, what, 'the CERTIFICATE block is not a valid X.509 certificate');
    }
  } else {
    const type = pemType === 'RSA PUBLIC KEY' ? 'pkcs1' : 'spki';
    try {
      publicKey = createPublicKey({ key: block.der, format: 'der', type });
    } catch (e) {
      throw parseError(e, what, `the ${pemType} block is not a valid ${type.toUpperCase()} public key`);
    }
  }
  checkSupported(publicKey, what);
  return verificationKeyFromKeyObject(publicKey);
}

/** A public key from a file (see parseVerificationKey). */
export async function loadVerificationKey(path: string): Promise<VerificationKey> {
  return parseVerificationKey(await readKeyFile(path), path);
}

/**
 * The text of a key file; `shown` is how errors name it (default `path`).
 * Errors: FILE_NOT_FOUND, IO_ERROR, KEY_INVALID (too big).
 */
export async function readKeyFile(path: string, shown = path): Promise<string> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new VouchError('IO_ERROR', `key file ${shown} is not a regular file`);
    if (st.size > MAX_KEY_FILE) {
      throw new VouchError('KEY_INVALID', `key file ${shown} is ${st.size} bytes: too big for a PEM key`);
    }
    return await readFile(path, 'utf8');
  } catch (e) {
    if (isVouchError(e)) throw e;
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT') throw new VouchError('FILE_NOT_FOUND', `key file ${shown} does not exist`);
    throw new VouchError('IO_ERROR', `cannot read key file ${shown}${code ? ` (${code})` : ''}`, {
      cause: e,
    });
  }
}

function pemBlocks(pem: string, what: string): PemBlock[] {
  const blocks = parsePem(pem, what);
  if (blocks.length > 0) return blocks;
  // DER starts with a SEQUENCE tag; tell the user how to get PEM rather than just "invalid".
  const binary = pem.startsWith('0') || /[\0\uFFFD]/.test(pem);
  throw new VouchError('KEY_INVALID', `${what} is not a PEM file (no "-----BEGIN" line)`, {
    hint: binary ? 'convert a DER key to PEM: openssl pkey -inform DER -in KEY.der -out KEY.pem' : undefined,
  });
}

function isPrivateType(type: string): boolean {
  return (PRIVATE_KEY_PEM_TYPES as readonly string[]).includes(type);
}

function noKeyBlock(blocks: PemBlock[], what: string, want: 'private' | 'public'): VouchError {
  const found = [...new Set(blocks.map((b) => b.type))];
  const list = found.join(', ');
  if (want === 'private' && found.some((t) => (PUBLIC_KEY_PEM_TYPES as readonly string[]).includes(t))) {
    return new VouchError('KEY_INVALID', `${what} holds a ${list}, not a private key`, {
      hint: 'give the private key file (cosign.key), not the public key or certificate',
    });
  }
  if (want === 'public' && found.some(isPrivateType)) {
    return new VouchError('KEY_INVALID', `${what} holds a ${list}, not a public key or certificate`, {
      hint: 'give the public key (cosign.pub); `vouch key public-key --key FILE` prints it',
    });
  }
  const other = found.find((t) => /PRIVATE KEY$/.test(t));
  if (other !== undefined) {
    // DSA PRIVATE KEY, OPENSSH PRIVATE KEY, ...: a real key vouch cannot use.
    return new VouchError('KEY_UNSUPPORTED', `${what}: ${other} keys are not supported`, {
      hint: 'use ECDSA P-256/P-384/P-521, Ed25519 or RSA (2048 bits or more)',
    });
  }
  const expected = want === 'private' ? PRIVATE_KEY_PEM_TYPES : PUBLIC_KEY_PEM_TYPES;
  return new VouchError(
    'KEY_INVALID',
    `${what}: found a ${list} block, expected one of ${expected.join(', ')}`,
  );
}

/** The algorithm must be one vouch signs and verifies with, and RSA must be big enough. */
function checkSupported(key: KeyObject, what: string): void {
  try {
    keyAlgorithm(key);
  } catch (e) {
    if (isVouchError(e))
      throw new VouchError(e.code, `${what}: ${e.message}`, { hint: e.hint, cause: e.cause });
    throw e;
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType === 'rsa' && bits !== undefined && bits < MIN_RSA_BITS) {
    throw new VouchError(
      'KEY_UNSUPPORTED',
      `${what}: RSA key of ${bits} bits, at least ${MIN_RSA_BITS} needed`,
    );
  }
}

/** OpenSSL's reason is kept as the cause; its "unsupported" also means "no decoder matched". */
function parseError(e: unknown, what: string, message: string): VouchError {
  return new VouchError('KEY_INVALID', `${what}: ${message}`, { cause: e });
}
