/**
 * slsa-verifier's provenance checks over a verified provenance summary: builder id, source
 * repository (trigger and source, with refs), subject digest, branch, tag and versioned tag,
 * and - given the signing certificate's claims - that the provenance agrees with the certificate.
 * Pure: no I/O. Every failure names the field, the value required and the value found.
 * source: slsa-framework/slsa-verifier verifiers/internal/gha/provenance.go, builder.go,
 * verifiers/utils/{git,builder,source_tag}.go
 */
import {
  BUILD_TYPES_WITHOUT_SOURCE_REF,
  type ProvenanceSummary,
  splitGitUri,
} from '../attest/provenance/read.ts';
import { VouchError } from '../errors.ts';
import type { CertificateClaims } from '../sigstore/types.ts';

export interface ProvenanceExpectations {
  /** The artifact's or image manifest's sha256 (`sha256:<hex>` or hex). */
  subjectSha256: string;
  /** `github.com/o/r`, `https://github.com/o/r` or `git+https://github.com/o/r`. */
  sourceUri: string;
  /** Tag name (`v1.2.3`; `refs/tags/v1.2.3` is accepted too). */
  sourceTag?: string;
  /** Branch name (`main`; `refs/heads/main` accepted). */
  sourceBranch?: string;
  /** Semver tag: major must match; minor and patch (with prerelease) only when given. */
  sourceVersionedTag?: string;
  /** `name[@version]`; `vX` matches `refs/tags/vX`. */
  builderId?: string;
}

export interface ProvenanceCheck {
  field: string;
  expected: string;
  found: string;
}

function mismatch(field: string, expected: string, found: string | undefined, detail = ''): VouchError {
  return new VouchError(
    'PROVENANCE_MISMATCH',
    `provenance ${field}: expected ${expected}, found ${found === undefined ? '(none)' : found}${detail}`,
  );
}

function usage(message: string): VouchError {
  return new VouchError('USAGE', message);
}

/** `github.com/o/r` → `git+https://github.com/o/r`, as slsa-verifier NormalizeGitURI. */
export function normalizeGitUri(s: string): string {
  if (s.startsWith('git+')) return s;
  return s.includes('://') ? `git+${s}` : `git+https://${s}`;
}

/** A builder id as `name[@version]`; more than one `@` is malformed (slsa-verifier ParseBuilderID). */
function parseBuilderId(id: string): { name: string; version?: string } | undefined {
  const parts = id.split('@');
  if (parts.length === 1) return { name: id };
  if (parts.length === 2 && parts[1] !== '') return { name: parts[0]!, version: parts[1]! };
  return undefined;
}

/**
 * slsa-verifier TrustedBuilderID.MatchesLoose / MatchesFull (allowRef): names equal; the expected
 * version, when given (always, for `full`), equals the provenance's, or `refs/tags/<it>` does.
 */
function builderMatches(found: string, expected: string, full: boolean): boolean {
  const f = parseBuilderId(found);
  const e = parseBuilderId(expected);
  if (!f || !e || f.name !== e.name) return false;
  if (e.version === undefined) return !full || f.version === undefined;
  return e.version === f.version || `refs/tags/${e.version}` === f.version;
}

function checkBuilder(s: ProvenanceSummary, expected: string, out: ProvenanceCheck[]): void {
  if (!parseBuilderId(expected)) throw usage(`builder id ${JSON.stringify(expected)} is not name[@version]`);
  if (!builderMatches(s.builderId, expected, false)) throw mismatch('builder id', expected, s.builderId);
  out.push({ field: 'builder id', expected, found: s.builderId });
}

function checkSource(s: ProvenanceSummary, source: string, out: ProvenanceCheck[]): void {
  // Trigger: what started the build, always with a ref.
  let trigger: { uri: string; ref?: string } | undefined;
  if (s.triggerUri !== undefined) {
    trigger = splitGitUri(normalizeGitUri(s.triggerUri));
    if (trigger.uri !== source) throw mismatch('trigger repository', source, trigger.uri);
    if (!trigger.ref) throw mismatch('trigger ref', 'a ref', undefined, ` (in ${s.triggerUri})`);
    out.push({ field: 'trigger repository', expected: source, found: s.triggerUri });
  }
  // Source: the repository the sources were fetched from.
  if (s.sourceUri === undefined) throw mismatch('source repository', source, undefined);
  const found = normalizeGitUri(s.sourceUri);
  if (found !== source) throw mismatch('source repository', source, s.sourceUri);
  if (!s.sourceRef && !(BUILD_TYPES_WITHOUT_SOURCE_REF as readonly string[]).includes(s.buildType)) {
    throw mismatch('source ref', 'a ref', undefined, ` (in ${s.sourceUri})`);
  }
  out.push({ field: 'source repository', expected: source, found: s.sourceUri });
  // Trigger and source name the same ref (BYOB builders may build another commit: no ref).
  if (trigger?.ref && s.sourceRef && trigger.ref !== s.sourceRef) {
    throw mismatch('source ref', `the trigger's ${trigger.ref}`, s.sourceRef);
  }
}

function checkSubject(s: ProvenanceSummary, want: string, out: ProvenanceCheck[]): void {
  const hex = (want.startsWith('sha256:') ? want.slice(7) : want).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw usage(`subject digest must be sha256:<64 hex digits>, not ${want}`);
  const found = s.subjects.map((x) => x.digest?.sha256?.toLowerCase()).filter((d) => d !== undefined);
  if (!found.includes(hex)) {
    throw new VouchError(
      'SUBJECT_MISMATCH',
      `provenance subject: expected sha256:${hex}, found ${found.length > 0 ? found.map((d) => `sha256:${d}`).join(', ') : 'no sha256 subject'}`,
      { hint: 'the provenance was made for another artifact or image digest' },
    );
  }
  out.push({ field: 'subject digest', expected: `sha256:${hex}`, found: `sha256:${hex}` });
}

function refName(ref: string | undefined, kind: 'tags' | 'heads'): string | undefined {
  const prefix = `refs/${kind}/`;
  return ref?.startsWith(prefix) && ref.length > prefix.length ? ref.slice(prefix.length) : undefined;
}

function foundRef(s: ProvenanceSummary): string {
  return s.tagRef ?? s.branchRef ?? s.sourceRef ?? '(no ref)';
}

function checkBranch(s: ProvenanceSummary, want: string, out: ProvenanceCheck[]): void {
  const branch = want.replace(/^refs\/heads\//, '');
  const found = refName(s.branchRef, 'heads');
  if (found !== branch) {
    const detail =
      s.refType === 'tag' && !s.branchRef ? ' (a tag was built and its branch is not recorded)' : '';
    throw mismatch('source branch', branch, s.branchRef ?? foundRef(s), detail);
  }
  out.push({ field: 'source branch', expected: branch, found: s.branchRef! });
}

function checkTag(s: ProvenanceSummary, want: string, out: ProvenanceCheck[]): void {
  const tag = want.replace(/^refs\/tags\//, '');
  const found = refName(s.tagRef, 'tags');
  if (found !== tag) throw mismatch('source tag', tag, s.tagRef ?? foundRef(s));
  out.push({ field: 'source tag', expected: tag, found: s.tagRef! });
}

// golang.org/x/mod/semver, as slsa-verifier uses it: `v` prefix, vMAJOR and vMAJOR.MINOR shorthands.
const SEMVER =
  /^v(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(-(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*)?(\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?)?$/;

interface Semver {
  major: string;
  /** Given in the text (a shorthand leaves them out). */
  minor?: string;
  /** Patch with its prerelease (`3-rc.1`), build metadata dropped. */
  patch?: string;
}

function parseSemver(v: string): Semver | undefined {
  const m = SEMVER.exec(v);
  if (!m) return undefined;
  return {
    major: m[1]!,
    ...(m[2] !== undefined ? { minor: m[2] } : {}),
    ...(m[3] !== undefined ? { patch: m[3] + (m[4] ?? '') } : {}),
  };
}

/**
 * slsa-verifier VerifyVersionedTag: the provenance tag (made canonical: shorthands filled with 0,
 * build dropped) must have the expected major; minor and patch only when the expected tag has them.
 * The prerelease counts as part of the patch; build metadata is ignored on both sides.
 */
export function versionedTagMatches(provenanceTag: string, expected: string): { ok: boolean; why?: string } {
  const e = parseSemver(expected);
  if (!e)
    throw usage(
      `versioned tag ${JSON.stringify(expected)} is not a semantic version such as v1, v1.2 or v1.2.3`,
    );
  const p = parseSemver(provenanceTag);
  if (!p) return { ok: false, why: `${provenanceTag} is not a semantic version` };
  const canonical = { major: p.major, minor: p.minor ?? '0', patch: p.patch ?? '0' };
  if (canonical.major !== e.major)
    return { ok: false, why: `major version ${canonical.major} is not ${e.major}` };
  if (e.minor !== undefined && canonical.minor !== e.minor) {
    return { ok: false, why: `minor version ${canonical.minor} is not ${e.minor}` };
  }
  if (e.patch !== undefined && canonical.patch !== e.patch) {
    return { ok: false, why: `patch version ${canonical.patch} is not ${e.patch}` };
  }
  return { ok: true };
}

function checkVersionedTag(s: ProvenanceSummary, want: string, out: ProvenanceCheck[]): void {
  const tag = refName(s.tagRef, 'tags');
  if (tag === undefined) throw mismatch('source versioned tag', want, foundRef(s));
  const r = versionedTagMatches(tag, want);
  if (!r.ok) throw mismatch('source versioned tag', want, s.tagRef, ` (${r.why})`);
  out.push({ field: 'source versioned tag', expected: want, found: s.tagRef! });
}

/** The provenance must agree with the Fulcio certificate that signed it. */
function checkSigner(
  s: ProvenanceSummary,
  source: string,
  c: CertificateClaims,
  out: ProvenanceCheck[],
): void {
  // Builder: the signing workflow (OID 1.9, else the SAN) is the provenance builder.id, exactly.
  const signer = c.buildSignerURI ?? c.subjectAlternativeName;
  if (!builderMatches(s.builderId, signer, true)) {
    throw mismatch('builder id', `the certificate's signer ${signer}`, s.builderId);
  }
  out.push({ field: 'builder id (certificate)', expected: signer, found: s.builderId });

  // Source repository: OID 1.12 (https://github.com/o/r), else OID 1.5 (o/r on github.com).
  const certRepo = c.sourceRepositoryURI
    ? normalizeGitUri(c.sourceRepositoryURI)
    : c.githubWorkflowRepository
      ? `git+https://github.com/${c.githubWorkflowRepository}`
      : undefined;
  if (certRepo !== source) {
    throw mismatch(
      'certificate source repository',
      source,
      c.sourceRepositoryURI ?? c.githubWorkflowRepository,
    );
  }
  out.push({ field: 'source repository (certificate)', expected: source, found: certRepo });

  // Commit and ref, when both sides record them, must be the same (the certificate's are authenticated).
  const commit = c.sourceRepositoryDigest ?? c.githubWorkflowSha;
  if (commit && s.sourceDigest) {
    if (commit.toLowerCase() !== s.sourceDigest.value) {
      throw mismatch('source commit', `the certificate's ${commit}`, s.sourceDigest.value);
    }
    out.push({ field: 'source commit (certificate)', expected: commit, found: s.sourceDigest.value });
  }
  const ref = c.sourceRepositoryRef ?? c.githubWorkflowRef;
  if (ref && s.sourceRef) {
    if (ref !== s.sourceRef) throw mismatch('source ref', `the certificate's ${ref}`, s.sourceRef);
    out.push({ field: 'source ref (certificate)', expected: ref, found: s.sourceRef });
  }
}

/**
 * Check a provenance summary against what the caller requires (and, given, the signing
 * certificate's claims). Throws PROVENANCE_MISMATCH (SUBJECT_MISMATCH for the digest) naming the
 * field, the expected and the found value; returns every check that passed, in order.
 */
export function checkProvenance(
  summary: ProvenanceSummary,
  expected: ProvenanceExpectations,
  signer?: CertificateClaims,
): ProvenanceCheck[] {
  if (!expected.sourceUri) throw usage('the expected source repository (source URI) is required');
  const source = normalizeGitUri(expected.sourceUri);
  if (splitGitUri(source).ref)
    throw usage(`source URI ${expected.sourceUri} must not name a ref; use a tag or branch check`);
  const out: ProvenanceCheck[] = [];
  if (expected.builderId !== undefined) checkBuilder(summary, expected.builderId, out);
  if (signer) checkSigner(summary, source, signer, out);
  checkSource(summary, source, out);
  checkSubject(summary, expected.subjectSha256, out);
  if (expected.sourceBranch !== undefined) checkBranch(summary, expected.sourceBranch, out);
  if (expected.sourceTag !== undefined) checkTag(summary, expected.sourceTag, out);
  if (expected.sourceVersionedTag !== undefined) checkVersionedTag(summary, expected.sourceVersionedTag, out);
  return out;
}
