/** The read side: openAdvisoryDb() over a database importOsv() wrote. */
import { existsSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { inflateRawSync } from 'node:zlib';
import { VouchError } from '../../errors.ts';
import type { OsvRecord } from '../osv.ts';
import { APPLICATION_ID, bareEcosystem, displayTime, indexName, SCHEMA_VERSION } from './schema.ts';
import type { AdvisoryDb, DbMetadata, DbSource, RecordsForOptions } from './types.ts';

const REIMPORT_HINT = 'rebuild it: `vouch db update` (or `vouch db import FILE...` for offline data)';
/** An alias group bigger than this is data gone wrong (a hub alias); stop rather than walk it all. */
const MAX_ALIAS_GROUP = 1000;

/** What an existing file is: a vouch database of some schema version, or not one at all. */
export type DbFileKind = { kind: 'vouch'; schemaVersion: number } | { kind: 'foreign'; why: string };

/** Identify the SQLite file open in `db` (application_id, user_version) without trusting it further. */
export function identifyDb(db: DatabaseSync): DbFileKind {
  try {
    const app = (db.prepare('PRAGMA application_id').get() as { application_id: number }).application_id;
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (app !== APPLICATION_ID) return { kind: 'foreign', why: 'not a vouch advisory database' };
    return { kind: 'vouch', schemaVersion: version };
  } catch (e) {
    return { kind: 'foreign', why: `not an SQLite database (${(e as Error).message})` };
  }
}

/** What is at `path`: nothing, a vouch database (of which schema), or some other file. */
export function identifyDbFile(path: string): DbFileKind | { kind: 'missing' } {
  if (!existsSync(path)) return { kind: 'missing' };
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (e) {
    return { kind: 'foreign', why: `not readable as SQLite (${(e as Error).message})` };
  }
  try {
    return identifyDb(db);
  } finally {
    db.close();
  }
}

export function openAdvisoryDb(path: string): AdvisoryDb {
  if (!existsSync(path)) {
    throw new VouchError('DB_NOT_FOUND', `no advisory database at ${path}`, {
      hint: 'create it: `vouch db update --ecosystem Debian --ecosystem PyPI ...` or `vouch db import all.zip`',
    });
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (e) {
    throw new VouchError('DB_INVALID', `cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  const kind = identifyDb(db);
  if (kind.kind === 'foreign' || kind.schemaVersion !== SCHEMA_VERSION) {
    db.close();
    const what =
      kind.kind === 'foreign'
        ? kind.why
        : `schema version ${kind.schemaVersion}, but this vouch reads version ${SCHEMA_VERSION}`;
    throw new VouchError('DB_INVALID', `${path}: ${what}`, { hint: REIMPORT_HINT });
  }
  try {
    return new SqliteAdvisoryDb(path, db);
  } catch (e) {
    db.close();
    throw new VouchError('DB_INVALID', `${path}: ${(e as Error).message}`, { hint: REIMPORT_HINT, cause: e });
  }
}

function decodeRecord(path: string, id: string, blob: Uint8Array): OsvRecord {
  try {
    return JSON.parse(inflateRawSync(blob).toString('utf8')) as OsvRecord;
  } catch (e) {
    throw new VouchError('DB_INVALID', `${path}: record ${id} is corrupt (${(e as Error).message})`, {
      hint: REIMPORT_HINT,
      cause: e,
    });
  }
}

class SqliteAdvisoryDb implements AdvisoryDb {
  readonly path: string;
  #db: DatabaseSync;
  #byKey: StatementSync;
  #byId: StatementSync;
  #aliasesOf: StatementSync;
  #metadata: DbMetadata | undefined;

  constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.#db = db;
    const select = `SELECT id, json FROM records WHERE withdrawn IS NULL AND rec IN
      (SELECT rec FROM affected WHERE ecosystem IN (?, ?) AND name = ?) ORDER BY id`;
    this.#byKey = db.prepare(select);
    this.#byId = db.prepare('SELECT json FROM records WHERE id = ?');
    // Both directions: ids this id lists, and records that list this id (aliases are symmetric).
    this.#aliasesOf = db.prepare(`
      SELECT a.alias AS other FROM aliases a JOIN records r ON r.rec = a.rec WHERE r.id = ?1
      UNION SELECT r.id FROM aliases a JOIN records r ON r.rec = a.rec WHERE a.alias = ?1`);
  }

  /** Run a query; an SQLite failure (a damaged file) becomes DB_INVALID naming the file. */
  #query<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_SQLITE_ERROR') throw e;
      throw new VouchError('DB_INVALID', `${this.path}: ${(e as Error).message}`, {
        hint: REIMPORT_HINT,
        cause: e,
      });
    }
  }

  #rows(stmt: StatementSync, ...params: string[]): OsvRecord[] {
    const rows = this.#query(() => stmt.all(...params) as { id: string; json: Uint8Array }[]);
    return rows.map((r) => decodeRecord(this.path, r.id, r.json));
  }

  recordsFor(ecosystem: string, name: string, opts: RecordsForOptions = {}): OsvRecord[] {
    // Without includeBare the second ecosystem parameter repeats the first.
    const bare = opts.includeBare ? bareEcosystem(ecosystem) : ecosystem;
    return this.#rows(this.#byKey, ecosystem, bare, indexName(ecosystem, name));
  }

  get(id: string): OsvRecord | undefined {
    const row = this.#query(() => this.#byId.get(id) as { json: Uint8Array } | undefined);
    return row ? decodeRecord(this.path, id, row.json) : undefined;
  }

  aliasGroup(id: string): string[] {
    const seen = new Set([id]);
    const queue = [id];
    while (queue.length > 0 && seen.size < MAX_ALIAS_GROUP) {
      const cur = queue.pop()!;
      for (const { other } of this.#query(() => this.#aliasesOf.all(cur) as { other: string }[])) {
        if (seen.has(other)) continue;
        seen.add(other);
        queue.push(other);
      }
    }
    return [...seen].sort();
  }

  metadata(): DbMetadata {
    this.#metadata ??= this.#query(() => readMetadata(this.#db));
    return this.#metadata;
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

/** The meta and sources tables as DbMetadata (also used by the importer for its result). */
export function readMetadata(db: DatabaseSync): DbMetadata {
  const meta = new Map(
    (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [
      r.key,
      r.value,
    ]),
  );
  const sources = (
    db
      .prepare(
        `SELECT location, ecosystem, records, sha256, etag, last_modified, imported_at, checked_at
         FROM sources ORDER BY location`,
      )
      .all() as {
      location: string;
      ecosystem: string;
      records: number;
      sha256: string | null;
      etag: string | null;
      last_modified: string | null;
      imported_at: string;
      checked_at: string;
    }[]
  ).map((s) => {
    const out: DbSource = { location: s.location, ecosystem: s.ecosystem, records: s.records };
    if (s.sha256 !== null) out.sha256 = s.sha256;
    if (s.etag !== null) out.etag = s.etag;
    if (s.last_modified !== null) out.lastModified = s.last_modified;
    out.importedAt = s.imported_at;
    out.checkedAt = s.checked_at;
    return out;
  });
  const md: DbMetadata = {
    schemaVersion: Number(meta.get('schema_version') ?? 0),
    importedAt: meta.get('imported_at') ?? '',
    records: Number(meta.get('records') ?? 0),
    withdrawn: Number(meta.get('withdrawn') ?? 0),
    ecosystems: JSON.parse(meta.get('ecosystems') ?? '{}') as Record<string, number>,
    sources,
    contentDigest: meta.get('content_digest') ?? '',
  };
  const newest = meta.get('newest_modified');
  if (newest) md.newestModified = displayTime(newest);
  return md;
}
