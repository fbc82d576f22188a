/**
 * Just enough ELF to find named sections and map virtual addresses to file offsets, over a
 * ByteSource (so a file is streamed in a few passes, never read whole). 32 and 64 bit, little
 * and big endian. Malformed headers are FormatErrors.
 *
 * Layout facts used to keep passes few: Go's own linker writes the section headers right after
 * the program headers (inside the first 64 KiB); GNU ld writes them at the end, just after
 * .shstrtab. So the first pass reads the first 64 KiB, and when the section headers are
 * elsewhere the second pass also takes the 64 KiB in front of them.
 */

import type { FileResolver } from '../../../fs/merged.ts';
import type { FileRecord } from '../../../fs/types.ts';
import { type ByteRange, type ByteSource, FileByteSource, FormatError } from './byte-source.ts';

export const SHT_NOBITS = 8;
export const PT_LOAD = 1;
export const PF_X = 1;
export const PF_W = 2;
const SHN_XINDEX = 0xffff;
const HEAD_BYTES = 64 * 1024;
const MAX_SECTIONS = 65536;
const MAX_SEGMENTS = 4096;

export interface ElfHeader {
  is64: boolean;
  littleEndian: boolean;
  /** e_type: 2 executable, 3 shared object (PIE executables too). */
  type: number;
  machine: number;
}

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

/** The tables of an ELF file; contents are read through the ByteSource it came from. */
export interface Elf {
  header: ElfHeader;
  sections: ElfSection[];
  segments: ElfSegment[];
}

/** True when the bytes start with "\x7fELF". */
export function hasElfMagic(b: Uint8Array): boolean {
  return b.byteLength >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46;
}

/** A reader of integers with the file's endianness and word size. */
export class ElfReader {
  readonly le: boolean;
  readonly is64: boolean;
  constructor(le: boolean, is64: boolean) {
    this.le = le;
    this.is64 = is64;
  }
  u16(b: Uint8Array, o: number): number {
    return view(b).getUint16(o, this.le);
  }
  u32(b: Uint8Array, o: number): number {
    return view(b).getUint32(o, this.le);
  }
  u64(b: Uint8Array, o: number): number {
    const v = view(b).getBigUint64(o, this.le);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`value ${v} is too large`);
    return Number(v);
  }
  /** A word: 4 or 8 bytes. */
  word(b: Uint8Array, o: number): number {
    return this.is64 ? this.u64(b, o) : this.u32(b, o);
  }
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Parse the ELF header, program headers and section headers (with names). */
export async function openElf(src: ByteSource): Promise<Elf> {
  if (src.size < 52) throw new FormatError(`${src.size} bytes is too small for an ELF file`);
  // One pass when possible: the head, then the tables it points at (and, when the section
  // headers are in the head, the section name table) as the stream goes on.
  await src.prefetchThen([{ offset: 0, length: HEAD_BYTES }], () => tablesPlan(src));
  const ident = await src.read(0, 16);
  if (!hasElfMagic(ident)) throw new FormatError('not an ELF file (no \\x7fELF magic)');
  const cls = ident[4];
  const data = ident[5];
  if (cls !== 1 && cls !== 2) throw new FormatError(`unknown ELF class ${cls}`);
  if (data !== 1 && data !== 2) throw new FormatError(`unknown ELF data encoding ${data}`);
  const is64 = cls === 2;
  const r = new ElfReader(data === 1, is64);
  const h = await src.read(0, is64 ? 64 : 52);
  const header: ElfHeader = { is64, littleEndian: r.le, type: r.u16(h, 16), machine: r.u16(h, 18) };
  const phoff = r.word(h, is64 ? 32 : 28);
  const shoff = r.word(h, is64 ? 40 : 32);
  const phentsize = r.u16(h, is64 ? 54 : 42);
  let phnum = r.u16(h, is64 ? 56 : 44);
  const shentsize = r.u16(h, is64 ? 58 : 46);
  let shnum = r.u16(h, is64 ? 60 : 48);
  let shstrndx = r.u16(h, is64 ? 62 : 50);
  const minSh = is64 ? 64 : 40;
  const minPh = is64 ? 56 : 32;

  // Extended numbering: counts that do not fit 16 bits live in section 0.
  if (shoff !== 0 && (shnum === 0 || shstrndx === SHN_XINDEX)) {
    if (shentsize < minSh) throw new FormatError(`section header size ${shentsize} is too small`);
    const s0 = await src.read(shoff, shentsize);
    if (shnum === 0) shnum = r.word(s0, is64 ? 32 : 20);
    if (shstrndx === SHN_XINDEX) shstrndx = r.u32(s0, is64 ? 40 : 24);
  }
  if (phnum === 0xffff) phnum = 0; // PN_XNUM: not needed here
  if (shnum > MAX_SECTIONS) throw new FormatError(`${shnum} sections is too many`);
  if (phnum > MAX_SEGMENTS) throw new FormatError(`${phnum} program headers is too many`);
  if (shnum > 0 && shentsize < minSh) throw new FormatError(`section header size ${shentsize} is too small`);
  if (phnum > 0 && phentsize < minPh) throw new FormatError(`program header size ${phentsize} is too small`);

  const shBytes = shnum * shentsize;
  const phBytes = phnum * phentsize;
  await src.prefetch([
    { offset: phoff, length: phBytes },
    { offset: Math.max(0, shoff - HEAD_BYTES), length: Math.min(shoff, HEAD_BYTES) + shBytes },
  ]);

  const segments: ElfSegment[] = [];
  if (phnum > 0) {
    const ph = await src.read(phoff, phBytes);
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      segments.push(
        is64
          ? {
              type: r.u32(ph, o),
              flags: r.u32(ph, o + 4),
              offset: r.u64(ph, o + 8),
              vaddr: r.u64(ph, o + 16),
              filesz: r.u64(ph, o + 32),
              memsz: r.u64(ph, o + 40),
            }
          : {
              type: r.u32(ph, o),
              offset: r.u32(ph, o + 4),
              vaddr: r.u32(ph, o + 8),
              filesz: r.u32(ph, o + 16),
              memsz: r.u32(ph, o + 20),
              flags: r.u32(ph, o + 24),
            },
      );
    }
  }

  const raw: (ElfSection & { nameOff: number })[] = [];
  if (shnum > 0) {
    const sh = await src.read(shoff, shBytes);
    for (let i = 0; i < shnum; i++) {
      const o = i * shentsize;
      raw.push(
        is64
          ? {
              name: '',
              nameOff: r.u32(sh, o),
              type: r.u32(sh, o + 4),
              flags: r.u64(sh, o + 8),
              addr: r.u64(sh, o + 16),
              offset: r.u64(sh, o + 24),
              size: r.u64(sh, o + 32),
            }
          : {
              name: '',
              nameOff: r.u32(sh, o),
              type: r.u32(sh, o + 4),
              flags: r.u32(sh, o + 8),
              addr: r.u32(sh, o + 12),
              offset: r.u32(sh, o + 16),
              size: r.u32(sh, o + 20),
            },
      );
    }
  }
  if (raw.length > 0 && shstrndx !== 0) {
    const strtab = raw[shstrndx];
    if (!strtab) throw new FormatError(`section name table index ${shstrndx} is out of range`);
    if (strtab.type === SHT_NOBITS) throw new FormatError('section name table has no bytes');
    const names = await src.read(strtab.offset, Math.min(strtab.size, 1024 ** 2));
    for (const s of raw) s.name = cString(names, s.nameOff);
  }
  const sections = raw.map(({ nameOff: _n, ...s }) => s);
  return { header, sections, segments };
}

/** The ranges holding the program and section headers (and names), from the loaded head. */
function tablesPlan(src: ByteSource): ByteRange[] {
  const id = src.peek(0, 16);
  if (!id || !hasElfMagic(id) || (id[4] !== 1 && id[4] !== 2) || (id[5] !== 1 && id[5] !== 2)) return [];
  const is64 = id[4] === 2;
  const r = new ElfReader(id[5] === 1, is64);
  const h = src.peek(0, is64 ? 64 : 52);
  if (!h) return [];
  try {
    const phoff = r.word(h, is64 ? 32 : 28);
    const shoff = r.word(h, is64 ? 40 : 32);
    const shentsize = r.u16(h, is64 ? 58 : 46);
    const shnum = r.u16(h, is64 ? 60 : 48);
    const shstrndx = r.u16(h, is64 ? 62 : 50);
    const plan: ByteRange[] = [
      { offset: phoff, length: r.u16(h, is64 ? 54 : 42) * r.u16(h, is64 ? 56 : 44) },
      { offset: Math.max(0, shoff - HEAD_BYTES), length: Math.min(shoff, HEAD_BYTES) + shnum * shentsize },
    ];
    const str = shoff > 0 && shstrndx < shnum ? src.peek(shoff + shstrndx * shentsize, shentsize) : undefined;
    if (str && shentsize >= (is64 ? 64 : 40)) {
      const offset = r.word(str, is64 ? 24 : 16);
      const size = r.word(str, is64 ? 32 : 20);
      plan.push({ offset, length: Math.min(size, 1024 ** 2) });
    }
    return plan;
  } catch {
    return []; // openElf reports what is wrong
  }
}

function cString(b: Uint8Array, off: number): string {
  if (off >= b.byteLength) return '';
  let end = off;
  while (end < b.byteLength && b[end] !== 0) end++;
  return Buffer.from(b.subarray(off, end)).toString('latin1');
}

export function findSection(elf: Elf, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/** A section's bytes (at most maxBytes); empty for SHT_NOBITS. */
export async function readSection(src: ByteSource, s: ElfSection, maxBytes: number): Promise<Uint8Array> {
  if (s.type === SHT_NOBITS) return new Uint8Array(0);
  if (s.size > maxBytes) throw new FormatError(`section ${s.name} is ${s.size} bytes, over ${maxBytes}`);
  return src.read(s.offset, s.size);
}

/** Bytes at a virtual address, through the PT_LOAD segment that maps it. */
export async function readVirtual(
  src: ByteSource,
  elf: Elf,
  addr: number,
  length: number,
): Promise<Uint8Array> {
  for (const p of elf.segments) {
    if (p.type !== PT_LOAD) continue;
    if (addr >= p.vaddr && addr + length <= p.vaddr + p.filesz) {
      return src.read(p.offset + (addr - p.vaddr), length);
    }
  }
  throw new FormatError(`address 0x${addr.toString(16)}+${length} is not in any loaded segment`);
}

/**
 * The tables of one executable, shared by the catalogers that look into binaries (Go build
 * info, Rust audit data): parsed once per resolver and file content, so a C binary is streamed
 * once to learn it has neither section, not once per cataloger. Only the small tables are
 * kept, never file contents.
 */
const shared = new WeakMap<FileResolver, Map<string, Promise<Elf | FormatError | undefined>>>();

/**
 * The tables of `rec` when it is an ELF file: undefined when it is not (cheap: one small
 * read); a FormatError (returned, not thrown) when it claims to be ELF but is malformed.
 * Read contents with a new FileByteSource over the same record.
 */
export function elfTables(files: FileResolver, rec: FileRecord): Promise<Elf | FormatError | undefined> {
  let perResolver = shared.get(files);
  if (!perResolver) {
    perResolver = new Map();
    shared.set(files, perResolver);
  }
  const key = `${rec.path}\0${rec.digest ?? rec.layerDigest}`;
  let p = perResolver.get(key);
  if (!p) {
    p = (async () => {
      const src = new FileByteSource(files, rec.path, rec.size);
      try {
        if (rec.size < 4) return undefined;
        // The magic from the first bytes; only ELF files are read further (in the same pass).
        let notElf = false;
        await src.prefetchThen([{ offset: 0, length: Math.min(rec.size, HEAD_BYTES) }], () => {
          const m = src.peek(0, 4);
          notElf = !m || !hasElfMagic(m);
          return notElf ? [] : tablesPlan(src);
        });
        if (notElf) return undefined;
        return await openElf(src);
      } catch (e) {
        if (e instanceof FormatError) return e;
        throw e;
      }
    })();
    perResolver.set(key, p);
  }
  return p;
}
