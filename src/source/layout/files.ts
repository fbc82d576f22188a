/**
 * Read access to the files of an OCI layout, wherever they are stored: a directory, or the
 * members of a tar read in place. The layout source is written once against this.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { VouchError } from '../../errors.ts';
import type { TarIndex } from '../../util/tar-index.ts';

/** 1 MiB reads: far fewer syscalls and hash updates than the 64 KiB default. */
export const READ_CHUNK = 1024 * 1024;

export interface LayoutFiles {
  /** Where the files are, for messages (a directory or a tar file). */
  readonly location: string;
  /** Size of the file at `rel` (a '/'-separated path inside the layout), undefined if absent. */
  size(rel: string): Promise<number | undefined>;
  /** At most `max` bytes of the file (one more than that if it is longer), undefined if absent. */
  read(rel: string, max: number): Promise<Uint8Array | undefined>;
  /** The file's bytes as a stream, undefined if absent. */
  stream(rel: string, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array> | undefined>;
  close(): Promise<void>;
}

function ioError(message: string, e: unknown): VouchError {
  if ((e as { name?: string }).name === 'AbortError') {
    return new VouchError('ABORTED', `${message}: aborted`, { cause: e });
  }
  const code = (e as { code?: string }).code;
  return new VouchError('IO_ERROR', `${message}${code ? ` (${code})` : ''}`, { cause: e });
}

/** Open a regular file; undefined when it does not exist (ENOENT, ENOTDIR) or is not a file. */
async function tryOpenFile(file: string): Promise<{ fh: FileHandle; size: number } | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw ioError(`cannot open ${file}`, e);
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    return undefined;
  }
  return { fh, size: st.size };
}

async function* streamHandle(fh: FileHandle, file: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  // Read to the end whatever the size: verified() rejects a file longer than declared.
  const s = fh.createReadStream({
    highWaterMark: READ_CHUNK,
    autoClose: true,
    ...(signal ? { signal } : {}),
  });
  try {
    for await (const chunk of s) yield chunk as Uint8Array;
  } catch (e) {
    throw ioError(`cannot read ${file}`, e);
  } finally {
    s.destroy();
  }
}

async function readHandle(fh: FileHandle, want: number): Promise<Uint8Array> {
  const buf = new Uint8Array(want);
  let got = 0;
  while (got < want) {
    const { bytesRead } = await fh.read(buf, got, want - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Collect a stream, stopping once it has more than `max` bytes. */
async function collect(src: AsyncIterable<Uint8Array>, max: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of src) {
    chunks.push(c);
    n += c.byteLength;
    if (n > max) break;
  }
  const all = Buffer.concat(chunks);
  return new Uint8Array(all.buffer, all.byteOffset, Math.min(all.byteLength, max + 1));
}

/** Files of a layout directory. Only paths the layout code builds are asked for. */
export function directoryFiles(dir: string): LayoutFiles {
  return {
    location: dir,
    async size(rel) {
      const f = await tryOpenFile(join(dir, rel));
      await f?.fh.close();
      return f?.size;
    },
    async read(rel, max) {
      const file = join(dir, rel);
      const f = await tryOpenFile(file);
      if (f === undefined) return undefined;
      try {
        return await readHandle(f.fh, Math.min(f.size, max + 1));
      } catch (e) {
        throw ioError(`cannot read ${file}`, e);
      } finally {
        await f.fh.close();
      }
    },
    async stream(rel, signal) {
      const file = join(dir, rel);
      const f = await tryOpenFile(file);
      return f && streamHandle(f.fh, file, signal);
    },
    async close() {},
  };
}

/**
 * Files of a layout inside a tar, read in place through a tar index (links followed).
 * close() closes the index (which removes its temp copy of a compressed archive).
 */
export function tarIndexFiles(index: TarIndex): LayoutFiles {
  const exists = (rel: string) => index.get(rel) !== undefined;
  return {
    location: index.file,
    async size(rel) {
      return exists(rel) ? index.resolve(rel).size : undefined;
    },
    async read(rel, max) {
      return exists(rel) ? collect(index.open(rel), max) : undefined;
    },
    async stream(rel, signal) {
      return exists(rel) ? index.open(rel, signal ? { signal } : {}) : undefined;
    },
    close: () => index.close(),
  };
}
