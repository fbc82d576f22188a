/**
 * Keys as the rest of vouch sees them: a private key that signs bytes the way cosign does,
 * and a public key that checks such signatures. Loading, generating and encrypting keys is
 * src/sign/keys/*; Sigstore bundles are src/sigstore/*.
 */
import type { KeyObject } from 'node:crypto';

export const KEY_ALGORITHMS = ['ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519', 'rsa'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

export interface VerificationKey {
  algorithm: KeyAlgorithm;
  publicKey: KeyObject;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`), as in cosign.pub. */
  publicKeyPem: string;
  /** Base64 SHA-256 of the DER SPKI: the `publicKey.hint` of a Sigstore bundle. */
  hint: string;
  /** Check a raw signature (DER for ECDSA) over `data`, hashing as the algorithm requires. */
  verify(data: Uint8Array, signature: Uint8Array): boolean;
}

export interface SigningKey extends VerificationKey {
  privateKey: KeyObject;
  /**
   * Sign `data` as cosign does: ECDSA P-256/384/521 → DER over SHA-256/384/512, Ed25519 pure,
   * RSA PKCS#1 v1.5 over SHA-256.
   */
  sign(data: Uint8Array): Buffer;
}

/** Where a passphrase comes from; the first that yields one wins. Never logged. */
export interface PassphraseSource {
  /** Environment to read VOUCH_PASSWORD, then COSIGN_PASSWORD from. */
  env?: NodeJS.ProcessEnv;
  /** A file whose first line is the passphrase. */
  file?: string;
  /** Ask on a terminal (only when stdin is a TTY). */
  prompt?: (question: string) => Promise<string>;
}
