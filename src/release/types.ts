/**
 * What `verify-release` checks and reports: per image (the index, then each platform image) a
 * list of outcomes, each pass, fail (with the error code) or skip.
 */
import type { Digest } from '../digest/digest.ts';
import type { ErrorCode } from '../errors.ts';
import type { VerifyOptions } from '../verify/image.ts';
import type { ProvenanceExpectations } from '../verify/provenance.ts';

export const RELEASE_CHECKS = ['platforms', 'signature', 'provenance', 'sbom', 'vuln'] as const;
export type ReleaseCheck = (typeof RELEASE_CHECKS)[number];

export const SBOM_FORMATS = ['cyclonedx', 'spdx'] as const;
export type SbomFormat = (typeof SBOM_FORMATS)[number];

/** Facts a passing check found, for `--output json` (strings and lists of strings only). */
export type Facts = Record<string, string | number | string[]>;

export type CheckOutcome =
  | { check: ReleaseCheck; status: 'pass'; detail: string; facts: Facts }
  | { check: ReleaseCheck; status: 'fail'; code: ErrorCode; message: string; hint?: string }
  | { check: ReleaseCheck; status: 'skip'; reason: string };

export interface SubjectResult {
  role: 'index' | 'image';
  /** `linux/amd64`, `linux/arm64/v8`; undefined for the index. */
  platform: string | undefined;
  digest: Digest;
  checks: CheckOutcome[];
}

export interface WrittenSbom {
  platform: string;
  format: SbomFormat;
  path: string;
}

export interface ReleaseResult {
  /** The release by digest: `registry/repo@sha256:…` or `oci:DIR@sha256:…`. */
  display: string;
  digest: Digest;
  kind: 'index' | 'image';
  /** Every check passed (skipped ones count as passed: they were not asked for). */
  ok: boolean;
  subjects: SubjectResult[];
  /** SBOMs written to `sbomOutput` (only when the whole release verified). */
  sboms: WrittenSbom[];
}

/** The provenance checks of slsa-verifier, or none at all. */
export type ProvenanceRequirement =
  | { kind: 'skip' }
  | ({ kind: 'check' } & Omit<ProvenanceExpectations, 'subjectSha256'>);

export interface ReleaseOptions extends VerifyOptions {
  provenance: ProvenanceRequirement;
  /** Also require a verified vulnerability scan attestation (cosign's vuln predicate). */
  requireVuln?: boolean | undefined;
  /** Write each platform's verified SBOM here (created when missing). */
  sbomOutput?: string | undefined;
}
