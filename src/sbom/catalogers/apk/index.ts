/**
 * Alpine (and Wolfi, Chainguard, postmarketOS) packages from apk-tools' installed database
 * /lib/apk/db/installed. The source package is the origin (o:), owned files come from F:/R:,
 * depends-on edges from D: resolved against names and p: provides.
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
import { type ApkEntry, apkLicenses, apkTokenName, parseApkInstalled } from './parse-installed.ts';

export const APK_CATALOGER_ID = 'apk-db';

const DB_GLOB = '**/lib/apk/db/installed';
const MAX_DB_BYTES = 256 * 1024 ** 2;

export const apkCataloger: Cataloger = {
  id: APK_CATALOGER_ID,
  version: 1,
  patterns: [DB_GLOB],
  catalog: catalogApk,
};

async function catalogApk(files: FileResolver, ctx: CatalogContext): Promise<CatalogResult> {
  const out: CatalogResult = { packages: [], relationships: [], problems: [] };
  for (const rec of await files.glob(DB_GLOB)) {
    if (rec.type !== 'file') continue;
    ctx.signal?.throwIfAborted();
    const root = rec.path.slice(0, rec.path.length - '/lib/apk/db/installed'.length);
    let text: string;
    try {
      text = Buffer.from(await files.readFile(rec.path, { maxBytes: MAX_DB_BYTES })).toString('utf8');
    } catch (e) {
      out.problems.push(problemAt(rec, `cannot read: ${isVouchError(e) ? e.message : String(e)}`));
      continue;
    }
    const parsed = parseApkInstalled(text);
    for (const message of parsed.errors) out.problems.push(problemAt(rec, message));
    if (parsed.entries.length === 0 && parsed.errors.length === 0 && text.trim() !== '') {
      out.problems.push(problemAt(rec, 'no package records found'));
    }
    const pkgs = parsed.entries.map((e) => makePackage(ctx, rec, root, e));
    out.packages.push(...pkgs);
    out.relationships.push(...dependencies(pkgs, parsed.entries));
  }
  return out;
}

function makePackage(ctx: CatalogContext, rec: FileRecord, root: string, e: ApkEntry): Package {
  const locations: Location[] = [
    rec.layerDigest ? { path: rec.path, layer: rec.layerDigest } : { path: rec.path },
  ];
  const source = { name: e.origin || e.name, version: e.version };
  const metadata: Record<string, unknown> = {};
  if (e.maintainer) metadata.maintainer = e.maintainer;
  if (e.installedSize !== undefined) metadata.installedSize = e.installedSize;
  if (e.commit) metadata.commit = e.commit;
  if (e.provides.length > 0) metadata.provides = e.provides;
  const pkg: Package = {
    id: packageId({
      type: 'apk',
      name: e.arch ? `${e.name}:${e.arch}` : e.name,
      version: e.version,
      locations,
    }),
    type: 'apk',
    name: e.name,
    version: e.version,
    purl: osPackagePurl('apk', ctx.os, e.name, e.version, { ...(e.arch ? { arch: e.arch } : {}), source }),
    licenses: apkLicenses(e.license),
    locations,
    foundBy: APK_CATALOGER_ID,
    source,
    files: [...new Set(e.files.map((f) => root + f))].sort(),
  };
  if (e.arch) pkg.arch = e.arch;
  if (Object.keys(metadata).length > 0) pkg.metadata = metadata;
  return pkg;
}

function dependencies(pkgs: Package[], entries: ApkEntry[]): Relationship[] {
  const byName = new Map<string, Package>();
  entries.forEach((e, i) => {
    byName.set(e.name, pkgs[i]!);
    for (const p of e.provides) if (!byName.has(apkTokenName(p))) byName.set(apkTokenName(p), pkgs[i]!);
  });
  const out: Relationship[] = [];
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    const from = pkgs[i]!;
    for (const d of e.depends) {
      if (d.startsWith('!')) continue; // a conflict, not a dependency
      const to = byName.get(apkTokenName(d));
      if (!to || to === from || seen.has(`${from.id}>${to.id}`)) continue;
      seen.add(`${from.id}>${to.id}`);
      out.push({ from: from.id, to: to.id, type: 'depends-on' });
    }
  });
  return out;
}

function problemAt(rec: FileRecord, message: string): SbomProblem {
  const p: SbomProblem = { cataloger: APK_CATALOGER_ID, path: rec.path, message };
  if (rec.layerDigest) p.layer = rec.layerDigest;
  return p;
}
