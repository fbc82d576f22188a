/**
 * The advisory database's on-disk layout. Bump SCHEMA_VERSION on any change a reader would
 * notice: readers refuse other versions (DB_INVALID) and ask for a re-import rather than guess.
 *
 * records   one row per OSV id; `json` is the record's JSON text, raw deflate (RFC 1951);
 *           `modified`/`withdrawn` are normalised timestamps (see normalizeTime) so that text
 *           order is time order. `rec` is a stable integer key the other tables point at.
 * affected  (ecosystem, name) → rec for every affected[].package, name as indexName() gives it.
 * aliases   (rec, alias) from each record's `aliases`, for merging one vulnerability's ids.
 * sources   one row per imported input (zip, directory, URL), replaced when re-imported.
 * meta      key/value: import time, counts, content digest (what metadata() returns).
 */
export const SCHEMA_VERSION = 1;
/** PRAGMA application_id: 'VOSV', so a random SQLite file is not mistaken for a vouch database. */
export const APPLICATION_ID = 0x564f5356;

export const CREATE_TABLES = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sources (
  id INTEGER PRIMARY KEY,
  location TEXT NOT NULL UNIQUE,
  ecosystem TEXT NOT NULL,
  records INTEGER NOT NULL,
  sha256 TEXT,
  etag TEXT,
  last_modified TEXT,
  imported_at TEXT NOT NULL,
  checked_at TEXT NOT NULL
);
CREATE TABLE records (
  rec INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  modified TEXT NOT NULL,
  withdrawn TEXT,
  source INTEGER NOT NULL,
  json BLOB NOT NULL
);
CREATE TABLE affected (ecosystem TEXT NOT NULL, name TEXT NOT NULL, rec INTEGER NOT NULL);
CREATE TABLE aliases (rec INTEGER NOT NULL, alias TEXT NOT NULL, PRIMARY KEY (rec, alias)) WITHOUT ROWID;
`;

/** Built after the bulk load: one sort instead of a B-tree insert per row. */
export const CREATE_INDEXES = `
CREATE INDEX affected_key ON affected (ecosystem, name, rec);
CREATE INDEX aliases_alias ON aliases (alias, rec);
`;

/** The ecosystem without its release suffix: 'Debian:12' → 'Debian', 'Ubuntu:Pro:18.04:LTS' → 'Ubuntu'. */
export function bareEcosystem(ecosystem: string): string {
  const i = ecosystem.indexOf(':');
  return i < 0 ? ecosystem : ecosystem.slice(0, i);
}

/**
 * The name as the affected index keys it. PyPI names are PEP 503-normalised (OSV mostly stores
 * them so, but not always: 'jw.util'); every other ecosystem's names are case-sensitive as stored.
 */
export function indexName(ecosystem: string, name: string): string {
  return bareEcosystem(ecosystem) === 'PyPI' ? name.toLowerCase().replace(/[-_.]+/g, '-') : name;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 timestamp as UTC with nanosecond digits ('2024-01-02T03:04:05.120000000Z'),
 * so comparing the strings compares the times; undefined when `s` is not a valid RFC 3339
 * time (Date.parse would accept '2023-02-30' as 2 March, and years 0-99 need care).
 */
export function normalizeTime(s: string): string | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offH = m[8] ? 0 : Number(m[10]);
  const offM = m[8] ? 0 : Number(m[11]);
  if (
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    d > daysIn(y, mo) ||
    h > 23 ||
    mi > 59 ||
    sec > 59 ||
    offH > 23 ||
    offM > 59
  ) {
    return undefined;
  }
  const frac = (m[7] ?? '').slice(0, 9).padEnd(9, '0');
  // UTC already (almost every OSV time): the text is the answer, no Date needed.
  if (m[8]) return `${s.slice(0, 10)}T${s.slice(11, 19)}.${frac}Z`;
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d); // not Date.UTC: it maps years 0-99 to 1900-1999
  t.setUTCHours(h, mi, sec, 0);
  const sign = m[9] === '-' ? -1 : 1;
  const utc = new Date(t.getTime() - sign * (offH * 60 + offM) * 60_000).toISOString();
  // toISOString writes years outside 0000-9999 with a sign; those are not RFC 3339.
  if (utc.length !== 24) return undefined;
  return `${utc.slice(0, 19)}.${frac}Z`;
}

function daysIn(year: number, month: number): number {
  if (month !== 2) return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** The RFC 3339 form readers get back: trailing zero digits of the fraction dropped. */
export function displayTime(normalized: string): string {
  const frac = normalized.slice(20, 29).replace(/0+$/, '');
  return `${normalized.slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}
