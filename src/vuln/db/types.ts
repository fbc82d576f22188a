import type { OsvRecord } from '../osv.ts';

export interface DbSource {
  /** Where the records came from: a file path or URL. */
  location: string;
  /** OSV ecosystem directory name, e.g. 'Debian', 'PyPI', or '*' for mixed inputs. */
  ecosystem: string;
  records: number;
  /** sha256 of the input (zip or directory listing) so `db update` can skip unchanged files. */
  sha256?: string;
  etag?: string;
  lastModified?: string;
  /** ISO 8601: when these records were imported. */
  importedAt?: string;
  /** ISO 8601: when `db update` last confirmed this source is current (a 304 counts); else importedAt. */
  checkedAt?: string;
}

export interface DbMetadata {
  schemaVersion: number;
  /** ISO 8601 */
  importedAt: string;
  /** Newest `modified` over all records. */
  newestModified?: string;
  records: number;
  withdrawn: number;
  /** Per ecosystem (as in `affected[].package.ecosystem`, e.g. 'Debian:12'): how many records. */
  ecosystems: Record<string, number>;
  sources: DbSource[];
  /** sha256 of the database file's logical content, recorded by reports as an input digest. */
  contentDigest: string;
}

export interface RecordsForOptions {
  /** Also match records keyed by the bare ecosystem ('Debian' when asked for 'Debian:12'). */
  includeBare?: boolean;
}

/** Read side of the advisory database: what the matcher needs. Synchronous (node:sqlite). */
export interface AdvisoryDb {
  readonly path: string;
  /**
   * Non-withdrawn records with an `affected` entry for this package, sorted by id, each once.
   * `ecosystem` is matched exactly ('Debian:12') and, with `includeBare`, also without its
   * ':suffix' ('Debian'); a bare query ('Debian') never matches 'Debian:12'.
   * `name` is matched as OSV stores it, except PyPI names, which both the index and the query
   * PEP 503-normalise ('Jinja2' and 'jinja2' are one package).
   */
  recordsFor(ecosystem: string, name: string, opts?: RecordsForOptions): OsvRecord[];
  /** Any record by id, withdrawn ones included (their `withdrawn` field says so). */
  get(id: string): OsvRecord | undefined;
  /**
   * Every id connected to `id` through `aliases` (symmetric and transitive, as OSV defines them),
   * `id` included, sorted: the set one finding merges.
   */
  aliasGroup(id: string): string[];
  metadata(): DbMetadata;
  close(): void;
}
