/**
 * A zip reader for OSV's all.zip exports (APPNOTE 6.3.10): the central directory is read from
 * the end of the file (ZIP64 included: PyPI, npm and Debian have more than 65,535 members), then
 * members are read by byte range, inflated with node:zlib and checked against their CRC-32 and
 * size. Only what a well-formed archive needs: stored and deflated members, one disk, no
 * encryption. Anything else, and any inconsistency, is DB_INVALID naming the file: a damaged
 * download must never import half its records.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';
import { VouchError } from '../../errors.ts';

export interface ZipMember {
  name: string;
  /** Offset of the local file header */
  offset: number;
  compressedSize: number;
  size: number;
  /** 0 stored, 8 deflate */
  method: number;
  crc: number;
}

export interface ZipDirectory {
  path: string;
  /** How messages name the archive (a download's URL rather than its temp file) */
  label: string;
  fileSize: number;
  /** Where the central directory starts: member data ends before it. */
  cdOffset: number;
  /** Sorted by offset; directories left out. */
  members: ZipMember[];
}

/** A contiguous slice of the archive and the members inside it: one unit of decode work. */
export interface ZipTask {
  path: string;
  label: string;
  start: number;
  end: number;
  members: ZipMember[];
}

/** A member's bytes; `deflated` is the raw deflate stream when the member was compressed. */
export interface ZipMemberData {
  name: string;
  data: Uint8Array;
  deflated: Uint8Array | undefined;
}

/** Records larger than this are reported as problems, not inflated (no OSV record comes close). */
export const MAX_MEMBER_BYTES = 64 << 20;

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const U16 = 0xffff;
const U32 = 0xffffffff;

export function zipError(path: string, what: string): VouchError {
  return new VouchError('DB_INVALID', `${path}: ${what}`, {
    hint: 'the file is not an intact zip archive; download it again (vouch db update) or check its source',
  });
}

function u64(b: Buffer, at: number, path: string): number {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw zipError(path, 'a ZIP64 size or offset is too large');
  return Number(v);
}

async function readAt(fh: import('node:fs/promises').FileHandle, pos: number, len: number): Promise<Buffer> {
  const b = Buffer.alloc(len);
  let done = 0;
  while (done < len) {
    const { bytesRead } = await fh.read(b, done, len - done, pos + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === len ? b : b.subarray(0, done);
}

/** Read and check the central directory of the zip at `file`; errors name it `path` (default: the file). */
export async function readZipDirectory(file: string, path = file): Promise<ZipDirectory> {
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new VouchError(
      e.code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_ERROR',
      `cannot open ${path} (${e.code})`,
      {
        cause: e,
      },
    );
  });
  try {
    const fileSize = (await fh.stat()).size;
    if (fileSize < 22) throw zipError(path, `not a zip file (${fileSize} bytes, too short)`);
    // The end record is 22 bytes plus a comment of up to 65,535 bytes.
    const tailLen = Math.min(fileSize, 22 + U16);
    const tail = await readAt(fh, fileSize - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) === tail.length) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw zipError(path, 'not a zip file, or truncated (no end of central directory record)');
    const eocdPos = fileSize - tailLen + eocd;
    let disk = tail.readUInt16LE(eocd + 4);
    let cdDisk = tail.readUInt16LE(eocd + 6);
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    let cdEnd = eocdPos;
    if (count === U16 || cdSize === U32 || cdOffset === U32 || disk === U16 || cdDisk === U16) {
      if (eocd < 20 || tail.readUInt32LE(eocd - 20) !== ZIP64_LOCATOR) {
        throw zipError(path, 'ZIP64 end of central directory locator missing');
      }
      const z64Pos = u64(tail, eocd - 20 + 8, path);
      if (z64Pos + 56 > eocdPos - 20)
        throw zipError(path, 'ZIP64 end of central directory record out of bounds');
      const z = await readAt(fh, z64Pos, 56);
      if (z.length < 56 || z.readUInt32LE(0) !== ZIP64_EOCD) {
        throw zipError(path, 'ZIP64 end of central directory record missing');
      }
      disk = z.readUInt32LE(16);
      cdDisk = z.readUInt32LE(20);
      count = u64(z, 32, path);
      cdSize = u64(z, 40, path);
      cdOffset = u64(z, 48, path);
      cdEnd = z64Pos;
    }
    if (disk !== 0 || cdDisk !== 0) throw zipError(path, 'multi-disk (split) archives are not supported');
    if (cdOffset + cdSize > cdEnd) throw zipError(path, 'central directory out of bounds (truncated?)');
    if (cdSize < count * 46) throw zipError(path, `central directory too small for ${count} entries`);
    const cd = await readAt(fh, cdOffset, cdSize);
    return { path: file, label: path, fileSize, cdOffset, members: parseCentral(path, cd, count, cdOffset) };
  } finally {
    await fh.close();
  }
}

function parseCentral(path: string, cd: Buffer, count: number, cdOffset: number): ZipMember[] {
  const members: ZipMember[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) {
      throw zipError(path, `central directory entry ${n + 1} of ${count} is damaged`);
    }
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let diskStart = cd.readUInt16LE(p + 34);
    let offset = cd.readUInt32LE(p + 42);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cd.length) throw zipError(path, `central directory entry ${n + 1} of ${count} overruns`);
    const rawName = cd.subarray(p + 46, p + 46 + nameLen);
    // Bit 11: UTF-8 names; otherwise CP437, which is ASCII for every name OSV writes.
    const name = rawName.toString(flags & 0x800 ? 'utf8' : 'latin1');
    // ZIP64 extended information: only the fields saturated in the fixed part, in this order.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const take = (): number => {
          if (q + 8 > e + 4 + len) throw zipError(path, `${name}: ZIP64 extra field too short`);
          const v = u64(cd, q, path);
          q += 8;
          return v;
        };
        if (size === U32) size = take();
        if (compressedSize === U32) compressedSize = take();
        if (offset === U32) offset = take();
        if (diskStart === U16) {
          if (q + 4 > e + 4 + len) throw zipError(path, `${name}: ZIP64 extra field too short`);
          diskStart = cd.readUInt32LE(q);
        }
      }
      e += 4 + len;
    }
    p = next;
    if (name.endsWith('/')) continue;
    if (flags & 0x1) throw zipError(path, `${name}: encrypted members are not supported`);
    if (method !== 0 && method !== 8) {
      throw zipError(
        path,
        `${name}: compression method ${method} is not supported (only stored and deflate)`,
      );
    }
    if (method === 0 && compressedSize !== size)
      throw zipError(path, `${name}: stored member with two sizes`);
    if (diskStart !== 0) throw zipError(path, 'multi-disk (split) archives are not supported');
    members.push({ name, offset, compressedSize, size, method, crc });
  }
  members.sort((a, b) => a.offset - b.offset);
  // Members must not overlap or reach into the central directory (overlap is how zip bombs work).
  for (const [i, m] of members.entries()) {
    const limit = members[i + 1]?.offset ?? cdOffset;
    if (m.offset + 30 + m.compressedSize > limit) {
      throw zipError(path, `${m.name}: member overlaps the next one or the central directory`);
    }
  }
  return members;
}

/** Split the members into contiguous slices of at most `maxMembers` members and about `maxBytes` bytes. */
export function planZipTasks(dir: ZipDirectory, maxMembers = 256, maxBytes = 4 << 20): ZipTask[] {
  const tasks: ZipTask[] = [];
  let cur: ZipMember[] = [];
  const flush = (end: number) => {
    if (cur.length === 0) return;
    tasks.push({ path: dir.path, label: dir.label, start: cur[0]!.offset, end, members: cur });
    cur = [];
  };
  for (const [i, m] of dir.members.entries()) {
    cur.push(m);
    const end = dir.members[i + 1]?.offset ?? dir.cdOffset;
    if (cur.length >= maxMembers || end - cur[0]!.offset >= maxBytes) flush(end);
  }
  flush(dir.cdOffset);
  return tasks;
}

/**
 * Read one task's slice and yield its members, inflated and checked; a member too large to
 * be a record yields a problem string. Synchronous: it runs inside decode workers.
 */
export function* readZipTask(task: ZipTask): Generator<ZipMemberData | { name: string; problem: string }> {
  const path = task.label;
  const buf = Buffer.allocUnsafe(task.end - task.start);
  const fd = openSync(task.path, 'r');
  try {
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, task.start + done);
      if (n === 0) throw zipError(path, 'file ends before its members do (truncated?)');
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  for (const [i, m] of task.members.entries()) {
    const at = m.offset - task.start;
    const limit = (task.members[i + 1]?.offset ?? task.end) - task.start;
    if (buf.readUInt32LE(at) !== LOCAL)
      throw zipError(path, `${m.name}: local header missing at offset ${m.offset}`);
    const dataAt = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
    if (dataAt + m.compressedSize > limit) throw zipError(path, `${m.name}: member data overruns`);
    if (m.size > MAX_MEMBER_BYTES) {
      yield {
        name: m.name,
        problem: `${m.size} bytes uncompressed, over the ${MAX_MEMBER_BYTES}-byte limit`,
      };
      continue;
    }
    const raw = buf.subarray(dataAt, dataAt + m.compressedSize);
    let data: Uint8Array;
    if (m.method === 0) data = raw;
    else {
      try {
        // One byte of slack: an over-long stream then fails the size check instead of throwing.
        data = inflateRawSync(raw, { maxOutputLength: m.size + 1 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
          throw zipError(path, `${m.name}: inflates to more bytes than the directory says (${m.size})`);
        }
        throw zipError(path, `${m.name}: deflate data is corrupt (${(e as Error).message})`);
      }
    }
    if (data.length !== m.size)
      throw zipError(path, `${m.name}: ${data.length} bytes, the directory says ${m.size}`);
    if (crc32(data) !== m.crc) throw zipError(path, `${m.name}: CRC-32 mismatch (corrupt data)`);
    yield { name: m.name, data, deflated: m.method === 8 ? raw : undefined };
  }
}
