/**
 * The CVE gate's data: exceptions (from `.trivyignore` / `.trivyignore.yaml`), VEX statements
 * (OpenVEX), the policy and the result. Pure data, no I/O.
 */
import type { Finding, FixStatus, Severity } from '../vuln/finding.ts';

/** Where a policy item was written: a file and a 1-based line (or a JSON pointer for VEX). */
export interface SourceRef {
  file: string;
  /** 1-based line, when the format has lines. */
  line?: number;
  /** JSON pointer inside the file (VEX documents), e.g. '/statements/2'. */
  pointer?: string;
}

/** `file:line`, `file#/pointer` or `file`. */
export function formatSource(s: SourceRef): string {
  if (s.line !== undefined) return `${s.file}:${s.line}`;
  if (s.pointer !== undefined) return `${s.file}#${s.pointer}`;
  return s.file;
}

/** One accepted vulnerability, as trivy's IgnoreFinding plus vouch's mandatory statement. */
export interface Exception {
  /**
   * Exact, case-sensitive vulnerability id (no alias matching, as trivy). Absent = any
   * vulnerability of the listed paths/purls (trivy's id-optional YAML entries); the parser
   * refuses an entry with no id, no paths and no purls.
   */
  id?: string;
  /** doublestar globs against the package path; none = any path. */
  paths?: string[];
  /** purls; versionless = any version, listed qualifiers must be present and equal; none = any package. */
  purls?: string[];
  /** Why the risk is accepted: mandatory in vouch. */
  statement: string;
  /** `YYYY-MM-DD` (or an RFC 3339 time from YAML) as written. */
  expires?: string;
  /** The moment the exception stops applying: 00:00 UTC of the date (so it is inactive on the date). */
  expiresAt?: Date;
  source: SourceRef;
}

export const VEX_STATUSES = ['not_affected', 'affected', 'fixed', 'under_investigation'] as const;
export type VexStatus = (typeof VEX_STATUSES)[number];

export const VEX_JUSTIFICATIONS = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
] as const;
export type VexJustification = (typeof VEX_JUSTIFICATIONS)[number];

/** A product or subcomponent of an OpenVEX statement: an IRI `@id` plus optional identifiers and hashes. */
export interface VexComponent {
  id?: string;
  /** identifiers.purl (and `@id` when it is a purl is handled by the matcher). */
  purls: string[];
  /** Other identifiers (cpe22, cpe23) and hash values, compared exactly. */
  others: string[];
}

export interface VexProduct extends VexComponent {
  subcomponents: VexComponent[];
}

/** One OpenVEX statement, with the document's timestamp already cascaded into it. */
export interface VexStatement {
  vulnerability: { name: string; aliases: string[] };
  products: VexProduct[];
  status: VexStatus;
  justification?: VexJustification;
  impactStatement?: string;
  actionStatement?: string;
  /** Effective time (statement timestamp, else the document's), ISO 8601; orders statements. */
  timestamp?: string;
  /** Position across all loaded documents; breaks timestamp ties (later wins). */
  order: number;
  source: SourceRef;
}

/** What the scanned artifact is, for VEX product matching. */
export interface GateTarget {
  /** purls of the artifact itself (the image's pkg:oci purl when known). */
  productPurls: string[];
  /** Manifest (and index) digests: a pkg:oci product whose version is one of these matches. */
  productDigests: string[];
  /** Package id → purls of the packages holding it (nearest first), e.g. Debian's python3-x for a PyPI package. */
  parents: Record<string, string[]>;
}

export interface GatePolicy {
  /** Findings of other severities are suppressed. Default: all. */
  severities: Severity[];
  /** trivy's --ignore-unfixed: every status but `fixed` is suppressed. */
  ignoreUnfixed: boolean;
  /** trivy's --ignore-status; when set it replaces ignoreUnfixed. */
  ignoreStatuses?: FixStatus[];
  exceptions: Exception[];
  vex: VexStatement[];
  /** Exceptions expire against this clock. */
  now: Date;
}

export const SUPPRESSION_KINDS = ['set-aside', 'severity', 'status', 'ignorefile', 'vex'] as const;
export type SuppressionKind = (typeof SUPPRESSION_KINDS)[number];

export type SuppressionReason =
  | { kind: 'set-aside'; detail: string; rule: string }
  | { kind: 'severity'; detail: string }
  | { kind: 'status'; detail: string }
  | { kind: 'ignorefile'; detail: string; exception: Exception }
  | { kind: 'vex'; detail: string; statement: VexStatement };

export interface Suppressed {
  finding: Finding;
  reason: SuppressionReason;
}

export interface ExceptionNote {
  exception: Exception;
  /** `file:line` */
  source: string;
}

export interface GateResult {
  decision: 'pass' | 'fail';
  /** Findings the policy keeps: any one fails the gate. */
  kept: Finding[];
  /** Every finding the policy set aside, with why: the audit trail. */
  suppressed: Suppressed[];
  /** Exceptions whose date has passed: they no longer apply. */
  expiredExceptions: ExceptionNote[];
  /** Active exceptions that matched no finding (a typo'd id or path looks like this). */
  unusedExceptions: ExceptionNote[];
  /** The statuses actually ignored (from ignoreStatuses or ignoreUnfixed). */
  ignoredStatuses: FixStatus[];
  severities: Severity[];
}
