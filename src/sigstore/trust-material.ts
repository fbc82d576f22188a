/**
 * A trusted root turned into @sigstore/verify's TrustMaterial (parsed certificates and keys),
 * built once per document object: verifying many bundles against one root parses it once.
 */
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { type KeyFinderFunc, type TrustMaterial, toTrustMaterial } from '@sigstore/verify';
import { VouchError } from '../errors.ts';
import { validateTrustedRoot } from './trust-root.ts';
import type { TrustedRootDocument } from './types.ts';

type RootMaterial = Omit<TrustMaterial, 'publicKey'>;

// Keyed by the document object: a caller that edits a document after using it must pass a copy.
const cache = new WeakMap<TrustedRootDocument, RootMaterial>();

/** The trust material for `root` (validated on first use), with `keys` answering key hints. */
export function trustMaterial(root: TrustedRootDocument, keys: KeyFinderFunc): TrustMaterial {
  let material = cache.get(root);
  if (material === undefined) {
    validateTrustedRoot(root);
    try {
      const { certificateAuthorities, timestampAuthorities, tlogs, ctlogs } = toTrustMaterial(
        TrustedRoot.fromJSON(root),
      );
      material = { certificateAuthorities, timestampAuthorities, tlogs, ctlogs };
    } catch (e) {
      throw new VouchError('TRUST_ROOT_INVALID', `trusted root: ${(e as Error).message}`, { cause: e });
    }
    cache.set(root, material);
  }
  return { ...material, publicKey: keys };
}
