import { createHash, type Hash } from 'node:crypto';
import { VouchError } from '../errors.ts';

/** `sha256:<64 lowercase hex>` (or sha512). Only parseDigest / digestOf make one. */
export type Digest = string & { readonly __brand: 'Digest' };

export const DIGEST_ALGORITHMS = ['sha256', 'sha512'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export function parseDigest(s: string): Digest {
  const i = s.indexOf(':');
  const alg = s.slice(0, i);
  const hex = s.slice(i + 1);
  if (i <= 0 || !(DIGEST_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new VouchError('DIGEST_INVALID', `invalid digest "${s}": algorithm must be sha256 or sha512`);
  }
  const want = HEX_LENGTH[alg as DigestAlgorithm];
  if (hex.length !== want || !/^[0-9a-f]+$/.test(hex)) {
    throw new VouchError(
      'DIGEST_INVALID',
      `invalid digest "${s}": expected ${want} lowercase hex characters`,
    );
  }
  return s as Digest;
}

export function isDigest(s: string): boolean {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

export function digestAlgorithm(d: Digest): DigestAlgorithm {
  return d.slice(0, d.indexOf(':')) as DigestAlgorithm;
}

/** The hex part of a digest, e.g. the file name under blobs/sha256/. */
export function digestHex(d: Digest): string {
  return d.slice(d.indexOf(':') + 1);
}

export function hasherFor(d: Digest | DigestAlgorithm): Hash {
  const alg = d.includes(':') ? digestAlgorithm(d as Digest) : (d as DigestAlgorithm);
  return createHash(alg);
}

export function digestOf(bytes: Uint8Array | string, alg: DigestAlgorithm = 'sha256'): Digest {
  return `${alg}:${createHash(alg).update(bytes).digest('hex')}` as Digest;
}
