/**
 * Compare an Sbom from vouch with the ground truth of the same root filesystem (truth.ts).
 * Pure: no I/O. The test asserts on the report; the bench prints it.
 *
 * A truth entry is "found" when a package of its ecosystem has the same name (PEP 503 for
 * Python, groupId/artifactId for Maven, module path for Go, @scope/name for npm) and version,
 * and one of its locations is the truth's path or inside it (`…/x.dist-info/METADATA`,
 * `…/app.jar!/…`, `…/node_modules/x/package.json`).
 */
import type { Package, PackageType, Sbom } from '../../src/sbom/model.ts';
import { parsePurl } from '../../src/sbom/purl.ts';
import {
  ECOSYSTEMS,
  type Ecosystem,
  type GoTruth,
  type JavaTruth,
  type LangTruth,
  type Truth,
} from './truth.ts';

export const ECOSYSTEM_TYPE: Readonly<Record<Ecosystem, PackageType>> = {
  python: 'pypi',
  java: 'maven',
  go: 'golang',
  npm: 'npm',
};

const LOCKFILES =
  /\/(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|\.package-lock\.json)$/;

export interface DebReport {
  expected: number;
  found: number;
  missing: string[];
  wrongVersion: string[];
  wrongSource: string[];
  /** deb packages vouch reported that dpkg does not know. */
  unexpected: string[];
}

export interface EcosystemReport {
  expected: number;
  /** Found by name, version and location. */
  found: number;
  /** Found by name and version anywhere (a looser measure, printed beside). */
  foundByNameVersion: number;
  recall: number;
  missing: LangTruth[];
  /** Packages of this type vouch reported that match no truth entry (symlinked copies, lockfile-only, ...). */
  extra: string[];
  /** Truth entries matched by more than one package. */
  reportedTwice: string[];
  /** Entries owned by a deb whose package has no (or the wrong) ownedBy, or the reverse. */
  wrongOwner: string[];
}

export interface Report {
  deb: DebReport;
  ecosystems: Record<Ecosystem, EcosystemReport>;
  /** Same type+name+version+first location more than once. */
  duplicates: string[];
  /** Deleted by a whiteout, still reported at (or inside) the deleted path. */
  deletedStillThere: string[];
  /** Deleted, and the same name@version reported elsewhere (informational: e.g. a lockfile). */
  deletedSeenElsewhere: string[];
}

/** PEP 503 normalisation. */
export function normalizePython(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** go1.19.8 / v1.19.8 / 1.19.8 compare equal. */
export function normalizeGoVersion(v: string): string {
  return v.replace(/^go/, '').replace(/^v/, '');
}

/** The package's ecosystem name as the truth spells it (scope/namespace included). */
export function canonicalName(p: Package): { name: string; group?: string } {
  let ns: string | undefined;
  let name = p.name;
  try {
    const parts = parsePurl(p.purl);
    ns = parts.namespace;
    name = parts.name;
  } catch {
    // Fall back to the package's own fields.
  }
  switch (p.type) {
    case 'pypi':
      return { name: normalizePython(name) };
    case 'maven': {
      const g = ns ?? (typeof p.metadata?.groupId === 'string' ? p.metadata.groupId : undefined);
      return g === undefined ? { name } : { name, group: g };
    }
    case 'npm':
    case 'golang':
      if (p.name.includes('/') || ns === undefined) return { name: p.name.includes('/') ? p.name : name };
      return { name: `${ns}/${name}` };
    default:
      return { name };
  }
}

function truthName(eco: Ecosystem, t: LangTruth): string {
  return eco === 'python' ? normalizePython(t.name) : t.name;
}

function sameVersion(eco: Ecosystem, a: string, b: string): boolean {
  if (a === b) return true;
  return eco === 'go' && normalizeGoVersion(a) === normalizeGoVersion(b);
}

/** `loc` is the truth path or inside it (directory, or an archive member). */
export function locatedAt(loc: string, path: string): boolean {
  if (loc === path) return true;
  if (!loc.startsWith(path)) return false;
  const next = loc[path.length];
  return next === '/' || next === '!' || next === ':';
}

function matches(eco: Ecosystem, p: Package, t: LangTruth): boolean {
  const n = canonicalName(p);
  if (n.name !== truthName(eco, t)) return false;
  if (eco === 'java' && n.group !== undefined && n.group !== (t as JavaTruth).groupId) return false;
  if (sameVersion(eco, p.version, t.version)) return true;
  // A replaced Go dependency may be reported under what replaced it.
  const r = eco === 'go' ? (t as GoTruth).replacedBy : undefined;
  return r !== undefined && n.name === r.name && sameVersion(eco, p.version, r.version);
}

function label(p: Package): string {
  return `${p.type}:${canonicalName(p).name}@${p.version} at ${p.locations[0]?.path ?? '?'}`;
}

export function compareWithTruth(sbom: Sbom, truth: Truth): Report {
  const byType = new Map<PackageType, Package[]>();
  for (const p of sbom.packages) {
    const list = byType.get(p.type) ?? [];
    list.push(p);
    byType.set(p.type, list);
  }
  const byId = new Map(sbom.packages.map((p) => [p.id, p]));

  const ecosystems = {} as Record<Ecosystem, EcosystemReport>;
  for (const eco of ECOSYSTEMS) {
    const pkgs = byType.get(ECOSYSTEM_TYPE[eco]) ?? [];
    const used = new Set<Package>();
    const r: EcosystemReport = {
      expected: 0,
      found: 0,
      foundByNameVersion: 0,
      recall: 1,
      missing: [],
      extra: [],
      reportedTwice: [],
      wrongOwner: [],
    };
    for (const t of truth[eco]) {
      r.expected++;
      const same = pkgs.filter((p) => matches(eco, p, t));
      if (same.length > 0) r.foundByNameVersion++;
      const here = same.filter((p) => p.locations.some((l) => locatedAt(l.path, t.path)));
      if (here.length === 0) {
        r.missing.push(t);
        continue;
      }
      r.found++;
      for (const p of here) used.add(p);
      if (here.length > 1)
        r.reportedTwice.push(`${t.name}@${t.version} at ${t.path}: ${here.length} packages`);
      for (const p of here) {
        const owner = p.ownedBy === undefined ? undefined : byId.get(p.ownedBy);
        const ownerName =
          owner?.type === 'deb'
            ? owner.name
            : owner === undefined
              ? undefined
              : `${owner.type}:${owner.name}`;
        if (ownerName !== t.ownedBy) {
          r.wrongOwner.push(
            `${t.name}@${t.version} at ${t.path}: owned by ${ownerName ?? 'nothing'}, dpkg says ${t.ownedBy ?? 'nothing'}`,
          );
        }
      }
    }
    r.recall = r.expected === 0 ? 1 : r.found / r.expected;
    r.extra = pkgs.filter((p) => !used.has(p)).map(label);
    ecosystems[eco] = r;
  }

  return {
    deb: compareDeb(byType.get('deb') ?? [], truth),
    ecosystems,
    duplicates: duplicates(sbom.packages),
    ...deletedChecks(sbom.packages, truth),
  };
}

function compareDeb(debs: Package[], truth: Truth): DebReport {
  const byName = new Map<string, Package[]>();
  for (const p of debs) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  const r: DebReport = {
    expected: truth.deb.length,
    found: 0,
    missing: [],
    wrongVersion: [],
    wrongSource: [],
    unexpected: [],
  };
  const known = new Set(truth.deb.map((d) => d.name));
  for (const d of truth.deb) {
    const cands = byName.get(d.name) ?? [];
    if (cands.length === 0) {
      r.missing.push(`${d.name} ${d.version}`);
      continue;
    }
    const p = cands.find((c) => c.version === d.version);
    if (!p) {
      r.wrongVersion.push(`${d.name}: dpkg ${d.version}, vouch ${cands.map((c) => c.version).join(', ')}`);
      continue;
    }
    r.found++;
    const srcName = p.source?.name ?? p.name;
    const srcVersion = p.source?.version ?? p.version;
    if (srcName !== d.sourceName || srcVersion !== d.sourceVersion) {
      r.wrongSource.push(
        `${d.name}: dpkg source ${d.sourceName} ${d.sourceVersion}, vouch ${srcName} ${srcVersion}`,
      );
    }
  }
  for (const p of debs) if (!known.has(p.name)) r.unexpected.push(`${p.name} ${p.version}`);
  return r;
}

export function duplicates(packages: readonly Package[]): string[] {
  const seen = new Map<string, number>();
  for (const p of packages) {
    const k = `${p.type}\0${p.name}\0${p.version}\0${p.locations[0]?.path ?? ''}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  return [...seen.entries()].filter(([, n]) => n > 1).map(([k, n]) => `${k.replaceAll('\0', ' ')} ×${n}`);
}

function deletedChecks(
  packages: readonly Package[],
  truth: Truth,
): Pick<Report, 'deletedStillThere' | 'deletedSeenElsewhere'> {
  const deletedStillThere: string[] = [];
  const deletedSeenElsewhere: string[] = [];
  for (const d of truth.deleted) {
    for (const p of packages) {
      if (p.locations.some((l) => locatedAt(l.path, d.path))) {
        deletedStillThere.push(`${d.path} (deleted): ${label(p)}`);
        continue;
      }
      if (p.type !== ECOSYSTEM_TYPE[d.ecosystem]) continue;
      const n = canonicalName(p).name;
      if (n === truthName(d.ecosystem, d) && p.version === d.version) {
        const where = p.locations.map((l) => l.path).join(', ');
        const lock = p.locations.every((l) => LOCKFILES.test(l.path)) ? ' (lockfile only)' : '';
        deletedSeenElsewhere.push(
          `${d.ecosystem}:${d.name}@${d.version} deleted at ${d.path}, reported at ${where}${lock}`,
        );
      }
    }
  }
  return { deletedStillThere, deletedSeenElsewhere };
}

/** Lines for the test output / bench: recall per ecosystem and what failed. */
export function formatReport(title: string, r: Report): string {
  const lines = [`${title}`];
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  lines.push(
    `  deb     ${r.deb.found}/${r.deb.expected} right version (${pct(r.deb.expected ? r.deb.found / r.deb.expected : 1)}); ` +
      `missing ${r.deb.missing.length}, wrong version ${r.deb.wrongVersion.length}, wrong source ${r.deb.wrongSource.length}, unexpected ${r.deb.unexpected.length}`,
  );
  for (const eco of ECOSYSTEMS) {
    const e = r.ecosystems[eco];
    lines.push(
      `  ${eco.padEnd(7)} recall ${pct(e.recall).padStart(6)} (${e.found}/${e.expected} by name+version+location, ` +
        `${e.foundByNameVersion} by name+version); extra ${e.extra.length}, twice ${e.reportedTwice.length}, wrong owner ${e.wrongOwner.length}`,
    );
    for (const m of e.missing.slice(0, 10)) lines.push(`      missing ${m.name}@${m.version} at ${m.path}`);
    for (const x of e.extra.slice(0, 5)) lines.push(`      extra ${x}`);
  }
  lines.push(
    `  duplicates ${r.duplicates.length}; deleted still reported ${r.deletedStillThere.length}; deleted seen elsewhere ${r.deletedSeenElsewhere.length}`,
  );
  return lines.join('\n');
}
