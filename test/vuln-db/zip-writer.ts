/**
 * Test and bench support: write zip archives like OSV's all.zip (deflated members, optionally
 * stored ones, optionally ZIP64 records even when small, so the reader's ZIP64 path is tested
 * without writing 65,536 members). Streams members to the file; keeps only the directory in memory.
 */
import { open } from 'node:fs/promises';
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntryInput {
  name: string;
  data: Uint8Array;
}

export interface ZipWriteOptions {
  /** 'deflate' (default) or 'store' */
  method?: 'deflate' | 'store';
  /** Write ZIP64 end records and extra fields with saturated 32-bit fields. */
  zip64?: boolean;
  /** Deflate level (default 6, as Python's zipfile and Go's archive/zip) */
  level?: number;
}

const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

/** Write `entries` to `path` as a zip; returns the number of bytes written. */
export async function writeZip(
  path: string,
  entries: Iterable<ZipEntryInput> | AsyncIterable<ZipEntryInput>,
  o: ZipWriteOptions = {},
): Promise<number> {
  const fh = await open(path, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  let count = 0;
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  const write = async (b: Buffer) => {
    pending.push(b);
    pendingBytes += b.length;
    offset += b.length;
    if (pendingBytes > 1 << 20) await flush();
  };
  const flush = async () => {
    if (pending.length) await fh.writev(pending.splice(0));
    pendingBytes = 0;
  };
  try {
    for await (const e of entries) {
      const name = Buffer.from(e.name, 'utf8');
      const stored = o.method === 'store';
      const body = stored ? Buffer.from(e.data) : deflateRawSync(e.data, { level: o.level ?? 6 });
      const crc = crc32(e.data);
      const method = stored ? 0 : 8;
      const local = Buffer.concat([
        u32(0x04034b50),
        u16(20),
        u16(0x800),
        u16(method),
        u16(0),
        u16(0x21),
        u32(crc),
        u32(body.length),
        u32(e.data.length),
        u16(name.length),
        u16(0),
        name,
      ]);
      const at = offset;
      await write(local);
      await write(body);
      const extra = o.zip64
        ? Buffer.concat([u16(1), u16(24), u64(e.data.length), u64(body.length), u64(at)])
        : Buffer.alloc(0);
      const sat = (n: number) => (o.zip64 ? 0xffffffff : n);
      central.push(
        Buffer.concat([
          u32(0x02014b50),
          u16(0x031e),
          u16(o.zip64 ? 45 : 20),
          u16(0x800),
          u16(method),
          u16(0),
          u16(0x21),
          u32(crc),
          u32(sat(body.length)),
          u32(sat(e.data.length)),
          u16(name.length),
          u16(extra.length),
          u16(0),
          u16(0),
          u16(0),
          u32(0o100644 << 16),
          u32(sat(at)),
          name,
          extra,
        ]),
      );
      count++;
    }
    const cdStart = offset;
    for (const c of central) await write(c);
    const cdSize = offset - cdStart;
    // ZIP64 end records also when the 16-bit member count overflows (as zipfile and archive/zip do).
    const z64 = o.zip64 || count > 0xfffe;
    if (z64) {
      const z64At = offset;
      await write(
        Buffer.concat([
          u32(0x06064b50),
          u64(44),
          u16(45),
          u16(45),
          u32(0),
          u32(0),
          u64(count),
          u64(count),
          u64(cdSize),
          u64(cdStart),
        ]),
      );
      await write(Buffer.concat([u32(0x07064b50), u32(0), u64(z64At), u32(1)]));
    }
    const sat16 = (n: number) => (z64 ? 0xffff : n);
    const sat32 = (n: number) => (z64 ? 0xffffffff : n);
    await write(
      Buffer.concat([
        u32(0x06054b50),
        u16(0),
        u16(0),
        u16(sat16(count)),
        u16(sat16(count)),
        u32(sat32(cdSize)),
        u32(sat32(cdStart)),
        u16(0),
      ]),
    );
    await flush();
    return offset;
  } finally {
    await fh.close();
  }
}
