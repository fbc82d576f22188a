/**
 * Signatures and attestations of one subject (an image or the index), written through
 * src/sign/image (cosign `.sig`/`.att` tags, or Sigstore bundle referrers). Idempotent with a key:
 * the tag scheme already skips a signature this key made over the same payload; for referrers,
 * an existing bundle over the same statement that verifies with the key is found here first, so
 * a re-run adds nothing. Keyless signing always adds (each run has its own certificate).
 */
import { IN_TOTO_PAYLOAD_TYPE, pae } from '../../attest/dsse.ts';
import type { Statement } from '../../attest/statement.ts';
import { imageStatement } from '../../attest/subjects.ts';
import type { Descriptor } from '../../oci/types.ts';
import {
  BundleAnnotation,
  listBundleReferrers,
  readBundleReferrer,
} from '../../sign/image/bundle-referrer.ts';
import {
  COSIGN_SIGN_PREDICATE_TYPE,
  cosignSignStatement,
  encodeStatement,
} from '../../sign/image/payload.ts';
import { attestImage, type ImageSigningOptions, signImage } from '../../sign/image/sign.ts';
import type { AttachmentStore } from '../../sign/image/store.ts';
import type { PipelineSigner } from '../signer.ts';

export interface AttestationInput {
  /** For the log: `provenance`, `sbom (CycloneDX)`, ... */
  what: string;
  predicateType: string;
  predicate: unknown;
}

export interface Attached {
  what: string;
  /** The cosign tag or the referrer manifest digest. */
  location: string;
  added: boolean;
}

function options(signer: PipelineSigner, now: Date, signal?: AbortSignal): ImageSigningOptions {
  return {
    identity: signer.identity,
    storage: signer.storage,
    rekorUrl: signer.rekorUrl,
    tsaUrl: signer.tsaUrl,
    now,
    ...(signal ? { signal } : {}),
  };
}

/** A bundle referrer of `subject` over exactly `statement`, signed by the signer's key. */
async function existingReferrer(
  store: AttachmentStore,
  subject: Descriptor,
  predicateType: string,
  statement: Uint8Array,
  signer: PipelineSigner,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const key = signer.key;
  if (!key) return undefined;
  for (const d of await listBundleReferrers(store, subject.digest, signal ? { signal } : {})) {
    if (d.annotations?.[BundleAnnotation.PredicateType] !== predicateType) continue;
    try {
      const r = await readBundleReferrer(store, d, subject.digest, signal ? { signal } : {});
      const env = (
        r.bundle as {
          dsseEnvelope?: { payload?: string; payloadType?: string; signatures?: { sig?: string }[] };
        }
      ).dsseEnvelope;
      if (!env?.payload || env.payloadType !== IN_TOTO_PAYLOAD_TYPE) continue;
      const payload = Buffer.from(env.payload, 'base64');
      if (!payload.equals(Buffer.from(statement))) continue;
      const signed = pae(IN_TOTO_PAYLOAD_TYPE, payload);
      if ((env.signatures ?? []).some((s) => s.sig && key.verify(signed, Buffer.from(s.sig, 'base64'))))
        return d.digest;
    } catch {
      // someone else's or a damaged referrer: not ours, keep looking
    }
  }
  return undefined;
}

export async function ensureSignature(
  store: AttachmentStore,
  subject: Descriptor,
  repository: string,
  signer: PipelineSigner,
  o: { now: Date; signal?: AbortSignal },
): Promise<Attached> {
  if (signer.storage === 'referrers') {
    const statement = encodeStatement(cosignSignStatement(subject.digest));
    const found = await existingReferrer(
      store,
      subject,
      COSIGN_SIGN_PREDICATE_TYPE,
      statement,
      signer,
      o.signal,
    );
    if (found) return { what: 'signature', location: found, added: false };
  }
  const r = await signImage(store, subject, repository, options(signer, o.now, o.signal));
  return { what: 'signature', location: r.location, added: r.added };
}

export async function ensureAttestation(
  store: AttachmentStore,
  subject: Descriptor,
  repository: string,
  signer: PipelineSigner,
  a: AttestationInput,
  o: { now: Date; signal?: AbortSignal },
): Promise<Attached> {
  if (signer.storage === 'referrers') {
    const statement: Statement = imageStatement(repository, subject.digest, a.predicateType, a.predicate);
    const found = await existingReferrer(
      store,
      subject,
      a.predicateType,
      encodeStatement(statement),
      signer,
      o.signal,
    );
    if (found) return { what: a.what, location: found, added: false };
  }
  const r = await attestImage(store, subject, repository, {
    ...options(signer, o.now, o.signal),
    predicateType: a.predicateType,
    predicate: a.predicate,
  });
  return { what: a.what, location: r.location, added: r.added };
}
