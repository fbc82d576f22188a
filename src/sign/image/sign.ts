/**
 * Sign and attest images where they are stored, in either scheme:
 *
 *  - `tag` (cosign ≤ v2, skopeo): the simple-signing payload signed as a message, a layer of
 *    `sha256-<hex>.sig`; attestations are DSSE envelopes, layers of `sha256-<hex>.att`.
 *  - `referrers` (cosign v3, actions/attest): a Sigstore bundle with a DSSE envelope (the v3
 *    `cosign/sign/v1` statement, or the attestation statement) attached as an OCI referrer.
 *
 * Key-based signatures without a transparency log are made here directly; everything that needs
 * Fulcio, Rekor or a TSA goes through src/sigstore/sign.ts and is stored from the bundle it returns.
 */
import {
  DSSE_ENVELOPE_MEDIA_TYPE,
  type Envelope,
  encodeEnvelope,
  envelopeFromJson,
  IN_TOTO_PAYLOAD_TYPE,
  pae,
  parseEnvelope,
  signEnvelope,
} from '../../attest/dsse.ts';
import type { Statement } from '../../attest/statement.ts';
import { imageStatement } from '../../attest/subjects.ts';
import { type Digest, digestOf } from '../../digest/digest.ts';
import type { Descriptor } from '../../oci/types.ts';
import { cosignAnnotations, legacyFromBundle } from '../../sigstore/legacy.ts';
import {
  type BundleSigningOptions,
  type SigningIdentity,
  signDsse,
  signMessage,
} from '../../sigstore/sign.ts';
import type { SigningKey } from '../keys/types.ts';
import { attachBundle } from './bundle-referrer.ts';
import { appendAttachment, CosignAnnotation } from './cosign-tags.ts';
import {
  COSIGN_SIGN_PREDICATE_TYPE,
  cosignSignStatement,
  encodeStatement,
  SIMPLE_SIGNING_MEDIA_TYPE,
  simpleSigningPayload,
} from './payload.ts';
import type { AttachmentStore, StoreOptions } from './store.ts';

export const STORAGES = ['tag', 'referrers'] as const;
export type Storage = (typeof STORAGES)[number];

export interface ImageSigningOptions extends StoreOptions {
  identity: SigningIdentity;
  /** Where the signature goes (default `tag`, what cosign ≤ v2 and skopeo read). */
  storage?: Storage;
  /** Upload to this Rekor; required for keyless, optional for keys (cosign --tlog-upload). */
  rekorUrl?: string | undefined;
  tsaUrl?: string | undefined;
  /** Time written into configs and referrer annotations (default now). */
  now?: Date;
}

export interface SignImageOptions extends ImageSigningOptions {
  /** cosign `-a KEY=VALUE`: the payload's `optional` (tag) or the subject's annotations (referrers). */
  annotations?: Record<string, string>;
}

export interface AttestImageOptions extends ImageSigningOptions {
  predicateType: string;
  /** The predicate (parsed JSON). */
  predicate: unknown;
}

export interface StoredSignature {
  image: Digest;
  storage: Storage;
  /** The tag (`sha256-<hex>.sig`) or the referrer manifest digest. */
  location: string;
  /** The manifest written (or the existing one when the signature was already there). */
  manifest: Descriptor;
  /** False when an identical signature was already stored and nothing was written. */
  added: boolean;
}

function bundleOptions(o: ImageSigningOptions): BundleSigningOptions {
  return { identity: o.identity, rekorUrl: o.rekorUrl, tsaUrl: o.tsaUrl, signal: o.signal };
}

/** A key-based signature with no log or timestamp needs no Sigstore service: sign it here. */
function localKey(o: ImageSigningOptions): SigningKey | undefined {
  return o.identity.kind === 'key' && !o.rekorUrl && !o.tsaUrl ? o.identity.key : undefined;
}

/** cosign's dupe detector for keys: a layer that already signs these bytes with this key. */
function signedBy(key: SigningKey | undefined, payload: Uint8Array) {
  const digest = digestOf(payload);
  return async (existing: Descriptor): Promise<boolean> => {
    const sig = existing.annotations?.[CosignAnnotation.Signature];
    if (!key || existing.digest !== digest || !sig) return false;
    return key.verify(payload, Buffer.from(sig, 'base64'));
  };
}

/** Same for attestations: an envelope over the same statement with a signature by this key. */
function attestedBy(key: SigningKey | undefined, statement: Uint8Array) {
  return async (_existing: Descriptor, read: () => Promise<Uint8Array>): Promise<boolean> => {
    if (!key) return false;
    let env: Envelope;
    try {
      env = parseEnvelope(await read());
    } catch {
      return false; // someone else's malformed layer is not ours to judge here
    }
    if (!Buffer.from(env.payload).equals(Buffer.from(statement))) return false;
    const signed = pae(env.payloadType, env.payload);
    return env.signatures.some((s) => key.verify(signed, s.sig));
  };
}

/** Sign `image` (already resolved to its digest) of `repository` and store the signature. */
export async function signImage(
  store: AttachmentStore,
  image: Descriptor,
  repository: string,
  o: SignImageOptions,
): Promise<StoredSignature> {
  const storage = o.storage ?? 'tag';
  if (storage === 'referrers') {
    const statement = encodeStatement(cosignSignStatement(image.digest, o.annotations));
    const bundle = await signDsse(statement, IN_TOTO_PAYLOAD_TYPE, bundleOptions(o));
    const manifest = await attachBundle(store, image, bundle, {
      ...o,
      predicateType: COSIGN_SIGN_PREDICATE_TYPE,
    });
    return { image: image.digest, storage, location: manifest.digest, manifest, added: true };
  }
  const payload = simpleSigningPayload(repository, image.digest, o.annotations);
  const key = localKey(o);
  const annotations = key
    ? { [CosignAnnotation.Signature]: key.sign(payload).toString('base64') }
    : cosignAnnotations(legacyFromBundle(await signMessage(payload, bundleOptions(o))));
  const r = await appendAttachment(
    store,
    image.digest,
    'sig',
    { mediaType: SIMPLE_SIGNING_MEDIA_TYPE, payload, annotations },
    { ...o, isDuplicate: signedBy(o.identity.kind === 'key' ? o.identity.key : undefined, payload) },
  );
  return { image: image.digest, storage, location: r.tag, manifest: r.manifest, added: r.added };
}

/** Attest `predicate` about `image` and store the signed statement. */
export async function attestImage(
  store: AttachmentStore,
  image: Descriptor,
  repository: string,
  o: AttestImageOptions,
): Promise<StoredSignature & { statement: Statement }> {
  const storage = o.storage ?? 'tag';
  const statement = imageStatement(repository, image.digest, o.predicateType, o.predicate);
  const bytes = encodeStatement(statement);
  if (storage === 'referrers') {
    const bundle = await signDsse(bytes, IN_TOTO_PAYLOAD_TYPE, bundleOptions(o));
    const manifest = await attachBundle(store, image, bundle, { ...o, predicateType: o.predicateType });
    return { image: image.digest, storage, location: manifest.digest, manifest, added: true, statement };
  }
  const key = localKey(o);
  let envelope: Envelope;
  let annotations: Record<string, string>;
  if (key) {
    envelope = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, bytes, [key]);
    annotations = { [CosignAnnotation.Signature]: '' };
  } else {
    const bundle = await signDsse(bytes, IN_TOTO_PAYLOAD_TYPE, bundleOptions(o));
    envelope = envelopeFromJson(bundle.dsseEnvelope, 'signed attestation');
    // cosign's attestation layers carry the signature inside the envelope, the annotation empty.
    annotations = { ...cosignAnnotations(legacyFromBundle(bundle)), [CosignAnnotation.Signature]: '' };
  }
  annotations[CosignAnnotation.PredicateType] = o.predicateType;
  const r = await appendAttachment(
    store,
    image.digest,
    'att',
    { mediaType: DSSE_ENVELOPE_MEDIA_TYPE, payload: encodeEnvelope(envelope), annotations },
    { ...o, isDuplicate: attestedBy(o.identity.kind === 'key' ? o.identity.key : undefined, bytes) },
  );
  return { image: image.digest, storage, location: r.tag, manifest: r.manifest, added: r.added, statement };
}
