/**
 * Red Hat family packages (RHEL, CentOS Stream, Fedora, Rocky, Alma, Amazon Linux, openSUSE,
 * Mariner) from the SQLite rpm database. Version is `[epoch:]version-release`; the source
 * package comes from SOURCERPM; files from DIRNAMES/BASENAMES/DIRINDEXES (directories
 * dropped by FILEMODES); depends-on from REQUIRENAME against PROVIDENAME, names and files.
 * gpg-pubkey entries (imported signing keys, not software) are skipped.
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
import { headerFiles, parseHeader, RPM_TAG, type RpmHeader } from './header.ts';
import { readSqliteRpmdb, sniffBackend } from './rpmdb.ts';

export const RPM_CATALOGER_ID = 'rpm-db';

const DIRS = ['**/var/lib/rpm', '**/usr/lib/sysimage/rpm'];
const SQLITE = 'rpmdb.sqlite';
const OTHER_BACKENDS = ['Packages', 'Packages.db'];

export const rpmCataloger: Cataloger = {
  id: RPM_CATALOGER_ID,
  version: 1,
  patterns: DIRS.flatMap((d) => [SQLITE, `${SQLITE}-wal`, ...OTHER_BACKENDS].map((f) => `${d}/${f}`)),
  catalog: catalogRpm,
};

async function catalogRpm(files: FileResolver, ctx: CatalogContext): Promise<CatalogResult> {
  const out: CatalogResult = { packages: [], relationships: [], problems: [] };
  const sqliteDirs = new Set<string>();
  const seen = new Set<string>();
  for (const dir of DIRS) {
    for (const rec of await files.glob(`${dir}/${SQLITE}`)) {
      if (rec.type !== 'file' || seen.has(rec.path)) continue;
      seen.add(rec.path);
      sqliteDirs.add(rec.path.slice(0, rec.path.lastIndexOf('/')));
      ctx.signal?.throwIfAborted();
      await catalogSqlite(files, ctx, rec, out);
    }
  }
  for (const dir of DIRS) {
    for (const name of OTHER_BACKENDS) {
      for (const rec of await files.glob(`${dir}/${name}`)) {
        const parent = rec.path.slice(0, rec.path.lastIndexOf('/'));
        // A leftover Berkeley DB next to the SQLite database it was converted to is not read.
        if (rec.type !== 'file' || seen.has(rec.path) || sqliteDirs.has(parent)) continue;
        seen.add(rec.path);
        const backend = sniffBackend(await head(files, rec.path, 64));
        out.problems.push(
          problemAt(
            rec,
            backend === 'bdb' || backend === 'ndb'
              ? `unsupported rpmdb backend (${backend}): packages installed by rpm are not listed`
              : backend === 'sqlite'
                ? 'a SQLite rpmdb under an unexpected name: packages installed by rpm are not listed'
                : 'unrecognised rpm database (neither SQLite, Berkeley DB nor NDB): packages installed by rpm are not listed',
          ),
        );
      }
    }
  }
  return out;
}

async function catalogSqlite(files: FileResolver, ctx: CatalogContext, rec: FileRecord, out: CatalogResult) {
  const backend = sniffBackend(await head(files, rec.path, 64));
  if (backend !== 'sqlite') {
    out.problems.push(
      problemAt(
        rec,
        `not a SQLite database (looks like: ${backend}): packages installed by rpm are not listed`,
      ),
    );
    return;
  }
  let rows: Awaited<ReturnType<typeof readSqliteRpmdb>>;
  try {
    rows = await readSqliteRpmdb(files, rec.path);
  } catch (e) {
    out.problems.push(
      problemAt(
        rec,
        `cannot read the rpm database: ${isVouchError(e) || e instanceof Error ? e.message : String(e)}`,
      ),
    );
    return;
  }
  const root = rec.path.replace(/\/(var\/lib\/rpm|usr\/lib\/sysimage\/rpm)\/rpmdb\.sqlite$/, '');
  const pkgs: { pkg: Package; h: RpmHeader }[] = [];
  for (const row of rows) {
    let h: RpmHeader;
    let pkg: Package | undefined;
    try {
      h = parseHeader(row.blob);
      pkg = makePackage(ctx, rec, root, h);
    } catch (e) {
      out.problems.push(
        problemAt(rec, `package header ${row.hnum}: ${e instanceof Error ? e.message : String(e)}`),
      );
      continue;
    }
    if (pkg) pkgs.push({ pkg, h });
  }
  if (rows.length === 0) out.problems.push(problemAt(rec, 'the rpm database lists no packages'));
  out.packages.push(...pkgs.map((p) => p.pkg));
  out.relationships.push(...dependencies(pkgs));
}

function makePackage(ctx: CatalogContext, rec: FileRecord, root: string, h: RpmHeader): Package | undefined {
  const name = h.string(RPM_TAG.NAME);
  const ver = h.string(RPM_TAG.VERSION);
  const rel = h.string(RPM_TAG.RELEASE);
  if (!name || !ver || !rel) throw new Error('no NAME, VERSION or RELEASE');
  if (name === 'gpg-pubkey') return undefined;
  const epoch = h.int(RPM_TAG.EPOCH);
  const e = epoch ? `${epoch}:` : '';
  const version = `${e}${ver}-${rel}`;
  const arch = h.string(RPM_TAG.ARCH);
  const sourceRpm = h.string(RPM_TAG.SOURCERPM);
  const src = sourceRpm ? /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(sourceRpm) : null;
  const source = src ? { name: src[1]!, version: `${e}${src[2]}-${src[3]}` } : { name, version };
  const { paths, modes } = headerFiles(h);
  const owned = paths.filter((_, i) => ((modes[i] ?? 0) & 0o170000) !== 0o040000).map((p) => root + p);
  const locations: Location[] = [
    rec.layerDigest ? { path: rec.path, layer: rec.layerDigest } : { path: rec.path },
  ];
  const license = h.string(RPM_TAG.LICENSE);
  const metadata: Record<string, unknown> = {};
  const vendor = h.string(RPM_TAG.VENDOR);
  if (vendor) metadata.vendor = vendor;
  if (sourceRpm) metadata.sourceRpm = sourceRpm;
  const size = h.int(RPM_TAG.SIZE);
  if (size !== undefined) metadata.size = size;
  const pkg: Package = {
    id: packageId({ type: 'rpm', name: arch ? `${name}:${arch}` : name, version, locations }),
    type: 'rpm',
    name,
    version,
    purl: osPackagePurl('rpm', ctx.os, name, `${ver}-${rel}`, {
      ...(arch ? { arch } : {}),
      ...(epoch ? { epoch } : {}),
      ...(sourceRpm ? { sourceRpm } : {}),
    }),
    licenses: license && license !== '(none)' ? [license] : [],
    locations,
    foundBy: RPM_CATALOGER_ID,
    source,
    files: [...new Set(owned)].sort(),
  };
  if (arch) pkg.arch = arch;
  if (Object.keys(metadata).length > 0) pkg.metadata = metadata;
  return pkg;
}

function dependencies(pkgs: { pkg: Package; h: RpmHeader }[]): Relationship[] {
  const providers = new Map<string, Package[]>();
  const add = (key: string, p: Package) => {
    const l = providers.get(key) ?? [];
    if (!l.includes(p)) l.push(p);
    providers.set(key, l);
  };
  for (const { pkg, h } of pkgs) {
    add(pkg.name, pkg);
    for (const p of h.strings(RPM_TAG.PROVIDENAME)) add(p, pkg);
    for (const f of pkg.files ?? []) add(f, pkg);
  }
  const out: Relationship[] = [];
  const seen = new Set<string>();
  for (const { pkg, h } of pkgs) {
    for (const req of h.strings(RPM_TAG.REQUIRENAME)) {
      if (req.startsWith('rpmlib(')) continue;
      for (const to of providers.get(req) ?? []) {
        const key = `${pkg.id}>${to.id}`;
        if (to === pkg || seen.has(key)) continue;
        seen.add(key);
        out.push({ from: pkg.id, to: to.id, type: 'depends-on' });
      }
    }
  }
  return out;
}

async function head(files: FileResolver, path: string, n: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let got = 0;
  for await (const c of await files.open(path)) {
    chunks.push(c);
    got += c.byteLength;
    if (got >= n) break;
  }
  return Buffer.concat(chunks).subarray(0, n);
}

function problemAt(rec: FileRecord, message: string): SbomProblem {
  const p: SbomProblem = { cataloger: RPM_CATALOGER_ID, path: rec.path, message };
  if (rec.layerDigest) p.layer = rec.layerDigest;
  return p;
}
