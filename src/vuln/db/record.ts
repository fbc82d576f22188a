/**
 * One OSV record from an input (zip member or file) to the row the importer stores: parsed,
 * minimally validated, keyed and compressed. Pure and synchronous so decode workers and the
 * in-thread path run the same code.
 */
import { deflateRawSync } from 'node:zlib';
import { indexName, normalizeTime } from './schema.ts';

/** What the importer needs of one record; `blob` is the JSON text as raw deflate. */
export interface PreparedRecord {
  /** The member or file name it came from (for problems). */
  entry: string;
  id: string;
  /** normalizeTime() form */
  modified: string;
  withdrawn: string | null;
  blob: Uint8Array;
  /** affected keys, flattened: [ecosystem, indexName, ecosystem, indexName, ...], unique pairs */
  keys: string[];
  /** unique, without the record's own id */
  aliases: string[];
}

export interface EntryProblem {
  entry: string;
  message: string;
}

const EVENT_KEYS = new Set(['introduced', 'fixed', 'last_affected', 'limit']);
/** OSV ids are `<DB>-<id>` in practice; refuse only what would break keys or output. */
const BAD_ID = /[\s\u0000-\u001f\u007f]/;
const MAX_ID = 256;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkStringArray(v: unknown, where: string): string | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) return `${where}: expected an array of strings`;
  const i = v.findIndex((x) => typeof x !== 'string');
  return i < 0 ? undefined : `${where}[${i}]: expected a string`;
}

function checkAffected(a: unknown, where: string): string | undefined {
  if (!isObject(a)) return `${where}: expected an object`;
  const pkg = a.package;
  if (pkg !== undefined) {
    if (!isObject(pkg)) return `${where}.package: expected an object`;
    for (const k of ['ecosystem', 'name'] as const) {
      if (typeof pkg[k] !== 'string' || pkg[k] === '')
        return `${where}.package.${k}: expected a non-empty string`;
    }
  }
  const versions = checkStringArray(a.versions, `${where}.versions`);
  if (versions) return versions;
  if (a.ranges === undefined) return undefined;
  if (!Array.isArray(a.ranges)) return `${where}.ranges: expected an array`;
  for (const [ri, r] of a.ranges.entries()) {
    const rw = `${where}.ranges[${ri}]`;
    if (!isObject(r)) return `${rw}: expected an object`;
    if (typeof r.type !== 'string') return `${rw}.type: expected a string`;
    if (!Array.isArray(r.events) || r.events.length === 0) return `${rw}.events: expected a non-empty array`;
    for (const [ei, e] of r.events.entries()) {
      const keys = isObject(e) ? Object.keys(e) : [];
      const k = keys[0];
      if (
        keys.length !== 1 ||
        k === undefined ||
        !EVENT_KEYS.has(k) ||
        typeof (e as Record<string, unknown>)[k] !== 'string'
      ) {
        return `${rw}.events[${ei}]: expected exactly one of introduced, fixed, last_affected, limit with a string value`;
      }
    }
  }
  return undefined;
}

/** The record's times, normalised, or the first thing wrong with it as an OSV record. */
function check(v: unknown): { problem: string } | { modified: string; withdrawn: string | null } {
  if (!isObject(v)) return { problem: 'not a JSON object' };
  if (typeof v.id !== 'string' || v.id === '') return { problem: 'id: expected a non-empty string' };
  if (v.id.length > MAX_ID || BAD_ID.test(v.id)) {
    return { problem: `id: ${JSON.stringify(v.id.slice(0, 80))} is not a usable id` };
  }
  const modified = typeof v.modified === 'string' ? normalizeTime(v.modified) : undefined;
  if (!modified) return { problem: `modified: ${JSON.stringify(v.modified)} is not an RFC 3339 timestamp` };
  const withdrawn = typeof v.withdrawn === 'string' ? normalizeTime(v.withdrawn) : undefined;
  if (v.withdrawn !== undefined && !withdrawn) {
    return { problem: `withdrawn: ${JSON.stringify(v.withdrawn)} is not an RFC 3339 timestamp` };
  }
  const aliases = checkStringArray(v.aliases, 'aliases');
  if (aliases) return { problem: aliases };
  if (v.affected !== undefined) {
    if (!Array.isArray(v.affected)) return { problem: 'affected: expected an array' };
    for (const [i, a] of v.affected.entries()) {
      const p = checkAffected(a, `affected[${i}]`);
      if (p) return { problem: p };
    }
  }
  return { modified, withdrawn: withdrawn ?? null };
}

/** The first thing wrong with `v` as an OSV record (id, times, aliases, affected shape), or undefined. */
export function checkOsvRecord(v: unknown): string | undefined {
  const c = check(v);
  return 'problem' in c ? c.problem : undefined;
}

/**
 * Records are small (median 1.9 KB): a 4 KiB window sees all of most of them. Levels 1-3 use
 * zlib's fast matcher: level 3 costs 12% less time than level 4 for 2% more bytes, and an output
 * chunk under 4 KiB comes from Buffer's pool instead of a fresh 16 KiB allocation per record
 * (measured on the Go and PyPI records). Deflate is still half of a directory record's cost.
 */
const DEFLATE = { level: 3, windowBits: 12, chunkSize: 4000 } as const;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Parse and check one record's bytes. `deflated` is the same bytes as raw deflate when the
 * input already has them (a zip member), so they are stored as they are instead of recompressed.
 */
export function prepareRecord(
  entry: string,
  data: Uint8Array,
  deflated?: Uint8Array,
): PreparedRecord | EntryProblem {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(data));
  } catch (e) {
    const why = e instanceof TypeError ? 'not UTF-8' : `not JSON (${(e as Error).message})`;
    return { entry, message: why };
  }
  const checked = check(value);
  if ('problem' in checked) return { entry, message: checked.problem };
  const r = value as {
    id: string;
    aliases?: string[];
    affected?: { package?: { ecosystem: string; name: string } }[];
  };
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const a of r.affected ?? []) {
    if (!a.package) continue;
    const eco = a.package.ecosystem;
    const name = indexName(eco, a.package.name);
    const k = `${eco}\u0000${name}`;
    if (seen.has(k)) continue;
    seen.add(k);
    keys.push(eco, name);
  }
  const aliases = [...new Set(r.aliases ?? [])].filter((a) => a !== r.id);
  return {
    entry,
    id: r.id,
    modified: checked.modified,
    withdrawn: checked.withdrawn,
    blob: deflated ?? deflateRawSync(data, DEFLATE),
    keys,
    aliases,
  };
}

export function isProblem(x: PreparedRecord | EntryProblem): x is EntryProblem {
  return 'message' in x;
}
