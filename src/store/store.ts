/**
 * The artifact store: where a release's SBOMs, scan reports and attestations (and their `.sig`)
 * are kept. Two implementations pass one contract (test/store/contract.ts): DirectoryStore (a
 * local directory, the default) and S3Store (S3-compatible storage).
 *
 * Every write is atomic: a reader sees the old object or the whole new one, never a part.
 * Every read of an object whose SHA-256 the store knows is checked while streaming.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { VouchError } from '../errors.ts';

/** What to store: bytes in memory, a file, or a stream (buffered or staged before it lands). */
export type PutBody = Uint8Array | { file: string } | { stream: AsyncIterable<Uint8Array> };

export interface PutOptions {
  /** HTTP Content-Type (kept by S3; a directory store has nowhere to keep it). */
  contentType: string;
  signal?: AbortSignal;
}

export interface ReadOptions {
  signal?: AbortSignal;
}

/** What a store knows about one object. */
export interface ObjectInfo {
  key: string;
  size: number;
  /**
   * Lowercase hex SHA-256 of the bytes when the store knows it: hashed from the file by a
   * directory store; the server-verified checksum, else the `sha256` metadata vouch wrote, in
   * S3. Undefined for objects another tool wrote without either.
   */
  sha256?: string;
  /**
   * Lowercase hex MD5 the server computed from the bytes, when it has one (the ETag of a
   * single-part, unencrypted or SSE-S3 S3 object); a cross-check that needs no download.
   */
  md5?: string;
}

/** A written object: its SHA-256 is always known, vouch computed it. */
export interface PutResult extends ObjectInfo {
  sha256: string;
}

/**
 * An open object: `body` yields its bytes once and, when `sha256` is set, checks them at the end.
 * Read `body` to the end (or break out of the loop) so the file or connection is released.
 */
export interface ObjectReader extends ObjectInfo {
  body: AsyncIterable<Uint8Array>;
}

/** One entry of a listing (listings carry no checksums: S3's ListObjectsV2 returns none). */
export interface ListEntry {
  key: string;
  size: number;
}

export interface ArtifactStore {
  /** For logs: `dir:/abs/path` or `s3://bucket/prefix (endpoint …)`; never credentials. */
  readonly description: string;
  /** Write `key` atomically, replacing what was there. */
  put(key: string, body: PutBody, options: PutOptions): Promise<PutResult>;
  /** Open `key` for reading, or undefined when it does not exist. */
  get(key: string, options?: ReadOptions): Promise<ObjectReader | undefined>;
  /** Size (and SHA-256 when known) of `key`, or undefined when it does not exist. */
  head(key: string, options?: ReadOptions): Promise<ObjectInfo | undefined>;
  /** Every key starting with `prefix` (a string prefix, as in S3), in byte order of the key. */
  list(prefix: string, options?: ReadOptions): AsyncIterable<ListEntry>;
  /** Remove `key`; no error when it is already gone. */
  delete(key: string, options?: ReadOptions): Promise<void>;
  /** Release connections (S3); the store is unusable afterwards. */
  close(): Promise<void>;
}

/** Read a whole object into memory, refusing more than `maxBytes`. */
export async function readAll(obj: ObjectReader, maxBytes = 512 * 1024 * 1024): Promise<Uint8Array> {
  if (obj.size > maxBytes) {
    throw new VouchError('BLOB_TOO_LARGE', `${obj.key} is ${obj.size} bytes, over the limit of ${maxBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of obj.body) {
    n += c.byteLength;
    if (n > maxBytes)
      throw new VouchError('BLOB_TOO_LARGE', `${obj.key}: over the limit of ${maxBytes} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks, n);
}

/** List everything under `prefix` into an array. */
export async function listAll(
  store: ArtifactStore,
  prefix = '',
  options?: ReadOptions,
): Promise<ListEntry[]> {
  const out: ListEntry[] = [];
  for await (const e of store.list(prefix, options)) out.push(e);
  return out;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Pass `src` through, checking at the end that exactly `size` bytes came and, when `sha256` is
 * given, that they hash to it. A mismatch throws after the last chunk, so consumers must stage
 * what they read (readAll does) rather than act on it early.
 */
export async function* verifiedBody(
  src: AsyncIterable<Uint8Array>,
  where: string,
  size: number,
  sha256: string | undefined,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const h = createHash('sha256');
  let n = 0;
  for await (const c of src) {
    if (signal?.aborted)
      throw new VouchError('ABORTED', `reading ${where} was aborted`, { cause: signal.reason });
    n += c.byteLength;
    if (n > size) throw new VouchError('SIZE_MISMATCH', `${where}: more than the ${size} bytes announced`);
    h.update(c);
    yield c;
  }
  if (n !== size) throw new VouchError('SIZE_MISMATCH', `${where}: got ${n} bytes, expected ${size}`);
  const got = h.digest('hex');
  if (sha256 !== undefined && got !== sha256) {
    throw new VouchError(
      'DIGEST_MISMATCH',
      `${where}: content has sha256 ${got}, the store recorded ${sha256}`,
      {
        hint: 'the stored object was changed or corrupted after it was written; upload it again',
      },
    );
  }
}

export function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new VouchError('ABORTED', `${what} was aborted`, { cause: signal.reason });
}

/** The bytes of a PutBody as chunks; a source file that cannot be read is named in the error. */
export async function* chunksOf(body: PutBody): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    yield body;
  } else if ('file' in body) {
    try {
      for await (const c of createReadStream(body.file)) yield c as Buffer;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new VouchError(
        code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_ERROR',
        `cannot read ${body.file}: ${code ?? e}`,
        {
          cause: e,
        },
      );
    }
  } else {
    yield* body.stream;
  }
}

/** A PutBody in memory (S3 needs the length and checksum before it sends), refusing more than `maxBytes`. */
export async function bodyBytes(body: PutBody, where: string, maxBytes: number): Promise<Uint8Array> {
  if (body instanceof Uint8Array) {
    if (body.byteLength > maxBytes) throw tooLarge(where, maxBytes);
    return body;
  }
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of chunksOf(body)) {
    n += c.byteLength;
    if (n > maxBytes) throw tooLarge(where, maxBytes);
    chunks.push(c);
  }
  return Buffer.concat(chunks, n);
}

function tooLarge(where: string, maxBytes: number): VouchError {
  return new VouchError(
    'BLOB_TOO_LARGE',
    `${where}: more than ${maxBytes} bytes, too large to store in one piece`,
  );
}
