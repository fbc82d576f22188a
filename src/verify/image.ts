/**
 * Verify the signatures of an image, already resolved to its digest, in both places cosign keeps
 * them: referrer bundles first (cosign v3), then the `sha256-<hex>.sig` tag (cosign ≤ v2, skopeo).
 * Every signature is checked on its own; the result lists those that verified and why each of the
 * others did not. No verified signature is an error with the most specific of those reasons.
 *
 * Error codes per signature:
 *  - SIGNATURE_INVALID: the signature does not verify over the payload with the trusted key or
 *    certificate (tampered payload or signature). A legacy key-based signature carries no key, so
 *    one made with another key also lands here: the two cannot be told apart.
 *  - KEY_MISMATCH: the signature names or carries another signer than the trusted one (a bundle's
 *    public-key hint, a certificate whose key signed it), or a key signed it where a keyless
 *    identity is required.
 *  - SUBJECT_MISMATCH: a valid signature, for another image digest (copied from another image).
 *  - IDENTITY_/ISSUER_/CERTIFICATE_*, TLOG_INVALID, TIMESTAMP_INVALID: from bundle verification.
 */
import { X509Certificate } from 'node:crypto';
import { parseStatement, type Statement } from '../attest/statement.ts';
import { type Digest, digestHex } from '../digest/digest.ts';
import { type ErrorCode, isVouchError, VouchError } from '../errors.ts';
import type { Descriptor } from '../oci/types.ts';
import { BundleAnnotation, listBundleReferrers, readBundleReferrer } from '../sign/image/bundle-referrer.ts';
import { CosignAnnotation, readAttachments } from '../sign/image/cosign-tags.ts';
import { bundleFromAnnotations } from '../sign/image/legacy-annotations.ts';
import {
  COSIGN_SIGN_PREDICATE_TYPE,
  COSIGN_SIGNATURE_TYPE,
  checkSimpleSigning,
  checkStatementSubject,
  claimsFromStatement,
  type SimpleSigning,
} from '../sign/image/payload.ts';
import type { AttachmentStore, StoreOptions } from '../sign/image/store.ts';
import { verificationKeyFromKeyObject } from '../sign/keys/signing-key.ts';
import type { VerificationKey } from '../sign/keys/types.ts';
import { publicGoodTrustedRoot } from '../sigstore/trust-root.ts';
import type {
  Artifact,
  BundleVerifyOptions,
  IdentityPolicy,
  TrustedRootDocument,
  VerifiedBundle,
} from '../sigstore/types.ts';
import { verifyBundle } from '../sigstore/verify.ts';

/** Who must have signed: a public key, or a keyless identity checked against a trusted root. */
export type Trust =
  | {
      kind: 'key';
      key: VerificationKey;
      /** Needed only for bundles with log entries or timestamps (default: Sigstore public good). */
      trustedRoot?: TrustedRootDocument | undefined;
    }
  | { kind: 'keyless'; identity: IdentityPolicy; trustedRoot: TrustedRootDocument };

export interface VerifyOptions extends StoreOptions {
  trust: Trust;
  /** Minimum verified transparency-log entries (default: keyless 1, key 0). */
  tlogThreshold?: number | undefined;
  /** Minimum verified RFC 3161 timestamps (default 0). */
  timestampThreshold?: number | undefined;
  /** Keyless: minimum verified SCTs in the certificate (default 1). */
  ctlogThreshold?: number | undefined;
}

export type Scheme = 'referrer' | 'tag';

export type Signer = VerifiedBundle['signer'];

export interface VerifiedSignature {
  scheme: Scheme;
  /** The referrer manifest digest, or `sha256-<hex>.sig[i]` (layer i of the tag). */
  location: string;
  /** What was signed, in cosign's JSON shape (`cosign verify` prints one per signature). */
  claims: SimpleSigning;
  signer: Signer;
  timestamps: VerifiedBundle['timestamps'];
}

export interface Rejection {
  scheme: Scheme;
  location: string;
  error: VouchError;
}

export interface ImageSignatures {
  image: Digest;
  verified: VerifiedSignature[];
  rejected: Rejection[];
}

/** Most specific first: a valid signature for the wrong thing says more than a broken one. */
const SPECIFICITY: readonly ErrorCode[] = [
  'SUBJECT_MISMATCH',
  'POLICY_FAILED',
  'IDENTITY_MISMATCH',
  'ISSUER_MISMATCH',
  'CERTIFICATE_CLAIM_MISMATCH',
  'KEY_MISMATCH',
  'CERTIFICATE_INVALID',
  'TLOG_INVALID',
  'TIMESTAMP_INVALID',
  'SIGNATURE_INVALID',
];

function rank(code: ErrorCode): number {
  const i = SPECIFICITY.indexOf(code);
  return i === -1 ? SPECIFICITY.length : i;
}

/** The rejection whose error says most (the first of equals); what "nothing verified" reports. */
export function mostSpecific<R extends { error: VouchError }>(rejected: readonly R[]): R | undefined {
  return [...rejected].sort((a, b) => rank(a.error.code) - rank(b.error.code))[0];
}

/**
 * The error for "nothing verified": SIGNATURE_NOT_FOUND when nothing was there, else the most
 * specific rejection's code, with every rejection in the message.
 */
export function noneVerified(rejected: readonly Rejection[], what: string, display: string): VouchError {
  if (rejected.length === 0) {
    return new VouchError('SIGNATURE_NOT_FOUND', `no ${what} found for ${display}`, {
      hint: 'looked in OCI referrers (Sigstore bundles) and the cosign sha256-<hex> tag',
    });
  }
  const best = mostSpecific(rejected)!;
  const all = rejected
    .map((r) => `${r.scheme} ${r.location}: [${r.error.code}] ${r.error.message}`)
    .join('; ');
  return new VouchError(best.error.code, `no valid ${what} for ${display}: ${all}`, {
    cause: best.error,
    ...(best.error.hint ? { hint: best.error.hint } : {}),
  });
}

/** `tag sha256-….sig[0]: [CODE] message`, the location said once. */
export function describeRejection(r: Rejection): string {
  const m = r.error.message;
  return `${r.scheme} ${r.location}: [${r.error.code}] ${m.startsWith(`${r.location}: `) ? m.slice(r.location.length + 2) : m}`;
}

/** Run one signature's check; a VouchError becomes a rejection, anything else propagates. */
export async function attempt<T>(
  rejected: Rejection[],
  scheme: Scheme,
  location: string,
  check: () => Promise<T | undefined>,
): Promise<T | undefined> {
  try {
    return await check();
  } catch (e) {
    if (!isVouchError(e) || e.code === 'NOT_IMPLEMENTED' || e.code === 'ABORTED') throw e;
    rejected.push({ scheme, location, error: e });
    return undefined;
  }
}

function spki(key: { export(o: { type: 'spki'; format: 'der' }): Buffer }): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** True when the (base64 DER or PEM) certificate holds `key`; an unparsable one holds nothing. */
function certificateHasKey(cert: string, key: VerificationKey): boolean {
  try {
    const x = new X509Certificate(cert.includes('-----BEGIN') ? cert : Buffer.from(cert, 'base64'));
    return spki(x.publicKey).equals(spki(key.publicKey));
  } catch {
    return false;
  }
}

function certificateVerifies(pem: string, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    return verificationKeyFromKeyObject(new X509Certificate(pem).publicKey).verify(data, sig);
  } catch {
    return false; // unparsable certificate or unsupported key: it proves nothing
  }
}

/**
 * Why a signature that failed with the trusted key failed: KEY_MISMATCH when the layer carries a
 * certificate whose (other) key does verify it, else SIGNATURE_INVALID.
 */
export function keyFailure(
  what: string,
  key: VerificationKey,
  data: Uint8Array,
  sig: Uint8Array,
  certPem: string | undefined,
): VouchError {
  if (certPem && !certificateHasKey(certPem, key) && certificateVerifies(certPem, data, sig)) {
    return new VouchError(
      'KEY_MISMATCH',
      `${what}: signed by the key of its certificate, not the trusted key`,
      {
        hint: 'verify with the signer’s identity (--certificate-identity, --certificate-oidc-issuer) or the right key',
      },
    );
  }
  return new VouchError('SIGNATURE_INVALID', `${what}: the signature does not verify with the trusted key`, {
    hint: 'the payload or signature was changed, or it was made with another key',
  });
}

/** What verifyBundle needs; key-based checks default to the public-good root (no log required). */
async function bundleOptions(o: VerifyOptions): Promise<BundleVerifyOptions> {
  const thresholds = {
    ...(o.tlogThreshold === undefined ? {} : { tlogThreshold: o.tlogThreshold }),
    ...(o.ctlogThreshold === undefined ? {} : { ctlogThreshold: o.ctlogThreshold }),
    ...(o.timestampThreshold === undefined ? {} : { timestampThreshold: o.timestampThreshold }),
  };
  if (o.trust.kind === 'key') {
    const trustedRoot = o.trust.trustedRoot ?? (await publicGoodTrustedRoot());
    return { trustedRoot, key: o.trust.key, ...thresholds };
  }
  return { trustedRoot: o.trust.trustedRoot, identity: o.trust.identity, ...thresholds };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * verifyBundle for one bundle found next to an image: `artifact` is the image manifest's bytes for
 * a message signature (it signs the manifest), its digest for a DSSE statement (a subject).
 */
export async function verifyBundleFor(
  bundle: unknown,
  artifact: Artifact,
  o: VerifyOptions,
  what: string,
): Promise<VerifiedBundle> {
  if (!isObject(bundle) || !isObject(bundle.verificationMaterial)) {
    throw new VouchError('BUNDLE_INVALID', `${what}: not a Sigstore bundle (no verificationMaterial)`);
  }
  return verifyBundle(bundle, artifact, await bundleOptions(o));
}

/** The predicate type of a DSSE bundle's statement, read before verification to skip other kinds. */
export function peekPredicateType(bundle: unknown): string | undefined {
  try {
    const env = isObject(bundle) ? bundle.dsseEnvelope : undefined;
    if (!isObject(env) || typeof env.payload !== 'string') return undefined;
    const st = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as { predicateType?: unknown };
    return typeof st.predicateType === 'string' ? st.predicateType : undefined;
  } catch {
    return undefined;
  }
}

/** The statement a DSSE bundle verified, checked to be in-toto and about `image`. */
export function verifiedStatement(vb: VerifiedBundle, image: Digest, what: string): Statement {
  if (!vb.payload) throw new VouchError('BUNDLE_INVALID', `${what}: the bundle holds no DSSE payload`);
  if (vb.payload.type !== 'application/vnd.in-toto+json') {
    throw new VouchError(
      'STATEMENT_INVALID',
      `${what}: payload type ${vb.payload.type} is not an in-toto statement`,
    );
  }
  const statement = parseStatement(vb.payload.bytes, `${what} statement`);
  checkStatementSubject(statement, image, what);
  return statement;
}

function withSigner(claims: SimpleSigning, signer: Signer): SimpleSigning {
  if (signer.kind !== 'certificate') return claims;
  // cosign adds the certificate's subject and issuer to what it prints for keyless signatures.
  const c = signer.claims;
  return {
    ...claims,
    optional: {
      ...(claims.optional ?? {}),
      Subject: c.subjectAlternativeName,
      ...(c.issuer ? { Issuer: c.issuer } : {}),
    },
  };
}

/** Check one referrer bundle; undefined when it is not an image signature (an attestation). */
async function checkReferrer(
  store: AttachmentStore,
  desc: Descriptor,
  image: Digest,
  repository: string,
  o: VerifyOptions,
): Promise<VerifiedSignature | undefined> {
  const listed = desc.annotations?.[BundleAnnotation.PredicateType];
  if (listed !== undefined && listed !== COSIGN_SIGN_PREDICATE_TYPE) return undefined;
  const what = `referrer ${desc.digest}`;
  const ref = await readBundleReferrer(store, desc, image, o);
  const isDsse = isObject(ref.bundle) && ref.bundle.dsseEnvelope !== undefined;
  if (isDsse && peekPredicateType(ref.bundle) !== COSIGN_SIGN_PREDICATE_TYPE) return undefined;
  // A message signature signs the image manifest itself; a DSSE statement names its digest.
  const artifact: Artifact = isDsse
    ? { sha256: digestHex(image) }
    : { bytes: (await store.getManifest(image, o)).bytes };
  const vb = await verifyBundleFor(ref.bundle, artifact, o, what);
  let claims: SimpleSigning;
  if (vb.content === 'dsse-envelope') {
    const statement = verifiedStatement(vb, image, what);
    if (statement.predicateType !== COSIGN_SIGN_PREDICATE_TYPE) return undefined;
    claims = claimsFromStatement(statement, repository, image);
  } else {
    // A message signature over the image manifest: verifyBundle checked it against those bytes.
    claims = {
      critical: {
        identity: { 'docker-reference': repository },
        image: { 'docker-manifest-digest': image },
        type: COSIGN_SIGNATURE_TYPE,
      },
      optional: {},
    };
  }
  return {
    scheme: 'referrer',
    location: desc.digest,
    claims: withSigner(claims, vb.signer),
    signer: vb.signer,
    timestamps: vb.timestamps,
  };
}

const MAX_PAYLOAD_BYTES = 1024 * 1024;

/** Check layer `layer` of the `.sig` manifest. */
async function checkSigLayer(
  store: AttachmentStore,
  layer: Descriptor,
  location: string,
  image: Digest,
  o: VerifyOptions,
): Promise<VerifiedSignature> {
  const payload = await store.readBlob(layer, MAX_PAYLOAD_BYTES, o);
  const b64 = layer.annotations?.[CosignAnnotation.Signature];
  if (!b64)
    throw new VouchError('SIGNATURE_INVALID', `${location}: the layer has no ${CosignAnnotation.Signature}`);
  const sig = Buffer.from(b64, 'base64');
  const certPem = layer.annotations?.[CosignAnnotation.Certificate];
  let signer: Signer;
  let timestamps: VerifiedBundle['timestamps'] = [];
  if (o.trust.kind === 'key') {
    const key = o.trust.key;
    if (!key.verify(payload, sig)) throw keyFailure(location, key, payload, sig, certPem);
    signer = { kind: 'key', hint: key.hint };
  } else {
    const bundle = bundleFromAnnotations(
      layer.annotations,
      { kind: 'message', payload, signature: b64 },
      location,
    );
    if (!bundle) {
      throw new VouchError('KEY_MISMATCH', `${location}: signed with a key, not a certificate`, {
        hint: 'verify it with --key',
      });
    }
    const vb = await verifyBundleFor(bundle, { bytes: payload }, o, location);
    signer = vb.signer;
    timestamps = vb.timestamps;
  }
  const claims = checkSimpleSigning(payload, image, location);
  return { scheme: 'tag', location, claims: withSigner(claims, signer), signer, timestamps };
}

/**
 * Every signature of `image` (a digest) in `store`, verified. `repository` is what v3 statement
 * signatures are reported under (they do not name it). Throws when none verifies.
 */
export async function verifyImageSignatures(
  store: AttachmentStore,
  image: Digest,
  repository: string,
  o: VerifyOptions,
): Promise<ImageSignatures> {
  const verified: VerifiedSignature[] = [];
  const rejected: Rejection[] = [];
  for (const desc of await listBundleReferrers(store, image, o)) {
    const v = await attempt(rejected, 'referrer', desc.digest, () =>
      checkReferrer(store, desc, image, repository, o),
    );
    if (v) verified.push(v);
  }
  const sigs = await readAttachments(store, image, 'sig', o);
  for (const [i, layer] of (sigs?.layers ?? []).entries()) {
    const location = `${sigs?.tag}[${i}]`;
    const v = await attempt(rejected, 'tag', location, () => checkSigLayer(store, layer, location, image, o));
    if (v) verified.push(v);
  }
  if (verified.length === 0) throw noneVerified(rejected, 'signature', `${store.name}@${image}`);
  return { image, verified, rejected };
}
