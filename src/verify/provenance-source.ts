/**
 * Where `vouch verify-provenance` gets SLSA provenance, with its signature verified: a file
 * (slsa-github-generator's `.intoto.jsonl` DSSE envelopes carrying the Fulcio certificate beside
 * each signature, or Sigstore bundles `.sigstore.json` / `.sigstore.jsonl` as
 * actions/attest-build-provenance writes them) or the attestations stored with an image (referrer
 * bundles and cosign's `.att` tag, through verifyImageAttestations).
 *
 * Only SLSA provenance (v1, v0.2) counts; statements of other types are skipped before any
 * verification, as cosign skips them. Subjects are not checked here: the provenance checks
 * (verify/provenance.ts) compare them with each artifact.
 */
import { basename } from 'node:path';
import { type Envelope, IN_TOTO_PAYLOAD_TYPE, pae } from '../attest/dsse.ts';
import { type AttestationEntry, readAttestationFile } from '../attest/files.ts';
import { SLSA_PROVENANCE_TYPES } from '../attest/provenance/types.ts';
import { parseStatement, type Statement } from '../attest/statement.ts';
import type { Digest } from '../digest/digest.ts';
import { isVouchError, VouchError } from '../errors.ts';
import { CosignAnnotation } from '../sign/image/cosign-tags.ts';
import { bundleFromAnnotations } from '../sign/image/legacy-annotations.ts';
import type { AttachmentStore } from '../sign/image/store.ts';
import { publicGoodTrustedRoot } from '../sigstore/trust-root.ts';
import type { BundleVerifyOptions, VerifiedBundle } from '../sigstore/types.ts';
import { verifyBundle } from '../sigstore/verify.ts';
import { verifyImageAttestations } from './attestation.ts';
import { keyFailure, mostSpecific, peekPredicateType, type Signer, type VerifyOptions } from './image.ts';

export interface ProvenanceVerifyOptions extends VerifyOptions {
  /**
   * Keyless, for a signature with no verified time (no log entry, no RFC 3161 timestamp): check
   * the certificate at the current time, as cosign does with --insecure-ignore-tlog. Needs
   * `tlogThreshold: 0`.
   */
  currentTimeWithoutTimestamps?: boolean | undefined;
}

export interface VerifiedProvenance {
  /** `prov.intoto.jsonl:1`, `referrer sha256:…`, `tag sha256-….att[0]`. */
  location: string;
  /** The statement exactly as signed (parsed from the verified payload bytes). */
  statement: Statement;
  signer: Signer;
  timestamps: VerifiedBundle['timestamps'];
}

export interface ProvenanceRejection {
  location: string;
  error: VouchError;
}

export interface FoundProvenance {
  verified: VerifiedProvenance[];
  /** Provenance whose signature did not verify, with why. */
  rejected: ProvenanceRejection[];
}

const isSlsa = (t: string | undefined): boolean =>
  t !== undefined && (SLSA_PROVENANCE_TYPES as readonly string[]).includes(t);

/** One error for "no provenance verified": the most specific rejection's code, every rejection named. */
function noneVerified(rejected: readonly ProvenanceRejection[], where: string): VouchError {
  const best = mostSpecific(rejected); // ranked as for image signatures
  if (!best) {
    return new VouchError('SIGNATURE_NOT_FOUND', `no SLSA provenance (v1 or v0.2) found in ${where}`);
  }
  const say = (r: ProvenanceRejection) =>
    r.error.message.startsWith(`${r.location}: `) ? r.error.message : `${r.location}: ${r.error.message}`;
  const message =
    rejected.length === 1
      ? say(best)
      : `no valid SLSA provenance in ${where}: ${rejected.map((r) => `[${r.error.code}] ${say(r)}`).join('; ')}`;
  return new VouchError(best.error.code, message, {
    cause: best.error,
    ...(best.error.hint ? { hint: best.error.hint } : {}),
  });
}

/** What verifyBundle needs for these options; key-based checks default to the public-good root. */
async function bundleOptions(o: ProvenanceVerifyOptions): Promise<BundleVerifyOptions> {
  const common = {
    ...(o.tlogThreshold === undefined ? {} : { tlogThreshold: o.tlogThreshold }),
    ...(o.ctlogThreshold === undefined ? {} : { ctlogThreshold: o.ctlogThreshold }),
    ...(o.timestampThreshold === undefined ? {} : { timestampThreshold: o.timestampThreshold }),
    ...(o.currentTimeWithoutTimestamps ? { currentTimeWithoutTimestamps: true } : {}),
  };
  if (o.trust.kind === 'key') {
    const trustedRoot = o.trust.trustedRoot ?? (await publicGoodTrustedRoot());
    return { trustedRoot, key: o.trust.key, ...common };
  }
  return { trustedRoot: o.trust.trustedRoot, identity: o.trust.identity, ...common };
}

function statementOf(payloadType: string, bytes: Uint8Array, location: string): Statement {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new VouchError(
      'STATEMENT_INVALID',
      `${location}: payload type ${payloadType} is not an in-toto statement`,
    );
  }
  return parseStatement(bytes, `${location} statement`);
}

/** The predicate type an envelope's payload claims, read before verification (to skip other kinds). */
function unverifiedType(envelope: Envelope): string | undefined {
  try {
    const t = (JSON.parse(Buffer.from(envelope.payload).toString('utf8')) as { predicateType?: unknown })
      .predicateType;
    return typeof t === 'string' ? t : undefined;
  } catch {
    return undefined;
  }
}

async function fromBundle(
  entry: Extract<AttestationEntry, { kind: 'bundle' }>,
  location: string,
  o: ProvenanceVerifyOptions,
): Promise<VerifiedProvenance> {
  const vb = await verifyBundle(entry.bundle, undefined, await bundleOptions(o));
  if (!vb.payload) throw new VouchError('BUNDLE_INVALID', `${location}: the bundle holds no DSSE payload`);
  const statement = statementOf(vb.payload.type, vb.payload.bytes, location);
  return { location, statement, signer: vb.signer, timestamps: vb.timestamps };
}

/** An envelope of a `.intoto.jsonl` file signed with a key: any of its signatures by that key. */
function fromKeyEnvelope(
  entry: Extract<AttestationEntry, { kind: 'envelope' }>,
  location: string,
  key: Extract<VerifyOptions['trust'], { kind: 'key' }>['key'],
): VerifiedProvenance {
  const { envelope } = entry;
  const signed = pae(envelope.payloadType, envelope.payload);
  if (!envelope.signatures.some((s) => key.verify(signed, s.sig))) {
    throw keyFailure(location, key, signed, envelope.signatures[0]!.sig, entry.certificates[0]);
  }
  const statement = statementOf(envelope.payloadType, envelope.payload, location);
  return { location, statement, signer: { kind: 'key', hint: key.hint }, timestamps: [] };
}

/**
 * An envelope whose signatures carry Fulcio certificates: each (signature, certificate) pair is
 * checked as a bundle. The file holds no transparency-log proof (slsa-verifier looks the entry up
 * in Rekor), so unless the log is waived this is TLOG_INVALID, said plainly.
 */
async function fromCertificateEnvelope(
  entry: Extract<AttestationEntry, { kind: 'envelope' }>,
  location: string,
  o: ProvenanceVerifyOptions,
): Promise<VerifiedProvenance> {
  const { envelope, certificates } = entry;
  const options = await bundleOptions(o);
  let first: VouchError | undefined;
  for (const [i, sig] of envelope.signatures.entries()) {
    const cert = certificates[i];
    if (!cert) continue;
    const bundle = bundleFromAnnotations(
      { [CosignAnnotation.Certificate]: cert },
      { kind: 'dsse', envelope: { ...envelope, signatures: [sig] } },
      location,
    );
    try {
      const vb = await verifyBundle(bundle, undefined, options);
      const statement = statementOf(envelope.payloadType, vb.payload?.bytes ?? envelope.payload, location);
      return { location, statement, signer: vb.signer, timestamps: vb.timestamps };
    } catch (e) {
      if (!isVouchError(e)) throw e;
      first ??= e.code === 'TLOG_INVALID' ? missingLogProof(location, e) : e;
    }
  }
  if (first) throw first;
  throw new VouchError('KEY_MISMATCH', `${location}: signed with a key, not a certificate`, {
    hint: 'verify it with --key',
  });
}

function missingLogProof(location: string, cause: VouchError): VouchError {
  return new VouchError(
    'TLOG_INVALID',
    `${location}: the envelope's certificate has no transparency-log proof in the file (${cause.message})`,
    {
      cause,
      hint:
        'slsa-verifier fetches the Rekor entry online; vouch verifies offline and cannot. Use the ' +
        'Sigstore bundle of this provenance (.sigstore.json), or accept it unlogged with ' +
        '--insecure-ignore-tlog (the certificate must then be valid now)',
    },
  );
}

/** Verify every SLSA provenance of an attestation file; throws when none verifies. */
export async function provenanceFromFile(path: string, o: ProvenanceVerifyOptions): Promise<FoundProvenance> {
  const file = basename(path);
  const verified: VerifiedProvenance[] = [];
  const rejected: ProvenanceRejection[] = [];
  for (const entry of await readAttestationFile(path)) {
    const location = `${file}:${entry.line}`;
    if (entry.kind === 'bundle' && entry.content === 'message-signature') continue; // not a statement
    const type = entry.kind === 'bundle' ? peekPredicateType(entry.bundle) : unverifiedType(entry.envelope);
    if (type !== undefined && !isSlsa(type)) continue;
    try {
      let v: VerifiedProvenance;
      if (entry.kind === 'bundle') v = await fromBundle(entry, location, o);
      else if (o.trust.kind === 'key') v = fromKeyEnvelope(entry, location, o.trust.key);
      else v = await fromCertificateEnvelope(entry, location, o);
      // The verified statement's own type decides (the peek above read unverified bytes).
      if (isSlsa(v.statement.predicateType)) verified.push(v);
    } catch (e) {
      if (!isVouchError(e) || e.code === 'NOT_IMPLEMENTED' || e.code === 'USAGE') throw e;
      rejected.push({ location, error: e });
    }
  }
  if (verified.length === 0) throw noneVerified(rejected, path);
  return { verified, rejected };
}

/**
 * Verify the SLSA provenance attestations (v1 and v0.2) stored with `image` (a digest); throws
 * when none verifies, with the most specific reason.
 */
export async function provenanceFromImage(
  store: AttachmentStore,
  image: Digest,
  o: VerifyOptions,
): Promise<FoundProvenance> {
  const verified: VerifiedProvenance[] = [];
  const rejected: ProvenanceRejection[] = [];
  for (const predicateType of SLSA_PROVENANCE_TYPES) {
    try {
      const r = await verifyImageAttestations(store, image, { ...o, predicateType });
      for (const a of r.verified) {
        verified.push({
          location: `${a.scheme} ${a.location}`,
          statement: a.statement,
          signer: a.signer,
          timestamps: a.timestamps,
        });
      }
      for (const x of r.rejected) rejected.push({ location: `${x.scheme} ${x.location}`, error: x.error });
    } catch (e) {
      if (!isVouchError(e) || e.code === 'NOT_IMPLEMENTED' || e.code === 'USAGE') throw e;
      if (e.code !== 'SIGNATURE_NOT_FOUND')
        rejected.push({ location: `${predicateType} attestations`, error: e });
    }
  }
  if (verified.length === 0) throw noneVerified(rejected, `${store.name}@${image}`);
  return { verified, rejected };
}
