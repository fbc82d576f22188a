/**
 * Read an (already decompressed) tar stream entry by entry: ustar, GNU long names, PAX, decoded
 * exactly as tar-stream 3 does, by a small pull parser (no stream machinery per entry: layers
 * have tens of thousands of entries). Names are normalised, PAX overrides applied, and size
 * limits enforced while reading so a bomb is stopped before it is expanded.
 */
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

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * Stream the entries of an uncompressed tar. The source is pulled only as entries are read
 * (its own errors come out unchanged, so a digest check failing at its end fails here), and
 * always to its end, also past the end-of-archive blocks, as GNU tar and tar-stream read it.
 */
export async function* readTar(
  src: AsyncIterable<Uint8Array>,
  opts: ReadTarOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const what = opts.what ?? 'tar';
  const budget = opts.budget ?? new TarBudget(opts.limits);
  const limits = budget.limits;
  const bomb = (msg: string) =>
    new VouchError('DECOMPRESSION_BOMB', `${what}: ${msg}`, {
      hint: 'raise the limit if the image is trusted and really this large',
    });
  const input = new TarInput(src, (chunk, ownBytes) => {
    budget.bytes += chunk.byteLength;
    if (budget.bytes > limits.maxTotalBytes) {
      throw bomb(`more than ${limits.maxTotalBytes} uncompressed bytes in total`);
    }
    const c = opts.compressedSize;
    if (c !== undefined && ownBytes > limits.ratioFloorBytes && ownBytes > c * limits.maxRatio) {
      throw bomb(`expands more than ${limits.maxRatio}x (${ownBytes} bytes from ${c} compressed)`);
    }
  });
  let last: { path: string } | undefined;
  let at: number | undefined;
  const fail = (e: unknown) => invalid(what, e, last, at, input.ownBytes);
  // A parser error (not the source's own) becomes LAYER_INVALID with the position.
  const parse = async <T>(step: Promise<T>): Promise<T> => {
    try {
      return await step;
    } catch (e) {
      throw e instanceof TarFormatError ? fail(e) : e;
    }
  };

  let pax: Record<string, string> | null = null;
  let paxGlobal: Record<string, string> | null = null;
  let longPath: string | null = null;
  let longLinkPath: string | null = null;
  let index = 0;
  let finished = false;
  try {
    for (;;) {
      const offset = input.offset;
      const block = await parse(input.take(BLOCK, true));
      if (block === undefined) break;
      at = offset;
      let h: RawHeader | null;
      try {
        h = decodeHeader(block);
      } catch (e) {
        throw fail(e);
      }
      if (h === null) continue; // a zero block: the end-of-archive marker (reading goes on)
      if (LONG_HEADERS.has(h.type ?? '')) {
        if (!(h.size >= 0)) throw fail(new TarFormatError('Invalid header'));
        if (h.size > MAX_LONG_HEADER_BYTES) throw fail(new TarFormatError('Header exceeds max size'));
        const data = (await parse(input.take(h.size, false)))!;
        if (h.type === 'gnu-long-path') longPath = cString(data, 0, data.byteLength);
        else if (h.type === 'gnu-long-link-path') longLinkPath = cString(data, 0, data.byteLength);
        else if (h.type === 'pax-global-header') paxGlobal = decodePax(data);
        else pax = paxGlobal === null ? decodePax(data) : Object.assign({}, paxGlobal, decodePax(data));
        await parse(input.skip(padding(h.size)));
        continue;
      }
      if (longPath) h.name = longPath;
      if (longLinkPath) h.linkname = longLinkPath;
      longPath = longLinkPath = null;
      if (pax) {
        if (pax.path) h.name = pax.path;
        if (pax.linkpath) h.linkname = pax.linkpath;
        if (pax.size) h.size = Number.parseInt(pax.size, 10);
        h.pax = pax;
        pax = null;
      }
      if (!(h.size >= 0)) throw fail(new TarFormatError('Invalid header'));
      budget.entries++;
      if (budget.entries > limits.maxEntries) throw bomb(`more than ${limits.maxEntries} entries`);
      const longest = Math.max(utf8Length(h.name), utf8Length(h.linkname ?? ''));
      if (longest > limits.maxPathLength) {
        throw bomb(`entry ${index} has a path of ${longest} bytes (limit ${limits.maxPathLength})`);
      }
      const header = toHeader(h, what, index, offset, opts.unsafePaths ?? 'reject');
      last = { path: header.path };
      index++;
      // A directory's size is not data to skip (tar-stream reads on from its header).
      const size = h.type === 'directory' ? 0 : h.size;
      const body = input.body(size, (e) => (e instanceof TarFormatError ? fail(e) : e));
      yield { ...header, body };
      // Skip what the consumer left unread.
      await parse(body.rest());
      await parse(input.skip(padding(size)));
    }
    finished = true;
  } finally {
    if (!finished) await input.close();
  }
}

const BLOCK = 512;
/** Largest PAX or GNU long-name record read (as tar-stream). */
const MAX_LONG_HEADER_BYTES = 4 * 1024 * 1024;
const LONG_HEADERS = new Set(['gnu-long-path', 'gnu-long-link-path', 'pax-global-header', 'pax-header']);
const EMPTY = new Uint8Array(0);

/** A malformed archive (as opposed to a failing source). */
class TarFormatError extends Error {}

function padding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

/** The source as a byte cursor: chunks are pulled only when needed, counted as they come. */
class TarInput {
  ownBytes = 0;
  readonly #it: AsyncIterator<Uint8Array>;
  readonly #onChunk: (chunk: Uint8Array, ownBytes: number) => void;
  #chunk: Uint8Array = EMPTY;
  #pos = 0;
  /** Stream offset of #chunk[0]. */
  #base = 0;
  #done = false;
  /** Bumped per body, so a stale body reads nothing. */
  #generation = 0;
  readonly #scratch = new Uint8Array(BLOCK);

  constructor(src: AsyncIterable<Uint8Array>, onChunk: (chunk: Uint8Array, ownBytes: number) => void) {
    this.#it = src[Symbol.asyncIterator]();
    this.#onChunk = onChunk;
  }

  get offset(): number {
    return this.#base + this.#pos;
  }

  /** Make unread bytes available; false at the end of the source. */
  async #fill(): Promise<boolean> {
    while (this.#pos >= this.#chunk.byteLength) {
      if (this.#done) return false;
      const r = await this.#it.next();
      if (r.done) {
        this.#done = true;
        return false;
      }
      this.#base += this.#chunk.byteLength;
      this.#chunk = r.value;
      this.#pos = 0;
      this.ownBytes += r.value.byteLength;
      this.#onChunk(r.value, this.ownBytes);
    }
    return true;
  }

  /**
   * The next `n` contiguous bytes (a view when they are in one chunk, valid until the next
   * read). At the end of the source: undefined when `endOk` and nothing was read, else an
   * error.
   */
  async take(n: number, endOk: boolean): Promise<Uint8Array | undefined> {
    if (!(await this.#fill())) {
      if (endOk || n === 0) return n === 0 ? EMPTY : undefined;
      throw truncated();
    }
    if (this.#chunk.byteLength - this.#pos >= n) {
      const out = this.#chunk.subarray(this.#pos, this.#pos + n);
      this.#pos += n;
      return out;
    }
    const out = n === BLOCK ? this.#scratch : new Uint8Array(n);
    let got = 0;
    while (got < n) {
      if (!(await this.#fill())) throw truncated();
      const k = Math.min(n - got, this.#chunk.byteLength - this.#pos);
      out.set(this.#chunk.subarray(this.#pos, this.#pos + k), got);
      this.#pos += k;
      got += k;
    }
    return out;
  }

  async skip(n: number): Promise<void> {
    while (n > 0) {
      if (!(await this.#fill())) throw truncated();
      const k = Math.min(n, this.#chunk.byteLength - this.#pos);
      this.#pos += k;
      n -= k;
    }
  }

  /** The next `size` bytes as an entry body: views of the source chunks; rest() skips the unread. */
  body(
    size: number,
    failure: (e: unknown) => unknown,
  ): { [Symbol.asyncIterator](): AsyncIterator<Uint8Array>; rest(): Promise<void> } {
    const generation = ++this.#generation;
    let left = size;
    const next = async (): Promise<IteratorResult<Uint8Array>> => {
      if (left === 0 || generation !== this.#generation) return { done: true, value: undefined };
      try {
        if (!(await this.#fill())) throw truncated();
      } catch (e) {
        throw failure(e);
      }
      const k = Math.min(left, this.#chunk.byteLength - this.#pos);
      const value = this.#chunk.subarray(this.#pos, this.#pos + k);
      this.#pos += k;
      left -= k;
      return { done: false, value };
    };
    return {
      [Symbol.asyncIterator]: () => ({
        next,
        // Leaving early is fine: the rest is skipped before the next entry.
        return: async () => ({ done: true, value: undefined }),
      }),
      rest: async () => {
        if (generation !== this.#generation) return;
        const n = left;
        left = 0;
        await this.skip(n);
      },
    };
  }

  /** Stop reading the source (the consumer left early, or the archive is bad). */
  async close(): Promise<void> {
    this.#generation++;
    if (this.#done) return;
    this.#done = true;
    await this.#it.return?.();
  }
}

function truncated(): TarFormatError {
  return new TarFormatError('Unexpected end of data');
}

/** Header fields as tar-stream decodes them (ustar, GNU; pax and long names applied later). */
interface RawHeader {
  name: string;
  type: string | null;
  /** null: a base-256 field that is neither positive nor negative (as tar-stream). */
  mode: number | null;
  uid: number | null;
  gid: number | null;
  size: number;
  mtime: Date;
  linkname: string | null;
  uname: string;
  gname: string;
  devmajor: number | null;
  devminor: number | null;
  pax: Record<string, string> | null;
}

const TYPE_FLAGS: Partial<Record<number, string>> = {
  0: 'file',
  1: 'link',
  2: 'symlink',
  3: 'character-device',
  4: 'block-device',
  5: 'directory',
  6: 'fifo',
  7: 'contiguous-file',
  72: 'pax-header',
  55: 'pax-global-header',
  27: 'gnu-long-link-path',
  28: 'gnu-long-path',
  30: 'gnu-long-path',
};

/** One 512-byte header; null for a zero block. Same fields and checks as tar-stream 3. */
function decodeHeader(b: Uint8Array): RawHeader | null {
  const sum = checksum(b);
  if (sum === 8 * 32) return null;
  if (sum !== decodeOct(b, 148, 8)) {
    throw new TarFormatError('Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?');
  }
  const typeflag = b[156] === 0 ? 0 : b[156]! - 48;
  let name = cString(b, 0, 100);
  if (isMagic(b, USTAR_MAGIC)) {
    if (b[345]) name = `${cString(b, 345, 155)}/${name}`;
  } else if (!(isMagic(b, GNU_MAGIC) && b[263] === 0x20 && b[264] === 0)) {
    throw new TarFormatError('Invalid tar header: unknown format.');
  }
  return {
    name,
    type: TYPE_FLAGS[typeflag] ?? null,
    mode: decodeOct(b, 100, 8),
    uid: decodeOct(b, 108, 8),
    gid: decodeOct(b, 116, 8),
    // Unreadable: not data to skip (tar-stream would hang on it), an invalid header.
    size: decodeOct(b, 124, 12) ?? Number.NaN,
    mtime: new Date(1000 * (decodeOct(b, 136, 12) ?? 0)),
    linkname: b[157] === 0 ? null : cString(b, 157, 100),
    uname: cString(b, 265, 32),
    gname: cString(b, 297, 32),
    devmajor: decodeOct(b, 329, 8),
    devminor: decodeOct(b, 337, 8),
    pax: null,
  };
}

const USTAR_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72, 0x00]; // "ustar\0" (any version)
const GNU_MAGIC = [0x75, 0x73, 0x74, 0x61, 0x72, 0x20]; // "ustar "

function isMagic(b: Uint8Array, magic: readonly number[]): boolean {
  for (let i = 0; i < magic.length; i++) if (b[257 + i] !== magic[i]) return false;
  return true;
}

function checksum(b: Uint8Array): number {
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += b[i]!;
  for (let i = 156; i < BLOCK; i++) sum += b[i]!;
  return sum;
}

function text(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8', start, end);
}

/** A NUL-terminated UTF-8 field. */
function cString(b: Uint8Array, start: number, len: number): string {
  let end = start;
  while (end < start + len && b[end] !== 0) end++;
  return text(b, start, end);
}

/** An octal field (leading spaces and NULs allowed, ends at a space), or GNU base-256. */
function decodeOct(b: Uint8Array, start: number, len: number): number | null {
  if (b[start]! & 0x80) return parse256(b.subarray(start, start + len));
  let i = start;
  const stop = start + len;
  while (i < stop && b[i] === 0x20) i++;
  let end = i;
  while (end < stop && b[end] !== 0x20) end++;
  while (i < end && b[i] === 0) i++;
  if (end === i) return 0;
  return Number.parseInt(text(b, i, end), 8);
}

/** GNU base-256: 0x80 positive, 0xff two's complement negative; null otherwise. */
function parse256(b: Uint8Array): number | null {
  const positive = b[0] === 0x80;
  if (!positive && b[0] !== 0xff) return null;
  let sum = 0;
  for (let i = b.length - 1, place = 1; i > 0; i--, place *= 256) {
    sum += (positive ? b[i]! : 0xff - b[i]!) * place;
  }
  return positive ? sum : -sum;
}

/** PAX records "<len> <key>=<value>\n", read as tar-stream does (stops at the first bad one). */
function decodePax(buf: Uint8Array): Record<string, string> {
  const result: Record<string, string> = {};
  while (buf.length) {
    let i = 0;
    while (i < buf.length && buf[i] !== 32) i++;
    const len = Number.parseInt(text(buf, 0, i), 10);
    if (!len) return result;
    const rec = buf.subarray(i + 1, len - 1);
    const b = text(rec, 0, rec.byteLength);
    const k = b.indexOf('=');
    if (k === -1) return result;
    result[b.slice(0, k)] = b.slice(k + 1);
    buf = buf.subarray(len);
  }
  return result;
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
  h: RawHeader,
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
