/**
 * Detached signature files (`<artifact>.sig`): standard base64 of the raw signature, no newline,
 * as `cosign sign-blob --output-signature` writes them (DER ECDSA over SHA-256 of the blob for
 * P-256). Readers accept surrounding whitespace, as cosign's verify-blob does.
 */
import { VouchError } from '../errors.ts';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The text of a `.sig` file for a raw signature. */
export function encodeSignature(signature: Uint8Array): string {
  return Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('base64');
}

/** The raw signature in a `.sig` file; SIGNATURE_INVALID naming `where` when it is not base64. */
export function decodeSignature(text: Uint8Array | string, where: string): Uint8Array {
  const s = (typeof text === 'string' ? text : Buffer.from(text).toString('latin1')).trim();
  if (s === '') throw new VouchError('SIGNATURE_INVALID', `${where} is empty`);
  if (!BASE64.test(s)) {
    throw new VouchError(
      'SIGNATURE_INVALID',
      `${where} is not a base64 signature (as cosign sign-blob writes)`,
    );
  }
  return Buffer.from(s, 'base64');
}
