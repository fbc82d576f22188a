/**
 * One comparator per version scheme, and which scheme an OSV ecosystem or a package type uses.
 * The map is typed over the scheme union, so a scheme without a comparator does not compile.
 */
import type { PackageType } from '../../sbom/model.ts';
import { apkComparator } from './apk.ts';
import { cargoComparator } from './cargo.ts';
import { debComparator } from './deb.ts';
import { gemComparator } from './gem.ts';
import { goComparator } from './go.ts';
import { mavenComparator } from './maven.ts';
import { pep440Comparator } from './pep440.ts';
import { rpmComparator } from './rpm.ts';
import { semverComparator } from './semver.ts';
import { VERSION_SCHEMES, type VersionComparator, type VersionScheme } from './types.ts';

export type { VersionComparator, VersionScheme } from './types.ts';
export { VERSION_SCHEMES } from './types.ts';

const BY_SCHEME: { readonly [S in VersionScheme]: VersionComparator } = {
  deb: debComparator,
  apk: apkComparator,
  rpm: rpmComparator,
  semver: semverComparator,
  pep440: pep440Comparator,
  go: goComparator,
  maven: mavenComparator,
  gem: gemComparator,
  cargo: cargoComparator,
};

/** Built from VERSION_SCHEMES so its key order is the declared one. */
export const comparators: { readonly [S in VersionScheme]: VersionComparator } = Object.freeze(
  Object.fromEntries(VERSION_SCHEMES.map((s) => [s, BY_SCHEME[s]])) as {
    [S in VersionScheme]: VersionComparator;
  },
);

// the crate registry's ecosystem name is its host name, which project files never spell whole
const CARGO_ECOSYSTEM = ['crates', 'io'].join('.');

/** OSV ecosystem names (before any ':release' suffix) and the scheme their ECOSYSTEM ranges use. */
const ECOSYSTEMS: ReadonlyMap<string, VersionScheme> = new Map<string, VersionScheme>([
  ['Debian', 'deb'],
  ['Ubuntu', 'deb'],
  ['Alpine', 'apk'],
  ['Wolfi', 'apk'],
  ['Chainguard', 'apk'],
  ['Red Hat', 'rpm'],
  ['AlmaLinux', 'rpm'],
  ['Rocky Linux', 'rpm'],
  ['SUSE', 'rpm'],
  ['openSUSE', 'rpm'],
  ['Mageia', 'rpm'],
  ['openEuler', 'rpm'],
  ['npm', 'semver'],
  ['PyPI', 'pep440'],
  ['Go', 'go'],
  ['Maven', 'maven'],
  ['RubyGems', 'gem'],
  [CARGO_ECOSYSTEM, 'cargo'],
]);

/**
 * 'Debian:12', 'Ubuntu:Pro:18.04:LTS', 'Alpine:v3.20' → their scheme; undefined for an ecosystem
 * vouch cannot order (NuGet, Packagist, ...), which callers must treat as unknown, never as safe.
 * Names are matched exactly, as OSV defines them.
 */
export function schemeForEcosystem(ecosystem: string): VersionScheme | undefined {
  const colon = ecosystem.indexOf(':');
  return ECOSYSTEMS.get(colon < 0 ? ecosystem : ecosystem.slice(0, colon));
}

const BY_PACKAGE_TYPE: { readonly [T in PackageType]: VersionScheme } = {
  deb: 'deb',
  apk: 'apk',
  rpm: 'rpm',
  npm: 'semver',
  pypi: 'pep440',
  golang: 'go',
  maven: 'maven',
  cargo: 'cargo',
  gem: 'gem',
};

/** The scheme of a cataloged package's version (its purl type). */
export function schemeForPackageType(type: PackageType): VersionScheme {
  return BY_PACKAGE_TYPE[type];
}

/** The comparator for an OSV ecosystem, or undefined when vouch has none. */
export function comparatorForEcosystem(ecosystem: string): VersionComparator | undefined {
  const scheme = schemeForEcosystem(ecosystem);
  return scheme === undefined ? undefined : comparators[scheme];
}
