/**
 * Read an (already decompressed) tar stream entry by entry, on top of tar-stream's parser
 * (ustar, GNU long names, PAX). Names are normalised, PAX overrides applied, and size limits
 * enforced while reading so a bomb is stopped before it is expanded.
 */
import tar from 'tar-stream';
import { isVouchError, VouchError } from '../errors.ts';
import { cleanTarPath } from './path.ts';

export const ENTRY_TYPES = ['file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo'] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

export interface TarHeader {
  /** Normalised path ('' = the root directory); see path.ts. */
  path: string;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  /** Seconds since the epoch; fractional when a PAX header says so. */
  mtime: number;
  /** Bytes of data in the archive (0 for everything but files). */
  size: number;
  /** Symlink: the target as stored. Hardlink: the normalised archive path of the target. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** From PAX `SCHILY.xattr.*` records. */
  xattrs?: Record<string, string>;
  /** Every PAX record of the entry, as read. */
  pax?: Record<string, string>;
  /** Only with `unsafePaths: 'flag'`: why the path (or a hardlink's target) must not be used. */
  unsafe?: string;
  /** Position among the archive's entries, from 0. */
  index: number;
  /** Byte offset of the entry's header in the tar stream. */
  offset: number;
}

export interface TarEntry extends TarHeader {
  /**
   * The file's bytes (empty for other types). Read it before asking for the next entry; what is
   * left unread is skipped. Leaving the loop early is fine.
   */
  body: AsyncIterable<Uint8Array>;
}

export interface TarLimits {
  /** Entries in all archives read with one budget (default 1,000,000). */
  maxEntries?: number;
  /** UTF-8 bytes of a path or link target (default 4096). */
  maxPathLength?: number;
  /** Uncompressed bytes in all archives read with one budget (default 32 GiB). */
  maxTotalBytes?: number;
  /** Uncompressed / compressed size of one archive, when its compressed size is known (default 200). */
  maxRatio?: number;
  /** The ratio is only checked past this many uncompressed bytes (default 64 MiB). */
  ratioFloorBytes?: number;
}

export const DEFAULT_LIMITS: Required<TarLimits> = {
  maxEntries: 1_000_000,
  maxPathLength: 4096,
  maxTotalBytes: 32 * 1024 ** 3,
  maxRatio: 200,
  ratioFloorBytes: 64 * 1024 ** 2,
};

/** Counters shared by the archives of one operation (all layers of an image). */
export class TarBudget {
  readonly limits: Required<TarLimits>;
  entries = 0;
  bytes = 0;
  constructor(limits: TarLimits = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }
}

export interface ReadTarOptions {
  /** Names the archive in messages, e.g. `layer sha256:…`. */
  what?: string;
  /** 'reject' (default): an absolute or '..' path is an UNSAFE_PATH error. 'flag': set `unsafe`. */
  unsafePaths?: 'reject' | 'flag';
  limits?: TarLimits;
  /** Share limits across archives; takes precedence over `limits`. */
  budget?: TarBudget;
  /** Size of the compressed blob this tar came from, for the expansion-ratio limit. */
  compressedSize?: number;
}

/** Options for reading layer `i` of an image: unsafe paths flagged, limits shared by all layers. */
export function layerTarOptions(
  i: number,
  layer: { digest: string; compressedSize?: number },
  budget: TarBudget,
): ReadTarOptions {
  return {
    what: `layer ${i} (${layer.digest})`,
    unsafePaths: 'flag',
    budget,
    ...(layer.compressedSize === undefined ? {} : { compressedSize: layer.compressedSize }),
  };
}

const TYPES: Partial<Record<string, EntryType>> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'hardlink',
  'character-device': 'char',
  'block-device': 'block',
  fifo: 'fifo',
};

type Source = tar.ExtractEvents['entry'][1];

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

export async function* readTar(
  src: AsyncIterable<Uint8Array>,
  opts: ReadTarOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const what = opts.what ?? 'tar';
  const budget = opts.budget ?? new TarBudget(opts.limits);
  const limits = budget.limits;
  const extract = tar.extract();
  let sourceError: unknown;
  let ownBytes = 0;
  let last: { path: string } | undefined;

  const bomb = (msg: string) =>
    new VouchError('DECOMPRESSION_BOMB', `${what}: ${msg}`, {
      hint: 'raise the limit if the image is trusted and really this large',
    });

  // Feed the parser with backpressure; stop reading as soon as it is destroyed.
  const pump = (async () => {
    try {
      for await (const chunk of src) {
        if (extract.destroyed) return;
        ownBytes += chunk.byteLength;
        budget.bytes += chunk.byteLength;
        if (budget.bytes > limits.maxTotalBytes) {
          throw bomb(`more than ${limits.maxTotalBytes} uncompressed bytes in total`);
        }
        const c = opts.compressedSize;
        if (c !== undefined && ownBytes > limits.ratioFloorBytes && ownBytes > c * limits.maxRatio) {
          throw bomb(`expands more than ${limits.maxRatio}x (${ownBytes} bytes from ${c} compressed)`);
        }
        if (!extract.write(chunk)) await drained(extract);
      }
      if (!extract.destroyed) extract.end(null);
    } catch (e) {
      sourceError = e;
      extract.destroy(e instanceof Error ? e : new Error(String(e)));
    }
  })();

  const iterator = extract[Symbol.asyncIterator]();
  let index = 0;
  try {
    while (true) {
      let step: IteratorResult<Source>;
      try {
        step = await iterator.next();
      } catch (e) {
        throw sourceError ?? invalid(what, e, last, parserOffset(extract), ownBytes);
      }
      if (step.done) break;
      const entry = step.value;
      const offset = entry.offset ?? 0;
      budget.entries++;
      if (budget.entries > limits.maxEntries) throw bomb(`more than ${limits.maxEntries} entries`);
      const longest = Math.max(utf8Length(entry.header.name), utf8Length(entry.header.linkname ?? ''));
      if (longest > limits.maxPathLength) {
        throw bomb(`entry ${index} has a path of ${longest} bytes (limit ${limits.maxPathLength})`);
      }
      const header = toHeader(entry.header, what, index, offset, opts.unsafePaths ?? 'reject');
      last = { path: header.path };
      index++;
      const body = onceBody(
        entry,
        (e) => sourceError ?? invalid(what, e, last, parserOffset(extract), ownBytes),
      );
      yield { ...header, body: body.iterable };
      // Skip what the consumer left unread, or the parser stalls on a full entry stream.
      await body.drain();
    }
    await pump;
    if (sourceError) throw sourceError;
  } finally {
    // The pump never rejects; it sees the destroyed parser and stops reading the source.
    if (!extract.destroyed) extract.destroy();
  }
}

function drained(s: tar.Extract): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      s.off('drain', done);
      s.off('close', done);
      resolve();
    };
    s.on('drain', done);
    s.on('close', done);
  });
}

/** The entry's data as an iterable whose early exit does not destroy the whole archive. */
function onceBody(
  entry: Source,
  failure: (e: unknown) => unknown,
): { iterable: AsyncIterable<Uint8Array>; drain(): Promise<void> } {
  const it = entry[Symbol.asyncIterator]();
  let done = false;
  const next = async (): Promise<IteratorResult<Uint8Array>> => {
    if (done) return { done: true, value: undefined };
    let r: IteratorResult<unknown>;
    try {
      r = await it.next();
    } catch (e) {
      throw failure(e);
    }
    if (r.done) done = true;
    return r.done ? { done: true, value: undefined } : { done: false, value: r.value as Uint8Array };
  };
  return {
    iterable: {
      [Symbol.asyncIterator]: () => ({
        next,
        // Not it.return(): destroying an entry stream destroys tar-stream's whole extractor.
        return: async () => ({ done: true, value: undefined }),
      }),
    },
    async drain() {
      while (!(await next()).done) {}
    },
  };
}

/** Start of the header the parser was last at (a tar-stream internal; absent → unknown). */
function parserOffset(extract: tar.Extract): number | undefined {
  const v = (extract as unknown as { _offset?: unknown })._offset;
  return typeof v === 'number' ? v : undefined;
}

function invalid(
  what: string,
  e: unknown,
  last: { path: string } | undefined,
  at: number | undefined,
  total: number,
): VouchError {
  if (isVouchError(e)) return e;
  const msg = String((e as Error).message ?? e);
  const after = last ? `after entry "${last.path}"` : 'before the first entry';
  const where = /end of data/i.test(msg)
    ? `truncated: the stream ends ${after}, at byte ${total}`
    : `malformed tar${at === undefined ? '' : ` at byte ${at}`} (${after}): ${msg}`;
  return new VouchError('LAYER_INVALID', `${what}: ${where}`, { cause: e });
}

function toHeader(
  h: tar.Header,
  what: string,
  index: number,
  offset: number,
  unsafePaths: 'reject' | 'flag',
): TarHeader {
  const type = TYPES[h.type ?? ''];
  if (type === undefined) {
    throw new VouchError(
      'LAYER_INVALID',
      `${what}: entry ${index} "${h.name}" (header at byte ${offset}) has an unsupported type (${h.type ?? 'unknown typeflag'})`,
    );
  }
  const pax = (h.pax ?? undefined) as Record<string, string> | undefined;
  const clean = cleanTarPath(h.name);
  const out: TarHeader = {
    path: clean.path,
    type,
    mode: (h.mode ?? 0) & 0o7777,
    uid: paxInt(pax, 'uid') ?? h.uid ?? 0,
    gid: paxInt(pax, 'gid') ?? h.gid ?? 0,
    mtime: paxNumber(pax, 'mtime') ?? (h.mtime ? h.mtime.getTime() / 1000 : 0),
    size: type === 'file' ? (h.size ?? 0) : 0,
    index,
    offset,
  };
  const uname = pax?.uname ?? h.uname;
  const gname = pax?.gname ?? h.gname;
  if (uname) out.uname = uname;
  if (gname) out.gname = gname;
  if (type === 'char' || type === 'block') {
    out.devmajor = h.devmajor ?? 0;
    out.devminor = h.devminor ?? 0;
  }
  let unsafe = clean.unsafe === undefined ? undefined : reason('path', clean.unsafe);
  if (type === 'symlink') out.linkname = h.linkname ?? '';
  if (type === 'hardlink') {
    const target = cleanTarPath(h.linkname ?? '');
    out.linkname = target.path;
    if (target.unsafe !== undefined) unsafe ??= reason('hardlink target', target.unsafe);
    else if (target.path === '') unsafe ??= 'hardlink target is empty';
  }
  if (pax) {
    out.pax = pax;
    const xattrs: Record<string, string> = {};
    let any = false;
    for (const [k, v] of Object.entries(pax)) {
      if (k.startsWith('SCHILY.xattr.')) {
        xattrs[k.slice('SCHILY.xattr.'.length)] = v;
        any = true;
      }
    }
    if (any) out.xattrs = xattrs;
  }
  if (unsafe !== undefined) {
    if (unsafePaths === 'reject') {
      throw new VouchError('UNSAFE_PATH', `${what}: entry ${index} "${h.name}": ${unsafe}`);
    }
    out.unsafe = unsafe;
  }
  return out;
}

function reason(what: string, kind: 'dotdot' | 'absolute'): string {
  return kind === 'dotdot' ? `${what} climbs out with '..'` : `${what} is absolute`;
}

function paxNumber(pax: Record<string, string> | undefined, key: string): number | undefined {
  const v = pax?.[key];
  if (v === undefined || !/^-?\d+(\.\d+)?$/.test(v)) return undefined;
  return Number(v);
}

function paxInt(pax: Record<string, string> | undefined, key: string): number | undefined {
  const v = paxNumber(pax, key);
  return v !== undefined && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}
