/**
 * importOsv: OSV zips, directories of records, or record streams → a new advisory database,
 * swapped in atomically.
 *
 * The new database is built in a temp file beside `dbPath` (one transaction, no journal, indexes
 * made after the bulk load) and renamed over it only when complete, so a crash or a bad input
 * leaves the previous database as it was. Unless `fresh`, the previous database's sources that
 * are not being re-imported are carried over, so importing PyPI does not drop Debian; a source
 * given again (same location) replaces its previous records entirely. Between sources, a record
 * id seen again replaces the stored one only when its `modified` is newer.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, openSync } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { isVouchError, VouchError } from '../../errors.ts';
import { tempPathFor } from '../../util/atomic.ts';
import { BatchBuilder, type DecodeBatch, type DecodeTask } from './decode.ts';
import { identifyDbFile, readMetadata } from './open.ts';
import { DecodePool } from './pool.ts';
import { prepareRecord } from './record.ts';
import { APPLICATION_ID, bareEcosystem, CREATE_INDEXES, CREATE_TABLES, SCHEMA_VERSION } from './schema.ts';
import type { DbMetadata } from './types.ts';
import { planZipTasks, readZipDirectory } from './zip.ts';

/** One input. A string input is a path: an OSV zip, a directory of *.json records, or one .json file. */
export interface ImportSource {
  /** Recorded in the sources table; re-importing the same location replaces its records. */
  location: string;
  /** Where to read (default `location`); a URL's download lives in a temp file, for example. */
  path?: string;
  /** Records from elsewhere, instead of `path`: each entry is one record's JSON bytes. */
  entries?: () => AsyncIterable<{ name: string; data: Uint8Array }>;
  /** OSV ecosystem directory; default: the one bare ecosystem the records name, else '*'. */
  ecosystem?: string;
  /** sha256 (hex) of the input when the caller already knows it (a download hashed on the fly). */
  sha256?: string;
  etag?: string;
  lastModified?: string;
}

export type ImportInput = string | ImportSource;

/** A source confirmed unchanged: its checked time moves to now, its validators to the new ones. */
export interface CheckedSource {
  location: string;
  etag?: string;
  lastModified?: string;
}

export interface ImportProgress {
  location: string;
  /** Records (and problems) read from this input so far */
  done: number;
  /** Entries in this input, when known */
  total?: number;
  /** Since the import started */
  seconds: number;
}

export interface ImportOptions {
  signal?: AbortSignal;
  /** Build from the inputs only, dropping every source of the previous database. */
  fresh?: boolean;
  /** Sources kept from the previous database that were just confirmed current (`db update`'s 304s). */
  checked?: CheckedSource[];
  /** How many problems the result lists (all are counted); default 20. */
  maxProblems?: number;
  /**
   * Decode worker threads besides the importing thread, which decodes too; default: one per CPU
   * but one (at most 4) from ~10,000 zip members or ~3,000 files, else none.
   */
  workers?: number;
  onProgress?: (p: ImportProgress) => void;
  /** The clock (tests). */
  now?: () => Date;
}

export interface ImportProblem {
  location: string;
  entry: string;
  message: string;
}

export interface ImportResult {
  dbPath: string;
  metadata: DbMetadata;
  /** Valid records read from the inputs */
  read: number;
  /** New ids stored */
  inserted: number;
  /** Stored records replaced by a newer `modified` */
  replaced: number;
  /** Records not stored because the same id was already stored with the same or a newer `modified` */
  ignored: number;
  /** The first `maxProblems` malformed records */
  problems: ImportProblem[];
  problemCount: number;
  /** Things the user should know, e.g. that an old-schema database was rebuilt from the inputs only */
  notes: string[];
  seconds: number;
}

const AUTO_WORKERS_FROM = 10_000;
const failedLocations = new WeakMap<object, string>();

/** The input location an importOsv() error came from, when one input caused it (e.g. a corrupt zip). */
export function failedSource(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? failedLocations.get(e) : undefined;
}

/** Sorted relative paths of the *.json files under `root`, symlinks not followed. */
async function listJson(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files: string[] = [];
  for (const d of entries) {
    if (!d.isFile() || !d.name.endsWith('.json')) continue;
    // Most records sit directly in `root`: no path arithmetic for them.
    files.push(d.parentPath === root ? d.name : relative(root, join(d.parentPath, d.name)));
  }
  // Code-unit order: the same on every machine and locale.
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function chunk<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest('hex');
}

/** What one source contributes: its decode tasks and how to digest it. */
interface Plan {
  tasks: DecodeTask[];
  total: number;
  /** For zips: the file's sha256, computed alongside the decoding */
  fileHash?: Promise<string>;
  /** For directories: combine per-file hashes */
  listing?: string[];
}

async function planPath(src: ImportSource, path: string): Promise<Plan> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new VouchError(
      e.code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_ERROR',
      `cannot read ${path} (${e.code})`,
      {
        hint: 'give an OSV all.zip, a directory of OSV *.json records, or one .json record',
        cause: e,
      },
    );
  });
  if (st.isDirectory()) {
    const files = await listJson(path);
    return {
      // Small tasks: the importing thread and the workers share them out evenly to the end.
      tasks: chunk(files, 128).map((f) => ({ kind: 'files', root: path, files: f })),
      total: files.length,
      listing: files,
    };
  }
  if (path.endsWith('.json')) {
    const name = basename(path);
    return { tasks: [{ kind: 'files', root: dirname(path), files: [name] }], total: 1, listing: [name] };
  }
  const dir = await readZipDirectory(path, src.location);
  const fileHash = src.sha256 ? Promise.resolve(src.sha256) : sha256File(path);
  fileHash.catch(() => {}); // awaited after decoding; a read error there surfaces then
  return {
    tasks: planZipTasks(dir).map((zip) => ({ kind: 'zip', zip })),
    total: dir.members.length,
    fileHash,
  };
}

export async function importOsv(
  dbPath: string,
  inputs: ImportInput[],
  o: ImportOptions = {},
): Promise<ImportResult> {
  const started = performance.now();
  const now = o.now ?? (() => new Date());
  const importedAt = now().toISOString();
  const sources: ImportSource[] = inputs.map((i) =>
    typeof i === 'string' ? { location: resolve(i), path: resolve(i) } : i,
  );
  const locations = sources.map((s) => s.location);
  const dup = locations.find((l, i) => locations.indexOf(l) !== i);
  if (dup !== undefined) throw new VouchError('USAGE', `input ${dup} is given twice`);
  if (o.signal?.aborted) {
    throw new VouchError('ABORTED', `import into ${dbPath} was aborted; the previous database is unchanged`, {
      cause: o.signal.reason,
    });
  }

  await mkdir(dirname(resolve(dbPath)), { recursive: true });
  const notes: string[] = [];
  // Checked even when `fresh`: never replace a file that is not a vouch database.
  const carryOver = checkPrevious(dbPath, notes) && !o.fresh;
  // Plan every path input first: a corrupt zip directory fails before any work, and workers
  // start (about 0.1 s each) while the previous database is carried over.
  const plans = new Map<ImportSource, Plan>();
  for (const src of sources) {
    if (src.entries) continue;
    try {
      plans.set(src, await planPath(src, src.path ?? src.location));
    } catch (e) {
      if (typeof e === 'object' && e !== null) failedLocations.set(e, src.location);
      throw e;
    }
  }
  // A worker costs ~40 ms of CPU to start; workers pay off from ~10,000 zip members or ~3,000
  // files (a file costs about three members: read, hash and compress it; a zip member's deflate
  // is reused). This thread decodes too (see pool.ts), so one CPU is left for it.
  const work = [...plans.values()].reduce((n, p) => n + p.total * (p.listing ? 3 : 1), 0);
  const bigInput = work >= AUTO_WORKERS_FROM;
  const temp = tempPathFor(dbPath);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(temp);
  } catch (e) {
    throw new VouchError('IO_ERROR', `cannot create ${temp}: ${(e as Error).message}`, { cause: e });
  }
  const pool = new DecodePool(o.workers ?? (bigInput ? Math.min(4, availableParallelism() - 1) : 0));
  // Consecutive path inputs decode as one run, so the workers never drain between them.
  const runs = new Map<ImportSource, AsyncGenerator<DecodeBatch>>();
  for (let i = 0; i < sources.length; ) {
    let j = i;
    while (j < sources.length && !sources[j]!.entries) j++;
    if (j > i) {
      const group = sources.slice(i, j);
      const run = pool.run(
        group.flatMap((s) => plans.get(s)!.tasks),
        o.signal,
      );
      for (const s of group) runs.set(s, run);
    }
    i = Math.max(j, i + 1);
  }
  const stats = { read: 0, inserted: 0, replaced: 0, ignored: 0, problemCount: 0 };
  const problems: ImportProblem[] = [];
  const maxProblems = o.maxProblems ?? 20;
  try {
    pool.start();
    // No journal and no syncs while building: the file is private until renamed, and a failed
    // build is deleted. Bigger pages suit the compressed blobs.
    db.exec(`PRAGMA page_size = 8192; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
      PRAGMA locking_mode = EXCLUSIVE; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;`);
    db.exec(CREATE_TABLES);
    if (carryOver) copyPrevious(db, dbPath, locations, o.checked ?? [], importedAt);

    db.exec('BEGIN');
    const selRec = db.prepare('SELECT rec, modified FROM records WHERE id = ?');
    const delRec = db.prepare('DELETE FROM records WHERE rec = ?');
    const insRec = db.prepare(
      'INSERT INTO records (rec, id, modified, withdrawn, source, json) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // rec numbers are never reused (SQLite would reuse a deleted maximum): orphaned keys of a
    // replaced record must not attach to the record that follows it.
    let nextRec = (db.prepare('SELECT coalesce(max(rec), 0) + 1 AS n FROM records').get() as { n: number }).n;
    const insAff = db.prepare('INSERT INTO affected (ecosystem, name, rec) VALUES (?, ?, ?)');
    const insAlias = db.prepare('INSERT INTO aliases (rec, alias) VALUES (?, ?)');
    const insSource = db.prepare(
      `INSERT INTO sources (location, ecosystem, records, sha256, etag, last_modified, imported_at, checked_at)
       VALUES (?, '*', 0, NULL, ?, ?, ?, ?) RETURNING id`,
    );
    const finishSource = db.prepare('UPDATE sources SET ecosystem = ?, records = ?, sha256 = ? WHERE id = ?');

    /** Store record i of a batch, unless the same id is already stored with the same or a newer time. */
    const store = (b: DecodeBatch, i: number, source: number, ecosystems: Set<string>) => {
      stats.read++;
      const id = b.ids[i]!;
      const modified = b.modified[i]!;
      const k0 = i === 0 ? 0 : b.keyEnds[i - 1]!;
      const k1 = b.keyEnds[i]!;
      for (let k = k0; k < k1; k += 2) ecosystems.add(bareEcosystem(b.keys[k]!));
      const old = selRec.get(id) as { rec: number; modified: string } | undefined;
      if (old) {
        if (modified <= old.modified) {
          stats.ignored++;
          return;
        }
        // Its affected and aliases rows become orphans, removed once at the end.
        delRec.run(old.rec);
        stats.replaced++;
      } else stats.inserted++;
      const rec = nextRec++;
      const blob = b.blobs.subarray(i === 0 ? 0 : b.blobEnds[i - 1]!, b.blobEnds[i]!);
      insRec.run(rec, id, modified, b.withdrawn[i]!, source, blob);
      for (let k = k0; k < k1; k += 2) insAff.run(b.keys[k]!, b.keys[k + 1]!, rec);
      for (let a = i === 0 ? 0 : b.aliasEnds[i - 1]!; a < b.aliasEnds[i]!; a++)
        insAlias.run(rec, b.aliases[a]!);
    };

    for (const src of sources) {
      const { id: sourceId } = insSource.get(
        src.location,
        src.etag ?? null,
        src.lastModified ?? null,
        importedAt,
        importedAt,
      ) as { id: number };
      const ecosystems = new Set<string>();
      const readBefore = stats.read;
      let done = 0;
      const progress = (total?: number) =>
        o.onProgress?.({
          location: src.location,
          done,
          ...(total === undefined ? {} : { total }),
          seconds: (performance.now() - started) / 1000,
        });
      const onBatch = (b: DecodeBatch) => {
        for (let i = 0; i < b.ids.length; i++) store(b, i, sourceId, ecosystems);
        for (const p of b.problems) {
          stats.problemCount++;
          if (problems.length < maxProblems) problems.push({ location: src.location, ...p });
        }
        done += b.ids.length + b.problems.length;
      };
      let digest: string | undefined = src.sha256;
      try {
        if (src.entries) {
          const h = createHash('sha256');
          let batch = new BatchBuilder();
          let n = 0;
          for await (const e of src.entries()) {
            o.signal?.throwIfAborted();
            h.update(`${e.name}\u0000`).update(e.data).update('\u0000');
            batch.add(prepareRecord(e.name, e.data));
            if (++n % 256 === 0) {
              onBatch(batch.build());
              batch = new BatchBuilder();
              progress();
            }
          }
          onBatch(batch.build());
          digest ??= h.digest('hex');
        } else {
          const plan = plans.get(src)!;
          const run = runs.get(src)!;
          const listing: string[] = [];
          // This source's batches are the run's next plan.tasks.length ones.
          for (let t = 0; t < plan.tasks.length; t++) {
            const next = await run.next();
            if (next.done) throw new VouchError('INTERNAL', `decoding ${src.location} ended early`);
            const b = next.value;
            onBatch(b);
            if (b.hashes) listing.push(...b.hashes);
            progress(plan.total);
          }
          if (plan.fileHash) digest ??= await plan.fileHash;
          if (plan.listing) {
            const h = createHash('sha256');
            for (const [i, f] of plan.listing.entries()) h.update(`${f}\u0000${listing[i]}\n`);
            digest ??= h.digest('hex');
          }
        }
      } catch (e) {
        if (typeof e === 'object' && e !== null) failedLocations.set(e, src.location);
        throw e;
      }
      progress();
      const eco = src.ecosystem ?? (ecosystems.size === 1 ? [...ecosystems][0]! : '*');
      finishSource.run(eco, stats.read - readBefore, digest ?? null, sourceId);
    }

    if (stats.replaced > 0) {
      db.exec(`DELETE FROM affected WHERE rec NOT IN (SELECT rec FROM records);
        DELETE FROM aliases WHERE rec NOT IN (SELECT rec FROM records);`);
    }
    db.exec(CREATE_INDEXES);
    writeMeta(db, importedAt);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}; PRAGMA application_id = ${APPLICATION_ID};`);
    db.exec('COMMIT');
    const metadata = readMetadata(db);
    db.close();
    // Durable before it becomes visible: the rename must never expose a half-written file.
    const fd = openSync(temp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    await rename(temp, dbPath);
    return {
      dbPath,
      metadata,
      ...stats,
      problems,
      notes,
      seconds: (performance.now() - started) / 1000,
    };
  } catch (e) {
    if (db.isOpen) db.close();
    await unlink(temp).catch(() => {});
    // Whatever the signal's reason, an aborted import says so (and that nothing changed).
    if (isVouchError(e) || !o.signal?.aborted) throw e;
    throw new VouchError('ABORTED', `import into ${dbPath} was aborted; the previous database is unchanged`, {
      cause: e,
    });
  } finally {
    await pool.close();
  }
}

/**
 * Whether the existing file's records can be carried over. A vouch database of another schema
 * is rebuilt from the inputs (noted); anything else is refused: `--db` may name the wrong file.
 */
function checkPrevious(dbPath: string, notes: string[]): boolean {
  const kind = identifyDbFile(dbPath);
  if (kind.kind === 'missing') return false;
  if (kind.kind === 'foreign') {
    throw new VouchError('DB_INVALID', `${dbPath} exists and is ${kind.why}; refusing to replace it`, {
      hint: 'choose another --db path, or remove the file if it is yours to remove',
    });
  }
  if (kind.schemaVersion === SCHEMA_VERSION) return true;
  notes.push(
    `${dbPath} had schema version ${kind.schemaVersion} (this vouch writes ${SCHEMA_VERSION}); ` +
      'it was rebuilt from these inputs only',
  );
  return false;
}

/** Copy the previous database's other sources, with their records, ids and keys unchanged. */
function copyPrevious(
  db: DatabaseSync,
  dbPath: string,
  replacing: string[],
  checked: CheckedSource[],
  now: string,
): void {
  db.prepare('ATTACH DATABASE ? AS old').run(dbPath);
  try {
    db.exec('BEGIN');
    db.prepare(
      'INSERT INTO sources SELECT * FROM old.sources WHERE location NOT IN (SELECT value FROM json_each(?))',
    ).run(JSON.stringify(replacing));
    db.exec(`
      INSERT INTO records SELECT r.* FROM old.records r WHERE r.source IN (SELECT id FROM main.sources);
      INSERT INTO affected SELECT a.* FROM old.affected a WHERE a.rec IN (SELECT rec FROM main.records);
      INSERT INTO aliases SELECT a.* FROM old.aliases a WHERE a.rec IN (SELECT rec FROM main.records);`);
    markChecked(db, checked, now);
    db.exec('COMMIT');
  } finally {
    db.exec('DETACH DATABASE old');
  }
}

export function markChecked(db: DatabaseSync, checked: CheckedSource[], now: string): void {
  const upd = db.prepare(
    `UPDATE sources SET checked_at = ?, etag = coalesce(?, etag), last_modified = coalesce(?, last_modified)
     WHERE location = ?`,
  );
  for (const c of checked) upd.run(now, c.etag ?? null, c.lastModified ?? null, c.location);
}

/** Counts, ecosystems and the content digest, computed once here so metadata() is instant. */
function writeMeta(db: DatabaseSync, importedAt: string): void {
  const counts = db
    .prepare(
      'SELECT COUNT(*) AS records, COUNT(withdrawn) AS withdrawn, MAX(modified) AS newest FROM records',
    )
    .get() as { records: number; withdrawn: number; newest: string | null };
  const ecosystems: Record<string, number> = {};
  for (const r of db
    .prepare('SELECT ecosystem, COUNT(DISTINCT rec) AS n FROM affected GROUP BY ecosystem ORDER BY ecosystem')
    .all() as { ecosystem: string; n: number }[]) {
    ecosystems[r.ecosystem] = r.n;
  }
  // The logical content: every id with its modified time (and withdrawal), in id order. SQLite
  // joins each line, and rows come as arrays where node:sqlite can (Node 24): half the time of
  // an object per row.
  const h = createHash('sha256');
  let text = '';
  const lines = db.prepare(
    "SELECT id || char(9) || modified || char(9) || coalesce(withdrawn, '') || char(10) AS line FROM records ORDER BY id",
  );
  lines.setReturnArrays?.(true);
  for (const r of lines.iterate() as Iterable<[string] | { line: string }>) {
    text += Array.isArray(r) ? r[0] : r.line;
    if (text.length > 65536) {
      h.update(text);
      text = '';
    }
  }
  h.update(text);
  const put = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  put.run('schema_version', String(SCHEMA_VERSION));
  put.run('imported_at', importedAt);
  put.run('records', String(counts.records));
  put.run('withdrawn', String(counts.withdrawn));
  if (counts.newest) put.run('newest_modified', counts.newest);
  put.run('ecosystems', JSON.stringify(ecosystems));
  put.run('content_digest', `sha256:${h.digest('hex')}`);
}
