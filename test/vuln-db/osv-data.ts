/** Test support: the real OSV records in ../shared/data/osv (read in place, never copied into the repo). */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const OSV_GO = fileURLToPath(new URL('../../../shared/data/osv/go', import.meta.url));
export const OSV_PYPI = fileURLToPath(new URL('../../../shared/data/osv/pypi', import.meta.url));

export interface RecordFile {
  name: string;
  data: Buffer;
}

const cache = new Map<string, RecordFile[]>();

/** Every *.json file of `dir`, sorted by name, with its bytes. */
export function recordFiles(dir: string): RecordFile[] {
  let files = cache.get(dir);
  if (!files) {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((name) => ({ name, data: readFileSync(`${dir}/${name}`) }));
    cache.set(dir, files);
  }
  return files;
}

/** One record by id, parsed. */
export function realRecord(dir: string, id: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${dir}/${id}.json`, 'utf8')) as Record<string, unknown>;
}

/** An OSV record as JSON bytes (for synthetic inputs). */
export function recordBytes(r: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify(r, null, 2));
}
