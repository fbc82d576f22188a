/**
 * Reading the rpm database's header blobs.
 *
 * rpm ≥ 4.16 (RHEL 9, Fedora ≥ 33, openSUSE, Amazon Linux 2023) keeps it in SQLite:
 * `rpmdb.sqlite`, table `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`. The file (and its
 * `-wal`, whose pages may not be checkpointed yet) is copied out of the image to a private temp
 * dir and opened read-only with node:sqlite; nothing in the image is ever opened by SQLite.
 * Older databases are Berkeley DB (`Packages`, RHEL ≤ 8) or rpm's own NDB (`Packages.db`, SUSE):
 * they are recognised by their magic and reported as unsupported, never read as empty.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FileResolver } from '../../../fs/merged.ts';

export type RpmdbBackend = 'sqlite' | 'bdb' | 'ndb' | 'unknown';

/** Which backend a database file is, from its first bytes. */
export function sniffBackend(head: Uint8Array): RpmdbBackend {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 16 && b.toString('latin1', 0, 16) === 'SQLite format 3\0') return 'sqlite';
  if (b.length >= 4 && b.toString('latin1', 0, 4) === 'RpmP') return 'ndb';
  if (b.length >= 16) {
    // Berkeley DB metadata page: magic at offset 12, hash 0x061561 or btree 0x053162, either byte order.
    const le = b.readUInt32LE(12);
    const be = b.readUInt32BE(12);
    if ([0x061561, 0x053162].includes(le) || [0x061561, 0x053162].includes(be)) return 'bdb';
  }
  return 'unknown';
}

export interface HeaderRow {
  hnum: number;
  blob: Uint8Array;
}

/**
 * Every header blob of a SQLite rpmdb in the image, ordered by hnum. Throws an Error with a
 * message naming what went wrong (not a database, no Packages table, ...).
 */
export async function readSqliteRpmdb(files: FileResolver, path: string): Promise<HeaderRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-rpmdb-'));
  try {
    const db = join(dir, 'rpmdb.sqlite');
    await pipeline(await files.open(path), createWriteStream(db));
    const wal = await files.stat(`${path}-wal`);
    if (wal?.type === 'file' && wal.size > 0) {
      await pipeline(await files.open(`${path}-wal`), createWriteStream(`${db}-wal`));
    }
    const { DatabaseSync } = await import('node:sqlite');
    const conn = new DatabaseSync(db, { readOnly: true });
    try {
      const rows = conn.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').all();
      return rows.map((r) => {
        const hnum = r.hnum;
        const blob = r.blob;
        if (typeof hnum !== 'number' && typeof hnum !== 'bigint')
          throw new Error(`Packages row with hnum ${String(hnum)}`);
        if (!(blob instanceof Uint8Array)) throw new Error(`Packages row ${hnum} holds no blob`);
        return { hnum: Number(hnum), blob };
      });
    } finally {
      conn.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
