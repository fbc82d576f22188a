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

/** Read side of the advisory database: what the matcher needs. Synchronous (node:sqlite). */
export interface AdvisoryDb {
  readonly path: string;
  /**
   * Records with an `affected` entry for this package. `ecosystem` is matched exactly
   * ('Debian:12') and, when `includeBare` is set, also without its ':suffix' ('Debian').
   * `name` is matched as OSV stores it (PyPI names are PEP 503-normalised by the caller).
   */
  recordsFor(ecosystem: string, name: string): OsvRecord[];
  get(id: string): OsvRecord | undefined;
  metadata(): DbMetadata;
  close(): void;
}
