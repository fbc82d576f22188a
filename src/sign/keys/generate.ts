/**
 * New key pairs as `cosign generate-key-pair` writes them: the private key encrypted with a
 * passphrase (`ENCRYPTED SIGSTORE PRIVATE KEY`), the public key as SPKI `PUBLIC KEY` PEM.
 */
import { type KeyObject, generateKeyPair as nodeGenerateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { VouchError } from '../../errors.ts';
import { encryptPrivateKey, type ScryptParams } from './encrypted.ts';
import { signingKeyFromKeyObject } from './signing-key.ts';
import type { SigningKey } from './types.ts';

/** ECDSA P-256 is cosign's default and what every verifier accepts. */
export const GENERATE_ALGORITHMS = [
  'ecdsa-p256',
  'ecdsa-p384',
  'ecdsa-p521',
  'ed25519',
  'rsa-2048',
  'rsa-3072',
  'rsa-4096',
] as const;
export type GenerateAlgorithm = (typeof GENERATE_ALGORITHMS)[number];

export interface GeneratedKeyPair {
  signingKey: SigningKey;
  /** `ENCRYPTED SIGSTORE PRIVATE KEY` PEM (cosign.key). */
  privatePem: string;
  /** `PUBLIC KEY` PEM (cosign.pub). */
  publicPem: string;
}

export interface GenerateOptions {
  algorithm?: GenerateAlgorithm;
  /** Encrypts the private key; may be empty (cosign allows it). */
  passphrase: string;
  /** scrypt strength; default N=65536, r=8, p=1. */
  scrypt?: ScryptParams;
}

const generate = promisify(nodeGenerateKeyPair);

export function isGenerateAlgorithm(s: string): s is GenerateAlgorithm {
  return (GENERATE_ALGORITHMS as readonly string[]).includes(s);
}

async function newPrivateKey(algorithm: GenerateAlgorithm): Promise<KeyObject> {
  switch (algorithm) {
    case 'ecdsa-p256':
      return (await generate('ec', { namedCurve: 'P-256' })).privateKey;
    case 'ecdsa-p384':
      return (await generate('ec', { namedCurve: 'P-384' })).privateKey;
    case 'ecdsa-p521':
      return (await generate('ec', { namedCurve: 'P-521' })).privateKey;
    case 'ed25519':
      return (await generate('ed25519', undefined)).privateKey;
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return (await generate('rsa', { modulusLength: Number(algorithm.slice(4)) })).privateKey;
  }
}

export async function generateKeyPair(o: GenerateOptions): Promise<GeneratedKeyPair> {
  const algorithm = o.algorithm ?? 'ecdsa-p256';
  if (!isGenerateAlgorithm(algorithm)) {
    throw new VouchError('KEY_UNSUPPORTED', `cannot generate "${String(algorithm)}" keys`, {
      hint: `choose one of ${GENERATE_ALGORITHMS.join(', ')}`,
    });
  }
  return exportKeyPair(signingKeyFromKeyObject(await newPrivateKey(algorithm)), o.passphrase, o.scrypt);
}

/** An existing key as a cosign key pair (what `cosign import-key-pair` writes). */
export async function exportKeyPair(
  signingKey: SigningKey,
  passphrase: string,
  scrypt?: ScryptParams,
): Promise<GeneratedKeyPair> {
  const privatePem = await encryptPrivateKey(
    signingKey.privateKey,
    passphrase,
    scrypt ? { params: scrypt } : {},
  );
  return { signingKey, privatePem, publicPem: signingKey.publicKeyPem };
}
