/**
 * Package URLs (package-url/purl-spec) for every PackageType.
 *
 * packageurl-js validates the components and applies each type's normalisation (lowercase
 * type and deb/apk/rpm/npm names, ...); the string itself is written here, because the
 * canonical form of the spec ("characters and encoding") percent-encodes everything outside
 * `A-Z a-z 0-9 . - _ ~` and `:`, so `+` in a Debian version is `%2B`
 * (`pkg:deb/debian/attr@1:2.4.47-2%2Bb1`), which packageurl-js 2.0 leaves as `+`, and qualifier
 * values keep `:` and `/` (`vcs_url=git://host/x.git%40abc`), which packageurl-js encodes.
 * PyPI names are normalised per PEP 503 (runs of `-_.` become one `-`).
 */
import { PackageURL } from 'packageurl-js';
import { VouchError } from '../errors.ts';
import type { OsInfo, PackageType } from './model.ts';

export interface PurlParts {
  type: string;
  namespace?: string;
  name: string;
  version?: string;
  qualifiers?: Readonly<Record<string, string | undefined>>;
  subpath?: string;
}

/** The canonical purl string of these components; PURL_INVALID when packageurl-js rejects them. */
export function buildPurl(parts: PurlParts): string {
  const qualifiers: Record<string, string> = {};
  for (const [k, v] of Object.entries(parts.qualifiers ?? {})) {
    if (v !== undefined && v !== '') qualifiers[k.toLowerCase()] = v;
  }
  let p: PackageURL;
  try {
    p = new PackageURL(
      parts.type,
      parts.namespace || undefined,
      parts.name,
      parts.version || undefined,
      Object.keys(qualifiers).length > 0 ? qualifiers : undefined,
      parts.subpath || undefined,
    );
  } catch (e) {
    throw new VouchError(
      'PURL_INVALID',
      `cannot make a package URL of type "${parts.type}" for "${parts.namespace ? `${parts.namespace}/` : ''}${parts.name}": ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  return format(p);
}

/** Parse any purl string into its (decoded, normalised) components; PURL_INVALID when it is not one. */
export function parsePurl(s: string): PurlParts {
  let p: PackageURL;
  try {
    p = PackageURL.fromString(s);
  } catch (e) {
    throw new VouchError(
      'PURL_INVALID',
      `"${s}" is not a package URL: ${e instanceof Error ? e.message : e}`,
      {
        cause: e,
      },
    );
  }
  const out: PurlParts = { type: p.type, name: normaliseName(p.type, p.name) };
  if (p.namespace) out.namespace = p.namespace;
  if (p.version) out.version = p.version;
  if (p.qualifiers && Object.keys(p.qualifiers).length > 0) out.qualifiers = { ...p.qualifiers };
  if (p.subpath) out.subpath = p.subpath;
  return out;
}

/** Re-write a purl in canonical form (sorted qualifiers, spec encoding). */
export function canonicalPurl(s: string): string {
  return buildPurl(parsePurl(s));
}

function format(p: PackageURL): string {
  let out = `pkg:${p.type}/`;
  if (p.namespace) {
    const segs = p.namespace.split('/').filter((x) => x !== '');
    out += `${segs.map((x) => encode(x, '')).join('/')}/`;
  }
  out += encode(normaliseName(p.type, p.name), '');
  if (p.version) out += `@${encode(p.version, '')}`;
  const q = p.qualifiers ?? {};
  const keys = Object.keys(q)
    .filter((k) => q[k] !== undefined && q[k] !== '')
    .sort();
  if (keys.length > 0) out += `?${keys.map((k) => `${k}=${encode(q[k]!, '/')}`).join('&')}`;
  if (p.subpath) {
    const segs = p.subpath.split('/').filter((x) => x !== '' && x !== '.' && x !== '..');
    if (segs.length > 0) out += `#${segs.map((x) => encode(x, '')).join('/')}`;
  }
  return out;
}

const UNRESERVED = /^[A-Za-z0-9.\-_~:]$/;

/** Percent-encode as the spec says: UTF-8 bytes, keeping alphanumerics, `.-_~`, `:` and `keep`. */
function encode(s: string, keep: string): string {
  let out = '';
  for (const ch of s) {
    if (UNRESERVED.test(ch) || keep.includes(ch)) {
      out += ch;
      continue;
    }
    for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function normaliseName(type: string, name: string): string {
  // PEP 503: lowercase, and every run of '-', '_', '.' is one '-'.
  return type === 'pypi' ? name.toLowerCase().replace(/[-_.]+/g, '-') : name;
}

export type OsPackageType = Extract<PackageType, 'deb' | 'apk' | 'rpm'>;

export interface OsPurlOptions {
  /** As the distro names it: amd64, x86_64, noarch, all. */
  arch?: string;
  /** rpm only: the epoch goes in a qualifier, the purl version is version-release. */
  epoch?: number | string;
  /** The source package; for deb and apk it becomes `upstream` when it differs from the binary. */
  source?: { name: string; version?: string };
  /** rpm only: the SOURCERPM file name, as syft puts it in `upstream`. */
  sourceRpm?: string;
}

const DEFAULT_NAMESPACE: Record<OsPackageType, string | undefined> = {
  deb: 'debian',
  apk: 'alpine',
  rpm: undefined,
};

/**
 * The purl syft and trivy emit for an installed OS package: namespace = the OS id (debian,
 * ubuntu, alpine, wolfi, rhel, ...), qualifiers `arch`, `distro=<id>-<version id>`, `epoch`
 * (rpm) and `upstream` (the source package when it differs; `name@version` when only the
 * version differs, as syft writes it for deb).
 */
export function osPackagePurl(
  type: OsPackageType,
  os: OsInfo | undefined,
  name: string,
  version: string,
  o: OsPurlOptions = {},
): string {
  const namespace = os?.id ? os.id.toLowerCase() : DEFAULT_NAMESPACE[type];
  const qualifiers: Record<string, string | undefined> = { arch: o.arch, distro: distroQualifier(os) };
  if (type === 'rpm') {
    if (o.epoch !== undefined && String(o.epoch) !== '' && String(o.epoch) !== '0') {
      qualifiers.epoch = String(o.epoch);
    }
    qualifiers.upstream = o.sourceRpm;
  } else if (o.source) {
    const sameName = o.source.name === name;
    const sameVersion = o.source.version === undefined || o.source.version === version;
    if (!sameName || !sameVersion) {
      qualifiers.upstream = sameVersion ? o.source.name : `${o.source.name}@${o.source.version}`;
    }
  }
  return buildPurl({ type, ...(namespace ? { namespace } : {}), name, version, qualifiers });
}

/** `debian-12`, `alpine-3.20.1`, `ubuntu-22.04`; the codename when there is no version id (sid). */
export function distroQualifier(os: OsInfo | undefined): string | undefined {
  if (!os?.id) return undefined;
  const v = os.versionId ?? os.versionCodename;
  return v ? `${os.id.toLowerCase()}-${v}` : undefined;
}

export interface LanguagePurlInput {
  namespace?: string;
  name: string;
  version?: string;
  qualifiers?: Readonly<Record<string, string | undefined>>;
  subpath?: string;
}

/**
 * The purl of a language package: `pkg:npm/%40scope/name@1.0.0`, `pkg:pypi/requests@2.28.1`,
 * `pkg:golang/github.com/x/y@v1.2.3`, `pkg:maven/group/artifact@1.0`, `pkg:cargo/rand@0.8.5`,
 * `pkg:gem/rake@13.0.6`. Throws PURL_INVALID when the components cannot form one.
 */
export function languagePurl(type: PackageType, p: LanguagePurlInput): string {
  return buildPurl({ type, ...p });
}
