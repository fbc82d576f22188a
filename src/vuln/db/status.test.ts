import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isVouchError } from '../../errors.ts';
import { importOsv } from './import.ts';
import { checkFreshness, dbStatus, defaultDbPath, lastChecked } from './status.ts';
import type { DbMetadata, DbSource } from './types.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('defaultDbPath: VOUCH_DB, then an absolute XDG_CACHE_HOME, then ~/.cache', () => {
  const table: [NodeJS.ProcessEnv, string][] = [
    [{ VOUCH_DB: '/data/osv.db', XDG_CACHE_HOME: '/xdg', HOME: '/home/u' }, '/data/osv.db'],
    [{ XDG_CACHE_HOME: '/xdg', HOME: '/home/u' }, '/xdg/vouch/osv.db'],
    [{ XDG_CACHE_HOME: 'relative/cache', HOME: '/home/u' }, '/home/u/.cache/vouch/osv.db'], // XDG: relative is ignored
    [{ XDG_CACHE_HOME: '', HOME: '/home/u' }, '/home/u/.cache/vouch/osv.db'],
    [{ VOUCH_DB: '', HOME: '/home/u' }, '/home/u/.cache/vouch/osv.db'],
    [{ HOME: '/root' }, '/root/.cache/vouch/osv.db'],
  ];
  for (const [env, want] of table) assert.equal(defaultDbPath(env), want, JSON.stringify(env));
});

const NOW = new Date('2025-03-20T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();
const src = (
  ecosystem: string,
  checkedDaysAgo: number,
  location = `https://osv.test/${ecosystem}/all.zip`,
): DbSource => ({
  location,
  ecosystem,
  records: 10,
  importedAt: daysAgo(checkedDaysAgo + 1),
  checkedAt: daysAgo(checkedDaysAgo),
});
const meta = (sources: DbSource[], o: Partial<DbMetadata> = {}): DbMetadata => ({
  schemaVersion: 1,
  importedAt: daysAgo(30),
  records: 100,
  withdrawn: 0,
  ecosystems: {},
  sources,
  contentDigest: 'sha256:00',
  ...o,
});

test('checkFreshness: fresh is silent; old names what and since when; the threshold is configurable', () => {
  const table: [string, DbMetadata, number, RegExp | undefined][] = [
    ['all fresh', meta([src('Go', 1), src('PyPI', 6.9)]), 7, undefined],
    ['exactly at the limit', meta([src('Go', 7)]), 7, undefined],
    [
      'all stale',
      meta([src('Go', 12), src('PyPI', 9)]),
      7,
      /^the advisory database is 12 days old \(last updated 2025-03-08T12:00:00\.000Z, older than 7 days\)/,
    ],
    [
      'one stale',
      meta([src('Go', 1), src('PyPI', 9)]),
      7,
      /^advisories for PyPI are up to 9 days old \(last updated 2025-03-11T12:00:00\.000Z, older than 7 days\)/,
    ],
    [
      'two stale, sorted',
      meta([src('PyPI', 9), src('Go', 20), src('npm', 0)]),
      7,
      /^advisories for Go, PyPI are up to 20 days old/,
    ],
    [
      'a mixed source is named by location',
      meta([src('*', 9, '/data/mixed'), src('Go', 0)]),
      7,
      /^advisories for \/data\/mixed /,
    ],
    ['hours under two days', meta([src('Go', 1.5)]), 1, /is 36 hours old .*older than 1 day\)/],
    ['custom threshold 30', meta([src('Go', 12)]), 30, undefined],
    ['zero threshold: any age warns', meta([src('Go', 0.01)]), 0, /is 0 hours old/],
    ['clock behind the database', meta([src('Go', -3)]), 7, undefined],
    [
      'no sources: the import time counts',
      meta([], { importedAt: daysAgo(10) }),
      7,
      /^the advisory database is 10 days old \(imported /,
    ],
    ['no sources, fresh', meta([], { importedAt: daysAgo(1) }), 7, undefined],
    ['empty database', meta([src('Go', 0)], { records: 0 }), 7, /has no records/],
  ];
  for (const [label, m, max, want] of table) {
    const got = checkFreshness(m, max, NOW);
    if (want === undefined) assert.equal(got, undefined, label);
    else assert.match(got ?? '(none)', want, label);
    // The caller adds how to refresh (it knows whether the network is allowed).
    assert.doesNotMatch(got ?? '', /vouch db update/, label);
  }
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => checkFreshness(meta([]), bad, NOW),
      (e: unknown) => isVouchError(e, 'USAGE'),
    );
  }
});

test('lastChecked is the oldest source check, falling back to import times', () => {
  assert.equal(lastChecked(meta([src('Go', 1), src('PyPI', 5)])), daysAgo(5));
  assert.equal(lastChecked(meta([{ location: 'x', ecosystem: 'Go', records: 1 }])), daysAgo(30));
  assert.equal(lastChecked(meta([])), daysAgo(30));
});

test('dbStatus: metadata, size and age of a real database; stale by the import clock', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-dbstatus-'));
  dirs.push(dir);
  const p = join(dir, 'osv.db');
  await importOsv(
    p,
    [
      {
        location: 'mem',
        entries: async function* () {
          yield { name: 'a.json', data: Buffer.from('{"id":"A-1","modified":"2024-01-01T00:00:00Z"}') };
        },
      },
    ],
    { now: () => new Date('2025-03-10T12:00:00Z') },
  );
  const st = dbStatus(p, NOW);
  assert.equal(st.path, p);
  assert.ok(st.sizeBytes > 0);
  assert.equal(st.metadata.records, 1);
  assert.equal(st.checkedAt, '2025-03-10T12:00:00.000Z');
  assert.equal(st.ageDays, 10);
  assert.match(checkFreshness(st.metadata, 7, NOW) ?? '', /is 10 days old/);
  assert.throws(
    () => dbStatus(join(dir, 'none.db')),
    (e: unknown) => isVouchError(e, 'DB_NOT_FOUND'),
  );
});
