/**
 * Debian packages from the dpkg database: /var/lib/dpkg/status with the per-package file lists
 * in /var/lib/dpkg/info/<name>[:<arch>].list, or distroless' /var/lib/dpkg/status.d/<name>
 * with <name>.md5sums beside it. Licenses from /usr/share/doc/<name>/copyright.
 * A database below another root (a chroot in the image) is read relative to that root.
 */
import { isVouchError } from '../../../errors.ts';
import type { FileResolver } from '../../../fs/merged.ts';
import type { FileRecord } from '../../../fs/types.ts';
import {
  type CatalogContext,
  type Cataloger,
  type CatalogResult,
  type Location,
  type Package,
  packageId,
  type Relationship,
  type SbomProblem,
} from '../../model.ts';
import { osPackagePurl } from '../../purl.ts';
import { licensesFromCopyright } from './copyright.ts';
import { type DpkgEntry, parseList, parseMd5sums, parseStatus } from './parse-status.ts';

export const DPKG_CATALOGER_ID = 'dpkg-db';

const STATUS_GLOB = '**/var/lib/dpkg/status';
const STATUS_D_GLOB = '**/var/lib/dpkg/status.d/*';
const MAX_DB_BYTES = 256 * 1024 ** 2;
const MAX_LIST_BYTES = 64 * 1024 ** 2;
const MAX_COPYRIGHT_BYTES = 512 * 1024;

export const dpkgCataloger: Cataloger = {
  id: DPKG_CATALOGER_ID,
  version: 1,
  // info/*.md5sums are read only for a package without a .list (rare): not worth keeping.
  patterns: [STATUS_GLOB, STATUS_D_GLOB, '**/var/lib/dpkg/info/*.list', '**/usr/share/doc/*/copyright'],
  catalog: catalogDpkg,
};

interface Db {
  rec: FileRecord;
  /** Image path of the root the database describes ('' for the image root). */
  root: string;
  /** status.d layout (distroless). */
  split: boolean;
}

async function catalogDpkg(files: FileResolver, ctx: CatalogContext): Promise<CatalogResult> {
  const out: CatalogResult = { packages: [], relationships: [], problems: [] };
  const dbs: Db[] = [];
  for (const rec of await files.glob(STATUS_GLOB)) {
    if (rec.type === 'file') dbs.push({ rec, root: rootOf(rec.path, '/var/lib/dpkg/status'), split: false });
  }
  for (const rec of await files.glob(STATUS_D_GLOB)) {
    if (rec.type !== 'file' || rec.path.endsWith('.md5sums') || rec.path.split('/').at(-1)!.startsWith('.'))
      continue;
    dbs.push({
      rec,
      root: rootOf(rec.path.slice(0, rec.path.lastIndexOf('/')), '/var/lib/dpkg/status.d'),
      split: true,
    });
  }
  // One dependency graph per root: status.d files of one root resolve against each other.
  const byRoot = new Map<string, Package[]>();
  const entriesOf = new Map<Package, DpkgEntry>();
  const dirs = new DirIndex(files);
  for (const db of dbs) {
    ctx.signal?.throwIfAborted();
    const text = await readText(files, db.rec, MAX_DB_BYTES, out.problems);
    if (text === undefined) continue;
    const parsed = parseStatus(text);
    for (const message of parsed.errors) out.problems.push(problemAt(db.rec, message));
    if (parsed.entries.length === 0 && parsed.errors.length === 0 && text.trim() !== '') {
      out.problems.push(problemAt(db.rec, 'no package paragraphs found'));
    }
    for (const entry of parsed.entries) {
      const pkg = await makePackage(files, ctx, dirs, db, entry, out.problems);
      out.packages.push(pkg);
      entriesOf.set(pkg, entry);
      const list = byRoot.get(db.root) ?? [];
      list.push(pkg);
      byRoot.set(db.root, list);
    }
  }
  for (const pkgs of byRoot.values()) out.relationships.push(...dependencies(pkgs, entriesOf));
  return out;
}

/**
 * Which paths are directories, answered from one list() per parent directory (cached): far
 * cheaper than a stat per listed path (a Debian image lists ~100k paths in ~10k directories).
 */
class DirIndex {
  readonly #files: FileResolver;
  readonly #subdirs = new Map<string, Set<string>>();
  constructor(files: FileResolver) {
    this.#files = files;
  }
  /** List the parents of `paths` not listed yet. */
  async load(paths: readonly string[]): Promise<void> {
    for (const p of paths) {
      const parent = parentPath(p);
      if (this.#subdirs.has(parent)) continue;
      const recs = await this.#files.list(parent);
      this.#subdirs.set(parent, new Set(recs.filter((r) => r.type === 'dir').map((r) => baseName(r.path))));
    }
  }
  /** After load(): is `path` a directory (not following a final symlink)? */
  isDir(path: string): boolean {
    return this.#subdirs.get(parentPath(path))?.has(baseName(path)) ?? false;
  }
}

function parentPath(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** '/opt/chroot/var/lib/dpkg/status' → '/opt/chroot'; the image root → ''. */
function rootOf(path: string, suffix: string): string {
  return path.endsWith(suffix) ? path.slice(0, path.length - suffix.length) : '';
}

async function makePackage(
  files: FileResolver,
  ctx: CatalogContext,
  dirs: DirIndex,
  db: Db,
  e: DpkgEntry,
  problems: SbomProblem[],
): Promise<Package> {
  const locations: Location[] = [location(db.rec)];
  const owned = new Set<string>();
  const dir = db.rec.path.slice(0, db.rec.path.lastIndexOf('/'));
  const base = db.split ? dir : `${dir}/info`;
  // Multi-Arch: same packages have <name>:<arch>.list (dpkg's db format 1), others <name>.list.
  const keys = e.arch ? [`${e.name}:${e.arch}`, e.name] : [e.name];
  if (db.split) {
    const fileName = db.rec.path.slice(dir.length + 1);
    if (!keys.includes(fileName)) keys.push(fileName);
  }
  const list = db.split
    ? undefined
    : await firstFile(
        files,
        keys.map((k) => `${base}/${k}.list`),
      );
  if (list) {
    const text = await readText(files, list, MAX_LIST_BYTES, problems);
    if (text !== undefined) {
      const parsed = parseList(text);
      for (const message of parsed.errors) problems.push(problemAt(list, message));
      // Leaves of the list that are directories in the tree (base-files' /home, /proc) are
      // not files the package owns.
      const paths = parsed.paths.map((p) => db.root + p);
      await dirs.load(paths);
      for (const p of paths) if (!dirs.isDir(p)) owned.add(p);
      locations.push(location(list));
    }
  } else {
    const sums = await firstFile(
      files,
      keys.map((k) => `${base}/${k}.md5sums`),
    );
    if (sums) {
      const text = await readText(files, sums, MAX_LIST_BYTES, problems);
      if (text !== undefined) {
        const parsed = parseMd5sums(text);
        for (const message of parsed.errors) problems.push(problemAt(sums, message));
        for (const p of parsed.paths) owned.add(db.root + p);
        locations.push(location(sums));
      }
    }
    for (const p of e.conffiles) owned.add(db.root + p);
  }
  const licenses = await copyrightLicenses(files, `${db.root}/usr/share/doc/${e.name}/copyright`, problems);
  const metadata: Record<string, unknown> = {};
  if (e.maintainer) metadata.maintainer = e.maintainer;
  if (e.installedSize !== undefined) metadata.installedSize = e.installedSize;
  if (e.multiArch) metadata.multiArch = e.multiArch;
  if (e.provides.length > 0) metadata.provides = e.provides;
  if (e.status) metadata.status = e.status;
  const pkg: Package = {
    // The architecture is part of the id: multi-arch packages (libc6:amd64 and libc6:i386)
    // share name, version and database file.
    id: packageId({
      type: 'deb',
      name: e.arch ? `${e.name}:${e.arch}` : e.name,
      version: e.version,
      locations,
    }),
    type: 'deb',
    name: e.name,
    version: e.version,
    purl: osPackagePurl('deb', ctx.os, e.name, e.version, {
      ...(e.arch ? { arch: e.arch } : {}),
      source: e.source,
    }),
    licenses,
    locations,
    foundBy: DPKG_CATALOGER_ID,
    source: e.source,
    files: [...owned].sort(),
  };
  if (e.arch) pkg.arch = e.arch;
  if (Object.keys(metadata).length > 0) pkg.metadata = metadata;
  return pkg;
}

/**
 * depends-on edges from Pre-Depends and Depends: each clause goes to the installed packages
 * of its first alternative that is installed (by name or by Provides), preferring the same
 * architecture (multi-arch) or `all`.
 */
function dependencies(pkgs: Package[], entriesOf: Map<Package, DpkgEntry>): Relationship[] {
  const byName = new Map<string, Package[]>();
  const add = (name: string, p: Package) => {
    const l = byName.get(name) ?? [];
    if (!l.includes(p)) l.push(p);
    byName.set(name, l);
  };
  for (const p of pkgs) {
    add(p.name, p);
    for (const v of entriesOf.get(p)!.provides) add(v, p);
  }
  const seen = new Set<string>();
  const out: Relationship[] = [];
  for (const p of pkgs) {
    for (const clause of entriesOf.get(p)!.depends) {
      for (const alt of clause) {
        const found = byName.get(alt);
        if (!found) continue;
        const same = found.filter((d) => d.arch === p.arch || d.arch === 'all' || p.arch === 'all');
        for (const d of same.length > 0 ? same : found) {
          const key = `${p.id}>${d.id}`;
          if (d === p || seen.has(key)) continue;
          seen.add(key);
          out.push({ from: p.id, to: d.id, type: 'depends-on' });
        }
        break;
      }
    }
  }
  return out;
}

async function copyrightLicenses(
  files: FileResolver,
  path: string,
  problems: SbomProblem[],
): Promise<string[]> {
  const rec = await files.stat(path);
  if (!rec || rec.type !== 'file') return [];
  const text = await readHead(files, rec, MAX_COPYRIGHT_BYTES, problems);
  return text === undefined ? [] : licensesFromCopyright(text);
}

async function firstFile(files: FileResolver, paths: string[]): Promise<FileRecord | undefined> {
  for (const p of paths) {
    const rec = await files.stat(p);
    if (rec?.type === 'file') return rec;
  }
  return undefined;
}

async function readText(
  files: FileResolver,
  rec: FileRecord,
  max: number,
  problems: SbomProblem[],
): Promise<string | undefined> {
  try {
    return Buffer.from(await files.readFile(rec.path, { maxBytes: max })).toString('utf8');
  } catch (e) {
    problems.push(problemAt(rec, `cannot read: ${isVouchError(e) ? e.message : String(e)}`));
    return undefined;
  }
}

/** At most `max` bytes from the start of a file (copyright texts can be long; licenses come first). */
async function readHead(
  files: FileResolver,
  rec: FileRecord,
  max: number,
  problems: SbomProblem[],
): Promise<string | undefined> {
  if (rec.size <= max) return readText(files, rec, max, problems);
  try {
    const chunks: Uint8Array[] = [];
    let n = 0;
    for await (const c of await files.open(rec.path)) {
      chunks.push(c);
      n += c.byteLength;
      if (n >= max) break;
    }
    return Buffer.concat(chunks).subarray(0, max).toString('utf8');
  } catch (e) {
    problems.push(problemAt(rec, `cannot read: ${isVouchError(e) ? e.message : String(e)}`));
    return undefined;
  }
}

function location(rec: FileRecord): Location {
  return rec.layerDigest ? { path: rec.path, layer: rec.layerDigest } : { path: rec.path };
}

function problemAt(rec: FileRecord, message: string): SbomProblem {
  const p: SbomProblem = { cataloger: DPKG_CATALOGER_ID, path: rec.path, message };
  if (rec.layerDigest) p.layer = rec.layerDigest;
  return p;
}
