/**
 * Atomic file writes: data goes to `<path>.<random>.tmp` in the same directory (so the final
 * rename never crosses a filesystem) and only a completed write is renamed over `path`.
 * Readers therefore see either the old file or the whole new one, never a partial file.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { VouchError } from '../errors.ts';

export interface AtomicOptions {
  /** File mode of the new file (before umask); default 0o644. */
  mode?: number;
  /** fsync the data before the rename (default true) so a crash cannot leave an empty file. */
  fsync?: boolean;
}

/** A file being written; invisible at `path` until commit(). */
export interface AtomicWriteStream {
  readonly path: string;
  readonly tempPath: string;
  /** Bytes written so far. */
  readonly bytesWritten: number;
  write(chunk: Uint8Array): Promise<void>;
  /** Write several chunks in order with one system call where possible (no concatenation). */
  writev(chunks: Uint8Array[]): Promise<void>;
  /** Close and rename over `path`. */
  commit(): Promise<void>;
  /** Close and delete the temp file; safe to call more than once, and after commit (no-op). */
  abort(): Promise<void>;
}

/** The temp name used for `path`: same directory, random suffix, `.tmp` extension. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

export async function createAtomicWriteStream(
  path: string,
  opts: AtomicOptions = {},
): Promise<AtomicWriteStream> {
  const tempPath = tempPathFor(path);
  let fh: FileHandle | undefined;
  try {
    // 'wx': never reuse or follow an existing file at the temp name.
    fh = await open(tempPath, 'wx', opts.mode ?? 0o644);
  } catch (e) {
    throw ioError(`cannot create ${tempPath}`, e);
  }
  const handle = fh;
  let state: 'open' | 'committed' | 'aborted' = 'open';
  let written = 0;

  function checkOpen(): void {
    if (state !== 'open') throw new VouchError('INTERNAL', `write to ${path} after ${state}`);
  }

  async function writeAll(chunk: Uint8Array): Promise<void> {
    let off = 0;
    // FileHandle.write may write less than asked; loop until the chunk is out.
    while (off < chunk.byteLength) {
      const { bytesWritten } = await handle.write(chunk, off, chunk.byteLength - off);
      off += bytesWritten;
    }
    written += chunk.byteLength;
  }

  async function closeQuietly(): Promise<void> {
    await handle.close().catch(() => {});
  }

  return {
    path,
    tempPath,
    get bytesWritten() {
      return written;
    },
    async write(chunk) {
      checkOpen();
      await writeAll(chunk);
    },
    async writev(chunks) {
      checkOpen();
      let { bytesWritten: done } = await handle.writev(chunks);
      written += done;
      // A short writev: write what is left chunk by chunk (rare; disk full is reported there).
      for (const c of chunks) {
        if (done >= c.byteLength) {
          done -= c.byteLength;
          continue;
        }
        await writeAll(c.subarray(done));
        done = 0;
      }
    },
    async commit() {
      if (state !== 'open') throw new VouchError('INTERNAL', `commit of ${path} after ${state}`);
      try {
        if (opts.fsync ?? true) await handle.sync();
        await handle.close();
        await rename(tempPath, path);
        state = 'committed';
      } catch (e) {
        state = 'aborted';
        await closeQuietly();
        await unlink(tempPath).catch(() => {});
        throw ioError(`cannot write ${path}`, e);
      }
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await closeQuietly();
      await unlink(tempPath).catch(() => {});
    },
  };
}

/** Write `data` to `path` atomically. */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  opts: AtomicOptions = {},
): Promise<void> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  await writeStreamAtomic(path, [bytes], opts);
}

/**
 * Drain `src` into `path` atomically: if the iteration throws (e.g. a digest check at the end
 * of a verified() stream) or `signal` aborts, the temp file is removed and `path` is untouched.
 * Returns the number of bytes written.
 */
const WRITE_BATCH = 1 << 20;

/**
 * Where an atomic write really goes: through a symlink to its target (renaming over the link
 * would replace it), and straight into a device or FIFO such as /dev/null or /dev/stdout
 * (renaming over those would replace the device, as root).
 */
async function atomicTarget(path: string): Promise<{ kind: 'file' | 'special'; path: string }> {
  const real = await realpath(path).catch(() => path);
  const st = await stat(real).catch(() => undefined);
  if (st === undefined || st.isFile()) return { kind: 'file', path: real };
  if (st.isDirectory()) throw new VouchError('IO_ERROR', `cannot write ${path}: it is a directory`);
  return { kind: 'special', path: real };
}

async function writeSpecial(
  path: string,
  src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  signal: AbortSignal | undefined,
): Promise<number> {
  const fh = await open(path, 'w').catch((e: unknown) => {
    throw ioError(`cannot open ${path}`, e);
  });
  let n = 0;
  try {
    for await (const chunk of src) {
      checkAborted(signal, path);
      await fh.write(chunk);
      n += chunk.byteLength;
    }
  } finally {
    await fh.close();
  }
  return n;
}

export async function writeStreamAtomic(
  path: string,
  src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: AtomicOptions & { signal?: AbortSignal } = {},
): Promise<number> {
  checkAborted(opts.signal, path);
  const target = await atomicTarget(path);
  if (target.kind === 'special') return writeSpecial(path, src, opts.signal);
  const out = await createAtomicWriteStream(target.path, opts);
  // Gather small network/stream chunks into ~1 MiB writev calls (no copying), and keep one
  // write in flight while the next batch is read: fewer syscalls, reading and writing overlap.
  let batch: Uint8Array[] = [];
  let batchBytes = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const flush = async () => {
    const data = batch;
    batch = [];
    batchBytes = 0;
    await inFlight;
    inFlight = data.length === 1 ? out.write(data[0]!) : out.writev(data);
    inFlight.catch(() => {}); // awaited below; avoid an unhandled rejection meanwhile
  };
  try {
    for await (const chunk of src) {
      checkAborted(opts.signal, path);
      batch.push(chunk);
      batchBytes += chunk.byteLength;
      if (batchBytes >= WRITE_BATCH) await flush();
    }
    if (batchBytes > 0) await flush();
    await inFlight;
    await out.commit();
    return out.bytesWritten;
  } catch (e) {
    await inFlight.catch(() => {});
    await out.abort();
    throw e;
  }
}

function checkAborted(signal: AbortSignal | undefined, path: string): void {
  if (signal?.aborted) {
    throw new VouchError('ABORTED', `writing ${path} was aborted`, { cause: signal.reason });
  }
}

function ioError(message: string, cause: unknown): VouchError {
  const code = (cause as { code?: string }).code;
  return new VouchError('IO_ERROR', `${message}${code ? ` (${code})` : ''}`, { cause });
}
