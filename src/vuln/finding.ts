import type { PackageType } from '../sbom/model.ts';

export const SEVERITIES = ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** trivy-db's statuses that vouch reports (unknown/not_affected/under_investigation never are). */
export const FIX_STATUSES = ['fixed', 'affected', 'will_not_fix', 'fix_deferred', 'end_of_life'] as const;
export type FixStatus = (typeof FIX_STATUSES)[number];

export interface CvssScore {
  /** Who published it: 'nvd', 'ghsa', 'debian', 'osv' (record-level), ... */
  source: string;
  version: '2.0' | '3.0' | '3.1' | '4.0';
  vector: string;
  score: number;
}

/** One vulnerability in one package: aliases merged (CVE, GHSA, DSA are one finding). */
export interface Finding {
  /** Primary id: the CVE when one is known, else the advisory id. */
  id: string;
  /** Every other id for the same vulnerability, sorted. */
  aliases: string[];
  package: {
    /** Package.id from the SBOM */
    id: string;
    type: PackageType;
    name: string;
    version: string;
    purl: string;
    source?: { name: string; version: string };
    /** First evidence path (and layer) */
    path?: string;
    layer?: string;
  };
  installedVersion: string;
  /** Lowest fixed version above the installed one, when any. */
  fixedVersion?: string;
  status: FixStatus;
  severity: Severity;
  /** Which source decided the severity (see the documented precedence), e.g. 'debian', 'nvd', 'cvss_v3'. */
  severitySource: string;
  /** Severity per source, as trivy's VendorSeverity. */
  vendorSeverity: Record<string, Severity>;
  cvss: CvssScore[];
  title?: string;
  description?: string;
  primaryUrl?: string;
  references?: string[];
  published?: string;
  modified?: string;
  /** How it was matched, so every finding can be explained. */
  match: {
    /** OSV record ids that matched */
    records: string[];
    ecosystem: string;
    /** Name queried (a Debian binary package matches through its source name). */
    name: string;
    via: 'name' | 'source-package' | 'origin' | 'stdlib' | 'purl';
    /** Human-readable range that matched, e.g. 'introduced 0, fixed 2.36-9+deb12u4' or 'listed version'. */
    range: string;
    /** The version compared: the installed one, or a Debian binary's source version, a Go version without `v`. */
    version?: string;
  };
  /** Set when a built-in rule says the finding cannot apply (kernel CVEs on header packages). */
  setAside?: { rule: string; reason: string };
}
