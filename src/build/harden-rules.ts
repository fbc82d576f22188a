/**
 * What `vouch harden` removes and what it never touches, as data: one list per category, shared
 * with the static image checks (src/imagetest) so "package managers gone" means the same thing
 * in both places.
 *
 * Paths are globs over the image's real paths (src/fs/glob.ts; no leading '/'), each removing
 * the path and everything below it. Programs are base-name patterns looked up in the usual
 * program directories and in the image's PATH.
 *
 * Package databases are KEPT on purpose: /var/lib/dpkg/status (and status.d, info/*.list),
 * /lib/apk/db/installed and the rpm database are what SBOM scanners (vouch, syft, trivy) read
 * to list OS packages. Without them the image would look like it has no OS packages at all,
 * and their vulnerabilities would go unreported: worse for security than a few kilobytes kept.
 */
import { globMatcher, globToRegExp } from '../fs/glob.ts';
import type { EntryType } from '../fs/tar.ts';

export const HARDEN_CATEGORIES = ['package-managers', 'docs', 'caches', 'pip', 'pycache'] as const;
export type HardenCategory = (typeof HARDEN_CATEGORIES)[number];

/**
 * What runs when nothing is chosen. pip is opt-in (some images install at run time on purpose);
 * __pycache__ is opt-in because a non-root user on a read-only root cannot rebuild it, so
 * removing it makes every start slower for no security gain.
 */
export const DEFAULT_HARDEN_CATEGORIES: readonly HardenCategory[] = ['package-managers', 'docs', 'caches'];

/** Directories searched for programs, besides every directory of the image's PATH. */
export const PROGRAM_DIRS = [
  '/bin',
  '/sbin',
  '/usr/bin',
  '/usr/sbin',
  '/usr/local/bin',
  '/usr/local/sbin',
] as const;

/** Package manager programs, as base-name patterns. */
export const PACKAGE_MANAGER_PROGRAMS = [
  // Debian, Ubuntu
  'apt',
  'apt-*',
  'aptitude',
  'aptitude-*',
  'dpkg',
  'dpkg-*',
  'debconf',
  'debconf-*',
  // Alpine
  'apk',
  // Fedora, RHEL, SUSE
  'rpm',
  'rpm2archive',
  'rpm2cpio',
  'rpmdb',
  'rpmkeys',
  'rpmquery',
  'rpmverify',
  'yum',
  'dnf',
  'dnf-3',
  'dnf4',
  'dnf5',
  'microdnf',
  'tdnf',
  'zypper',
  // others met in base images
  'pacman',
  'opkg',
] as const;

export const PIP_PROGRAMS = ['pip', 'pip2', 'pip2.*', 'pip3', 'pip3.*'] as const;

export interface RemoveRule {
  category: HardenCategory;
  /** Real paths to remove, with everything below them. */
  globs: readonly string[];
  /** Base-name patterns of programs (in PROGRAM_DIRS and PATH) to remove. */
  programs?: readonly string[];
}

/** In order: a path matching several categories belongs to the first enabled one. */
export const REMOVE_RULES: readonly RemoveRule[] = [
  {
    category: 'package-managers',
    programs: PACKAGE_MANAGER_PROGRAMS,
    globs: [
      // apt: sources, keys, downloaded lists and archives, logs, methods
      'etc/apt',
      'var/lib/apt',
      'var/cache/apt',
      'var/log/apt',
      'usr/lib/apt',
      // dpkg configuration and helpers (its database is kept, see PACKAGE_DATABASES)
      'etc/dpkg',
      'usr/lib/dpkg',
      'usr/share/dpkg',
      'var/log/dpkg.log',
      'var/lib/dpkg/*-old',
      // debconf answers may hold preseeded passwords (passwords.dat)
      'var/cache/debconf',
      // apk: repositories, keys, cache (the database in lib/apk/db is kept)
      'etc/apk',
      'var/cache/apk',
      'usr/share/apk',
      // yum, dnf, zypper (the rpm database is kept)
      'etc/yum',
      'etc/yum.conf',
      'etc/yum.repos.d',
      'etc/dnf',
      'etc/zypp',
      'var/cache/yum',
      'var/cache/dnf',
      'var/cache/zypp',
      'var/lib/yum',
      'var/lib/dnf',
      'var/log/yum.log',
      'var/log/dnf*.log',
    ],
  },
  {
    category: 'pip',
    programs: PIP_PROGRAMS,
    globs: [
      '**/{site-packages,dist-packages}/pip',
      '**/{site-packages,dist-packages}/pip-*.dist-info',
      '**/bin/{pip,pip3,pip3.*}',
    ],
  },
  {
    category: 'docs',
    globs: [
      'usr/share/doc/*',
      'usr/share/man',
      'usr/share/info',
      'usr/share/lintian',
      'usr/share/linda',
      'usr/share/gtk-doc',
      'usr/share/locale/*',
      'usr/local/share/doc',
      'usr/local/share/man',
      'usr/local/share/info',
    ],
  },
  {
    category: 'caches',
    globs: [
      'var/cache/*',
      'root/.cache',
      'home/*/.cache',
      'root/.npm/_cacache',
      'home/*/.npm/_cacache',
      'tmp/*',
      'var/tmp/*',
    ],
  },
  { category: 'pycache', globs: ['**/__pycache__'] },
];

export interface KeepRule {
  glob: string;
  /** Only entries of this type. */
  type?: EntryType;
  why: string;
}

/** Package databases SBOM scanners read: never removed by a category. */
export const PACKAGE_DATABASES = [
  'var/lib/dpkg/status',
  'var/lib/dpkg/status.d',
  'var/lib/dpkg/info',
  'lib/apk/db',
  'var/lib/rpm',
  'usr/lib/sysimage/rpm',
] as const;

/** Kept even inside a removed category; a user's own --remove paths still win. */
export const KEEP_RULES: readonly KeepRule[] = [
  ...PACKAGE_DATABASES.map((glob) => ({ glob, why: 'package database read by SBOM scanners' })),
  { glob: 'usr/share/doc/*/copyright', why: 'license texts (distribution terms; SBOM licenses)' },
  // A package's doc directory may be a symlink to its source package's, which holds the copyright.
  { glob: 'usr/share/doc/*', type: 'symlink', why: 'leads to a kept copyright file' },
  { glob: 'usr/share/locale/locale.alias', why: 'read by glibc locale functions' },
];

/** The absolute directories of a config's PATH (Env `PATH=`). */
export function pathDirs(config: { Env?: string[] } | undefined): string[] {
  const path = (config?.Env ?? []).find((e) => e.startsWith('PATH='))?.slice(5) ?? '';
  return path.split(':').filter((d) => d.startsWith('/'));
}

/** A base-name pattern ('dpkg-*') as a test. */
export function nameMatcher(patterns: readonly string[]): (name: string) => boolean {
  const res = patterns.map((p) => globToRegExp(p));
  return (name) => res.some((re) => re.test(name));
}

export const isPackageManagerProgram = nameMatcher(PACKAGE_MANAGER_PROGRAMS);

/** Compiled rules for the chosen categories. */
export interface CompiledRules {
  /** The category of a real path, or undefined; `dir` is its directory (real), `name` its base name. */
  removal(path: string, dir: string, name: string): HardenCategory | undefined;
  keep(path: string, type: EntryType): boolean;
}

export function compileRules(
  categories: readonly HardenCategory[],
  programDirs: ReadonlySet<string>,
): CompiledRules {
  const rules = REMOVE_RULES.filter((r) => categories.includes(r.category)).map((r) => ({
    category: r.category,
    globs: r.globs.map((g) => globMatcher(g)),
    program: r.programs ? nameMatcher(r.programs) : undefined,
  }));
  const keeps = KEEP_RULES.map((k) => ({ match: globMatcher(k.glob), type: k.type }));
  return {
    removal(path, dir, name) {
      for (const r of rules) {
        if (r.program && programDirs.has(dir) && r.program(name)) return r.category;
        if (r.globs.some((m) => m(path))) return r.category;
      }
      return undefined;
    },
    keep(path, type) {
      return keeps.some((k) => (k.type === undefined || k.type === type) && k.match(path));
    },
  };
}
