/**
 * Verify the attestations of an image (a digest): DSSE bundles attached as referrers, then the
 * DSSE envelopes of the `sha256-<hex>.att` tag. Only statements of the requested predicate type
 * count (others are skipped, as cosign does); each must be signed by the trusted key or identity
 * and have the image among its subjects. With a policy, every verified statement must pass it.
 */
import { type Envelope, IN_TOTO_PAYLOAD_TYPE, pae, parseEnvelope } from '../attest/dsse.ts';
import { parseStatement, type Statement } from '../attest/statement.ts';
import { type Digest, digestHex } from '../digest/digest.ts';
import { VouchError } from '../errors.ts';
import type { Descriptor } from '../oci/types.ts';
import type { CompiledPolicy } from '../policy/cel.ts';
import { BundleAnnotation, listBundleReferrers, readBundleReferrer } from '../sign/image/bundle-referrer.ts';
import { CosignAnnotation, readAttachments } from '../sign/image/cosign-tags.ts';
import { bundleFromAnnotations } from '../sign/image/legacy-annotations.ts';
import { checkStatementSubject } from '../sign/image/payload.ts';
import { type AttachmentStore, MAX_ATTACHMENT_BYTES } from '../sign/image/store.ts';
import type { VerifiedBundle } from '../sigstore/types.ts';
import {
  attempt,
  keyFailure,
  noneVerified,
  peekPredicateType,
  type Rejection,
  type Scheme,
  type Signer,
  type VerifyOptions,
  verifiedStatement,
  verifyBundleFor,
} from './image.ts';

export interface AttestationVerifyOptions extends VerifyOptions {
  /** Only statements of this predicate type (a URI); undefined = every type. */
  predicateType?: string | undefined;
  /** Every verified statement must pass it (POLICY_FAILED names the failing rules). */
  policy?: CompiledPolicy | undefined;
}

export interface VerifiedAttestation {
  scheme: Scheme;
  /** The referrer manifest digest, or `sha256-<hex>.att[i]`. */
  location: string;
  /** The statement exactly as signed (parsed from the verified payload bytes). */
  statement: Statement;
  signer: Signer;
  timestamps: VerifiedBundle['timestamps'];
}

export interface ImageAttestations {
  image: Digest;
  verified: VerifiedAttestation[];
  rejected: Rejection[];
}

const wanted = (o: AttestationVerifyOptions, type: string | undefined): boolean =>
  o.predicateType === undefined || type === undefined || type === o.predicateType;

async function checkReferrer(
  store: AttachmentStore,
  desc: Descriptor,
  image: Digest,
  o: AttestationVerifyOptions,
): Promise<VerifiedAttestation | undefined> {
  if (!wanted(o, desc.annotations?.[BundleAnnotation.PredicateType])) return undefined;
  const what = `referrer ${desc.digest}`;
  const ref = await readBundleReferrer(store, desc, image, o);
  if (typeof ref.bundle !== 'object' || ref.bundle === null || !('dsseEnvelope' in ref.bundle)) {
    return undefined; // a message signature: an image signature, not an attestation
  }
  if (!wanted(o, peekPredicateType(ref.bundle))) return undefined;
  const vb = await verifyBundleFor(ref.bundle, { sha256: digestHex(image) }, o, what);
  const statement = verifiedStatement(vb, image, what);
  if (!wanted(o, statement.predicateType)) return undefined;
  return {
    scheme: 'referrer',
    location: desc.digest,
    statement,
    signer: vb.signer,
    timestamps: vb.timestamps,
  };
}

function unverifiedType(env: Envelope): string | undefined {
  try {
    const t = (JSON.parse(Buffer.from(env.payload).toString('utf8')) as { predicateType?: unknown })
      .predicateType;
    return typeof t === 'string' ? t : undefined;
  } catch {
    return undefined;
  }
}

async function checkAttLayer(
  store: AttachmentStore,
  layer: Descriptor,
  location: string,
  image: Digest,
  o: AttestationVerifyOptions,
): Promise<VerifiedAttestation | undefined> {
  if (!wanted(o, layer.annotations?.[CosignAnnotation.PredicateType])) return undefined;
  const envelope = parseEnvelope(await store.readBlob(layer, MAX_ATTACHMENT_BYTES, o), location);
  if (!wanted(o, unverifiedType(envelope))) return undefined;
  let payload: Uint8Array;
  let signer: Signer;
  let timestamps: VerifiedBundle['timestamps'] = [];
  if (o.trust.kind === 'key') {
    const key = o.trust.key;
    const signed = pae(envelope.payloadType, envelope.payload);
    if (!envelope.signatures.some((s) => key.verify(signed, s.sig))) {
      throw keyFailure(
        location,
        key,
        signed,
        envelope.signatures[0]!.sig,
        layer.annotations?.[CosignAnnotation.Certificate],
      );
    }
    payload = envelope.payload;
    signer = { kind: 'key', hint: key.hint };
  } else {
    const bundle = bundleFromAnnotations(layer.annotations, { kind: 'dsse', envelope }, location);
    if (!bundle) {
      throw new VouchError('KEY_MISMATCH', `${location}: signed with a key, not a certificate`, {
        hint: 'verify it with --key',
      });
    }
    const vb = await verifyBundleFor(bundle, { sha256: digestHex(image) }, o, location);
    if (!vb.payload) throw new VouchError('BUNDLE_INVALID', `${location}: no DSSE payload was verified`);
    payload = vb.payload.bytes;
    signer = vb.signer;
    timestamps = vb.timestamps;
  }
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new VouchError(
      'STATEMENT_INVALID',
      `${location}: payload type ${envelope.payloadType} is not in-toto`,
    );
  }
  const statement = parseStatement(payload, `${location} statement`);
  if (!wanted(o, statement.predicateType)) return undefined;
  checkStatementSubject(statement, image, location);
  return { scheme: 'tag', location, statement, signer, timestamps };
}

/** Every attestation of `image` in `store` of the requested type, verified; throws when none is. */
export async function verifyImageAttestations(
  store: AttachmentStore,
  image: Digest,
  o: AttestationVerifyOptions,
): Promise<ImageAttestations> {
  const verified: VerifiedAttestation[] = [];
  const rejected: Rejection[] = [];
  for (const desc of await listBundleReferrers(store, image, o)) {
    const v = await attempt(rejected, 'referrer', desc.digest, () => checkReferrer(store, desc, image, o));
    if (v) verified.push(v);
  }
  const atts = await readAttachments(store, image, 'att', o);
  for (const [i, layer] of (atts?.layers ?? []).entries()) {
    const location = `${atts?.tag}[${i}]`;
    const v = await attempt(rejected, 'tag', location, () => checkAttLayer(store, layer, location, image, o));
    if (v) verified.push(v);
  }
  const what = o.predicateType ? `attestation of type ${o.predicateType}` : 'attestation';
  if (verified.length === 0) throw noneVerified(rejected, what, `${store.name}@${image}`);
  if (o.policy) checkPolicy(o.policy, verified);
  return { image, verified, rejected };
}

/** Every statement must pass; POLICY_FAILED lists each failing rule with the statement it failed on. */
function checkPolicy(policy: CompiledPolicy, verified: readonly VerifiedAttestation[]): void {
  const failures: string[] = [];
  for (const a of verified) {
    for (const v of policy.evaluate(a.statement))
      failures.push(`${a.location}: rule "${v.rule}": ${v.message}`);
  }
  if (failures.length > 0) {
    throw new VouchError(
      'POLICY_FAILED',
      `policy ${policy.source} rejected ${failures.length} check(s): ${failures.join('; ')}`,
    );
  }
}
