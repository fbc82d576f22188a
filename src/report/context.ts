/**
 * What every report writer needs besides the gate result: what was scanned, the policy as the
 * user gave it, and the digests of every input, so the same inputs give the same report.
 */
import type { Sbom } from '../sbom/model.ts';
import type { Severity } from '../vuln/finding.ts';

export const ARTIFACT_TYPES = ['container_image', 'cyclonedx', 'spdx', 'filesystem'] as const;
export type ArtifactType = (typeof ARTIFACT_TYPES)[number];

/** A package the matcher could not decide (its version does not parse): unknown, never safe. */
export interface UnknownPackage {
  name: string;
  version: string;
  purl: string;
  reason: string;
}

/** A package the matcher left undecided or skipped, as the report lists it (record named first). */
export function undecidedPackage(u: {
  package: Sbom['packages'][number];
  reason: string;
  record?: string;
}): UnknownPackage {
  return {
    name: u.package.name,
    version: u.package.version,
    purl: u.package.purl,
    reason: u.record ? `${u.record}: ${u.reason}` : u.reason,
  };
}

export interface ReportPolicy {
  severities: Severity[];
  ignoreUnfixed: boolean;
  ignoreStatuses: string[];
  ignoreFile?: string;
  vex: string[];
  severitySources: string[];
  /** Exit code used when the gate fails. */
  exitCode: number;
}

export interface ReportInputs {
  /** sha256 of the SBOM file scanned (SBOM input). */
  sbomDigest?: string;
  /** Manifest digest of the image scanned (image input). */
  imageDigest?: string;
  /** The advisory database's contentDigest. */
  dbDigest: string;
  /** sha256 over the ignore file, VEX files and gate flags. */
  policyDigest: string;
  /** UTC date exceptions were evaluated on (expiry has day granularity). */
  evaluatedOn: string;
}

export interface ReportContext {
  /** As the user named it: 'oci:./out:1.0', 'sbom.cdx.json'. */
  artifactName: string;
  artifactType: ArtifactType;
  sbom: Sbom;
  toolVersion: string;
  /** ISO 8601; only set from SOURCE_DATE_EPOCH, so reports stay reproducible. */
  createdAt?: string;
  policy: ReportPolicy;
  inputs: ReportInputs;
  unknown: UnknownPackage[];
  /** Packages the matcher deliberately did not match, with why. */
  skipped?: UnknownPackage[];
}
