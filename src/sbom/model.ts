/**
 * The package model every cataloger produces and every SBOM format reads and writes.
 * Pure data: no I/O here.
 */
import { createHash } from 'node:crypto';
import type { Digest } from '../digest/digest.ts';
import type { FileResolver } from '../fs/merged.ts';

/** Package ecosystems, named as their purl types. Derive everything from this one list. */
export const PACKAGE_TYPES = ['deb', 'apk', 'rpm', 'npm', 'pypi', 'golang', 'maven', 'cargo', 'gem'] as const;
export type PackageType = (typeof PACKAGE_TYPES)[number];

export const OS_PACKAGE_TYPES: readonly PackageType[] = ['deb', 'apk', 'rpm'];

/** Where evidence of a package was found: a path in the image and the layer that put it there. */
export interface Location {
  /** Absolute path in the image, e.g. '/var/lib/dpkg/status'. */
  path: string;
  /** Digest of the layer holding the file (its blob digest); absent for a directory scan. */
  layer?: Digest;
}

export interface Package {
  /**
   * Stable id, unique in one SBOM: derived from type, name, version and first location
   * (see packageId), so the same image gives the same ids.
   */
  id: string;
  type: PackageType;
  name: string;
  version: string;
  /** Spec-conformant package URL (packageurl-js), with arch/distro qualifiers for OS packages. */
  purl: string;
  /** SPDX license expressions where known, otherwise the declared license text; may be empty. */
  licenses: string[];
  /** Evidence files, first the main one (status file, METADATA, package.json, binary, jar). */
  locations: Location[];
  /** Id of the cataloger that found it. */
  foundBy: string;
  /** OS packages: the source package (Debian Source:, Alpine origin, rpm SOURCERPM). */
  source?: { name: string; version: string };
  /** OS packages: architecture as the distro names it (amd64, x86_64, noarch, all). */
  arch?: string;
  /** OS packages: absolute paths of the files the package owns (dpkg .list, apk R:, rpm file list). */
  files?: string[];
  /**
   * Id of the OS package whose files hold this language package (Debian's python3-requests,
   * node-*, lib*-java): it is reported once, nested under that package, and matched against the
   * distro's advisories.
   */
  ownedBy?: string;
  /** Ecosystem details (Go: goVersion, mainModule, sum; Maven: groupId, artifactId; ...). JSON-safe. */
  metadata?: Record<string, unknown>;
}

export const RELATIONSHIP_TYPES = ['contains', 'depends-on'] as const;
export type RelationshipType = (typeof RELATIONSHIP_TYPES)[number];

export interface Relationship {
  /** Package id (or the SBOM's root subject id 'root'). */
  from: string;
  to: string;
  type: RelationshipType;
}

/** A file a cataloger could not read or understand: located, never silent, never a crash. */
export interface SbomProblem {
  cataloger: string;
  path: string;
  layer?: Digest;
  message: string;
}

/** An executable or shared library no cataloged package owns. */
export interface UnownedFile {
  path: string;
  layer?: Digest;
  digest?: Digest;
  kind: 'executable' | 'shared-library';
}

/** From /etc/os-release (or /usr/lib/os-release, /etc/alpine-release, ...). */
export interface OsInfo {
  /** ID: debian, ubuntu, alpine, rhel, ... */
  id: string;
  /** VERSION_ID: '12', '3.20.1' */
  versionId?: string;
  /**
   * The full release where the distribution names one finer than VERSION_ID: Debian's point
   * release from /etc/debian_version ('12.7'), which is what trivy reports as the OS name.
   */
  release?: string;
  versionCodename?: string;
  prettyName?: string;
  idLike?: string[];
}

export interface CatalogContext {
  os?: OsInfo;
  signal?: AbortSignal;
}

export interface CatalogResult {
  packages: Package[];
  relationships: Relationship[];
  problems: SbomProblem[];
}

/** One ecosystem: cheap path patterns to prefilter, and a parser over the file tree. */
export interface Cataloger {
  /** e.g. 'dpkg-db' */
  readonly id: string;
  /** Bump when output changes (part of future cache keys). */
  readonly version: number;
  /** Globs (src/fs/glob.ts syntax) of the files this cataloger reads. */
  readonly patterns: readonly string[];
  catalog(files: FileResolver, ctx: CatalogContext): Promise<CatalogResult>;
}

/** What an SBOM describes. */
export type SbomSubject =
  | {
      kind: 'image';
      /** As the user named it, e.g. 'oci:./out:1.0' or '127.0.0.1:5000/app:1.0'. */
      name: string;
      /** Repository name without registry/tag when known (for pkg:oci purls), e.g. 'app'. */
      repository?: string;
      tag?: string;
      /** Manifest digest. */
      digest: Digest;
      /** Index digest when the name pointed at an index. */
      indexDigest?: Digest;
      platform: { os: string; architecture: string; variant?: string };
      layers: Digest[];
    }
  | { kind: 'directory'; name: string; path: string };

export interface Sbom {
  subject: SbomSubject;
  os?: OsInfo;
  packages: Package[];
  relationships: Relationship[];
  problems: SbomProblem[];
  unowned: UnownedFile[];
  /** ISO 8601; from SOURCE_DATE_EPOCH when set, so output is reproducible. */
  created: string;
  tool: { name: 'vouch'; version: string };
}

/**
 * Deterministic package id: the same package at the same place gets the same id in every run.
 * (sha256 of type, name, version and main location; 16 hex characters are plenty within one SBOM.)
 */
export function packageId(p: Pick<Package, 'type' | 'name' | 'version' | 'locations'>): string {
  const where = p.locations[0]?.path ?? '';
  const h = createHash('sha256').update(`${p.type}\0${p.name}\0${p.version}\0${where}`).digest('hex');
  return `pkg-${h.slice(0, 16)}`;
}
