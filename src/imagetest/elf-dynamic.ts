/**
 * What the dynamic loader needs to run an ELF file: its interpreter (PT_INTERP), the libraries
 * it names (DT_NEEDED) and where it says to look (DT_RPATH, DT_RUNPATH). Read through the ELF
 * tables parser the Go and Rust catalogers share, over a FileResolver, never a whole file in
 * memory: the program headers, then the dynamic segment and its string table.
 */
import type { FileResolver } from '../fs/merged.ts';
import { FileByteSource, FormatError } from '../sbom/catalogers/golang/byte-source.ts';
import { findSection, openElf, readVirtual, SHT_NOBITS } from '../sbom/catalogers/golang/elf.ts';

export const ET_EXEC = 2;
export const ET_DYN = 3;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const DT_FLAGS_1 = 0x6ffffffb;
const DF_1_NODEFLIB = 0x800;
/** Larger dynamic segments or string tables than this are not real programs. */
const MAX_DYNAMIC_BYTES = 4 * 1024 ** 2;

export interface ElfDynamic {
  is64: boolean;
  littleEndian: boolean;
  /** e_machine (62 x86-64, 183 aarch64, 3 i386, 40 arm, ...). */
  machine: number;
  /** e_type: ET_EXEC or ET_DYN. */
  type: number;
  /** PT_INTERP: the dynamic loader the kernel starts (executables). */
  interpreter?: string;
  /** DT_NEEDED, in order. */
  needed: string[];
  rpath: string[];
  runpath: string[];
  soname?: string;
  /** DF_1_NODEFLIB: the default directories are not searched. */
  noDefaultLib: boolean;
}

/**
 * The dynamic information of the regular file at `path`: undefined when it is not an ELF
 * executable or shared object, or is statically linked (no PT_DYNAMIC); a FormatError (returned)
 * when it claims to be ELF but its tables are broken.
 */
export async function readElfDynamic(
  files: FileResolver,
  path: string,
  size: number,
): Promise<ElfDynamic | FormatError | undefined> {
  if (size < 52) return undefined;
  const src = new FileByteSource(files, path, size);
  try {
    const head = await src.read(0, 20);
    if (head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return undefined;
    const elf = await openElf(src);
    const { header } = elf;
    if (header.type !== ET_EXEC && header.type !== ET_DYN) return undefined;
    const dyn = elf.segments.find((s) => s.type === PT_DYNAMIC);
    if (!dyn) return undefined;
    const interp = elf.segments.find((s) => s.type === PT_INTERP);
    if (dyn.filesz > MAX_DYNAMIC_BYTES || (interp && interp.filesz > 4096)) {
      throw new FormatError('program headers are implausibly large');
    }
    await src.prefetch([
      { offset: dyn.offset, length: dyn.filesz },
      ...(interp ? [{ offset: interp.offset, length: interp.filesz }] : []),
    ]);
    const entries = await src.read(dyn.offset, dyn.filesz);
    const step = header.is64 ? 16 : 8;
    const word = wordReader(entries, header.littleEndian, header.is64);
    const tags: { tag: number; value: number }[] = [];
    for (let o = 0; o + step <= entries.byteLength; o += step) {
      const tag = word(o);
      if (tag === DT_NULL) break;
      tags.push({ tag, value: word(o + step / 2) });
    }
    const strtab = await stringTable(src, elf, tags);
    const str = (off: number) => cString(strtab, off);
    const values = (t: number) => tags.filter((x) => x.tag === t).map((x) => str(x.value));
    const out: ElfDynamic = {
      is64: header.is64,
      littleEndian: header.littleEndian,
      machine: header.machine,
      type: header.type,
      needed: values(DT_NEEDED),
      rpath: values(DT_RPATH).flatMap(splitPath),
      runpath: values(DT_RUNPATH).flatMap(splitPath),
      noDefaultLib: tags.some((t) => t.tag === DT_FLAGS_1 && (t.value & DF_1_NODEFLIB) !== 0),
    };
    const soname = values(DT_SONAME)[0];
    if (soname !== undefined) out.soname = soname;
    if (interp) out.interpreter = cString(await src.read(interp.offset, interp.filesz), 0);
    return out;
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw e;
  }
}

/** DT_STRTAB (a virtual address) through the loaded segments, else the .dynstr section. */
async function stringTable(
  src: FileByteSource,
  elf: Awaited<ReturnType<typeof openElf>>,
  tags: readonly { tag: number; value: number }[],
): Promise<Uint8Array> {
  const addr = tags.find((t) => t.tag === DT_STRTAB)?.value;
  const size = tags.find((t) => t.tag === DT_STRSZ)?.value;
  const needsStrings = tags.some((t) => [DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH].includes(t.tag));
  if (!needsStrings) return new Uint8Array(0);
  if (size !== undefined && size > MAX_DYNAMIC_BYTES) throw new FormatError(`DT_STRSZ ${size} is too large`);
  if (addr !== undefined && size !== undefined) {
    try {
      return await readVirtual(src, elf, addr, size);
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
    }
  }
  const dynstr = findSection(elf, '.dynstr');
  if (!dynstr || dynstr.type === SHT_NOBITS) throw new FormatError('no readable dynamic string table');
  if (dynstr.size > MAX_DYNAMIC_BYTES) throw new FormatError(`.dynstr is ${dynstr.size} bytes`);
  return src.read(dynstr.offset, dynstr.size);
}

/** Dynamic entries hold any 64-bit value (addresses, checksums): ones past 2^53 read as -1. */
function wordReader(b: Uint8Array, le: boolean, is64: boolean): (o: number) => number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (!is64) return (o) => v.getUint32(o, le);
  return (o) => {
    const x = v.getBigUint64(o, le);
    return x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : -1;
  };
}

function cString(b: Uint8Array, off: number): string {
  if (off >= b.byteLength) throw new FormatError(`string offset ${off} is outside the string table`);
  let end = off;
  while (end < b.byteLength && b[end] !== 0) end++;
  return Buffer.from(b.subarray(off, end)).toString('utf8');
}

/** RPATH/RUNPATH lists: ':'-separated; an empty entry means the current directory (kept as '.'). */
function splitPath(s: string): string[] {
  return s === '' ? [] : s.split(':').map((d) => (d === '' ? '.' : d));
}
