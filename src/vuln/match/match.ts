/**
 * SBOM packages × OSV advisories → findings.
 *
 * For every package: one OSV query (ecosystem.ts); every non-withdrawn record with an
 * `affected[]` entry for that exact ecosystem and name is evaluated (range.ts); records that are
 * the same vulnerability are merged into one finding (aliases.ts); fix status (status.ts) and
 * severity (../severity) are filled; a finding's match details say which records, which range
 * and which version decided it.
 *
 * - A language package nested in an OS package (ownedBy: Debian's python3-requests holds
 *   requests' dist-info) is matched once, as the OS package against the distribution's
 *   advisories; its language twin is skipped with the reason recorded.
 * - A version that cannot be ordered gives an entry in `unknown`, never silence.
 * - Built-in set-aside: kernel CVEs on header-only packages built from the kernel source
 *   (linux-libc-dev, linux-headers-*, linux-kbuild-*, ...) are kept but set aside, because a
 *   container runs the host's kernel, not the one those headers describe.
 *
 * Work is cached per open database (a WeakMap, so it goes with the database): the records and
 * compiled ranges per (ecosystem, name), each record's verdict per version, and the finished
 * findings per (query, version, options) as frozen templates. A second scan against the same
 * open database only walks the SBOM and copies templates (2,000 packages: under 20 ms).
 */
import type { Package, Sbom } from '../../sbom/model.ts';
import { OS_PACKAGE_TYPES } from '../../sbom/model.ts';
import type { AdvisoryDb } from '../db/types.ts';
import type { Finding } from '../finding.ts';
import type { OsvAffected, OsvRecord } from '../osv.ts';
import { assessSeverity } from '../severity/index.ts';
import { comparators as realComparators, type VersionComparator } from '../version/index.ts';
import { compareIds, IdGroups, isUmbrella, primaryId, upstreamVulnerabilities } from './aliases.ts';
import { type OsvQuery, pep503, queryFor, sourceOf } from './ecosystem.ts';
import { type AffectedEvaluator, type Comparators, compileAffected } from './range.ts';
import { fixStatus } from './status.ts';

export interface MatchOptions {
  /** When the scan happens: records withdrawn at or before it never match (default: now). */
  now?: Date;
  /** Severity precedence (see src/vuln/severity); default SEVERITY_PRECEDENCE. */
  severityPrecedence?: readonly string[];
  /** Comparators to use instead of src/vuln/version's (tests only). */
  comparators?: Comparators;
}

export interface UnknownMatch {
  package: Package;
  /** The record that could not be evaluated; absent when the package could not be queried at all. */
  record?: string;
  reason: string;
}

export interface SkippedPackage {
  package: Package;
  reason: string;
}

export interface MatchResult {
  /** Sorted by package (name, version, id), then finding id. */
  findings: Finding[];
  unknown: UnknownMatch[];
  /** Packages deliberately not matched, with why (never silently). */
  skipped: SkippedPackage[];
}

type Outcome =
  | { kind: 'affected'; range: string; entries: OsvAffected[]; fixed?: string }
  | { kind: 'not-affected' }
  | { kind: 'unknown'; reason: string };

interface Candidate {
  record: OsvRecord;
  withdrawnAt: number | undefined;
  umbrella: boolean;
  entries: { raw: OsvAffected; ev: AffectedEvaluator }[];
  outcomes: Map<string, Outcome>;
}

/** A finding without the package it is about: the same for every package at that (query, version). */
type FindingTemplate = Omit<Finding, 'package' | 'installedVersion' | 'setAside'>;

interface PackageVulns {
  templates: FindingTemplate[];
  unknown: { record: string; reason: string }[];
}

interface DbCache {
  candidates: Map<string, Candidate[]>;
  /** By query, version, options and the withdrawn records still live at `now`. */
  vulns: Map<string, PackageVulns>;
}

const caches = new WeakMap<AdvisoryDb, WeakMap<Comparators, DbCache>>();

function cacheFor(db: AdvisoryDb, comparators: Comparators): DbCache {
  let byCmp = caches.get(db);
  if (!byCmp) {
    byCmp = new WeakMap();
    caches.set(db, byCmp);
  }
  let c = byCmp.get(comparators);
  if (!c) {
    c = { candidates: new Map(), vulns: new Map() };
    byCmp.set(comparators, c);
  }
  return c;
}

const DISTRO_OF: Record<string, string> = {
  Debian: 'debian',
  Ubuntu: 'ubuntu',
  Alpine: 'alpine',
  Wolfi: 'wolfi',
  Chainguard: 'chainguard',
  AlmaLinux: 'alma',
  'Rocky Linux': 'rocky',
};

export function matchSbom(sbom: Sbom, db: AdvisoryDb, o: MatchOptions = {}): MatchResult {
  const now = (o.now ?? new Date()).getTime();
  const comparators = o.comparators ?? realComparators;
  const cache = cacheFor(db, comparators);
  const byId = new Map(sbom.packages.map((p) => [p.id, p]));
  const findings: Finding[] = [];
  const unknown: UnknownMatch[] = [];
  const skipped: SkippedPackage[] = [];

  for (const pkg of sbom.packages) {
    const owner = pkg.ownedBy ? byId.get(pkg.ownedBy) : undefined;
    if (owner && OS_PACKAGE_TYPES.includes(owner.type) && !OS_PACKAGE_TYPES.includes(pkg.type)) {
      skipped.push({
        package: pkg,
        reason: `installed by the ${owner.type} package ${owner.name} ${owner.version}, which is matched against the distribution's advisories instead`,
      });
      continue;
    }
    const plan = queryFor(pkg, sbom.os);
    if (plan.kind === 'skip') {
      skipped.push({ package: pkg, reason: plan.reason });
      continue;
    }
    if (plan.kind === 'unknown') {
      unknown.push({ package: pkg, reason: plan.reason });
      continue;
    }
    const q = plan.query;
    const v = vulnsFor(cache, db, q, pkg.type, now, o, comparators);
    if (v.templates.length > 0) {
      const about = describePackage(pkg);
      const aside = setAside(pkg, q);
      for (const t of v.templates) findings.push(instantiate(t, about, aside));
    }
    for (const u of v.unknown) unknown.push({ package: pkg, ...u });
  }

  // Stable sorts: a package's findings and unknowns are already in id order.
  type Keyed = { package: { name: string; version: string; id: string } };
  const byPkg = (a: Keyed, b: Keyed) =>
    cmp(a.package.name, b.package.name) ||
    cmp(a.package.version, b.package.version) ||
    cmp(a.package.id, b.package.id);
  findings.sort(byPkg);
  unknown.sort(byPkg);
  skipped.sort(byPkg);
  return { findings, unknown, skipped };
}

function candidatesFor(db: AdvisoryDb, cache: DbCache, q: OsvQuery, comparators: Comparators): Candidate[] {
  const key = `${q.ecosystem}\0${q.name}\0${q.scheme}`;
  const hit = cache.candidates.get(key);
  if (hit) return hit;
  const seen = new Set<string>();
  const out: Candidate[] = [];
  for (const record of db.recordsFor(q.ecosystem, q.name)) {
    if (seen.has(record.id)) continue;
    seen.add(record.id);
    const raw = (record.affected ?? []).filter(
      (a) => a.package?.ecosystem === q.ecosystem && sameName(a.package.name, q),
    );
    if (raw.length === 0) continue;
    out.push({
      record,
      withdrawnAt: record.withdrawn === undefined ? undefined : withdrawnTime(record.withdrawn),
      umbrella: isUmbrella(record),
      entries: raw.map((a) => ({ raw: a, ev: compileAffected(a, q.scheme, comparators) })),
      outcomes: new Map(),
    });
  }
  out.sort((a, b) => compareIds(a.record.id, b.record.id));
  cache.candidates.set(key, out);
  return out;
}

/** A withdrawn date that cannot be read still means withdrawn. */
function withdrawnTime(s: string): number {
  const t = Date.parse(s);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

function sameName(name: string, q: OsvQuery): boolean {
  return q.ecosystem === 'PyPI' ? pep503(name) === q.name : name === q.name;
}

function outcomeOf(c: Candidate, version: string): Outcome {
  const hit = c.outcomes.get(version);
  if (hit) return hit;
  let out: Outcome = { kind: 'not-affected' };
  const affected: { raw: OsvAffected; range: string; fixed?: string }[] = [];
  let unknown: string | undefined;
  for (const e of c.entries) {
    const r = e.ev.evaluate(version);
    if (r.kind === 'affected') {
      const fixed = e.ev.fixedAbove(version);
      affected.push({ raw: e.raw, range: r.range, ...(fixed !== undefined ? { fixed } : {}) });
    } else if (r.kind === 'unknown') unknown ??= r.reason;
  }
  if (affected.length > 0) {
    const withFix = affected.filter((a) => a.fixed !== undefined);
    const first = withFix[0] ?? affected[0]!;
    out = {
      kind: 'affected',
      range: first.range,
      entries: affected.map((a) => a.raw),
      ...(first.fixed !== undefined ? { fixed: first.fixed } : {}),
    };
  } else if (unknown !== undefined) {
    out = { kind: 'unknown', reason: unknown };
  }
  c.outcomes.set(version, out);
  return out;
}

function vulnsFor(
  cache: DbCache,
  db: AdvisoryDb,
  q: OsvQuery,
  type: Package['type'],
  now: number,
  o: MatchOptions,
  comparators: Comparators,
): PackageVulns {
  const all = candidatesFor(db, cache, q, comparators);
  const live = all.filter((c) => c.withdrawnAt === undefined || c.withdrawnAt > now);
  const revived = live.filter((c) => c.withdrawnAt !== undefined).map((c) => c.record.id);
  const key = [
    q.ecosystem,
    q.name,
    q.scheme,
    q.version,
    q.via,
    type,
    o.severityPrecedence?.join(',') ?? '',
    ...revived,
  ].join('\0');
  const hit = cache.vulns.get(key);
  if (hit) return hit;
  const out = computeVulns(q, type, live, o, comparators[q.scheme]);
  cache.vulns.set(key, out);
  return out;
}

function computeVulns(
  q: OsvQuery,
  type: Package['type'],
  live: Candidate[],
  o: MatchOptions,
  cmpVersion: VersionComparator,
): PackageVulns {
  if (live.length === 0) return { templates: [], unknown: [] };

  // Identity: aliases (and a single upstream) merge; umbrellas attach to each upstream.
  const groups = new IdGroups();
  const attached = new Map<string, Candidate[]>(); // vulnerability id → umbrellas naming it
  for (const c of live) {
    const r = c.record;
    groups.find(r.id);
    for (const a of r.aliases ?? []) groups.union(r.id, a);
    if (!c.umbrella) {
      for (const u of r.upstream ?? []) groups.union(r.id, u);
      continue;
    }
    for (const [key, ids] of upstreamVulnerabilities(r)) {
      for (const id of ids) groups.union(key, id);
      const l = attached.get(key) ?? [];
      l.push(c);
      attached.set(key, l);
    }
  }
  const members = new Map<string, { own: Candidate[]; umbrellas: Set<Candidate> }>();
  const slot = (root: string) => {
    let m = members.get(root);
    if (!m) {
      m = { own: [], umbrellas: new Set() };
      members.set(root, m);
    }
    return m;
  };
  for (const c of live) if (!c.umbrella) slot(groups.find(c.record.id)).own.push(c);
  for (const [key, us] of attached) for (const u of us) slot(groups.find(key)).umbrellas.add(u);
  const ids = groups.groups();

  const templates: FindingTemplate[] = [];
  const covered = new Set<Candidate>();
  const outcomes = new Map<Candidate, Outcome>(live.map((c) => [c, outcomeOf(c, q.version)]));
  for (const [root, m] of [...members].sort(([a], [b]) => compareIds(a, b))) {
    const umbrellas = [...m.umbrellas].sort((a, b) => compareIds(a.record.id, b.record.id));
    const affecting = [...m.own, ...umbrellas].filter((c) => outcomes.get(c)?.kind === 'affected');
    if (affecting.length === 0) continue;
    for (const c of [...m.own, ...umbrellas]) covered.add(c);
    const groupIds = new Set([...(ids.get(root) ?? [root]), ...umbrellas.map((u) => u.record.id)]);
    templates.push(buildTemplate(q, type, m.own, umbrellas, affecting, groupIds, outcomes, cmpVersion, o));
  }

  const unknown: PackageVulns['unknown'] = [];
  for (const c of live) {
    const out = outcomes.get(c)!;
    if (out.kind === 'unknown' && !covered.has(c)) unknown.push({ record: c.record.id, reason: out.reason });
  }
  templates.sort((a, b) => compareIds(a.id, b.id));
  unknown.sort((a, b) => compareIds(a.record, b.record));
  return { templates: deepFreeze(templates), unknown: deepFreeze(unknown) };
}

function buildTemplate(
  q: OsvQuery,
  type: Package['type'],
  own: Candidate[],
  umbrellas: Candidate[],
  affecting: Candidate[],
  groupIds: Set<string>,
  outcomes: Map<Candidate, Outcome>,
  cmpVersion: VersionComparator,
  o: MatchOptions,
): FindingTemplate {
  const id = primaryId(groupIds);
  const aliases = [...groupIds].filter((x) => x !== id).sort(compareIds);
  const hits = affecting.map((c) => ({ c, out: outcomes.get(c) as Extract<Outcome, { kind: 'affected' }> }));

  // The lowest fix any affecting record names; its range is the one shown.
  let chosen = hits[0]!;
  for (const h of hits) {
    if (h.out.fixed === undefined) continue;
    if (chosen.out.fixed === undefined || lower(cmpVersion, h.out.fixed, chosen.out.fixed)) chosen = h;
  }
  const fixedVersion = chosen.out.fixed;
  const status = fixStatus(
    fixedVersion,
    hits.flatMap((h) => h.out.entries),
  );

  const family = q.ecosystem.split(':')[0]!;
  const distro = OS_PACKAGE_TYPES.includes(type) ? DISTRO_OF[family] : undefined;
  const rated = own.length > 0 ? own : umbrellas;
  const sev = assessSeverity(
    {
      evidence: rated.map((c) => ({ record: c.record, entries: c.entries.map((e) => e.raw) })),
      ...(distro ? { distro } : {}),
    },
    o.severityPrecedence ? { precedence: o.severityPrecedence } : {},
  );

  // Text and dates from the record named by the finding's id, else the group's records in id order.
  const ordered = [...own, ...umbrellas].sort(
    (a, b) => Number(b.record.id === id) - Number(a.record.id === id) || compareIds(a.record.id, b.record.id),
  );
  const r = (ordered.find((c) => outcomes.get(c)?.kind === 'affected') ?? affecting[0]!).record;
  const title = ordered.find((c) => c.record.summary)?.record.summary;
  const description = ordered.find((c) => c.record.details)?.record.details;
  const references = [...new Set(affecting.flatMap((c) => (c.record.references ?? []).map((x) => x.url)))];
  const advisory = (r.references ?? []).find((x) => x.type === 'ADVISORY')?.url;
  return {
    id,
    aliases,
    ...(fixedVersion !== undefined ? { fixedVersion } : {}),
    status,
    severity: sev.severity,
    severitySource: sev.severitySource,
    vendorSeverity: sev.vendorSeverity,
    cvss: sev.cvss,
    ...(title ? { title } : {}),
    ...(description ? { description } : {}),
    primaryUrl: advisory ?? `https://osv.dev/vulnerability/${r.id}`,
    ...(references.length > 0 ? { references } : {}),
    ...(r.published ? { published: r.published } : {}),
    ...(r.modified ? { modified: r.modified } : {}),
    match: {
      records: affecting.map((c) => c.record.id).sort(compareIds),
      ecosystem: q.ecosystem,
      name: q.name,
      via: q.via,
      range: chosen.out.range,
      version: q.version,
    },
  };
}

/** What a finding says about its package (the source only for OS packages, which have one). */
function describePackage(pkg: Package): Finding['package'] {
  const source = OS_PACKAGE_TYPES.includes(pkg.type) ? sourceOf(pkg) : undefined;
  const loc = pkg.locations[0];
  return {
    id: pkg.id,
    type: pkg.type,
    name: pkg.name,
    version: pkg.version,
    purl: pkg.purl,
    ...(source?.version !== undefined ? { source: { name: source.name, version: source.version } } : {}),
    ...(loc ? { path: loc.path } : {}),
    ...(loc?.layer ? { layer: loc.layer } : {}),
  };
}

/** A template made a finding: fresh containers, so callers may change what they get. */
function instantiate(
  t: FindingTemplate,
  about: Finding['package'],
  aside: Finding['setAside'] | undefined,
): Finding {
  const f: Finding = {
    ...t,
    aliases: [...t.aliases],
    package: { ...about, ...(about.source ? { source: { ...about.source } } : {}) },
    installedVersion: about.version,
    vendorSeverity: { ...t.vendorSeverity },
    cvss: t.cvss.map((c) => ({ ...c })),
    ...(t.references ? { references: [...t.references] } : {}),
    match: { ...t.match, records: [...t.match.records] },
  };
  if (aside) f.setAside = { ...aside };
  return f;
}

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

/** Header-only packages built from the kernel source (Debian/Ubuntu `linux`, Alpine `linux-headers`). */
const KERNEL_HEADERS = /^linux-(libc-dev|headers|kbuild|source|doc|support)(?:$|-)/;

export const KERNEL_HEADERS_RULE = {
  rule: 'kernel-headers',
  reason: 'kernel vulnerabilities do not apply inside a container: the package only ships headers',
} as const;

export function setAside(pkg: Package, q: OsvQuery): Finding['setAside'] | undefined {
  const kernelSource =
    (pkg.type === 'deb' && q.name === 'linux') || (pkg.type === 'apk' && q.name === 'linux-headers');
  if (kernelSource && KERNEL_HEADERS.test(pkg.name)) return { ...KERNEL_HEADERS_RULE };
  return undefined;
}

/** a < b when both order in this scheme (a SEMVER range's fix may not parse natively). */
function lower(c: VersionComparator, a: string, b: string): boolean {
  return c.isValid(a) && c.isValid(b) && c.compare(a, b) < 0;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
