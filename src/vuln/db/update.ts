/**
 * updateDb: fetch `<baseUrl>/<Ecosystem>/all.zip` for each ecosystem, conditionally (ETag and
 * Last-Modified of the stored source), and import what changed in one atomic swap.
 *
 * Downloads go to temp files beside the database. A download that fails (HTTP error, reset,
 * truncated body, corrupt zip) is reported in the result and that ecosystem keeps its previous
 * records; the others are still updated. An abort stops everything and changes nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, unlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { isVouchError, VouchError } from '../../errors.ts';
import {
  type CheckedSource,
  failedSource,
  type ImportProgress,
  type ImportResult,
  type ImportSource,
  importOsv,
  markChecked,
} from './import.ts';
import { identifyDbFile, readMetadata } from './open.ts';
import { SCHEMA_VERSION } from './schema.ts';
import type { DbMetadata, DbSource } from './types.ts';
import { readZipDirectory } from './zip.ts';

export const DEFAULT_OSV_BASE_URL = 'https://osv-vulnerabilities.storage.googleapis.com';

export type UpdateProgress =
  | { phase: 'download'; ecosystem: string; bytes: number; total?: number }
  | ({ phase: 'import' } & ImportProgress);

export interface UpdateOptions {
  baseUrl?: string;
  /** OSV ecosystem directories ('Debian', 'PyPI', 'Go'); default: those the database came from. */
  ecosystems?: string[];
  signal?: AbortSignal;
  onProgress?: (p: UpdateProgress) => void;
  /** Decode workers for the import (see ImportOptions.workers). */
  workers?: number;
  now?: () => Date;
}

export interface EcosystemUpdate {
  ecosystem: string;
  url: string;
  status: 'updated' | 'unchanged' | 'failed';
  /** Why: 'not modified (304)', 'same content', or what failed */
  detail: string;
  /** Bytes downloaded */
  bytes?: number;
  /** Records imported (updated ones) */
  records?: number;
}

export interface UpdateResult {
  dbPath: string;
  ecosystems: EcosystemUpdate[];
  /** The subset that failed: their previous records (if any) are still in the database. */
  failed: EcosystemUpdate[];
  /** Set when something changed and was imported */
  import?: ImportResult;
  /** The database after the update (undefined when nothing could be stored at all) */
  metadata?: DbMetadata;
}

/** Directory names as OSV exports them; a ':release' suffix has no directory of its own. */
export function checkEcosystemName(eco: string): void {
  if (eco.includes(':')) {
    throw new VouchError('USAGE', `ecosystem "${eco}": OSV exports one all.zip per bare ecosystem`, {
      hint: `use --ecosystem ${eco.slice(0, eco.indexOf(':'))}; its all.zip holds every release`,
    });
  }
  if (eco === '' || eco === '.' || eco === '..' || /[/\\\u0000-\u001f\u007f]/.test(eco)) {
    throw new VouchError('USAGE', `"${eco}" is not an OSV ecosystem name (e.g. Debian, PyPI, Go, npm)`);
  }
}

function baseOf(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new VouchError('USAGE', `--base-url "${url}" is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new VouchError('USAGE', `--base-url must be http(s), not ${u.protocol}`);
  }
  return url.replace(/\/+$/, '');
}

export function zipUrl(baseUrl: string, ecosystem: string): string {
  return `${baseOf(baseUrl)}/${encodeURIComponent(ecosystem)}/all.zip`;
}

/** Ecosystems a previous update fetched from this base URL, to refresh when none are named. */
function ecosystemsFrom(sources: DbSource[], base: string): string[] {
  const out: string[] = [];
  for (const s of sources) {
    const m = s.location.startsWith(`${base}/`)
      ? /^([^/]+)\/all\.zip$/.exec(s.location.slice(base.length + 1))
      : null;
    if (m) out.push(decodeURIComponent(m[1]!));
  }
  return out.sort();
}

function previousMetadata(dbPath: string): DbMetadata | undefined {
  const kind = identifyDbFile(dbPath);
  if (kind.kind === 'missing') return undefined;
  if (kind.kind === 'foreign') {
    throw new VouchError('DB_INVALID', `${dbPath} exists and is ${kind.why}; refusing to replace it`, {
      hint: 'choose another --db path',
    });
  }
  // Another schema: its sources cannot be trusted to skip downloads; everything is fetched again.
  if (kind.schemaVersion !== SCHEMA_VERSION) return undefined;
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    return readMetadata(db);
  } finally {
    db.close();
  }
}

interface Download {
  file: string;
  sha256: string;
  bytes: number;
  etag?: string;
  lastModified?: string;
}

type Fetched =
  | { kind: 'not-modified' }
  | { kind: 'downloaded'; d: Download }
  | { kind: 'failed'; why: string };

async function fetchZip(
  url: string,
  prev: DbSource | undefined,
  file: string,
  o: UpdateOptions,
  ecosystem: string,
): Promise<Fetched> {
  const headers: Record<string, string> = {};
  if (prev?.etag) headers['if-none-match'] = prev.etag;
  if (prev?.lastModified) headers['if-modified-since'] = prev.lastModified;
  let res: Response;
  try {
    res = await fetch(url, { headers, ...(o.signal ? { signal: o.signal } : {}) });
  } catch (e) {
    if (o.signal?.aborted) throw e;
    const cause = (e as Error).cause as Error | undefined;
    return { kind: 'failed', why: `request failed: ${cause?.message ?? (e as Error).message}` };
  }
  if (res.status === 304) {
    await res.body?.cancel();
    return { kind: 'not-modified' };
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel().catch(() => {});
    return { kind: 'failed', why: `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}` };
  }
  const lengthHeader = res.headers.get('content-length');
  const total = lengthHeader === null ? undefined : Number(lengthHeader);
  const h = createHash('sha256');
  let bytes = 0;
  const fh = await open(file, 'wx', 0o600);
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      h.update(chunk);
      await fh.write(chunk);
      bytes += chunk.byteLength;
      o.onProgress?.({ phase: 'download', ecosystem, bytes, ...(total === undefined ? {} : { total }) });
    }
  } catch (e) {
    if (o.signal?.aborted) throw e;
    const cause = (e as Error).cause as Error | undefined;
    return {
      kind: 'failed',
      why: `download interrupted after ${bytes} bytes: ${cause?.message ?? (e as Error).message}`,
    };
  } finally {
    await fh.close();
  }
  if (total !== undefined && bytes !== total) {
    return { kind: 'failed', why: `truncated: ${bytes} of ${total} bytes` };
  }
  const d: Download = { file, sha256: h.digest('hex'), bytes };
  const etag = res.headers.get('etag');
  const lastModified = res.headers.get('last-modified');
  if (etag) d.etag = etag;
  if (lastModified) d.lastModified = lastModified;
  return { kind: 'downloaded', d };
}

export async function updateDb(dbPath: string, o: UpdateOptions = {}): Promise<UpdateResult> {
  const base = baseOf(o.baseUrl ?? DEFAULT_OSV_BASE_URL);
  const previous = previousMetadata(dbPath);
  const ecosystems = [
    ...new Set(o.ecosystems?.length ? o.ecosystems : ecosystemsFrom(previous?.sources ?? [], base)),
  ];
  if (ecosystems.length === 0) {
    throw new VouchError('USAGE', 'no ecosystems to update: the database has none from this base URL yet', {
      hint: 'name them: vouch db update --ecosystem Debian --ecosystem PyPI --ecosystem Go ...',
    });
  }
  for (const e of ecosystems) checkEcosystemName(e);
  await mkdir(dirname(resolve(dbPath)), { recursive: true });

  const results: EcosystemUpdate[] = [];
  const changed: (ImportSource & { ecosystem: string })[] = [];
  const checked: CheckedSource[] = [];
  const temps: string[] = [];
  try {
    for (const ecosystem of ecosystems) {
      o.signal?.throwIfAborted();
      const url = zipUrl(base, ecosystem);
      const prev = previous?.sources.find((s) => s.location === url);
      const file = `${dbPath}.${ecosystem.replace(/[^A-Za-z0-9._-]/g, '_')}.${randomBytes(4).toString('hex')}.download`;
      temps.push(file);
      const got = await fetchZip(url, prev, file, o, ecosystem);
      if (got.kind === 'failed') {
        results.push({ ecosystem, url, status: 'failed', detail: got.why });
        continue;
      }
      if (got.kind === 'not-modified') {
        checked.push({ location: url });
        results.push({ ecosystem, url, status: 'unchanged', detail: 'not modified (304)' });
        continue;
      }
      const { d } = got;
      const validators = {
        ...(d.etag ? { etag: d.etag } : {}),
        ...(d.lastModified ? { lastModified: d.lastModified } : {}),
      };
      if (prev?.sha256 === d.sha256) {
        checked.push({ location: url, ...validators });
        results.push({ ecosystem, url, status: 'unchanged', detail: 'same content', bytes: d.bytes });
        continue;
      }
      try {
        await readZipDirectory(d.file, url); // a truncated or non-zip body fails here, before any import
      } catch (e) {
        if (!isVouchError(e, 'DB_INVALID')) throw e;
        results.push({ ecosystem, url, status: 'failed', detail: e.message, bytes: d.bytes });
        continue;
      }
      changed.push({ location: url, path: d.file, ecosystem, sha256: d.sha256, ...validators });
      results.push({ ecosystem, url, status: 'updated', detail: `${d.bytes} bytes`, bytes: d.bytes });
    }

    let imported: ImportResult | undefined;
    // Corrupt member data only shows while importing: drop that input and import the rest again.
    while (changed.length > 0) {
      try {
        imported = await importOsv(dbPath, changed, {
          checked,
          ...(o.signal ? { signal: o.signal } : {}),
          ...(o.workers === undefined ? {} : { workers: o.workers }),
          ...(o.now ? { now: o.now } : {}),
          ...(o.onProgress
            ? { onProgress: (p: ImportProgress) => o.onProgress?.({ phase: 'import', ...p }) }
            : {}),
        });
        break;
      } catch (e) {
        const bad = failedSource(e);
        const i = changed.findIndex((c) => c.location === bad);
        if (!isVouchError(e, 'DB_INVALID') || i < 0) throw e;
        const r = results.find((x) => x.url === bad)!;
        r.status = 'failed';
        r.detail = e.message;
        changed.splice(i, 1);
      }
    }
    if (imported) {
      for (const r of results) {
        if (r.status !== 'updated') continue;
        r.records = imported.metadata.sources.find((s) => s.location === r.url)?.records ?? 0;
      }
    } else if (checked.length > 0 && previous) {
      touch(dbPath, checked, (o.now?.() ?? new Date()).toISOString());
    }
    const metadata = imported?.metadata ?? (previous ? (previousMetadata(dbPath) ?? previous) : undefined);
    return {
      dbPath,
      ecosystems: results,
      failed: results.filter((r) => r.status === 'failed'),
      ...(imported ? { import: imported } : {}),
      ...(metadata ? { metadata } : {}),
    };
  } catch (e) {
    if (o.signal?.aborted && !isVouchError(e, 'ABORTED')) {
      throw new VouchError('ABORTED', `update of ${dbPath} was aborted; the previous database is unchanged`, {
        cause: e,
      });
    }
    throw e;
  } finally {
    await Promise.all(temps.map((t) => unlink(t).catch(() => {})));
  }
}

/** Nothing to import: record in place that the sources were confirmed current (one small transaction). */
function touch(dbPath: string, checked: CheckedSource[], now: string): void {
  const db = new DatabaseSync(dbPath);
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec('BEGIN IMMEDIATE');
    markChecked(db, checked, now);
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}
