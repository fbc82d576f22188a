/**
 * The SBOM runner: OS detection, every cataloger, de-duplication, ownership (a language
 * package installed by an OS package is nested under it), deterministic order, and coverage
 * (executables and libraries no package explains).
 *
 * catalogImage() fetches and decompresses each layer once, and takes during that single pass
 * all the content the catalogers will read: the small files their patterns name in memory,
 * the files read in full anyway (executables for the binary catalogers, large archives) on
 * disk, and for coverage the ELF header and digest of each candidate. No cataloger makes the
 * merged view read a layer again. Memory holds metadata and the small kept files.
 * catalogDirectory() does the same over a root filesystem on disk (no layers).
 */
import { resolve } from 'node:path';
import pkgJson from '../../package.json' with { type: 'json' };
import type { Digest } from '../digest/digest.ts';
import { isVouchError } from '../errors.ts';
import { globMatcher } from '../fs/glob.ts';
import type { FileResolver } from '../fs/merged.ts';
import { type MergedView, openMergedView } from '../fs/merged.ts';
import { baseName } from '../fs/path.ts';
import type { FileRecord } from '../fs/types.ts';
import type { Image, Layer } from '../image/image.ts';
import { parseImageName } from '../transport/name.ts';
import { ALL_CATALOGERS } from './catalogers/index.ts';
import { COVERAGE_HEAD_BYTES, canonicalizer, findUnowned, isCoverageCandidate } from './coverage.ts';
import { type DirectoryOptions, openDirectory } from './directory.ts';
import {
  type Cataloger,
  type Location,
  OS_PACKAGE_TYPES,
  type OsInfo,
  PACKAGE_TYPES,
  type Package,
  packageId,
  type Relationship,
  type Sbom,
  type SbomProblem,
  type SbomSubject,
  type UnownedFile,
} from './model.ts';
import { detectOs, OS_RELEASE_PATHS } from './os-release.ts';

export interface CatalogOptions {
  /** Which catalogers to run (default: all of catalogers/index.ts, in that order). */
  catalogers?: readonly Cataloger[];
  signal?: AbortSignal;
  /** One short line per step ("cataloging dpkg-db"), for a progress display. */
  onProgress?: (line: string) => void;
  /** List executables and shared libraries no package owns (default true). */
  coverage?: boolean;
}

export interface CatalogFilesOptions extends CatalogOptions {
  /** Given the files coverage is about to read, so a costly resolver can fetch them in one pass. */
  prepareCoverage?: (candidates: readonly FileRecord[]) => Promise<void>;
}

export interface CatalogFilesResult {
  os?: OsInfo;
  packages: Package[];
  relationships: Relationship[];
  problems: SbomProblem[];
  unowned: UnownedFile[];
}

/** Names of the files detectOs reads, kept wherever they are (symlinked parents). */
const OS_RELEASE_NAMES = new Set(OS_RELEASE_PATHS.map(baseName));

/** A cataloger's own name for failures of the runner itself. */
const RUNNER = 'catalog';

/** Catalog any file tree (merged image view, directory, test double). */
export async function catalogFiles(
  files: FileResolver,
  o: CatalogFilesOptions = {},
): Promise<CatalogFilesResult> {
  const catalogers = o.catalogers ?? ALL_CATALOGERS;
  const problems: SbomProblem[] = [];
  o.onProgress?.('detecting the OS');
  const detected = await detectOs(files);
  problems.push(...detected.problems);
  const os = detected.os;

  let packages: Package[] = [];
  let relationships: Relationship[] = [];
  for (const c of catalogers) {
    o.signal?.throwIfAborted();
    o.onProgress?.(`cataloging ${c.id}`);
    try {
      const r = await c.catalog(files, { ...(os ? { os } : {}), ...(o.signal ? { signal: o.signal } : {}) });
      for (const p of r.packages) {
        const bad = invalid(p);
        const where = Array.isArray(p.locations) ? p.locations[0]?.path : undefined;
        if (bad) problems.push({ cataloger: c.id, path: where ?? '/', message: bad });
        else packages.push({ ...p, foundBy: p.foundBy || c.id, id: p.id || packageId(p) });
      }
      relationships.push(...r.relationships);
      problems.push(...r.problems);
    } catch (e) {
      if (o.signal?.aborted || isVouchError(e, 'ABORTED')) throw e;
      problems.push({
        cataloger: c.id,
        path: '/',
        message: `cataloger failed: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  }

  ({ packages, relationships } = dedupe(packages, relationships, problems));
  o.onProgress?.('tying language packages to OS packages');
  relationships.push(...(await tieOwnership(files, packages)));
  packages.sort(comparePackages);
  relationships = uniqueRelationships(relationships);

  let unowned: UnownedFile[] = [];
  if (o.coverage !== false) {
    o.onProgress?.('looking for files no package owns');
    unowned = await findUnowned(files, packages, {
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.prepareCoverage ? { prepare: o.prepareCoverage } : {}),
    });
  }
  const out: CatalogFilesResult = {
    packages: packages.map(cleanPackage),
    relationships,
    problems: problems.map(cleanLayer).sort(compareProblems),
    unowned: unowned.map(cleanLayer),
  };
  if (os) out.os = os;
  return out;
}

export interface CatalogImageOptions extends CatalogOptions {
  /** Index digest when the name pointed at an index (goes to the subject). */
  indexDigest?: Digest;
  /** Largest file kept in memory while indexing (default 4 MiB). */
  keepMaxBytes?: number;
}

/** The SBOM of one image (one platform). */
export async function catalogImage(image: Image, o: CatalogImageOptions = {}): Promise<Sbom> {
  const catalogers = o.catalogers ?? ALL_CATALOGERS;
  const { specific, anyFile } = patternsOf(catalogers);
  const coverage = o.coverage !== false;
  const n = image.layers.length;
  const layers = image.layers.map((l, i) => ({
    digest: l.descriptor.digest,
    compressedSize: l.descriptor.size,
    open: () => {
      o.onProgress?.(`reading layer ${i + 1}/${n} (${l.descriptor.digest.slice(0, 19)})`);
      return openLayer(l, o.signal);
    },
  }));
  const view = await openMergedView(layers, {
    capture: (f) => {
      // Small files catalogers (and the OS detection) read: in memory. Files read in full
      // anyway, too large to keep: executables (Go, Rust binaries) and big pattern matches
      // (jars) go to disk in this same pass. Coverage needs of its other candidates (shared
      // libraries) only the ELF header and a digest; the few unowned executables are hashed
      // from the disk copy.
      const wanted = matchesAny(specific, f.path) || OS_RELEASE_NAMES.has(baseName(f.path));
      const executable = anyFile && (f.mode & 0o111) !== 0;
      const candidate = coverage && !executable && isCoverageCandidate(f);
      return {
        keep: wanted,
        spill: wanted || executable,
        hash: candidate,
        head: candidate ? COVERAGE_HEAD_BYTES : 0,
      };
    },
    ...(o.keepMaxBytes === undefined ? {} : { keepMaxBytes: o.keepMaxBytes }),
  });
  return await catalogView(image, view, catalogers, o);
}

/**
 * A layer's uncompressed tar. When the stored blob is a plain tar (its digest is the diff_id:
 * docker save), the blob read is that check already: no second hash of the same bytes.
 */
function openLayer(l: Layer, signal: AbortSignal | undefined): Promise<AsyncIterable<Uint8Array>> {
  const opts = signal ? { signal } : {};
  return l.compression === 'none' && l.descriptor.digest === l.diffId
    ? l.open(opts)
    : l.openUncompressed(opts);
}

async function catalogView(
  image: Image,
  view: MergedView,
  catalogers: readonly Cataloger[],
  o: CatalogImageOptions,
): Promise<Sbom> {
  try {
    const r = await catalogFiles(view, {
      ...o,
      catalogers,
      // Candidates were copied to disk, or hashed with their heads kept, while indexing; any
      // other (a hardlink named unlike its target) is fetched here, all in one pass
      // (prefetch skips what is on disk or in memory already).
      prepareCoverage: (candidates) => {
        const wanted = new Set(candidates.filter((c) => c.digest === undefined).map((c) => c.path));
        return wanted.size === 0 ? Promise.resolve() : view.prefetch((rec) => wanted.has(rec.path));
      },
    });
    const fsProblems: SbomProblem[] = view.problems.map((p) => ({
      cataloger: 'filesystem',
      path: `/${p.path}`,
      layer: p.layerDigest,
      message: p.reason,
    }));
    const platform: { os: string; architecture: string; variant?: string } = {
      os: image.config.os,
      architecture: image.config.architecture,
    };
    if (image.config.variant) platform.variant = image.config.variant;
    const subject: SbomSubject = {
      kind: 'image',
      name: image.source.name,
      ...nameParts(image.source.name),
      digest: image.descriptor.digest,
      ...(o.indexDigest ? { indexDigest: o.indexDigest } : {}),
      platform,
      layers: image.layers.map((l) => l.descriptor.digest),
    };
    return sbomOf(subject, r, fsProblems);
  } finally {
    await view.close();
  }
}

/** The SBOM of a root filesystem on disk. */
export async function catalogDirectory(
  dir: string,
  o: CatalogOptions & DirectoryOptions = {},
): Promise<Sbom> {
  o.onProgress?.(`indexing ${dir}`);
  const view = await openDirectory(dir, o);
  const r = await catalogFiles(view, o);
  const fsProblems = view.problems.map((p) => ({ cataloger: 'filesystem', path: p.path, message: p.reason }));
  return sbomOf({ kind: 'directory', name: dir, path: resolve(dir) }, r, fsProblems);
}

function sbomOf(subject: SbomSubject, r: CatalogFilesResult, extra: SbomProblem[]): Sbom {
  const sbom: Sbom = {
    subject,
    packages: r.packages,
    relationships: r.relationships,
    problems: [...extra, ...r.problems].sort(compareProblems),
    unowned: r.unowned,
    created: createdTime(),
    tool: { name: 'vouch', version: pkgJson.version },
  };
  if (r.os) sbom.os = r.os;
  return sbom;
}

/** SOURCE_DATE_EPOCH when set (reproducible output), else now; whole seconds, UTC. */
export function createdTime(env: NodeJS.ProcessEnv = process.env): string {
  const v = env.SOURCE_DATE_EPOCH;
  const ms = v !== undefined && /^\d+$/.test(v) ? Number(v) * 1000 : Date.now();
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Repository (last path component, for pkg:oci) and tag, when the image name says them. */
function nameParts(name: string): { repository?: string; tag?: string } {
  try {
    const n = parseImageName(name);
    if (n.transport === 'docker') {
      const repo = n.ref.repository.split('/').at(-1)!;
      return n.ref.tag ? { repository: repo, tag: n.ref.tag } : { repository: repo };
    }
    if (n.transport === 'docker-archive' && n.ref) {
      const repo = n.ref.repository.split('/').at(-1)!;
      return n.ref.tag ? { repository: repo, tag: n.ref.tag } : { repository: repo };
    }
    if ((n.transport === 'oci' || n.transport === 'oci-archive') && n.tag) return { tag: n.tag };
  } catch {
    // a name that is not an image reference: nothing to add
  }
  return {};
}

/**
 * The catalogers' patterns that prefilter, compiled; `anyFile` when one matches everything
 * ('**\/*': binary catalogers, whose real filter is "an executable regular file").
 */
function patternsOf(catalogers: readonly Cataloger[]): {
  specific: ((path: string) => boolean)[];
  anyFile: boolean;
} {
  const all = catalogers.flatMap((c) => c.patterns);
  const catchAll = (p: string) => /^\/?\*\*(\/\*)?$/.test(p);
  return {
    specific: [...new Set(all.filter((p) => !catchAll(p)))].map(globMatcher),
    anyFile: all.some(catchAll),
  };
}

function matchesAny(matchers: readonly ((path: string) => boolean)[], path: string): boolean {
  return matchers.some((m) => m(path));
}

function invalid(p: Package): string | undefined {
  if (!(PACKAGE_TYPES as readonly string[]).includes(p.type))
    return `package "${p.name}" has unknown type "${p.type}"`;
  if (!p.name) return `a ${p.type} package without a name`;
  if (!Array.isArray(p.locations) || p.locations.length === 0) return `package "${p.name}" has no location`;
  return undefined;
}

/**
 * One package per type + name + version + main location (+ arch): the first one found is kept
 * with the others' locations merged in; relationships are re-pointed at it.
 */
function dedupe(
  packages: Package[],
  relationships: Relationship[],
  problems: SbomProblem[],
): { packages: Package[]; relationships: Relationship[] } {
  const byKey = new Map<string, Package>();
  const alias = new Map<string, string>();
  const kept: Package[] = [];
  for (const p of packages) {
    const key = [p.type, p.name, p.version, p.locations[0]?.path ?? '', p.arch ?? ''].join('\0');
    const first = byKey.get(key);
    if (!first) {
      byKey.set(key, p);
      kept.push(p);
      alias.set(p.id, p.id);
      continue;
    }
    alias.set(p.id, first.id);
    for (const l of p.locations) {
      if (!first.locations.some((x) => x.path === l.path && x.layer === l.layer)) first.locations.push(l);
    }
  }
  const rels: Relationship[] = [];
  for (const r of relationships) {
    const from = alias.get(r.from) ?? (r.from === 'root' ? 'root' : undefined);
    const to = alias.get(r.to);
    if (from === undefined || to === undefined) {
      problems.push({
        cataloger: RUNNER,
        path: '/',
        message: `relationship ${r.from} ${r.type} ${r.to} names a package that was not found`,
      });
      continue;
    }
    if (from !== to) rels.push({ ...r, from, to });
  }
  return { packages: kept, relationships: rels };
}

/**
 * A language package whose evidence file an OS package installed (Debian's python3-yaml owns
 * PyYAML's dist-info; node-* packages own package.json files; a Go binary in /usr/bin) is
 * nested under that OS package: ownedBy and a `contains` edge.
 */
async function tieOwnership(files: FileResolver, packages: Package[]): Promise<Relationship[]> {
  const canon = canonicalizer(files);
  const owner = new Map<string, Package>();
  for (const p of packages) {
    if (!OS_PACKAGE_TYPES.includes(p.type)) continue;
    for (const f of p.files ?? []) {
      if (!owner.has(f)) owner.set(f, p);
      const c = await canon(f);
      if (!owner.has(c)) owner.set(c, p);
    }
  }
  if (owner.size === 0) return [];
  const out: Relationship[] = [];
  for (const p of packages) {
    if (OS_PACKAGE_TYPES.includes(p.type)) continue;
    for (const l of p.locations) {
      const o = owner.get(l.path) ?? owner.get(await canon(l.path));
      if (o) {
        p.ownedBy = o.id;
        out.push({ from: o.id, to: p.id, type: 'contains' });
        break;
      }
    }
  }
  return out;
}

function comparePackages(a: Package, b: Package): number {
  return (
    cmp(a.type, b.type) ||
    cmp(a.name, b.name) ||
    cmp(a.version, b.version) ||
    cmp(a.locations[0]?.path ?? '', b.locations[0]?.path ?? '') ||
    cmp(a.arch ?? '', b.arch ?? '') ||
    cmp(a.id, b.id)
  );
}

function compareProblems(a: SbomProblem, b: SbomProblem): number {
  return (
    cmp(a.cataloger, b.cataloger) ||
    cmp(a.path, b.path) ||
    cmp(a.layer ?? '', b.layer ?? '') ||
    cmp(a.message, b.message)
  );
}

function uniqueRelationships(rels: Relationship[]): Relationship[] {
  const seen = new Map<string, Relationship>();
  for (const r of rels) seen.set(`${r.from}\0${r.to}\0${r.type}`, r);
  return [...seen.values()].sort((a, b) => cmp(a.from, b.from) || cmp(a.to, b.to) || cmp(a.type, b.type));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Drop `layer: undefined` (directory scans) so output and comparisons are clean. */
function cleanLayer<T extends { layer?: Digest }>(x: T): T {
  if (x.layer === undefined && 'layer' in x) {
    const { layer: _drop, ...rest } = x;
    return rest as T;
  }
  return x;
}

function cleanPackage(p: Package): Package {
  const locations: Location[] = p.locations.map(cleanLayer);
  return { ...p, locations };
}
