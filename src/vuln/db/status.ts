/** Where the database lives by default, how old it is, and when a scan should warn about it. */
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { VouchError } from '../../errors.ts';
import { openAdvisoryDb } from './open.ts';
import type { DbMetadata } from './types.ts';

export const DEFAULT_MAX_AGE_DAYS = 7;
const DAY_MS = 86_400_000;

/**
 * `$VOUCH_DB`, else `$XDG_CACHE_HOME/vouch/osv.db` (only an absolute XDG_CACHE_HOME counts, as the
 * XDG spec says), else `~/.cache/vouch/osv.db`.
 */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VOUCH_DB) return env.VOUCH_DB;
  const xdg = env.XDG_CACHE_HOME;
  const cache = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.cache');
  return join(cache, 'vouch', 'osv.db');
}

/** When the data was last known current: the oldest source's check (a 304 counts), else the import. */
export function lastChecked(meta: DbMetadata): string {
  const times = meta.sources.map((s) => s.checkedAt ?? s.importedAt ?? meta.importedAt);
  if (times.length === 0) return meta.importedAt;
  return times.reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a));
}

export interface DbStatus {
  path: string;
  sizeBytes: number;
  metadata: DbMetadata;
  /** lastChecked() */
  checkedAt: string;
  /** Days since checkedAt (fractional; negative if the clock is behind the database) */
  ageDays: number;
}

export function dbStatus(dbPath: string, now: Date = new Date()): DbStatus {
  const db = openAdvisoryDb(dbPath);
  try {
    const metadata = db.metadata();
    const checkedAt = lastChecked(metadata);
    return {
      path: dbPath,
      sizeBytes: statSync(dbPath).size,
      metadata,
      checkedAt,
      ageDays: (now.getTime() - Date.parse(checkedAt)) / DAY_MS,
    };
  } finally {
    db.close();
  }
}

function age(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  if (hours < 48) return `${hours} hour${hours === 1 ? '' : 's'}`;
  return `${Math.floor(ms / DAY_MS)} days`;
}

/**
 * A warning when the database cannot be trusted to know recent advisories: older than
 * `maxAgeDays` (whole or per source), or empty. Undefined when fresh. The text names what is old
 * and since when; the caller adds how to refresh (it knows whether the network is allowed).
 */
export function checkFreshness(
  meta: DbMetadata,
  maxAgeDays: number = DEFAULT_MAX_AGE_DAYS,
  now: Date = new Date(),
): string | undefined {
  if (!Number.isFinite(maxAgeDays) || maxAgeDays < 0) {
    throw new VouchError(
      'USAGE',
      `the maximum database age must be a number of days >= 0, not ${maxAgeDays}`,
    );
  }
  if (meta.records === 0) return 'the advisory database has no records: nothing can be matched';
  const limit = maxAgeDays * DAY_MS;
  const when = (s: DbMetadata['sources'][number]) => s.checkedAt ?? s.importedAt ?? meta.importedAt;
  const stale = meta.sources.filter((s) => now.getTime() - Date.parse(when(s)) > limit);
  if (meta.sources.length === 0) {
    const ms = now.getTime() - Date.parse(meta.importedAt);
    return ms > limit ? `the advisory database is ${age(ms)} old (imported ${meta.importedAt})` : undefined;
  }
  if (stale.length === 0) return undefined;
  const oldest = lastChecked({ ...meta, sources: stale });
  const ms = now.getTime() - Date.parse(oldest);
  const over = `older than ${maxAgeDays} day${maxAgeDays === 1 ? '' : 's'}`;
  if (stale.length === meta.sources.length) {
    return `the advisory database is ${age(ms)} old (last updated ${oldest}, ${over}): newer advisories are missing`;
  }
  const names = [...new Set(stale.map((s) => (s.ecosystem === '*' ? s.location : s.ecosystem)))].sort();
  return `advisories for ${names.join(', ')} are up to ${age(ms)} old (last updated ${oldest}, ${over}): newer ones are missing`;
}
