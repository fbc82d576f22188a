/**
 * Installed Python distributions (syft's python-installed-package-cataloger):
 *  - `*.dist-info/METADATA` (wheels, pip), with RECORD listing the files it installed;
 *  - `*.egg-info/PKG-INFO` (setuptools directories), with installed-files.txt and requires.txt;
 *  - `*.egg-info` as a single file (distutils) and `*.egg/EGG-INFO/PKG-INFO` (unzipped eggs).
 * Name and Version are required (else a located problem). The purl name is PEP 503 normalised
 * (pkg:pypi/pyyaml@6.0); the package name stays as declared. Files owned (from RECORD or
 * installed-files.txt) are absolute image paths in metadata.files; locations are the metadata
 * file (first) and RECORD, so the runner can tie a distribution to the OS package that
 * installed it. The same distribution described twice in one directory (Debian ships both
 * cryptography-38.0.4.dist-info and cryptography.egg-info) is one package, dist-info first.
 * Unconditional requirements (Requires-Dist without an extra, requires.txt before any
 * [section]) become depends-on relationships to distributions installed in the same directory.
 */
import type { FileResolver } from '../../../fs/merged.ts';
import type { FileRecord } from '../../../fs/types.ts';
import type { CatalogContext, Cataloger, CatalogResult, Package } from '../../model.ts';
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
import {
  header,
  metadataLicenses,
  normalizeName,
  parseCoreMetadata,
  parseRecordPaths,
  parseRequiresTxt,
  requiredNames,
} from './parse_metadata.ts';

export const PYTHON_CATALOGER_ID = 'python-installed';

type Kind = 'dist-info' | 'egg-info' | 'egg-info-file' | 'egg';

const SOURCES: { pattern: string; kind: Kind }[] = [
  { pattern: '**/*.dist-info/METADATA', kind: 'dist-info' },
  { pattern: '**/*.egg-info/PKG-INFO', kind: 'egg-info' },
  { pattern: '**/*.egg-info', kind: 'egg-info-file' },
  { pattern: '**/*.egg/EGG-INFO/PKG-INFO', kind: 'egg' },
];
const KIND_ORDER: Record<Kind, number> = { 'dist-info': 0, 'egg-info': 1, 'egg-info-file': 2, egg: 3 };

export const pythonCataloger: Cataloger = {
  id: PYTHON_CATALOGER_ID,
  version: 1,
  // The companions read beside each metadata file are listed too, so the runner keeps them in
  // memory during its single pass instead of re-reading a layer for each.
  patterns: [
    ...SOURCES.map((s) => s.pattern),
    '**/*.dist-info/RECORD',
    '**/*.egg-info/installed-files.txt',
    '**/*.egg-info/requires.txt',
  ],
  async catalog(files: FileResolver, ctx: CatalogContext): Promise<CatalogResult> {
    const out: CatalogResult = { packages: [], relationships: [], problems: [] };
    const found: { rec: FileRecord; kind: Kind }[] = [];
    for (const s of SOURCES) {
      for (const rec of await files.glob(s.pattern))
        if (rec.type === 'file') found.push({ rec, kind: s.kind });
    }
    // dist-info before egg-info of the same directory, so it wins duplicates.
    found.sort(
      (a, b) =>
        cmp(dirOf(metaDir(a)), dirOf(metaDir(b))) ||
        KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
        cmp(a.rec.path, b.rec.path),
    );
    const bySite = new Map<string, Map<string, { pkg: Package; requires: string[] }>>();
    for (const f of found) {
      throwIfAborted(ctx);
      try {
        const got = await readDistribution(files, f.rec, f.kind);
        const site = got.site;
        const installed = bySite.get(site) ?? new Map<string, { pkg: Package; requires: string[] }>();
        bySite.set(site, installed);
        const key = normalizeName(got.pkg.name);
        const seen = installed.get(key);
        if (seen && seen.pkg.version === got.pkg.version) {
          for (const l of got.pkg.locations)
            if (!seen.pkg.locations.some((x) => x.path === l.path)) seen.pkg.locations.push(l);
          seen.requires.push(...got.requires);
          continue;
        }
        if (!seen) installed.set(key, { pkg: got.pkg, requires: got.requires });
        out.packages.push(got.pkg);
      } catch (e) {
        if (isFatal(e)) throw e;
        out.problems.push(problemAt(PYTHON_CATALOGER_ID, f.rec, `Python metadata: ${errorMessage(e)}`));
      }
    }
    for (const installed of bySite.values()) {
      for (const { pkg, requires } of installed.values()) {
        for (const r of new Set(requires)) {
          const to = installed.get(r);
          if (to && to.pkg !== pkg)
            out.relationships.push({ from: pkg.id, to: to.pkg.id, type: 'depends-on' });
        }
      }
    }
    sortPackages(out.packages);
    sortRelationships(out.relationships);
    sortProblems(out.problems);
    return out;
  },
};

/** The .dist-info / .egg-info / EGG-INFO path that holds the metadata (or the egg-info file). */
function metaDir(f: { rec: FileRecord; kind: Kind }): string {
  return f.kind === 'egg-info-file' ? f.rec.path : dirOf(f.rec.path);
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

/** Join a relative path (may climb with '..') onto an absolute directory. */
function resolveIn(dir: string, rel: string): string {
  const parts = rel.startsWith('/') ? [] : dir.split('/').filter(Boolean);
  for (const seg of rel.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

async function readText(files: FileResolver, path: string): Promise<string | undefined> {
  const rec = await files.stat(path);
  if (!rec || rec.type !== 'file') return undefined;
  return new TextDecoder('utf-8').decode(await files.readFile(path, { maxBytes: MAX_METADATA_BYTES }));
}

async function readDistribution(
  files: FileResolver,
  rec: FileRecord,
  kind: Kind,
): Promise<{ pkg: Package; requires: string[]; site: string }> {
  const text = new TextDecoder('utf-8').decode(
    await files.readFile(rec.path, { maxBytes: MAX_METADATA_BYTES }),
  );
  const meta = parseCoreMetadata(text);
  const name = header(meta, 'Name');
  const version = header(meta, 'Version');
  if (!name) throw new Error('no Name header');
  if (!version) throw new Error(`${name}: no Version header`);
  const infoDir = kind === 'egg-info-file' ? rec.path : dirOf(rec.path);
  const site = kind === 'egg' ? dirOf(dirOf(infoDir)) : dirOf(infoDir);
  const locations = [locationOf(rec)];
  const owned: string[] = [];
  const requires = requiredNames(meta);
  if (kind === 'dist-info') {
    const recordPath = `${infoDir}/RECORD`;
    const record = await readText(files, recordPath);
    if (record !== undefined) {
      const rr = await files.stat(recordPath);
      if (rr) locations.push(locationOf(rr));
      for (const p of parseRecordPaths(record)) owned.push(resolveIn(site, p));
    }
  } else if (kind === 'egg-info') {
    const listed = await readText(files, `${infoDir}/installed-files.txt`);
    if (listed !== undefined) {
      for (const p of listed.split(/\r?\n/)) if (p.trim() !== '') owned.push(resolveIn(infoDir, p.trim()));
    }
    const req = await readText(files, `${infoDir}/requires.txt`);
    if (req !== undefined) requires.push(...parseRequiresTxt(req));
  }
  const metadata: Record<string, unknown> = {
    sitePackages: site,
    [kind === 'dist-info' ? 'distInfo' : 'eggInfo']: infoDir,
  };
  if (owned.length > 0) metadata.files = [...new Set(owned)].sort(cmp);
  const summary = header(meta, 'Summary');
  if (summary) metadata.summary = summary;
  const pkg: Package = {
    id: '',
    type: 'pypi',
    name,
    version,
    purl: languagePurl('pypi', { name, version }),
    licenses: metadataLicenses(meta),
    locations,
    foundBy: PYTHON_CATALOGER_ID,
    metadata,
  };
  pkg.id = packageId(pkg);
  return { pkg, requires, site };
}
