/** STUB (being written): trusted roots (embedded public-good, files) with vouch's validity checks. */
import { VouchError } from '../errors.ts';
import type { TrustedRootDocument } from './types.ts';

/** The Sigstore public-good trusted root that ships with @sigstore/tuf (works offline). */
export async function publicGoodTrustedRoot(): Promise<TrustedRootDocument> {
  throw new VouchError('NOT_IMPLEMENTED', 'publicGoodTrustedRoot');
}

/** A trusted_root.json file, validated (TRUST_ROOT_INVALID naming the bad field). */
export async function loadTrustedRoot(_path: string): Promise<TrustedRootDocument> {
  throw new VouchError('NOT_IMPLEMENTED', 'loadTrustedRoot');
}
