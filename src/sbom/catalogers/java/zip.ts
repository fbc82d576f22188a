/**
 * A read-only zip reader over a ByteSource, for jar/war/ear archives: the central directory
 * (found from the end-of-central-directory record, Zip64 included) and the contents of chosen
 * entries (stored or deflated, through node:zlib inflateRaw), never extracting to disk.
 * APPNOTE.TXT (PKWARE) sections 4.3.6-4.3.16 and 4.5.3 are what is implemented.
 *
 * Everything is bounded: entry count, name lengths, and each inflated entry is capped at its
 * declared size (and a caller limit), so a zip bomb is an error, not memory exhaustion.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { type ByteRange, type ByteSource, FormatError } from '../golang/byte-source.ts';

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;
const MAX_ENTRIES = 1_000_000;
/** Room left after an entry's data for a local header whose extra field is longer than the central one. */
const LOCAL_SLACK = 1024;

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset of the local file header. */
  localOffset: number;
  /** Length of name + extra in the central header (a guess for the local one). */
  centralNameExtra: number;
  isDirectory: boolean;
}

export interface ZipDirectory {
  entries: ZipEntry[];
  zip64: boolean;
}

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
function u64(b: Uint8Array, o: number): number {
  const v = u32(b, o) + u32(b, o + 4) * 2 ** 32;
  if (!Number.isSafeInteger(v)) throw new FormatError('a 64-bit zip field is too large');
  return v;
}

/** Read the central directory (two passes at most: the tail, and the directory when it is not in it). */
export async function readZipDirectory(src: ByteSource): Promise<ZipDirectory> {
  if (src.size < EOCD_MIN) throw new FormatError(`${src.size} bytes is too small for a zip archive`);
  const tailLen = Math.min(src.size, EOCD_MIN + MAX_COMMENT + 20);
  const tailAt = src.size - tailLen;
  const tail = await src.read(tailAt, tailLen);
  let eocd = -1;
  for (let i = tailLen - EOCD_MIN; i >= 0; i--) {
    if (u32(tail, i) === EOCD_SIG && i + EOCD_MIN + u16(tail, i + 20) <= tailLen) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new FormatError('not a zip archive (no end of central directory record)');
  const disk = u16(tail, eocd + 4);
  const cdDisk = u16(tail, eocd + 6);
  let count = u16(tail, eocd + 10);
  let cdSize = u32(tail, eocd + 12);
  let cdOffset = u32(tail, eocd + 16);
  let zip64 = false;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || u32(tail, loc) !== ZIP64_LOCATOR_SIG) {
      throw new FormatError('Zip64 values without a Zip64 end of central directory locator');
    }
    const recAt = u64(tail, loc + 8);
    const rec = await src.read(recAt, 56);
    if (u32(rec, 0) !== ZIP64_EOCD_SIG) throw new FormatError('bad Zip64 end of central directory record');
    count = u64(rec, 32);
    cdSize = u64(rec, 40);
    cdOffset = u64(rec, 48);
    zip64 = true;
  } else if (disk !== 0 || cdDisk !== 0) {
    throw new FormatError('multi-disk zip archives are not supported');
  }
  if (count > MAX_ENTRIES) throw new FormatError(`${count} entries is too many`);
  if (cdOffset + cdSize > src.size) throw new FormatError('central directory runs past the end of the file');
  // Self-extracting or prefixed archives: offsets are relative to where the archive starts.
  const eocdAt = tailAt + eocd;
  const shift = zip64 ? 0 : Math.max(0, eocdAt - (cdOffset + cdSize));
  const cd = await src.read(cdOffset + shift, cdSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.byteLength || u32(cd, p) !== CENTRAL_SIG) {
      throw new FormatError(`central directory entry ${i} is damaged`);
    }
    const flags = u16(cd, p + 8);
    const method = u16(cd, p + 10);
    const crc32 = u32(cd, p + 16);
    let compressedSize = u32(cd, p + 20);
    let size = u32(cd, p + 24);
    const nameLen = u16(cd, p + 28);
    const extraLen = u16(cd, p + 30);
    const commentLen = u16(cd, p + 32);
    let localOffset = u32(cd, p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.byteLength) throw new FormatError(`central directory entry ${i} runs past the directory`);
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLen);
    const name = Buffer.from(nameBytes).toString(flags & 0x800 ? 'utf8' : 'latin1');
    if (size === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
      // Zip64 extended information: only the fields that overflowed, in this order.
      let x = p + 46 + nameLen;
      const xEnd = x + extraLen;
      let found = false;
      while (x + 4 <= xEnd) {
        const id = u16(cd, x);
        const len = u16(cd, x + 2);
        if (id === 0x0001) {
          let q = x + 4;
          const take = () => {
            if (q + 8 > x + 4 + len) throw new FormatError(`entry "${name}": short Zip64 extra field`);
            const v = u64(cd, q);
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (localOffset === 0xffffffff) localOffset = take();
          found = true;
          break;
        }
        x += 4 + len;
      }
      if (!found) throw new FormatError(`entry "${name}": Zip64 sizes without a Zip64 extra field`);
    }
    entries.push({
      name,
      method,
      flags,
      crc32,
      compressedSize,
      size,
      localOffset: localOffset + shift,
      centralNameExtra: nameLen + extraLen,
      isDirectory: name.endsWith('/'),
    });
    p = end;
  }
  return { entries, zip64 };
}

/** The byte range to fetch for an entry: local header, name, extra and data (with slack). */
export function entryRange(e: ZipEntry, size: number): ByteRange {
  const length = 30 + e.centralNameExtra + e.compressedSize + LOCAL_SLACK;
  return { offset: e.localOffset, length: Math.min(length, size - e.localOffset) };
}

/**
 * The content of an entry, from bytes that start at its local header (what entryRange
 * fetched, or fewer: then `more` reads the rest). Inflated output is capped at maxBytes.
 */
export async function entryContent(
  e: ZipEntry,
  bytes: Uint8Array,
  maxBytes: number,
  more?: (offset: number, length: number) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  if (e.flags & 0x1) throw new FormatError(`entry "${e.name}" is encrypted`);
  if (e.size > maxBytes) throw new FormatError(`entry "${e.name}" is ${e.size} bytes, over ${maxBytes}`);
  if (bytes.byteLength < 30 || u32(bytes, 0) !== LOCAL_SIG) {
    throw new FormatError(`entry "${e.name}": no local file header at ${e.localOffset}`);
  }
  const start = 30 + u16(bytes, 26) + u16(bytes, 28);
  let data: Uint8Array;
  if (start + e.compressedSize <= bytes.byteLength) data = bytes.subarray(start, start + e.compressedSize);
  else if (more) data = await more(e.localOffset + start, e.compressedSize);
  else throw new FormatError(`entry "${e.name}" runs past the end of the archive`);
  let out: Uint8Array;
  if (e.method === 0) {
    if (e.compressedSize !== e.size) throw new FormatError(`stored entry "${e.name}" has two sizes`);
    out = data;
  } else if (e.method === 8) {
    try {
      out = inflateRawSync(data, { maxOutputLength: Math.max(1, e.size) });
    } catch (err) {
      throw new FormatError(`entry "${e.name}": ${(err as Error).message}`);
    }
    if (out.byteLength !== e.size) {
      throw new FormatError(`entry "${e.name}" inflates to ${out.byteLength} bytes, declared ${e.size}`);
    }
  } else throw new FormatError(`entry "${e.name}" uses compression method ${e.method}`);
  if (crc32(out) !== e.crc32) throw new FormatError(`entry "${e.name}" fails its CRC-32 check`);
  return out;
}
