/**
 * JavaScript packages: installed ones (package.json at a package root under node_modules, or
 * in Debian's /usr/share/nodejs and /usr/lib/nodejs) and the ones lockfiles declare
 * (package-lock.json / npm-shrinkwrap.json v1-v3, yarn.lock classic and berry,
 * pnpm-lock.yaml 5.x/6.0/9.0).
 *
 * What syft does: two catalogers. For images only `javascript-package-cataloger` runs (every
 * package.json, the project's own included); lockfiles (`javascript-lock-cataloger`) are read
 * in directory scans only, so syft never has both for one package and does not merge them.
 *
 * What vouch does, one cataloger for both so they can be reconciled:
 *  - installed packages are the truth: every package root in node_modules with a name and a
 *    version (other package.json files, such as a project's own or nested ones under lib/, are
 *    not packages; a package root without a version is a problem);
 *  - a lockfile entry that matches an installed package (npm: the same install path; yarn and
 *    pnpm: the same name and version installed under the lockfile's node_modules) is the same
 *    package: reported once, the installed package.json first, the lockfile as a second location;
 *  - when the lockfile's directory has installed packages, entries not installed are left out
 *    (pruned dev dependencies, optional packages for other platforms are not in the image);
 *  - when nothing is installed next to it, the lockfile's packages are reported (declared
 *    only, metadata.declaredOnly), without dev-only ones, as syft's lock cataloger does by
 *    default; dev is known from the lockfile (npm, pnpm < 9) or worked out from the project's
 *    package.json (yarn, pnpm 9); when it cannot be known, the package is reported;
 *  - lockfiles inside node_modules (a dependency's own) are ignored, as syft does.
 * Edges: an installed package depends on what Node would load for each of its dependencies
 * (node_modules lookup up the tree, symlinks followed, as pnpm lays packages out); declared
 * packages depend on what their lockfile resolves.
 */
import type { FileResolver } from '../../../fs/merged.ts';
import type { FileRecord } from '../../../fs/types.ts';
import type { CatalogContext, Cataloger, CatalogResult, Location, Package } from '../../model.ts';
import { packageId } from '../../model.ts';
import { languagePurl } from '../../purl.ts';
import {
  cmp,
  errorMessage,
  isFatal,
  locationOf,
  MAX_METADATA_BYTES,
  problemAt,
  sortPackages,
  sortProblems,
  sortRelationships,
  throwIfAborted,
} from '../golang/shared.ts';
import type { LockEntry, ParsedLock, ProjectDeps } from './lock.ts';
import { depNames, isObject, type PackageJson, parsePackageJson } from './parse_package_json.ts';
import { parsePackageLock } from './parse_package_lock.ts';
import { parsePnpmLock } from './parse_pnpm_lock.ts';
import { parseYarnLock } from './parse_yarn_lock.ts';

export const JAVASCRIPT_CATALOGER_ID = 'javascript';
const MAX_LOCK_BYTES = 64 * 1024 ** 2;

const INSTALLED_PATTERNS = [
  '**/node_modules/*/package.json',
  '**/node_modules/@*/*/package.json',
  'usr/share/nodejs/*/package.json',
  'usr/share/nodejs/@*/*/package.json',
  'usr/lib/nodejs/*/package.json',
  'usr/lib/nodejs/@*/*/package.json',
  'usr/lib/*/nodejs/*/package.json',
  'usr/lib/*/nodejs/@*/*/package.json',
];
const LOCK_PATTERNS = ['**/package-lock.json', '**/npm-shrinkwrap.json', '**/yarn.lock', '**/pnpm-lock.yaml'];
/** Where Debian's node looks for modules besides node_modules (its NODE_PATH). */
const GLOBAL_ROOTS = ['/usr/share/nodejs', '/usr/lib/nodejs'];

interface Installed {
  pkg: Package;
  json: PackageJson;
  /** Directory of the package ('/app/node_modules/debug'). */
  dir: string;
}

export const javascriptCataloger: Cataloger = {
  id: JAVASCRIPT_CATALOGER_ID,
  version: 1,
  patterns: [...INSTALLED_PATTERNS, ...LOCK_PATTERNS],
  async catalog(files: FileResolver, ctx: CatalogContext): Promise<CatalogResult> {
    const out: CatalogResult = { packages: [], relationships: [], problems: [] };
    const installed = new Map<string, Installed>();
    for (const rec of await globAll(files, INSTALLED_PATTERNS)) {
      throwIfAborted(ctx);
      try {
        const text = await readText(files, rec, MAX_METADATA_BYTES);
        const json = parsePackageJson(text);
        const dir = rec.path.slice(0, -'/package.json'.length);
        const metadata: Record<string, unknown> = { installPath: dir };
        if (json.description) metadata.description = json.description;
        if (json.homepage) metadata.homepage = json.homepage;
        if (json.author) metadata.author = json.author;
        if (json.private) metadata.private = true;
        const pkg = makePackage(json.name, json.version, json.licenses, locationOf(rec), metadata);
        installed.set(rec.path, { pkg, json, dir });
        out.packages.push(pkg);
      } catch (e) {
        if (isFatal(e)) throw e;
        out.problems.push(problemAt(JAVASCRIPT_CATALOGER_ID, rec, `package.json: ${errorMessage(e)}`));
      }
    }
    await installedEdges(files, installed, out);

    for (const rec of await globAll(files, LOCK_PATTERNS)) {
      if (rec.path.includes('/node_modules/')) continue;
      throwIfAborted(ctx);
      try {
        await catalogLockfile(files, rec, installed, out);
      } catch (e) {
        if (isFatal(e)) throw e;
        out.problems.push(
          problemAt(JAVASCRIPT_CATALOGER_ID, rec, `${baseName(rec.path)}: ${errorMessage(e)}`),
        );
      }
    }
    sortPackages(out.packages);
    sortRelationships(out.relationships);
    sortProblems(out.problems);
    return out;
  },
};

async function globAll(files: FileResolver, patterns: string[]): Promise<FileRecord[]> {
  const recs = new Map<string, FileRecord>();
  for (const p of patterns) for (const r of await files.glob(p)) if (r.type === 'file') recs.set(r.path, r);
  return [...recs.values()].sort((a, b) => cmp(a.path, b.path));
}

async function readText(files: FileResolver, rec: FileRecord, max: number): Promise<string> {
  return new TextDecoder('utf-8').decode(await files.readFile(rec.path, { maxBytes: max }));
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

function dirName(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** pkg:npm/%40scope/name@1.0.0 for '@scope/name'. */
export function npmPurl(name: string, version: string): string {
  const slash = name.startsWith('@') ? name.indexOf('/') : -1;
  return slash > 0
    ? languagePurl('npm', { namespace: name.slice(0, slash), name: name.slice(slash + 1), version })
    : languagePurl('npm', { name, version });
}

function makePackage(
  name: string,
  version: string,
  licenses: string[],
  location: Location,
  metadata: Record<string, unknown>,
): Package {
  const pkg: Package = {
    id: '',
    type: 'npm',
    name,
    version,
    purl: npmPurl(name, version),
    licenses,
    locations: [location],
    foundBy: JAVASCRIPT_CATALOGER_ID,
    metadata,
  };
  pkg.id = packageId(pkg);
  return pkg;
}

/** Edges from each installed package to what Node would load for its dependencies. */
async function installedEdges(
  files: FileResolver,
  installed: Map<string, Installed>,
  out: CatalogResult,
): Promise<void> {
  for (const inst of installed.values()) {
    for (const dep of inst.json.dependencies) {
      const target = await resolveInstalled(files, installed, inst.dir, dep);
      if (target && target !== inst)
        out.relationships.push({ from: inst.pkg.id, to: target.pkg.id, type: 'depends-on' });
    }
  }
}

async function resolveInstalled(
  files: FileResolver,
  installed: Map<string, Installed>,
  fromDir: string,
  dep: string,
): Promise<Installed | undefined> {
  const real = (await files.realPath(fromDir)) ?? fromDir;
  const candidates: string[] = [];
  for (let dir = real; ; dir = dirName(dir)) {
    if (!dir.endsWith('/node_modules'))
      candidates.push(`${dir === '/' ? '' : dir}/node_modules/${dep}/package.json`);
    if (dir === '/') break;
  }
  for (const root of GLOBAL_ROOTS) candidates.push(`${root}/${dep}/package.json`);
  for (const c of candidates) {
    const hit = installed.get(c) ?? installed.get((await files.realPath(c)) ?? '');
    if (hit) return hit;
  }
  return undefined;
}

async function projectDeps(files: FileResolver, dir: string): Promise<ProjectDeps | undefined> {
  const path = `${dir === '/' ? '' : dir}/package.json`;
  const rec = await files.stat(path);
  if (!rec || rec.type !== 'file') return undefined;
  try {
    const raw: unknown = JSON.parse(await readText(files, rec, MAX_METADATA_BYTES));
    if (!isObject(raw)) return undefined;
    const ranges = (v: unknown) =>
      new Map(depNames(v).map((n) => [n, String((v as Record<string, unknown>)[n])] as [string, string]));
    const prod = new Map([...ranges(raw.dependencies), ...ranges(raw.optionalDependencies)]);
    return { prod, dev: ranges(raw.devDependencies) };
  } catch {
    // The project's package.json only helps tell dev from prod; without it nothing is dropped.
    return undefined;
  }
}

async function catalogLockfile(
  files: FileResolver,
  rec: FileRecord,
  installed: Map<string, Installed>,
  out: CatalogResult,
): Promise<void> {
  const dir = dirName(rec.path);
  const text = await readText(files, rec, MAX_LOCK_BYTES);
  const name = baseName(rec.path);
  let lock: ParsedLock;
  if (name === 'yarn.lock') lock = parseYarnLock(text, await projectDeps(files, dir));
  else if (name === 'pnpm-lock.yaml') lock = parsePnpmLock(text);
  else lock = parsePackageLock(text);

  const prefix = `${dir === '/' ? '' : dir}/node_modules/`;
  const under = [...installed.values()].filter((i) => i.pkg.locations[0]!.path.startsWith(prefix));
  const byNameVersion = new Map<string, Installed[]>();
  for (const i of under) {
    const k = `${i.pkg.name}@${i.pkg.version}`;
    byNameVersion.set(k, [...(byNameVersion.get(k) ?? []), i]);
  }
  const lockLocation = locationOf(rec);
  const forKey = new Map<string, Package[]>();
  const declared = new Map<string, Package>();
  for (const e of lock.entries) {
    const matched = matchInstalled(e, dir, installed, byNameVersion);
    if (matched.length > 0) {
      for (const m of matched) {
        if (!m.pkg.locations.some((l) => l.path === rec.path)) m.pkg.locations.push(lockLocation);
      }
      forKey.set(
        e.key,
        matched.map((m) => m.pkg),
      );
      continue;
    }
    if (under.length > 0 || e.dev === true) continue;
    const nv = `${e.name}@${e.version}`;
    let pkg = declared.get(nv);
    if (!pkg) {
      const metadata: Record<string, unknown> = {
        declaredOnly: true,
        lockfile: lock.format,
        lockfileVersion: lock.lockfileVersion,
      };
      if (e.resolved) metadata.resolved = e.resolved;
      if (e.integrity) metadata.integrity = e.integrity;
      if (e.path) metadata.lockPath = e.path;
      pkg = makePackage(e.name, e.version, e.licenses ?? [], lockLocation, metadata);
      declared.set(nv, pkg);
      out.packages.push(pkg);
    }
    forKey.set(e.key, [pkg]);
  }
  for (const e of lock.entries) {
    const from = forKey.get(e.key);
    if (!from || from.some((p) => !p.metadata?.declaredOnly)) continue;
    for (const d of e.deps) {
      for (const to of forKey.get(d) ?? []) {
        for (const f of from)
          if (f !== to) out.relationships.push({ from: f.id, to: to.id, type: 'depends-on' });
      }
    }
  }
}

function matchInstalled(
  e: LockEntry,
  dir: string,
  installed: Map<string, Installed>,
  byNameVersion: Map<string, Installed[]>,
): Installed[] {
  if (e.path !== undefined) {
    const hit = installed.get(`${dir === '/' ? '' : dir}/${e.path}/package.json`);
    return hit && hit.pkg.name === e.name && hit.pkg.version === e.version ? [hit] : [];
  }
  return byNameVersion.get(`${e.name}@${e.version}`) ?? [];
}
