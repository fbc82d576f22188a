/**
 * Detached blob signatures as `cosign sign-blob --output-signature` writes them: standard base64
 * of the raw signature (DER for ECDSA) over the file, checked with a public key and nothing else
 * (no certificate, no transparency log: that is what bundles are for).
 */
import { VouchError } from '../errors.ts';
import type { VerificationKey } from '../sign/keys/types.ts';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

/** The signature bytes of a `.sig` file (base64, surrounding whitespace ignored). */
export function decodeSignatureFile(text: string, what = 'signature'): Buffer {
  const s = text.trim();
  if (s === '') throw new VouchError('SIGNATURE_INVALID', `${what} is empty`);
  if (!BASE64.test(s)) {
    throw new VouchError(
      'SIGNATURE_INVALID',
      `${what} is not base64 (expected cosign's --output-signature format)`,
    );
  }
  return Buffer.from(s, 'base64');
}

/** Throw SIGNATURE_INVALID unless `signature` is `key`'s signature over `artifact`. */
export function verifyBlobSignature(
  artifact: Uint8Array,
  signature: Uint8Array,
  key: VerificationKey,
  what = 'signature',
): void {
  if (!key.verify(artifact, signature)) {
    throw new VouchError(
      'SIGNATURE_INVALID',
      `${what} does not verify with the given ${key.algorithm} key (hint ${key.hint}) over this file`,
      { hint: 'the file changed, or it was signed with another key' },
    );
  }
}
