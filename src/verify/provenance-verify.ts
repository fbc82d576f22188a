/**
 * slsa-verifier's decision over provenance whose signature is already verified: for every
 * artifact (or the image), one provenance must name its sha256 as a subject and pass every check
 * of verify/provenance.ts. The signing certificate's claims take part when it is a GitHub Actions
 * certificate (slsa-verifier only accepts those): the provenance must then agree with it.
 * Pure: no I/O.
 */
import { type ProvenanceSummary, readProvenance } from '../attest/provenance/read.ts';
import { findSubject } from '../attest/statement.ts';
import { isVouchError, VouchError } from '../errors.ts';
import type { CertificateClaims } from '../sigstore/types.ts';
import type { Signer } from './image.ts';
import { checkProvenance, type ProvenanceCheck, type ProvenanceExpectations } from './provenance.ts';
import type { VerifiedProvenance } from './provenance-source.ts';

export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/** github.com's issuer, or a GitHub Enterprise Cloud tenant's (`https://token.actions.<tenant>.ghe.com`). */
export function isGithubActionsIssuer(issuer: string | undefined): boolean {
  return (
    issuer === GITHUB_ACTIONS_ISSUER || /^https:\/\/token\.actions\.[a-z0-9-]+\.ghe\.com$/.test(issuer ?? '')
  );
}

/** The certificate claims the provenance must agree with: a GitHub Actions certificate's, else none. */
export function signerClaims(signer: Signer): CertificateClaims | undefined {
  return signer.kind === 'certificate' && isGithubActionsIssuer(signer.claims.issuer)
    ? signer.claims
    : undefined;
}

/** What is verified: a file (named as given) or an image (named by digest), by its sha256. */
export interface ProvenanceSubject {
  name: string;
  /** Lower-case hex. */
  sha256: string;
}

export type ProvenanceRequirements = Omit<ProvenanceExpectations, 'subjectSha256'>;

export interface SubjectVerification {
  subject: ProvenanceSubject;
  provenance: VerifiedProvenance;
  summary: ProvenanceSummary;
  /** Every check that passed, in order (field, expected, found). */
  checks: ProvenanceCheck[];
}

/** Provenance errors: the field names come from checkProvenance; the ranking picks what to report. */
const RANK = ['PROVENANCE_MISMATCH', 'PROVENANCE_INVALID', 'STATEMENT_INVALID'] as const;

function best(errors: readonly { location: string; error: VouchError }[], subject: string): VouchError {
  const rank = (e: VouchError) => {
    const i = (RANK as readonly string[]).indexOf(e.code);
    return i === -1 ? RANK.length : i;
  };
  const sorted = [...errors].sort((a, b) => rank(a.error) - rank(b.error));
  const first = sorted[0]!;
  const message =
    errors.length === 1
      ? `${subject}: ${first.location}: ${first.error.message}`
      : `${subject}: no provenance passed: ${sorted.map((e) => `${e.location}: [${e.error.code}] ${e.error.message}`).join('; ')}`;
  return new VouchError(first.error.code, message, {
    cause: first.error,
    ...(first.error.hint ? { hint: first.error.hint } : {}),
  });
}

function subjectMismatch(subject: ProvenanceSubject, found: readonly VerifiedProvenance[]): VouchError {
  const digests = [
    ...new Set(found.flatMap((p) => p.statement.subject.map((s) => s.digest?.sha256).filter((d) => d))),
  ];
  return new VouchError(
    'SUBJECT_MISMATCH',
    `${subject.name}: provenance subject: expected sha256:${subject.sha256}, found ${
      digests.length > 0 ? digests.map((d) => `sha256:${d}`).join(', ') : 'no sha256 subject'
    }`,
    { hint: 'the provenance was made for another artifact or image digest' },
  );
}

/** The first provenance that passes for `subject`; throws the most telling failure otherwise. */
function verifySubject(
  subject: ProvenanceSubject,
  found: readonly VerifiedProvenance[],
  required: ProvenanceRequirements,
): SubjectVerification {
  const about = found.filter((p) => findSubject(p.statement, 'sha256', subject.sha256));
  if (about.length === 0) throw subjectMismatch(subject, found);
  const errors: { location: string; error: VouchError }[] = [];
  for (const provenance of about) {
    try {
      const summary = readProvenance(provenance.statement);
      const checks = checkProvenance(
        summary,
        { ...required, subjectSha256: subject.sha256 },
        signerClaims(provenance.signer),
      );
      return { subject, provenance, summary, checks };
    } catch (e) {
      if (!isVouchError(e) || e.code === 'USAGE') throw e;
      errors.push({ location: provenance.location, error: e });
    }
  }
  throw best(errors, subject.name);
}

/**
 * Check the verified provenance for every subject. Throws SUBJECT_MISMATCH when no provenance
 * names a subject, PROVENANCE_MISMATCH (field, expected, found) or PROVENANCE_INVALID otherwise.
 */
export function verifyProvenanceFor(
  found: readonly VerifiedProvenance[],
  subjects: readonly ProvenanceSubject[],
  required: ProvenanceRequirements,
): SubjectVerification[] {
  if (subjects.length === 0) throw new VouchError('USAGE', 'nothing to verify: no artifact or image');
  return subjects.map((s) => verifySubject(s, found, required));
}
