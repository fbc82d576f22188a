/** STUB (being written): producing Sigstore bundles, key-based or keyless (Fulcio, Rekor, TSA). */
import { VouchError } from '../errors.ts';
import type { SigningKey } from '../sign/keys/types.ts';
import type { SerializedBundle } from './types.ts';

export type SigningIdentity =
  | { kind: 'key'; key: SigningKey }
  | {
      kind: 'keyless';
      fulcioUrl: string;
      /** The OIDC identity token (see oidc.ts for where it comes from). */
      identityToken: () => Promise<string>;
    };

export interface BundleSigningOptions {
  identity: SigningIdentity;
  /** Upload to this Rekor (v1 API) and put the entry in the bundle; undefined = no tlog entry. */
  rekorUrl?: string | undefined;
  /** Get an RFC 3161 timestamp from this TSA; undefined = none. */
  tsaUrl?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** A bundle with a messageSignature over `data` (what cosign sign-blob --bundle writes). */
export async function signMessage(_data: Uint8Array, _o: BundleSigningOptions): Promise<SerializedBundle> {
  throw new VouchError('NOT_IMPLEMENTED', 'signMessage');
}

/** A bundle with a DSSE envelope over `payload` (attestations, cosign v3 image signatures). */
export async function signDsse(
  _payload: Uint8Array,
  _payloadType: string,
  _o: BundleSigningOptions,
): Promise<SerializedBundle> {
  throw new VouchError('NOT_IMPLEMENTED', 'signDsse');
}
