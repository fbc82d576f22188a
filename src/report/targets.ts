/**
 * trivy's grouping of findings into Results: one `os-pkgs` result for the distro's packages
 * ("<artifact> (debian 12)"), and `lang-pkgs` results per language target: installed
 * packages gathered under "Python", "Node.js", "Java", "Ruby"; binaries and lock files under
 * their own path (trivy's pkg/fanal/analyzer names).
 */
import type { OsInfo, PackageType } from '../sbom/model.ts';

export type ResultClass = 'os-pkgs' | 'lang-pkgs';

export interface TargetKey {
  target: string;
  class: ResultClass;
  /** trivy's Type: os family (debian, alpine, redhat, …) or lang type (python-pkg, gobinary, …). */
  type: string;
  /** PkgPath for packages gathered under a shared target (relative, as trivy writes it). */
  pkgPath?: string;
}

/** os-release ID → trivy's OS family. */
const OS_FAMILY: Record<string, string> = {
  rhel: 'redhat',
  almalinux: 'alma',
  rocky: 'rocky',
  centos: 'centos',
  ol: 'oracle',
  amzn: 'amazon',
  sles: 'suse linux enterprise server',
  'opensuse-leap': 'opensuse.leap',
  'opensuse-tumbleweed': 'opensuse.tumbleweed',
  mariner: 'cbl-mariner',
  azurelinux: 'azurelinux',
};

export function osFamily(os: OsInfo | undefined, type: PackageType): string {
  if (os?.id) return OS_FAMILY[os.id] ?? os.id;
  return type === 'apk' ? 'alpine' : type === 'rpm' ? 'redhat' : 'debian';
}

/**
 * The OS version as trivy names it (Metadata.OS.Name, the os-pkgs target): Debian's point
 * release from /etc/debian_version ('12.7'), else VERSION_ID, else the codename.
 */
export function osName(os: OsInfo | undefined): string | undefined {
  return os?.release ?? os?.versionId ?? os?.versionCodename;
}

export function osTarget(artifactName: string, os: OsInfo | undefined, type: PackageType): TargetKey {
  const family = osFamily(os, type);
  const name = osName(os);
  return { target: `${artifactName} (${family}${name ? ` ${name}` : ''})`, class: 'os-pkgs', type: family };
}

const rel = (p: string): string => p.replace(/^\/+/, '');

function base(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** Where trivy would report this package. */
export function targetOf(
  pkg: { type: PackageType; path?: string },
  artifactName: string,
  os: OsInfo | undefined,
): TargetKey {
  const path = pkg.path ? rel(pkg.path) : '';
  const file = base(path);
  const shared = (target: string, type: string): TargetKey => ({
    target,
    class: 'lang-pkgs',
    type,
    ...(path ? { pkgPath: path } : {}),
  });
  const own = (type: string): TargetKey => ({ target: path || type, class: 'lang-pkgs', type });
  switch (pkg.type) {
    case 'deb':
    case 'apk':
    case 'rpm':
      return osTarget(artifactName, os, pkg.type);
    case 'npm':
      if (file === 'package-lock.json' || file === 'npm-shrinkwrap.json') return own('npm');
      if (file === 'yarn.lock') return own('yarn');
      if (file === 'pnpm-lock.yaml') return own('pnpm');
      return shared('Node.js', 'node-pkg');
    case 'pypi':
      if (file === 'poetry.lock') return own('poetry');
      if (file === 'Pipfile.lock') return own('pipenv');
      if (/^requirements.*\.txt$/.test(file)) return own('pip');
      return shared('Python', 'python-pkg');
    case 'golang':
      return file === 'go.mod' ? own('gomod') : own('gobinary');
    case 'maven':
      return file === 'pom.xml' ? own('pom') : shared('Java', 'jar');
    case 'cargo':
      return file === 'Cargo.lock' ? own('cargo') : own('rustbinary');
    case 'gem':
      return file === 'Gemfile.lock' ? own('bundler') : shared('Ruby', 'gemspec');
  }
}

export function targetId(t: TargetKey): string {
  return `${t.class}\0${t.target}\0${t.type}`;
}

/** os-pkgs first, then by target and type: a stable order for every report. */
export function compareTargets(a: TargetKey, b: TargetKey): number {
  if (a.class !== b.class) return a.class === 'os-pkgs' ? -1 : 1;
  return a.target < b.target ? -1 : a.target > b.target ? 1 : a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}
