/**
 * The severity of one finding, from the OSV records merged into it, by a documented and
 * reorderable precedence (trivy's `auto` in spirit):
 *
 *  1. `distro`  - the distribution's own rating, for OS packages only: Debian's urgency
 *                 (`ecosystem_specific.urgency` of DEBIAN-CVE records), Ubuntu's priority
 *                 (`ecosystem_specific.ubuntu_priority`, `severity[]` of type `Ubuntu`), a
 *                 `severity` label in `ecosystem_specific`/`database_specific` (AlmaLinux, Rocky);
 *                 Alpine publishes none. The highest label of the matched entries wins.
 *  2. `ghsa`    - GitHub's `database_specific.severity` of a GHSA record.
 *  3. `cvss_v3` - CVSS v3.x vectors in `severity[]`: the matched `affected[]` entry's own before
 *                 the record's; among several at that level, the highest score (fail closed).
 *  4. `cvss_v4`, 5. `cvss_v2` - likewise.
 *  6. nothing rated it: UNKNOWN (never dropped: UNKNOWN is in every default gate).
 *
 * A rating that says nothing (`not yet assigned`, `untriaged`) is skipped, not UNKNOWN. Every
 * source's rating is kept in `vendorSeverity` (keys: the distro's name, 'ghsa', the publisher of
 * each CVSS vector, and 'cvss_v3'/'cvss_v4'/'cvss_v2'), every scored vector in `cvss`.
 * CVSS publishers: GHSA records → 'ghsa'; DEBIAN-CVE and ALPINE-CVE records → 'nvd' (osv.dev's
 * converters copy NVD's metrics into them); Ubuntu's CVE records → 'ubuntu'; otherwise the
 * record id's prefix in lower case ('pysec', 'go', ...).
 */
import { VouchError } from '../../errors.ts';
import type { CvssScore, Severity } from '../finding.ts';
import type { OsvAffected, OsvRecord, OsvSeverity } from '../osv.ts';
import { type CvssVersion, type ScoredVector, scoreCvss, severityFromScore } from './cvss.ts';
import { severityFromLabel } from './labels.ts';

export { scoreCvss, severityFromScore } from './cvss.ts';
export { severityFromLabel } from './labels.ts';

export const SEVERITY_SOURCES = ['distro', 'ghsa', 'cvss_v3', 'cvss_v4', 'cvss_v2'] as const;
export type SeveritySource = (typeof SEVERITY_SOURCES)[number];
/** The default order (see the module comment). */
export const SEVERITY_PRECEDENCE: readonly SeveritySource[] = SEVERITY_SOURCES;

/** One merged record and the `affected[]` entries of it that matched the package. */
export interface SeverityEvidence {
  record: OsvRecord;
  entries: OsvAffected[];
}

export interface SeverityInput {
  evidence: SeverityEvidence[];
  /** For OS packages: the distribution ('debian', 'ubuntu', 'alpine', ...) whose labels count. */
  distro?: string;
}

export interface SeverityAssessment {
  severity: Severity;
  /** The source that decided: the distro's name, 'ghsa', 'cvss_v3', ...; '' when nothing rated it. */
  severitySource: string;
  vendorSeverity: Record<string, Severity>;
  cvss: CvssScore[];
}

const RANK: Record<Severity, number> = { UNKNOWN: 0, LOW: 1, MEDIUM: 2, HIGH: 3, CRITICAL: 4 };

/**
 * A user's `--severity-source` list as a precedence: `auto` stands for the default order at its
 * place; other words name a source of SEVERITY_SOURCES or a vendorSeverity key ('nvd', 'debian').
 */
export function parseSeverityPrecedence(list: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of list) {
    const s = raw.trim().toLowerCase();
    if (!/^[a-z][a-z0-9_-]*$/.test(s)) {
      throw new VouchError('USAGE', `severity source ${JSON.stringify(raw)} is not a source name`, {
        hint: `use auto or any of ${SEVERITY_SOURCES.join(', ')}, or a vendor such as nvd or debian`,
      });
    }
    for (const x of s === 'auto' ? SEVERITY_PRECEDENCE : [s]) if (!out.includes(x)) out.push(x);
  }
  if (out.length === 0) throw new VouchError('USAGE', 'the severity source list is empty');
  return out;
}

export function assessSeverity(
  input: SeverityInput,
  o: { precedence?: readonly string[] } = {},
): SeverityAssessment {
  const vendor: Record<string, Severity> = {};
  const distro = input.distro?.toLowerCase();
  if (distro) {
    const d = distroRating(input.evidence);
    if (d) vendor[distro] = d;
  }
  const ghsa = highest(
    input.evidence
      .filter((e) => e.record.id.startsWith('GHSA-'))
      .map((e) => severityFromLabel(e.record.database_specific?.severity)),
  );
  if (ghsa) vendor.ghsa = ghsa;

  const scored = collectCvss(input.evidence, distro);
  for (const [version, key] of [
    [['3.0', '3.1'], 'cvss_v3'],
    [['4.0'], 'cvss_v4'],
    [['2.0'], 'cvss_v2'],
  ] as const) {
    const s = best(scored, version);
    if (s) vendor[key] = severityFromScore(s.score, s.version);
  }
  for (const source of [...new Set(scored.map((s) => s.source))].sort()) {
    if (vendor[source] !== undefined) continue; // a stated label beats the publisher's own vector
    const own = scored.filter((s) => s.source === source);
    const s = best(own, ['3.0', '3.1']) ?? best(own, ['4.0']) ?? best(own, ['2.0']);
    if (s) vendor[source] = severityFromScore(s.score, s.version);
  }

  const cvss: CvssScore[] = scored
    .map(({ source, version, vector, score }) => ({ source, version, vector, score }))
    .sort((a, b) => cmp(a.source, b.source) || cmp(a.version, b.version) || cmp(a.vector, b.vector));
  const vendorSeverity = Object.fromEntries(Object.entries(vendor).sort(([a], [b]) => cmp(a, b)));

  for (const token of o.precedence ?? SEVERITY_PRECEDENCE) {
    const key = token === 'distro' ? distro : token;
    // the `ghsa` step is GitHub's stated label; its vector counts in the cvss_* steps
    const s = key === undefined ? undefined : key === 'ghsa' ? ghsa : vendor[key];
    if (s !== undefined && s !== 'UNKNOWN')
      return { severity: s, severitySource: key!, vendorSeverity, cvss };
  }
  return { severity: 'UNKNOWN', severitySource: '', vendorSeverity, cvss };
}

/** The highest distribution label over the matched entries (and their records). */
function distroRating(evidence: SeverityEvidence[]): Severity | undefined {
  const found: (Severity | undefined)[] = [];
  for (const { record, entries } of evidence) {
    if (record.id.startsWith('GHSA-')) continue;
    for (const a of entries) {
      const es = a.ecosystem_specific ?? {};
      const ds = a.database_specific ?? {};
      found.push(
        severityFromLabel(es.urgency),
        severityFromLabel(es.ubuntu_priority),
        severityFromLabel(es.severity),
        severityFromLabel(ds.severity),
        ...labelsOf(a.severity),
      );
    }
    found.push(...labelsOf(record.severity), severityFromLabel(record.database_specific?.severity));
  }
  return highest(found);
}

/** `severity[]` entries of type `Ubuntu` carry a priority word, not a vector. */
function labelsOf(severity: OsvSeverity[] | undefined): (Severity | undefined)[] {
  return (severity ?? []).filter((s) => s.type === 'Ubuntu').map((s) => severityFromLabel(s.score));
}

interface SourcedVector extends ScoredVector {
  source: string;
  /** 0: the matched affected[] entry's own, 1: the record's. */
  level: 0 | 1;
}

function collectCvss(evidence: SeverityEvidence[], distro: string | undefined): SourcedVector[] {
  const out: SourcedVector[] = [];
  const seen = new Set<string>();
  const add = (list: OsvSeverity[] | undefined, source: string, level: 0 | 1) => {
    for (const s of list ?? []) {
      if (!s.type.startsWith('CVSS_')) continue;
      const v = scoreCvss(s.score);
      const key = `${source}\0${v?.vector}`;
      if (!v || seen.has(key)) continue;
      seen.add(key);
      out.push({ ...v, source, level });
    }
  };
  for (const { record, entries } of evidence) {
    const source = cvssSource(record.id, distro);
    for (const a of entries) add(a.severity, source, 0);
    add(record.severity, source, 1);
  }
  return out;
}

export function cvssSource(id: string, distro?: string): string {
  if (id.startsWith('GHSA-')) return 'ghsa';
  if (/^(DEBIAN|ALPINE)-CVE-/.test(id)) return 'nvd';
  if (distro === 'ubuntu' && /^(UBUNTU-)?CVE-/.test(id)) return 'ubuntu';
  const dash = id.indexOf('-');
  return (dash > 0 ? id.slice(0, dash) : id).toLowerCase();
}

/** The highest score among vectors of these versions, at the most specific level present. */
function best(xs: SourcedVector[], versions: readonly CvssVersion[]): SourcedVector | undefined {
  const of = xs.filter((x) => versions.includes(x.version));
  const level = Math.min(...of.map((x) => x.level));
  let top: SourcedVector | undefined;
  for (const x of of) if (x.level === level && (!top || x.score > top.score)) top = x;
  return top;
}

function highest(xs: (Severity | undefined)[]): Severity | undefined {
  let top: Severity | undefined;
  for (const x of xs) if (x && (!top || RANK[x] > RANK[top])) top = x;
  return top;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
