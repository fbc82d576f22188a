/**
 * Index a tar file once (headers only, data is skipped), then stream any member straight from
 * the file by offset. Archives (docker save, oci-archive) are read many times in random order;
 * a linear scan per member would make that quadratic.
 *
 * Reads ustar, pax (`path`, `linkpath`, `size`) and GNU long names. A gzip or zstd compressed
 * tar is first decompressed to a private temp file, removed again by close().
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { isVouchError, VouchError } from '../errors.ts';
import { type Compression, sniffCompression } from '../oci/media-types.ts';

export type TarMemberType = 'file' | 'directory' | 'symlink' | 'link' | 'other';

export interface TarMember {
  /** Normalised: no `./` prefix, no trailing `/`, no empty or `.` segments. */
  readonly name: string;
  readonly type: TarMemberType;
  /** Bytes of data stored for the member (0 for links and directories). */
  readonly size: number;
  /** Where the data starts in the (decompressed) tar file. */
  readonly offset: number;
  /** Target of a symlink (relative to the member's directory) or hardlink (archive path). */
  readonly linkname?: string;
}

export interface TarIndex {
  /** The file given to indexTar. */
  readonly file: string;
  /** Compression of the file as given; 'none' unless it was decompressed to a temp file. */
  readonly compression: Compression;
  /** The plain tar actually read: `file` itself, or its private decompressed copy. */
  readonly tarFile: string;
  get(name: string): TarMember | undefined;
  /** Every member in archive order. */
  entries(): readonly TarMember[];
  /** The regular file a name leads to after following symlinks and hardlinks. */
  resolve(name: string): TarMember;
  /** Stream a regular file's bytes (links followed). Unverified: wrap it in verified(). */
  open(name: string, opts?: { signal?: AbortSignal }): AsyncIterable<Uint8Array>;
  /** Read a small member whole; refuses members over `maxBytes`. */
  read(name: string, maxBytes: number, opts?: { signal?: AbortSignal }): Promise<Uint8Array>;
  /** Remove the temp copy of a compressed archive. The index is unusable afterwards. */
  close(): Promise<void>;
}

export interface IndexTarOptions {
  signal?: AbortSignal;
  /** Cap on the decompressed size of a compressed archive (DECOMPRESSION_BOMB beyond it). */
  maxDecompressedBytes?: number;
}

const BLOCK = 512;
const MAX_META_BYTES = 1024 * 1024;
const MAX_LINK_DEPTH = 16;

/** Normalise a member name; undefined when it cannot name anything inside the archive. */
export function normaliseTarName(raw: string): string | undefined {
  if (raw.startsWith('/')) return undefined;
  const parts: string[] = [];
  for (const p of raw.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') return undefined;
    parts.push(p);
  }
  return parts.join('/');
}

export async function indexTar(file: string, opts: IndexTarOptions = {}): Promise<TarIndex> {
  const head = await readHead(file, 6);
  const compression = sniffCompression(head);
  rejectUnsupportedCompression(file, head);
  if (compression === 'none') return buildIndex(file, file, 'none', undefined, opts.signal);
  // Like containers/image (and docker load), a compressed archive is decompressed once into a
  // private temp file: members are then read by offset, which a compressed stream cannot do.
  const dir = await mkdtemp(join(tmpdir(), 'vouch-tar-'));
  try {
    const plain = join(dir, 'archive.tar');
    await decompressTo(file, plain, compression, opts);
    return await buildIndex(file, plain, compression, dir, opts.signal);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

async function readHead(file: string, n: number): Promise<Uint8Array> {
  const fh = await openFile(file);
  try {
    const buf = new Uint8Array(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function openFile(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (e) {
    throw new VouchError('IO_ERROR', `cannot open ${file}: ${(e as Error).message}`, { cause: e });
  }
}

function rejectUnsupportedCompression(file: string, head: Uint8Array): void {
  const xz = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00].every((b, i) => head[i] === b);
  const bzip2 = head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68;
  if (xz || bzip2) {
    throw new VouchError('ARCHIVE_INVALID', `${file} is ${xz ? 'xz' : 'bzip2'}-compressed`, {
      hint: 'only plain, gzip and zstd tar archives are read; decompress it first',
    });
  }
}

async function decompressTo(
  file: string,
  dest: string,
  compression: Compression,
  opts: IndexTarOptions,
): Promise<void> {
  const max = opts.maxDecompressedBytes;
  async function* capped(src: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    let n = 0;
    for await (const c of src) {
      n += c.byteLength;
      if (max !== undefined && n > max) {
        throw new VouchError('DECOMPRESSION_BOMB', `${file}: decompresses to more than ${max} bytes`);
      }
      yield c;
    }
  }
  try {
    // pipeline (not oci/compression's decompress) so a failing read or write rejects here
    await pipeline(
      createReadStream(file),
      compression === 'gzip' ? createGunzip() : createZstdDecompress(),
      capped,
      createWriteStream(dest, { flags: 'wx', mode: 0o600 }),
      opts.signal ? { signal: opts.signal } : {},
    );
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ZSTD_'))) {
      throw new VouchError(
        'ARCHIVE_INVALID',
        `${file}: corrupt ${compression} data (${(e as Error).message})`,
        {
          cause: e,
        },
      );
    }
    throw mapIoError(e, file);
  }
}

function mapIoError(e: unknown, file: string): unknown {
  if (isVouchError(e)) return e;
  if ((e as { name?: string }).name === 'AbortError') {
    return new VouchError('ABORTED', `reading ${file} was aborted`, { cause: e });
  }
  return new VouchError('IO_ERROR', `reading ${file}: ${(e as Error).message}`, { cause: e });
}

/** Pending overrides from pax or GNU long-name headers, applied to the next real header. */
interface Pending {
  path?: string;
  linkpath?: string;
  size?: number;
}

async function buildIndex(
  file: string,
  plain: string,
  compression: Compression,
  tempDir: string | undefined,
  signal: AbortSignal | undefined,
): Promise<TarIndex> {
  const members = await scan(plain, file, signal);
  const byName = new Map<string, TarMember>();
  for (const m of members) {
    const seen = byName.get(m.name);
    // Repeated directory entries are harmless; a repeated file makes "which one?" ambiguous.
    if (seen && !(seen.type === 'directory' && m.type === 'directory')) {
      throw new VouchError('ARCHIVE_INVALID', `${file}: member "${m.name}" appears more than once`);
    }
    byName.set(m.name, m);
  }
  let closed = false;

  function resolve(name: string): TarMember {
    if (closed) throw new VouchError('INTERNAL', `${file}: tar index used after close()`);
    let current = normaliseTarName(name);
    if (current === undefined) {
      throw new VouchError('ARCHIVE_INVALID', `${file}: member path "${name}" leaves the archive`);
    }
    for (let depth = 0; depth <= MAX_LINK_DEPTH; depth++) {
      const m = byName.get(current);
      if (!m) {
        const via = current === name ? '' : ` (via links from "${name}")`;
        throw new VouchError('ARCHIVE_INVALID', `${file}: member "${current}" is missing${via}`);
      }
      if (m.type === 'file') return m;
      if (m.type !== 'symlink' && m.type !== 'link') {
        throw new VouchError('ARCHIVE_INVALID', `${file}: member "${m.name}" is a ${m.type}, not a file`);
      }
      const link = m.linkname ?? '';
      const target =
        m.type === 'symlink' && !link.startsWith('/')
          ? normaliseTarName(posix.join(posix.dirname(m.name), link))
          : normaliseTarName(link);
      if (target === undefined || target === '') {
        throw new VouchError(
          'ARCHIVE_INVALID',
          `${file}: link "${m.name}" -> "${link}" points outside the archive`,
        );
      }
      current = target;
    }
    throw new VouchError('ARCHIVE_INVALID', `${file}: too many levels of links from "${name}"`);
  }

  async function* stream(m: TarMember, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    if (m.size === 0) return;
    const rs = createReadStream(plain, {
      start: m.offset,
      end: m.offset + m.size - 1,
      ...(signal ? { signal } : {}),
    });
    try {
      for await (const chunk of rs) yield chunk as Uint8Array;
    } catch (e) {
      throw mapIoError(e, file);
    } finally {
      rs.destroy();
    }
  }

  return {
    file,
    compression,
    tarFile: plain,
    get: (name) => {
      const n = normaliseTarName(name);
      return n === undefined ? undefined : byName.get(n);
    },
    entries: () => members,
    resolve,
    open: (name, o = {}) => stream(resolve(name), o.signal),
    async read(name, maxBytes, o = {}) {
      const m = resolve(name);
      if (m.size > maxBytes) {
        throw new VouchError(
          'ARCHIVE_INVALID',
          `${file}: member "${m.name}" is ${m.size} bytes, over the ${maxBytes}-byte limit`,
        );
      }
      const out = new Uint8Array(m.size);
      let at = 0;
      for await (const c of stream(m, o.signal)) {
        out.set(c.subarray(0, Math.min(c.byteLength, m.size - at)), at);
        at += c.byteLength;
      }
      if (at !== m.size) throw new VouchError('ARCHIVE_INVALID', `${file}: member "${m.name}" is truncated`);
      return out;
    },
    async close() {
      closed = true;
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
  };
}

/** Walk the headers of a plain tar file; `label` names it in messages. */
async function scan(plain: string, label: string, signal: AbortSignal | undefined): Promise<TarMember[]> {
  const fh = await openFile(plain);
  try {
    const fileSize = (await fh.stat()).size;
    const members: TarMember[] = [];
    const header = new Uint8Array(BLOCK);
    let pos = 0;
    let pending: Pending = {};
    for (;;) {
      signal?.throwIfAborted();
      if (pos === fileSize) break; // no end-of-archive blocks: tolerated, as GNU tar does
      const { bytesRead } = await fh.read(header, 0, BLOCK, pos);
      if (bytesRead < BLOCK) {
        throw new VouchError('ARCHIVE_INVALID', `${label}: truncated tar header at offset ${pos}`);
      }
      if (header.every((b) => b === 0)) break;
      checkChecksum(header, label, pos);
      const h = decodeHeader(header, label, pos);
      const meta = h.typeflag === 'x' || h.typeflag === 'g' || h.typeflag === 'L' || h.typeflag === 'K';
      const size = meta ? h.size : (pending.size ?? h.size);
      const dataStart = pos + BLOCK;
      if (dataStart + size > fileSize) {
        throw new VouchError(
          'ARCHIVE_INVALID',
          `${label}: truncated: member at offset ${pos} needs ${size} bytes past the end of the file`,
        );
      }
      pos = dataStart + Math.ceil(size / BLOCK) * BLOCK;
      if (meta) {
        if (size > MAX_META_BYTES) {
          throw new VouchError('ARCHIVE_INVALID', `${label}: ${size}-byte extended header at ${dataStart}`);
        }
        const data = new Uint8Array(size);
        await fh.read(data, 0, size, dataStart);
        if (h.typeflag === 'x') pending = { ...pending, ...parsePax(data, label, dataStart) };
        else if (h.typeflag === 'L') pending.path = cString(data, 0, size);
        else if (h.typeflag === 'K') pending.linkpath = cString(data, 0, size);
        // 'g' (pax global) carries archive-wide defaults nobody uses for paths: ignored.
        continue;
      }
      const rawName = pending.path ?? h.name;
      const linkname = pending.linkpath ?? h.linkname;
      pending = {};
      const name = normaliseTarName(rawName);
      if (name === undefined) {
        throw new VouchError(
          'ARCHIVE_INVALID',
          `${label}: member path "${rawName}" at offset ${dataStart - BLOCK} leaves the archive`,
          { hint: 'absolute paths and ".." segments are refused' },
        );
      }
      const type = memberType(h.typeflag, rawName);
      if (name === '') {
        if (type === 'directory') continue; // the archive root itself, e.g. "./"
        throw new VouchError(
          'ARCHIVE_INVALID',
          `${label}: member at offset ${dataStart - BLOCK} has no name`,
        );
      }
      const isLink = type === 'symlink' || type === 'link';
      members.push({
        name,
        type,
        size: type === 'file' ? size : 0,
        offset: dataStart,
        ...(isLink ? { linkname } : {}),
      });
    }
    return members;
  } catch (e) {
    throw mapIoError(e, label);
  } finally {
    await fh.close();
  }
}

interface RawHeader {
  name: string;
  linkname: string;
  size: number;
  typeflag: string;
}

const decoder = new TextDecoder('utf-8');

function cString(b: Uint8Array, start: number, len: number): string {
  const slice = b.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return decoder.decode(nul === -1 ? slice : slice.subarray(0, nul));
}

function decodeHeader(b: Uint8Array, label: string, pos: number): RawHeader {
  let name = cString(b, 0, 100);
  // POSIX ustar ("ustar\0") splits long names into prefix/name; GNU ("ustar  ") uses that
  // area for other fields.
  const magic = cString(b, 257, 6);
  const posixUstar = magic === 'ustar' && b[262] === 0;
  if (posixUstar) {
    const prefix = cString(b, 345, 155);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  return {
    name,
    linkname: cString(b, 157, 100),
    size: parseNumber(b, 124, 12, label, pos, 'size'),
    typeflag: b[156] === 0 ? '0' : String.fromCharCode(b[156] ?? 0),
  };
}

function memberType(typeflag: string, rawName: string): TarMemberType {
  switch (typeflag) {
    case '0':
    case '7':
      // pre-POSIX tars mark directories only by a trailing slash
      return rawName.endsWith('/') ? 'directory' : 'file';
    case '1':
      return 'link';
    case '2':
      return 'symlink';
    case '5':
      return 'directory';
    default:
      return 'other';
  }
}

function parseNumber(b: Uint8Array, start: number, len: number, label: string, pos: number, field: string) {
  const first = b[start] ?? 0;
  if (first & 0x80) {
    // GNU base-256 for values that do not fit in octal; negative values are nonsense here
    if (first === 0xff) throw new VouchError('ARCHIVE_INVALID', `${label}: negative ${field} at ${pos}`);
    let v = first & 0x7f;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + (b[i] ?? 0);
    if (!Number.isSafeInteger(v))
      throw new VouchError('ARCHIVE_INVALID', `${label}: huge ${field} at ${pos}`);
    return v;
  }
  const s = cString(b, start, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) {
    throw new VouchError(
      'ARCHIVE_INVALID',
      `${label}: bad ${field} field "${s}" in the header at offset ${pos}`,
    );
  }
  return Number.parseInt(s, 8);
}

function checkChecksum(b: Uint8Array, label: string, pos: number): void {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : (b[i] ?? 0);
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  const s = cString(b, 148, 8).trim();
  const stored = /^[0-7]+$/.test(s) ? Number.parseInt(s, 8) : Number.NaN;
  if (stored !== unsigned && stored !== signed) {
    const what = pos === 0 ? 'is not a tar archive' : 'is corrupt';
    throw new VouchError('ARCHIVE_INVALID', `${label} ${what} (bad tar header checksum at offset ${pos})`);
  }
}

/** pax records: "<len> <key>=<value>\n", len counting the whole record. */
function parsePax(data: Uint8Array, label: string, at: number): Pending {
  const out: Pending = {};
  let i = 0;
  while (i < data.length) {
    if (data[i] === 0) break;
    const sp = data.indexOf(0x20, i);
    const len = sp === -1 ? Number.NaN : Number(decoder.decode(data.subarray(i, sp)));
    if (!Number.isSafeInteger(len) || len <= 0 || i + len > data.length) {
      throw new VouchError('ARCHIVE_INVALID', `${label}: malformed pax header at offset ${at}`);
    }
    const rec = decoder.decode(data.subarray(sp + 1, i + len - 1));
    const eq = rec.indexOf('=');
    const key = rec.slice(0, eq);
    const value = rec.slice(eq + 1);
    if (key === 'path') out.path = value;
    else if (key === 'linkpath') out.linkpath = value;
    else if (key === 'size') {
      if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
        throw new VouchError('ARCHIVE_INVALID', `${label}: bad pax size "${value}" at offset ${at}`);
      }
      out.size = Number(value);
    }
    i += len;
  }
  return out;
}
