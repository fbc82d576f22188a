/**
 * Decode work: a slice of a zip or a list of files → prepared records. The same function runs in
 * worker threads (big inputs) and in the importing thread (small ones).
 *
 * A batch is columnar (a few arrays and one buffer of blobs, not an object per record): cloning
 * it between threads and collecting it afterwards costs a fraction of per-record objects, which
 * profiling showed as a quarter of a worker's time.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EntryProblem, isProblem, type PreparedRecord, prepareRecord } from './record.ts';
import { readZipTask, type ZipTask } from './zip.ts';

export type DecodeTask = { kind: 'zip'; zip: ZipTask } | { kind: 'files'; root: string; files: string[] };

/** Record i is ids[i], modified[i], withdrawn[i]; its keys, aliases and blob end at the *Ends[i] offsets. */
export interface DecodeBatch {
  ids: string[];
  modified: string[];
  withdrawn: (string | null)[];
  /** [ecosystem, name, ecosystem, name, ...] of all records */
  keys: string[];
  keyEnds: Uint32Array;
  aliases: string[];
  aliasEnds: Uint32Array;
  blobs: Uint8Array;
  blobEnds: Uint32Array;
  problems: EntryProblem[];
  /** files tasks: sha256 (hex) of each file's bytes, in `files` order, for the input's digest */
  hashes?: string[];
}

export class BatchBuilder {
  #records: PreparedRecord[] = [];
  #problems: EntryProblem[] = [];
  #blobBytes = 0;

  add(r: PreparedRecord | EntryProblem): void {
    if (isProblem(r)) this.#problems.push(r);
    else {
      this.#records.push(r);
      this.#blobBytes += r.blob.byteLength;
    }
  }

  build(hashes?: string[]): DecodeBatch {
    const rs = this.#records;
    const b: DecodeBatch = {
      ids: rs.map((r) => r.id),
      modified: rs.map((r) => r.modified),
      withdrawn: rs.map((r) => r.withdrawn),
      keys: rs.flatMap((r) => r.keys),
      keyEnds: new Uint32Array(rs.length),
      aliases: rs.flatMap((r) => r.aliases),
      aliasEnds: new Uint32Array(rs.length),
      blobs: new Uint8Array(this.#blobBytes),
      blobEnds: new Uint32Array(rs.length),
      problems: this.#problems,
    };
    let k = 0;
    let a = 0;
    let at = 0;
    for (const [i, r] of rs.entries()) {
      b.keyEnds[i] = k += r.keys.length;
      b.aliasEnds[i] = a += r.aliases.length;
      b.blobs.set(r.blob, at);
      b.blobEnds[i] = at += r.blob.byteLength;
    }
    if (hashes) b.hashes = hashes;
    return b;
  }
}

/** The buffers postMessage can move instead of copying. */
export function transferList(b: DecodeBatch): ArrayBuffer[] {
  return [b.keyEnds, b.aliasEnds, b.blobs, b.blobEnds].map((x) => x.buffer as ArrayBuffer);
}

/** Files bigger than this are problems, not records (matches the zip member limit). */
const MAX_FILE_BYTES = 64 << 20;

export function runDecodeTask(task: DecodeTask): DecodeBatch {
  const out = new BatchBuilder();
  if (task.kind === 'zip') {
    for (const m of readZipTask(task.zip)) {
      if ('problem' in m) out.add({ entry: m.name, message: m.problem });
      else if (m.name.endsWith('.json')) out.add(prepareRecord(m.name, m.data, m.deflated));
    }
    return out.build();
  }
  const hashes: string[] = [];
  for (const f of task.files) {
    let data: Buffer;
    try {
      data = readFileSync(join(task.root, f));
    } catch (e) {
      out.add({ entry: f, message: `cannot read (${(e as NodeJS.ErrnoException).code ?? e})` });
      hashes.push('unreadable');
      continue;
    }
    hashes.push(createHash('sha256').update(data).digest('hex'));
    if (data.length > MAX_FILE_BYTES) {
      out.add({ entry: f, message: `${data.length} bytes, over the ${MAX_FILE_BYTES}-byte limit` });
      continue;
    }
    out.add(prepareRecord(f, data));
  }
  return out.build(hashes);
}
