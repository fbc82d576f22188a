/**
 * rpm package headers as the rpm database stores them (rpm's lib/header.c "header blob"):
 *
 *   il: u32 BE  number of index entries
 *   dl: u32 BE  bytes of the data store
 *   il × { tag: i32, type: u32, offset: i32, count: u32 }   (all big-endian)
 *   dl bytes of data
 *
 * No magic (that belongs to package files). Every entry is checked against the data store
 * before it is read: a corrupt blob is an error naming what is wrong, never an out-of-bounds
 * read.
 */

export const RPM_TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  FILEMODES: 1030,
  SOURCERPM: 1044,
  PROVIDENAME: 1047,
  REQUIRENAME: 1049,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
} as const;

/** Header data types (rpm's rpmTagType). */
export const RPM_TYPE = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

const HEADER_TAGS_MAX = 0xffff;
const HEADER_DATA_MAX = 0x0fffffff;

export type TagValue =
  | { kind: 'string'; value: string[] }
  | { kind: 'int'; value: number[] }
  | { kind: 'bin'; value: Uint8Array };

export class RpmHeader {
  readonly #tags: Map<number, TagValue>;
  constructor(tags: Map<number, TagValue>) {
    this.#tags = tags;
  }
  has(tag: number): boolean {
    return this.#tags.has(tag);
  }
  /** First string of a STRING, STRING_ARRAY or I18NSTRING tag. */
  string(tag: number): string | undefined {
    const v = this.#tags.get(tag);
    return v?.kind === 'string' ? v.value[0] : undefined;
  }
  strings(tag: number): string[] {
    const v = this.#tags.get(tag);
    return v?.kind === 'string' ? v.value : [];
  }
  int(tag: number): number | undefined {
    const v = this.#tags.get(tag);
    return v?.kind === 'int' ? v.value[0] : undefined;
  }
  ints(tag: number): number[] {
    const v = this.#tags.get(tag);
    return v?.kind === 'int' ? v.value : [];
  }
}

/** Parse one header blob; throws an Error whose message says what is corrupt. */
export function parseHeader(blob: Uint8Array): RpmHeader {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < 8)
    throw new Error(`header blob of ${buf.length} bytes is shorter than its 8-byte preamble`);
  const il = buf.readUInt32BE(0);
  const dl = buf.readUInt32BE(4);
  if (il < 1 || il > HEADER_TAGS_MAX) throw new Error(`header claims ${il} index entries`);
  if (dl > HEADER_DATA_MAX) throw new Error(`header claims ${dl} bytes of data`);
  const dataStart = 8 + il * 16;
  if (dataStart + dl !== buf.length) {
    throw new Error(
      `header of ${il} entries and ${dl} data bytes needs ${dataStart + dl} bytes, the blob has ${buf.length}`,
    );
  }
  const data = buf.subarray(dataStart);
  const tags = new Map<number, TagValue>();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * 16;
    const tag = buf.readInt32BE(at);
    const type = buf.readUInt32BE(at + 4);
    const offset = buf.readInt32BE(at + 8);
    const count = buf.readUInt32BE(at + 12);
    const where = `entry ${i} (tag ${tag})`;
    if (offset < 0 || offset > dl)
      throw new Error(`${where}: offset ${offset} is outside the ${dl}-byte data store`);
    if (count === 0 && type !== RPM_TYPE.NULL) throw new Error(`${where}: zero count`);
    switch (type) {
      case RPM_TYPE.NULL:
        break;
      case RPM_TYPE.CHAR:
      case RPM_TYPE.INT8:
      case RPM_TYPE.BIN:
        need(where, offset, count, dl);
        if (type === RPM_TYPE.BIN)
          tags.set(tag, { kind: 'bin', value: data.subarray(offset, offset + count) });
        else tags.set(tag, { kind: 'int', value: [...data.subarray(offset, offset + count)] });
        break;
      case RPM_TYPE.INT16:
      case RPM_TYPE.INT32:
      case RPM_TYPE.INT64: {
        const size = type === RPM_TYPE.INT16 ? 2 : type === RPM_TYPE.INT32 ? 4 : 8;
        if (offset % size !== 0)
          throw new Error(`${where}: ${size}-byte integers at unaligned offset ${offset}`);
        need(where, offset, count * size, dl);
        const value: number[] = [];
        for (let j = 0; j < count; j++) {
          const o = offset + j * size;
          value.push(
            size === 2
              ? data.readUInt16BE(o)
              : size === 4
                ? data.readUInt32BE(o)
                : Number(data.readBigUInt64BE(o)),
          );
        }
        tags.set(tag, { kind: 'int', value });
        break;
      }
      case RPM_TYPE.STRING:
      case RPM_TYPE.STRING_ARRAY:
      case RPM_TYPE.I18NSTRING: {
        if (type === RPM_TYPE.STRING && count !== 1)
          throw new Error(`${where}: a STRING with count ${count}`);
        const value: string[] = [];
        let o = offset;
        for (let j = 0; j < count; j++) {
          const end = data.indexOf(0, o);
          if (end < 0) throw new Error(`${where}: string ${j} has no terminating NUL in the data store`);
          value.push(data.toString('utf8', o, end));
          o = end + 1;
        }
        tags.set(tag, { kind: 'string', value });
        break;
      }
      default:
        throw new Error(`${where}: unknown data type ${type}`);
    }
  }
  return new RpmHeader(tags);
}

function need(where: string, offset: number, bytes: number, dl: number): void {
  if (offset + bytes > dl)
    throw new Error(`${where}: ${bytes} bytes at offset ${offset} run past the ${dl}-byte data store`);
}

/** Absolute paths of the header's files: DIRNAMES[DIRINDEXES[i]] + BASENAMES[i], or OLDFILENAMES. */
export function headerFiles(h: RpmHeader): { paths: string[]; modes: number[] } {
  const modes = h.ints(RPM_TAG.FILEMODES);
  const base = h.strings(RPM_TAG.BASENAMES);
  if (base.length === 0) return { paths: h.strings(RPM_TAG.OLDFILENAMES), modes };
  const dirs = h.strings(RPM_TAG.DIRNAMES);
  const idx = h.ints(RPM_TAG.DIRINDEXES);
  if (idx.length !== base.length) {
    throw new Error(`${base.length} BASENAMES but ${idx.length} DIRINDEXES`);
  }
  const paths = base.map((b, i) => {
    const d = dirs[idx[i]!];
    if (d === undefined) throw new Error(`DIRINDEXES[${i}] = ${idx[i]} is past the ${dirs.length} DIRNAMES`);
    return d + b;
  });
  return { paths, modes };
}
