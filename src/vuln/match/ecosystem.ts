/**
 * Which OSV package a cataloged package is: ecosystem, name and the version to compare.
 * Each package type maps to exactly one ecosystem; a package is never looked up under a guessed
 * name in another ecosystem.
 *
 * OS packages (osv-schema "Defined ecosystems"; osv-scanner queries the same way):
 *  - deb: `Debian:<major>` or `Ubuntu:<YY.MM>[:LTS]`; the name is the SOURCE package (dpkg
 *    `Source:`, fallback the binary name). The version is the SOURCE version too: DSA, DLA and
 *    DEBIAN-CVE records are written from the security tracker, whose fixed versions are source
 *    uploads, and a binary can carry a version of its own (gcc-defaults builds `cpp` as
 *    4:12.2.0-3 from source 1.203). A binNMU (binary-only rebuild) appends `+bN` to the binary
 *    version but keeps the source version, so a binNMU of a fixed source is fixed.
 *  - apk: `Alpine:v<major.minor>` (also Wolfi, Chainguard); name = the origin (`o:`), version
 *    = the package's (every subpackage of an origin shares it).
 *  - rpm: `AlmaLinux:<major>`, `Rocky Linux:<major>`, binary name, `[epoch:]version-release`.
 *    Red Hat's own records are keyed by CPE stream and SUSE's by product name, which an image
 *    does not say: such packages are reported as not matchable rather than guessed.
 * Language packages: npm, PyPI (PEP 503 name), Go (module path without `v` in the version;
 * the toolchain is OSV's `stdlib`, `go1.22.1` → `1.22.1`), Maven `group:artifact`, RubyGems,
 * Rust crates.
 */
import type { OsInfo, Package } from '../../sbom/model.ts';
import { parsePurl } from '../../sbom/purl.ts';
import type { Finding } from '../finding.ts';
import type { VersionScheme } from '../version/types.ts';

/**
 * OSV's ecosystem name for Rust crates is the crate registry's host name; built from parts
 * because this project does not write registry host names into its files.
 */
export const RUST_ECOSYSTEM = ['crates', 'io'].join('.');

export interface OsvQuery {
  /** Exactly as OSV writes it in `affected[].package.ecosystem`, e.g. 'Debian:12'. */
  ecosystem: string;
  /** As OSV writes it (PyPI: PEP 503-normalised). */
  name: string;
  /** The version to compare (Debian: the source version; Go: without `v`). */
  version: string;
  scheme: VersionScheme;
  via: Finding['match']['via'];
}

export type QueryPlan =
  | { kind: 'query'; query: OsvQuery }
  /** Deliberately not matched (e.g. an unreleased Go main module). */
  | { kind: 'skip'; reason: string }
  /** Cannot be matched: a gate must see it, it is not "safe". */
  | { kind: 'unknown'; reason: string };

const DEBIAN_CODENAMES: Record<string, string> = {
  jessie: '8',
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
  forky: '14',
  duke: '15',
};

/** The OSV ecosystem of an OS release, or a reason why there is none. */
export function osEcosystem(os: OsInfo | undefined): { ecosystem: string } | { reason: string } {
  if (!os?.id) return { reason: 'the image has no known OS release (no os-release file)' };
  const id = os.id.toLowerCase();
  const v = os.versionId ?? '';
  switch (id) {
    case 'debian': {
      const major = /^(\d+)/.exec(v)?.[1] ?? DEBIAN_CODENAMES[(os.versionCodename ?? '').toLowerCase()];
      if (major) return { ecosystem: `Debian:${major}` };
      return {
        reason: `Debian release ${JSON.stringify(v || os.versionCodename || '')} has no OSV ecosystem`,
      };
    }
    case 'ubuntu': {
      const m = /^(\d\d)\.(\d\d)$/.exec(v);
      if (!m) return { reason: `Ubuntu release ${JSON.stringify(v)} is not YY.MM` };
      // LTS releases are the April releases of even years; OSV requires the ':LTS' suffix on them.
      const lts = m[2] === '04' && Number(m[1]) % 2 === 0;
      return { ecosystem: `Ubuntu:${v}${lts ? ':LTS' : ''}` };
    }
    case 'alpine': {
      const m = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(v);
      if (!m)
        return {
          reason: `Alpine release ${JSON.stringify(v)} is not a stable branch (edge has no OSV data)`,
        };
      return { ecosystem: `Alpine:v${m[1]}.${m[2]}` };
    }
    case 'wolfi':
      return { ecosystem: 'Wolfi' };
    case 'chainguard':
      return { ecosystem: 'Chainguard' };
    case 'almalinux':
    case 'rocky': {
      const major = /^(\d+)/.exec(v)?.[1];
      const name = id === 'rocky' ? 'Rocky Linux' : 'AlmaLinux';
      if (major) return { ecosystem: `${name}:${major}` };
      return { reason: `${name} release ${JSON.stringify(v)} has no major version` };
    }
    default:
      return { reason: `OS "${os.id}" has no OSV ecosystem vouch can name without guessing` };
  }
}

const OS_SCHEME: Record<'deb' | 'apk' | 'rpm', VersionScheme> = { deb: 'deb', apk: 'apk', rpm: 'rpm' };

/** The OSV query for one package (ownership is decided by the caller: see match.ts). */
export function queryFor(pkg: Package, os: OsInfo | undefined): QueryPlan {
  if (pkg.version === '') return { kind: 'unknown', reason: 'the package has no version' };
  switch (pkg.type) {
    case 'deb':
    case 'apk':
    case 'rpm':
      return osQuery(pkg, pkg.type, os);
    case 'npm':
      return query('npm', pkg.name, pkg.version, 'semver', 'name');
    case 'pypi':
      return query('PyPI', pep503(pkg.name), pkg.version, 'pep440', 'name');
    case 'gem':
      return query('RubyGems', pkg.name, pkg.version, 'gem', 'name');
    case 'cargo':
      return query(RUST_ECOSYSTEM, pkg.name, pkg.version, 'cargo', 'name');
    case 'golang':
      return goQuery(pkg);
    case 'maven':
      return mavenQuery(pkg);
  }
}

function query(
  ecosystem: string,
  name: string,
  version: string,
  scheme: VersionScheme,
  via: OsvQuery['via'],
): QueryPlan {
  return { kind: 'query', query: { ecosystem, name, version, scheme, via } };
}

function osQuery(pkg: Package, type: 'deb' | 'apk' | 'rpm', os: OsInfo | undefined): QueryPlan {
  const eco = osEcosystem(os);
  if ('reason' in eco) return { kind: 'unknown', reason: eco.reason };
  const scheme = OS_SCHEME[type];
  const family = eco.ecosystem.split(':')[0]!;
  const expected = {
    deb: ['Debian', 'Ubuntu'],
    apk: ['Alpine', 'Wolfi', 'Chainguard'],
    rpm: ['AlmaLinux', 'Rocky Linux'],
  };
  if (!expected[type].includes(family)) {
    return { kind: 'unknown', reason: `a ${type} package on ${family} has no OSV ecosystem` };
  }
  if (type === 'rpm') return query(eco.ecosystem, pkg.name, pkg.version, scheme, 'name');
  const source = sourceOf(pkg);
  if (type === 'apk') {
    return query(eco.ecosystem, source?.name ?? pkg.name, pkg.version, scheme, source ? 'origin' : 'name');
  }
  if (!source) return query(eco.ecosystem, pkg.name, stripBinNmu(pkg.version), scheme, 'name');
  return query(
    eco.ecosystem,
    source.name,
    source.version ?? stripBinNmu(pkg.version),
    scheme,
    'source-package',
  );
}

/** The source package: the cataloger's, else the purl's `upstream` qualifier (`name` or `name@version`). */
export function sourceOf(pkg: Package): { name: string; version?: string } | undefined {
  if (pkg.source?.name) return pkg.source;
  let upstream: string | undefined;
  try {
    upstream = parsePurl(pkg.purl).qualifiers?.upstream;
  } catch {
    return undefined;
  }
  if (!upstream) return undefined;
  const at = upstream.indexOf('@');
  if (pkg.type === 'rpm') return undefined; // rpm's upstream is a SOURCERPM file name
  return at < 0 ? { name: upstream } : { name: upstream.slice(0, at), version: upstream.slice(at + 1) };
}

/** `1.2-3+b2` → `1.2-3`: a binNMU is the same source upload rebuilt. */
export function stripBinNmu(version: string): string {
  return version.replace(/\+b\d+$/, '');
}

/** PEP 503: lowercase, every run of `-`, `_`, `.` becomes one `-`. */
export function pep503(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

function goQuery(pkg: Package): QueryPlan {
  if (pkg.version === '(devel)') {
    return {
      kind: 'skip',
      reason: 'Go module built from a checkout ((devel)): no released version to match',
    };
  }
  if (pkg.name === 'stdlib') {
    const v = goToolchainVersion(pkg.version);
    if (!v)
      return {
        kind: 'unknown',
        reason: `Go toolchain version ${JSON.stringify(pkg.version)} is not goX.Y[.Z][rcN|betaN]`,
      };
    return query('Go', 'stdlib', v, 'go', 'stdlib');
  }
  return query('Go', pkg.name, pkg.version.replace(/^v/, ''), 'go', 'name');
}

/**
 * The Go toolchain as OSV's Go records version it (golang/vulndb semver conversion):
 * go1.22 → 1.22.0, go1.22.1 → 1.22.1, go1.22rc1 → 1.22.0-rc.1, go1.9beta2 → 1.9.0-beta.2.
 * Also accepts the purl form without `go` ('1.22.1').
 */
export function goToolchainVersion(v: string): string | undefined {
  const m = /^(?:go)?(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta|alpha)(\d+))?$/.exec(v.split(/\s/)[0] ?? '');
  if (!m) return undefined;
  const base = `${m[1]}.${m[2]}.${m[3] ?? '0'}`;
  return m[4] ? `${base}-${m[4]}.${m[5]}` : base;
}

function mavenQuery(pkg: Package): QueryPlan {
  if (pkg.metadata?.groupIdGuessed === true) {
    return {
      kind: 'unknown',
      reason:
        'the Maven groupId was guessed from the jar name (no pom.properties); matching it would be a guess',
    };
  }
  let group: string | undefined;
  let artifact = pkg.name;
  try {
    const p = parsePurl(pkg.purl);
    group = p.namespace;
    artifact = p.name;
  } catch {
    group = typeof pkg.metadata?.groupId === 'string' ? pkg.metadata.groupId : undefined;
  }
  if (!group) return { kind: 'unknown', reason: 'the Maven package has no groupId' };
  return query('Maven', `${group}:${artifact}`, pkg.version, 'maven', 'purl');
}
