/**
 * Minimal ELF files written byte by byte from the ELF spec (System V gABI), independent of
 * vouch's reader: header, program headers (PT_LOAD over the whole file, PT_INTERP, PT_DYNAMIC),
 * the interpreter string, a dynamic string table and the dynamic entries. No sections. Enough
 * for a loader's view of a program: what it needs and where it looks.
 */

export interface ElfSpec {
  is64?: boolean;
  littleEndian?: boolean;
  /** e_machine; default 62 (x86-64). */
  machine?: number;
  /** e_type; default 3 (ET_DYN). */
  type?: number;
  interpreter?: string;
  needed?: string[];
  rpath?: string;
  runpath?: string;
  soname?: string;
  /** Without PT_DYNAMIC: a static program. */
  static?: boolean;
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const BASE = 0x400000;

export function buildElf(s: ElfSpec = {}): Buffer {
  const is64 = s.is64 ?? true;
  const le = s.littleEndian ?? true;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const word = is64 ? 8 : 4;

  // String table: offset 0 is the empty string.
  const strs: string[] = [''];
  const strOff = new Map<string, number>();
  let strLen = 1;
  const str = (x: string) => {
    if (!strOff.has(x)) {
      strOff.set(x, strLen);
      strs.push(x);
      strLen += Buffer.byteLength(x) + 1;
    }
    return strOff.get(x)!;
  };
  const dyn: [number, number][] = [];
  for (const n of s.needed ?? []) dyn.push([1, str(n)]);
  if (s.soname !== undefined) dyn.push([14, str(s.soname)]);
  if (s.rpath !== undefined) dyn.push([15, str(s.rpath)]);
  if (s.runpath !== undefined) dyn.push([29, str(s.runpath)]);
  const strtab = Buffer.concat(strs.map((x) => Buffer.from(`${x}\0`)));

  const phnum = 1 + (s.interpreter !== undefined ? 1 : 0) + (s.static ? 0 : 1);
  const interpOff = ehsize + phnum * phentsize;
  const interp = s.interpreter !== undefined ? Buffer.from(`${s.interpreter}\0`) : Buffer.alloc(0);
  const strtabOff = interpOff + interp.length;
  const dynOff = align(strtabOff + strtab.length, 8);
  // DT_STRTAB, DT_STRSZ, the entries above, DT_NULL.
  const entries: [number, number][] = [[5, BASE + strtabOff], [10, strtab.length], ...dyn, [0, 0]];
  const dynSize = s.static ? 0 : entries.length * 2 * word;
  const size = dynOff + dynSize;
  const b = Buffer.alloc(size);

  const u16 = (o: number, v: number) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o));
  const u32 = (o: number, v: number) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  const w = (o: number, v: number) =>
    is64 ? (le ? b.writeBigUInt64LE(BigInt(v), o) : b.writeBigUInt64BE(BigInt(v), o)) : u32(o, v);

  b.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1], 0);
  u16(16, s.type ?? 3);
  u16(18, s.machine ?? 62);
  u32(20, 1);
  w(24, BASE);
  w(is64 ? 32 : 28, ehsize); // e_phoff
  w(is64 ? 40 : 32, 0); // e_shoff
  u16(is64 ? 52 : 40, ehsize);
  u16(is64 ? 54 : 42, phentsize);
  u16(is64 ? 56 : 44, phnum);
  u16(is64 ? 58 : 46, is64 ? 64 : 40);

  let ph = ehsize;
  const phdr = (type: number, flags: number, offset: number, filesz: number) => {
    if (is64) {
      u32(ph, type);
      u32(ph + 4, flags);
      w(ph + 8, offset);
      w(ph + 16, BASE + offset);
      w(ph + 24, BASE + offset);
      w(ph + 32, filesz);
      w(ph + 40, filesz);
      w(ph + 48, 8);
    } else {
      u32(ph, type);
      u32(ph + 4, offset);
      u32(ph + 8, BASE + offset);
      u32(ph + 12, BASE + offset);
      u32(ph + 16, filesz);
      u32(ph + 20, filesz);
      u32(ph + 24, flags);
      u32(ph + 28, 8);
    }
    ph += phentsize;
  };
  phdr(PT_LOAD, 5, 0, size);
  if (s.interpreter !== undefined) phdr(PT_INTERP, 4, interpOff, interp.length);
  if (!s.static) phdr(PT_DYNAMIC, 6, dynOff, dynSize);

  interp.copy(b, interpOff);
  strtab.copy(b, strtabOff);
  if (!s.static) {
    entries.forEach(([tag, val], i) => {
      w(dynOff + i * 2 * word, tag);
      w(dynOff + i * 2 * word + word, val);
    });
  }
  return b;
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
