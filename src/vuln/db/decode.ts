/**
 * Decode work: a slice of a zip or a list of files → prepared records. The same function runs in
 * worker threads (big inputs) and in the importing thread (small ones).
 *
 * A batch is columnar (a few arrays and one buffer of blobs, not an object per record): cloning
 * it between threads and collecting it afterwards costs a fraction of per-record objects, which
 * profiling showed as a quarter of a worker's time.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
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

/** One read buffer per thread, grown as needed: no allocation and no fstat per file. */
let readBuffer = Buffer.allocUnsafe(1 << 16);

/**
 * The file's bytes (a view of the shared buffer, valid until the next call), or undefined when
 * it holds more than `max` bytes. open + read until EOF + close: readFileSync would also fstat
 * and allocate.
 */
function readFileShared(path: string, max: number): Buffer | undefined {
  const fd = openSync(path, 'r');
  try {
    let n = 0;
    for (;;) {
      if (n === readBuffer.length) {
        if (n > max) return undefined;
        const bigger = Buffer.allocUnsafe(Math.min(readBuffer.length * 2, max + 1));
        readBuffer.copy(bigger, 0, 0, n);
        readBuffer = bigger;
      }
      const k = readSync(fd, readBuffer, n, readBuffer.length - n, null);
      if (k === 0) break;
      n += k;
    }
    return n > max ? undefined : readBuffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

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
    let data: Buffer | undefined;
    try {
      data = readFileShared(join(task.root, f), MAX_FILE_BYTES);
    } catch (e) {
      out.add({ entry: f, message: `cannot read (${(e as NodeJS.ErrnoException).code ?? e})` });
      hashes.push('unreadable');
      continue;
    }
    if (data === undefined) {
      // Its hash would need the whole file: the digest marks it instead (it is a problem anyway).
      out.add({ entry: f, message: `over the ${MAX_FILE_BYTES}-byte limit` });
      hashes.push('too-big');
      continue;
    }
    hashes.push(createHash('sha256').update(data).digest('hex'));
    // prepareRecord keeps nothing of `data` (the blob is a new deflate), so the shared buffer is safe.
    out.add(prepareRecord(f, data));
    // A rare big file must not pin its buffer for the rest of the import.
    if (readBuffer.length > 1 << 20) readBuffer = Buffer.allocUnsafe(1 << 16);
  }
  return out.build(hashes);
}
