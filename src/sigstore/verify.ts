/** STUB (being written): Sigstore bundle verification over @sigstore/verify, with vouch's own checks. */
import { VouchError } from '../errors.ts';
import type { Artifact, BundleVerifyOptions, VerifiedBundle } from './types.ts';

/**
 * Verify a Sigstore bundle (v0.1–v0.3 JSON, already parsed) for `artifact`. For DSSE bundles
 * with an in-toto payload, one subject must carry the artifact's sha256 (SUBJECT_MISMATCH).
 * Throws VouchError with a code per failure reason (see src/errors.ts); returns what was verified.
 */
export async function verifyBundle(
  _bundle: unknown,
  _artifact: Artifact | undefined,
  _o: BundleVerifyOptions,
): Promise<VerifiedBundle> {
  throw new VouchError('NOT_IMPLEMENTED', 'verifyBundle');
}
