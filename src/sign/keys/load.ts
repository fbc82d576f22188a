/** STUB (being written): loading private and public keys from files and PEM text. */
import { VouchError } from '../../errors.ts';
import type { PassphraseSource, SigningKey, VerificationKey } from './types.ts';

/**
 * A private key from a file: cosign/containers-image encrypted PEM (`ENCRYPTED SIGSTORE PRIVATE KEY`
 * or `ENCRYPTED COSIGN PRIVATE KEY`), or plain `PRIVATE KEY` / `EC PRIVATE KEY` / `RSA PRIVATE KEY`.
 * Errors: FILE_NOT_FOUND, KEY_INVALID, KEY_UNSUPPORTED, PASSPHRASE_WRONG, PASSPHRASE_MISSING.
 */
export async function loadSigningKey(_path: string, _passphrase: PassphraseSource): Promise<SigningKey> {
  throw new VouchError('NOT_IMPLEMENTED', 'loadSigningKey');
}

/** A public key from PEM text: `PUBLIC KEY` (SPKI), `EC`/`RSA PUBLIC KEY`, or a certificate's key. */
export function parseVerificationKey(_pem: string, _what: string): VerificationKey {
  throw new VouchError('NOT_IMPLEMENTED', 'parseVerificationKey');
}

/** A public key from a file (see parseVerificationKey). */
export async function loadVerificationKey(_path: string): Promise<VerificationKey> {
  throw new VouchError('NOT_IMPLEMENTED', 'loadVerificationKey');
}
