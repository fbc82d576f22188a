/**
 * One function per consumer check of a release image. Each turns a verification failure
 * (a VouchError) into a `fail` outcome carrying its code, so that every check runs and the
 * report names all that failed; usage mistakes and bugs still throw.
 */
import { COSIGN_VULN_PREDICATE } from '../attest/predicates.ts';
import { readProvenance } from '../attest/provenance/read.ts';
import { SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02 } from '../attest/provenance/types.ts';
import type { Digest } from '../digest/digest.ts';
import { type ErrorCode, isVouchError, VouchError } from '../errors.ts';
import type { AttachmentStore } from '../sign/image/store.ts';
import { type VerifiedAttestation, verifyImageAttestations } from '../verify/attestation.ts';
import { type Signer, type VerifyOptions, verifyImageSignatures } from '../verify/image.ts';
import { checkProvenance } from '../verify/provenance.ts';
import { SBOM_PREDICATE_TYPES, type SbomDocument, sbomDocument } from './sbom-document.ts';
import type { CheckOutcome, Facts, ProvenanceRequirement, ReleaseCheck } from './types.ts';

/** Not verification results: the caller's mistake, a cancellation or a bug. */
const PROPAGATE: readonly ErrorCode[] = ['USAGE', 'NOT_IMPLEMENTED', 'ABORTED', 'INTERNAL'];

interface Passed {
  detail: string;
  facts: Facts;
}

/** Run `body`; a VouchError is this check's failure, anything else propagates. */
export async function outcome(check: ReleaseCheck, body: () => Promise<Passed>): Promise<CheckOutcome> {
  try {
    return { check, status: 'pass', ...(await body()) };
  } catch (e) {
    if (!isVouchError(e) || PROPAGATE.includes(e.code)) throw e;
    return {
      check,
      status: 'fail',
      code: e.code,
      message: e.message,
      ...(e.hint ? { hint: e.hint } : {}),
    };
  }
}

export function describeSigner(s: Signer): string {
  if (s.kind === 'key') return `key ${s.hint ?? '(no hint)'}`;
  return `${s.claims.subjectAlternativeName}${s.claims.issuer ? ` (issuer ${s.claims.issuer})` : ''}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function checkSignature(
  store: AttachmentStore,
  image: Digest,
  repository: string,
  o: VerifyOptions,
): Promise<CheckOutcome> {
  return outcome('signature', async () => {
    const r = await verifyImageSignatures(store, image, repository, o);
    const signers = [...new Set(r.verified.map((s) => describeSigner(s.signer)))];
    const others = r.rejected.length > 0 ? `; ${r.rejected.length} other(s) did not verify` : '';
    return {
      detail: `${plural(r.verified.length, 'signature')} by ${signers.join(', ')}${others}`,
      facts: {
        signatures: r.verified.map((s) => `${s.scheme} ${s.location}`),
        signers,
        rejected: r.rejected.map((x) => `${x.scheme} ${x.location}: [${x.error.code}] ${x.error.message}`),
      },
    };
  });
}

/**
 * Every verified attestation of `types` about `image`; when none verifies, the most telling
 * error: a rejection (wrong key, wrong subject, ...) before "none found".
 */
async function verifiedOfTypes(
  store: AttachmentStore,
  image: Digest,
  types: readonly string[],
  what: string,
  o: VerifyOptions,
): Promise<VerifiedAttestation[]> {
  const verified: VerifiedAttestation[] = [];
  const errors: VouchError[] = [];
  for (const predicateType of types) {
    try {
      verified.push(...(await verifyImageAttestations(store, image, { ...o, predicateType })).verified);
    } catch (e) {
      if (!isVouchError(e) || PROPAGATE.includes(e.code)) throw e;
      errors.push(e);
    }
  }
  if (verified.length > 0) return verified;
  const telling = errors.find((e) => e.code !== 'SIGNATURE_NOT_FOUND');
  if (telling) throw telling;
  throw new VouchError('SIGNATURE_NOT_FOUND', `no ${what} attestation found for ${store.name}@${image}`, {
    hint: 'looked for OCI referrer bundles and the cosign sha256-<hex>.att tag',
  });
}

/**
 * The image's SLSA provenance (v1 or v0.2), verified with the same trust as its signature, and
 * slsa-verifier's checks on it. An index's own provenance counts for a platform image when it has
 * none of its own (a statement may name every image of a release as a subject). One attestation
 * passing is enough: rebuilds of a reproducible image add more for the same digest.
 */
export function checkImageProvenance(
  store: AttachmentStore,
  image: Digest,
  requirement: Extract<ProvenanceRequirement, { kind: 'check' }>,
  o: VerifyOptions,
  index?: Digest,
): Promise<CheckOutcome> {
  return outcome('provenance', async () => {
    const types = [SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02];
    const what = 'SLSA provenance (v1 or v0.2)';
    let found: VerifiedAttestation[];
    try {
      found = await verifiedOfTypes(store, image, types, what, o);
    } catch (e) {
      if (!index || !isVouchError(e, 'SIGNATURE_NOT_FOUND')) throw e;
      found = await verifiedOfTypes(store, index, types, what, o).catch((ie: unknown) => {
        throw isVouchError(ie, 'SIGNATURE_NOT_FOUND') ? e : ie;
      });
    }
    const { kind: _kind, ...expected } = requirement;
    let first: unknown;
    for (const a of found) {
      try {
        const summary = readProvenance(a.statement);
        const claims = a.signer.kind === 'certificate' ? a.signer.claims : undefined;
        const passed = checkProvenance(summary, { ...expected, subjectSha256: image }, claims);
        const version = summary.predicateType === SLSA_PROVENANCE_V1 ? 'v1' : 'v0.2';
        const source = `${summary.sourceUri ?? '(no source)'}${summary.sourceRef ? `@${summary.sourceRef}` : ''}`;
        return {
          detail: `SLSA ${version}, source ${source}, builder ${summary.builderId} (${plural(passed.length, 'check')})`,
          facts: {
            location: `${a.scheme} ${a.location}`,
            predicateType: summary.predicateType,
            builderId: summary.builderId,
            buildType: summary.buildType,
            source,
            ...(summary.sourceDigest ? { sourceCommit: summary.sourceDigest.value } : {}),
            signer: describeSigner(a.signer),
            checks: passed.map((c) => `${c.field}: ${c.found}`),
          },
        };
      } catch (e) {
        if (!isVouchError(e) || PROPAGATE.includes(e.code)) throw e;
        first ??= e;
      }
    }
    throw first;
  });
}

/** The chosen SBOM of an image: CycloneDX when one verified, else SPDX. */
export interface VerifiedSbom extends SbomDocument {
  location: string;
}

export async function checkImageSbom(
  store: AttachmentStore,
  image: Digest,
  o: VerifyOptions,
): Promise<{ outcome: CheckOutcome; sbom: VerifiedSbom | undefined }> {
  let sbom: VerifiedSbom | undefined;
  const result = await outcome('sbom', async () => {
    const found = await verifiedOfTypes(store, image, SBOM_PREDICATE_TYPES, 'SBOM (CycloneDX or SPDX)', o);
    const docs: VerifiedSbom[] = [];
    let first: unknown;
    for (const a of found) {
      const location = `${a.scheme} ${a.location}`;
      try {
        docs.push({ ...sbomDocument(a.statement.predicateType, a.statement.predicate, location), location });
      } catch (e) {
        if (!isVouchError(e)) throw e;
        first ??= e;
      }
    }
    sbom = docs.find((d) => d.format === 'cyclonedx') ?? docs[0];
    if (!sbom) throw first;
    const formats = [...new Set(docs.map((d) => d.version))];
    return {
      detail: `${formats.join(' and ')}, ${plural(sbom.packages, sbom.format === 'cyclonedx' ? 'component' : 'package')} (${sbom.location})`,
      facts: { location: sbom.location, format: sbom.format, version: sbom.version, packages: sbom.packages },
    };
  });
  return { outcome: result, sbom: result.status === 'pass' ? sbom : undefined };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function checkImageVuln(
  store: AttachmentStore,
  image: Digest,
  o: VerifyOptions,
): Promise<CheckOutcome> {
  return outcome('vuln', async () => {
    const found = await verifiedOfTypes(store, image, [COSIGN_VULN_PREDICATE], 'vulnerability scan', o);
    const a = found[0]!;
    const p = (a.statement.predicate ?? {}) as {
      scanner?: { uri?: unknown; version?: unknown };
      metadata?: { scanFinishedOn?: unknown };
    };
    // the scanner URI is often a purl that already carries the version (pkg:generic/vouch@0.1.0)
    const uri = str(p.scanner?.uri);
    const version = str(p.scanner?.version);
    const scanner = [uri, version && !uri?.endsWith(`@${version}`) ? version : undefined]
      .filter((s) => s !== undefined)
      .join(' ');
    const finished = str(p.metadata?.scanFinishedOn);
    return {
      detail: `${scanner || 'scanner not named'}${finished ? `, finished ${finished}` : ''} (${a.scheme} ${a.location})`,
      facts: {
        location: `${a.scheme} ${a.location}`,
        ...(scanner ? { scanner } : {}),
        ...(finished ? { scanFinishedOn: finished } : {}),
        attestations: found.length,
      },
    };
  });
}
