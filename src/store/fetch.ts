/**
 * Read one artifact and its detached signature back from the store (for `vouch verify-release`).
 * Both must be there: an artifact without its `.sig` is SIGNATURE_NOT_FOUND, never "unsigned
 * but fine". Bytes are checked against the SHA-256 the store recorded while they stream in.
 */
import { VouchError } from '../errors.ts';
import { validateKey } from './key.ts';
import { SIGNATURE_SUFFIX, signatureKey } from './layout.ts';
import { decodeSignature } from './signature.ts';
import { type ArtifactStore, readAll, sha256Hex } from './store.ts';
import type { SignatureCheck } from './upload.ts';

export interface FetchOptions {
  /** When given, the signature must verify over the bytes (else SIGNATURE_INVALID). */
  verify?: SignatureCheck;
  /** Refuse artifacts larger than this (default 512 MiB). */
  maxBytes?: number;
  signal?: AbortSignal;
}

export interface FetchedArtifact {
  key: string;
  bytes: Uint8Array;
  /** Hex SHA-256 of `bytes`. */
  sha256: string;
  signatureKey: string;
  /** The raw signature (decoded from the `.sig` file's base64). */
  signature: Uint8Array;
  /** True when `verify` was given and passed. */
  verified: boolean;
}

const MAX_SIGNATURE_FILE = 64 * 1024;

export async function fetchArtifact(
  store: ArtifactStore,
  key: string,
  options: FetchOptions = {},
): Promise<FetchedArtifact> {
  validateKey(key);
  if (key.endsWith(SIGNATURE_SUFFIX)) {
    throw new VouchError('USAGE', `${key} is a signature; pass the key of the artifact it signs`);
  }
  const sigKey = signatureKey(key);
  const { signal } = options;
  const obj = await store.get(key, { signal });
  if (obj === undefined) {
    throw new VouchError('FILE_NOT_FOUND', `${store.description}: no artifact ${key}`);
  }
  const bytes = await readAll(obj, options.maxBytes);
  const sigObj = await store.get(sigKey, { signal });
  if (sigObj === undefined) {
    throw new VouchError('SIGNATURE_NOT_FOUND', `${store.description}: ${key} has no signature ${sigKey}`, {
      hint: 'an upload may have been interrupted; run the pipeline again to re-sign it',
    });
  }
  const signature = decodeSignature(
    await readAll(sigObj, MAX_SIGNATURE_FILE),
    `${store.description}/${sigKey}`,
  );
  let verified = false;
  if (options.verify) {
    if (!(await options.verify(bytes, signature))) {
      throw new VouchError(
        'SIGNATURE_INVALID',
        `${store.description}: ${sigKey} is not a valid signature of ${key}`,
        {
          hint: 'the artifact or its signature was changed, or it was signed with another key',
        },
      );
    }
    verified = true;
  }
  return { key, bytes, sha256: sha256Hex(bytes), signatureKey: sigKey, signature, verified };
}
