/**
 * The CVE gate: findings + policy → pass/fail, pure. Filters run in trivy's order (severity,
 * status, ignore-file ids, VEX), after vouch's built-in set-aside rules. A suppressed finding
 * is never dropped: it stays in the result with the reason (audit trail). The gate fails
 * exactly when a finding is kept; that is a result, not an error.
 */
import { FIX_STATUSES, type Finding, type FixStatus, SEVERITIES, type Severity } from '../vuln/finding.ts';
import { exceptionMatches } from './match.ts';
import {
  type Exception,
  type ExceptionNote,
  formatSource,
  type GatePolicy,
  type GateResult,
  type GateTarget,
  type Suppressed,
} from './types.ts';
import { describeStatement, vexStatementFor } from './vex.ts';

export const NO_TARGET: GateTarget = { productPurls: [], productDigests: [], parents: {} };

/** A policy with trivy's defaults: every severity, no status ignored, no exceptions. */
export function defaultPolicy(now: Date): GatePolicy {
  return { severities: [...SEVERITIES], ignoreUnfixed: false, exceptions: [], vex: [], now };
}

/** The statuses a policy ignores: --ignore-status when given, else every status but fixed for --ignore-unfixed. */
export function ignoredStatuses(policy: Pick<GatePolicy, 'ignoreUnfixed' | 'ignoreStatuses'>): FixStatus[] {
  if (policy.ignoreStatuses && policy.ignoreStatuses.length > 0) return sortedStatuses(policy.ignoreStatuses);
  return policy.ignoreUnfixed ? FIX_STATUSES.filter((s) => s !== 'fixed') : [];
}

function sortedStatuses(s: readonly FixStatus[]): FixStatus[] {
  return FIX_STATUSES.filter((x) => s.includes(x));
}

/** True while the exception applies: before 00:00 UTC of its date. */
export function isActive(e: Exception, now: Date): boolean {
  return e.expiresAt === undefined || now.getTime() < e.expiresAt.getTime();
}

export function evaluateGate(
  findings: readonly Finding[],
  policy: GatePolicy,
  target: GateTarget = NO_TARGET,
): GateResult {
  const severities = SEVERITIES.filter((s) => policy.severities.includes(s));
  const statuses = ignoredStatuses(policy);
  const active = policy.exceptions.filter((e) => isActive(e, policy.now));
  const used = new Set<Exception>();
  const kept: Finding[] = [];
  const suppressed: Suppressed[] = [];

  for (const f of findings) {
    if (f.setAside) {
      suppressed.push({
        finding: f,
        reason: {
          kind: 'set-aside',
          rule: f.setAside.rule,
          detail: `${f.setAside.rule}: ${f.setAside.reason}`,
        },
      });
      continue;
    }
    if (!severities.includes(f.severity)) {
      suppressed.push({
        finding: f,
        reason: {
          kind: 'severity',
          detail: `severity ${f.severity} is not in ${severities.join(',') || '(none)'}`,
        },
      });
      continue;
    }
    if (statuses.includes(f.status)) {
      suppressed.push({ finding: f, reason: { kind: 'status', detail: `status ${f.status} is ignored` } });
      continue;
    }
    const e = active.find((x) => exceptionMatches(x, f));
    if (e) {
      used.add(e);
      const until = e.expires ? ` (until ${e.expires})` : '';
      suppressed.push({
        finding: f,
        reason: {
          kind: 'ignorefile',
          exception: e,
          detail: `${formatSource(e.source)}${until}: ${e.statement}`,
        },
      });
      continue;
    }
    const s = vexStatementFor(f, policy.vex, target);
    if (s && (s.status === 'not_affected' || s.status === 'fixed')) {
      suppressed.push({
        finding: f,
        reason: { kind: 'vex', statement: s, detail: `${formatSource(s.source)}: ${describeStatement(s)}` },
      });
      continue;
    }
    kept.push(f);
  }

  const note = (exception: Exception): ExceptionNote => ({
    exception,
    source: formatSource(exception.source),
  });
  return {
    decision: kept.length > 0 ? 'fail' : 'pass',
    kept: sortFindings(kept),
    suppressed: sortSuppressed(suppressed),
    expiredExceptions: policy.exceptions.filter((e) => !isActive(e, policy.now)).map(note),
    unusedExceptions: active.filter((e) => !used.has(e)).map(note),
    ignoredStatuses: statuses,
    severities,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const RANK: Record<Severity, number> = { UNKNOWN: 0, LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 };

/** trivy's order (BySeverity): package name, installed version, severity (highest first), id, path; then purl. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    cmp(a.package.name, b.package.name) ||
    cmp(a.installedVersion, b.installedVersion) ||
    RANK[b.severity] - RANK[a.severity] ||
    cmp(a.id, b.id) ||
    cmp(a.package.path ?? '', b.package.path ?? '') ||
    cmp(a.package.purl, b.package.purl) ||
    cmp(a.package.id, b.package.id)
  );
}

export function sortFindings(fs: readonly Finding[]): Finding[] {
  return [...fs].sort(compareFindings);
}

function sortSuppressed(s: readonly Suppressed[]): Suppressed[] {
  return [...s].sort((a, b) => compareFindings(a.finding, b.finding) || cmp(a.reason.kind, b.reason.kind));
}

/** Counts of kept findings per severity, in SEVERITIES order. */
export function severityCounts(fs: readonly Finding[]): Record<Severity, number> {
  const out = { UNKNOWN: 0, LOW: 0, MEDIUM: 0, HIGH: 0, CRITICAL: 0 };
  for (const f of fs) out[f.severity]++;
  return out;
}
