/**
 * Go build information embedded in executables (what `go version -m` prints), read the way
 * Go's debug/buildinfo does: find the 32-byte header "\xff Go buildinf:" (16-byte aligned) at
 * the start of the .go.buildinfo section (or, without a section table, of the first writable
 * non-executable PT_LOAD segment), then either
 *  - Go 1.18+ (flag bit 2): the Go version and the module info follow the header inline, each
 *    as a uvarint length and bytes;
 *  - older: two pointers (ptrSize bytes each, endianness from the flags byte) to Go string
 *    headers {data pointer, length} in the data segment, read through the program headers.
 * The module info text is framed by 16 sentinel bytes on each side, stripped here.
 */
import { type ByteSource, FormatError } from './byte-source.ts';
import { type Elf, ElfReader, findSection, PF_W, PF_X, PT_LOAD, readVirtual } from './elf.ts';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER_SIZE = 32;
const ALIGN = 16;
const SEARCH_BYTES = 64 * 1024;
const FLAG_BIG_ENDIAN = 1;
const FLAG_INLINE = 2;
const MAX_STRING = 4 * 1024 ** 2;

export interface GoBuildInfo {
  /** e.g. 'go1.22.1' (exactly as embedded; may carry suffixes like ' X:boringcrypto'). */
  goVersion: string;
  /** The module info text (path/mod/dep/=>/build lines); '' when built without modules. */
  modinfo: string;
  format: 'inline' | 'pointer';
}

/** Read the build info of a Go executable; undefined when the file has none (not Go). */
export async function readGoBuildInfo(elf: Elf, src: ByteSource): Promise<GoBuildInfo | undefined> {
  const start = dataStart(elf);
  if (start === undefined) return undefined;
  const length = Math.min(SEARCH_BYTES, src.size - start.offset, start.limit);
  if (length < HEADER_SIZE) return undefined;
  const data = await src.read(start.offset, length);
  let at = -1;
  for (let from = 0; ; ) {
    const i = Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(MAGIC, from);
    if (i < 0 || data.byteLength - i < HEADER_SIZE) break;
    if (i % ALIGN === 0) {
      at = i;
      break;
    }
    from = (i + ALIGN - 1) & ~(ALIGN - 1);
  }
  if (at < 0) {
    // A section named .go.buildinfo without the header is broken; a data segment without it
    // is just not Go.
    if (start.fromSection) throw new FormatError('.go.buildinfo section has no build info header');
    return undefined;
  }
  const ptrSize = data[at + 14]!;
  const flags = data[at + 15]!;
  if (flags & FLAG_INLINE) {
    let rest = data.subarray(at + HEADER_SIZE);
    const vers = decodeString(rest, 'Go version');
    rest = rest.subarray(vers.next);
    const mod = decodeString(rest, 'module info');
    const goVersion = utf8(vers.bytes);
    if (goVersion === '') throw new FormatError('build info has an empty Go version');
    return { goVersion, modinfo: stripSentinels(mod.bytes), format: 'inline' };
  }
  if (ptrSize !== 4 && ptrSize !== 8) throw new FormatError(`build info pointer size ${ptrSize}`);
  const r = new ElfReader((flags & FLAG_BIG_ENDIAN) === 0, ptrSize === 8);
  const versAddr = r.word(data, at + 16);
  const modAddr = r.word(data, at + 16 + ptrSize);
  const goVersion = utf8(await readGoString(elf, src, r, ptrSize, versAddr, 'Go version'));
  if (goVersion === '') throw new FormatError('build info has an empty Go version');
  const mod = await readGoString(elf, src, r, ptrSize, modAddr, 'module info');
  return { goVersion, modinfo: stripSentinels(mod), format: 'pointer' };
}

function dataStart(elf: Elf): { offset: number; limit: number; fromSection: boolean } | undefined {
  const s = findSection(elf, '.go.buildinfo');
  if (s) return { offset: s.offset, limit: Number.MAX_SAFE_INTEGER, fromSection: true };
  // Go falls back to the data segment only when there is no section table at all.
  if (elf.sections.length > 0) return undefined;
  const seg = elf.segments.find((p) => p.type === PT_LOAD && (p.flags & (PF_X | PF_W)) === PF_W);
  return seg ? { offset: seg.offset, limit: seg.filesz, fromSection: false } : undefined;
}

function utf8(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}

function decodeString(b: Uint8Array, what: string): { bytes: Uint8Array; next: number } {
  let n = 0;
  let shift = 0;
  let i = 0;
  for (; ; i++) {
    if (i >= b.byteLength || i >= 10) throw new FormatError(`bad length of the ${what}`);
    const c = b[i]!;
    n += (c & 0x7f) * 2 ** shift;
    shift += 7;
    if ((c & 0x80) === 0) break;
  }
  i++;
  if (n > MAX_STRING) throw new FormatError(`${what} of ${n} bytes is too long`);
  if (i + n > b.byteLength) throw new FormatError(`${what} runs past the build info data`);
  return { bytes: b.subarray(i, i + n), next: i + n };
}

async function readGoString(
  elf: Elf,
  src: ByteSource,
  r: ElfReader,
  ptrSize: number,
  addr: number,
  what: string,
): Promise<Uint8Array> {
  const hdr = await readVirtual(src, elf, addr, 2 * ptrSize);
  const dataAddr = r.word(hdr, 0);
  const len = r.word(hdr, ptrSize);
  if (len > MAX_STRING) throw new FormatError(`${what} of ${len} bytes is too long`);
  if (len === 0) return new Uint8Array(0);
  return readVirtual(src, elf, dataAddr, len);
}

/** The module info is framed by 16 sentinel bytes each side (the last one ends with '\n'). */
function stripSentinels(b: Uint8Array): string {
  if (b.byteLength >= 33 && b[b.byteLength - 17] === 0x0a) return utf8(b.subarray(16, b.byteLength - 16));
  return '';
}

export interface GoModule {
  path: string;
  version: string;
  sum?: string;
  replace?: GoModule;
}

export interface GoModInfo {
  /** The main package's import path ('path' line). */
  path?: string;
  main?: GoModule;
  deps: GoModule[];
  /** 'build' lines in order (Go 1.18+): -compiler, GOARCH, vcs.revision, ... */
  settings: { key: string; value: string }[];
}

/** Parse the module info text like runtime/debug.ParseBuildInfo; FormatError on a bad line. */
export function parseModInfo(text: string): GoModInfo {
  const info: GoModInfo = { deps: [], settings: [] };
  let last: GoModule | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const tab = line.indexOf('\t');
    const word = tab < 0 ? line : line.slice(0, tab);
    const rest = tab < 0 ? '' : line.slice(tab + 1);
    const where = `module info line ${i + 1}`;
    switch (word) {
      case 'path':
        info.path = rest;
        break;
      case 'mod':
        info.main = parseModule(rest, where);
        last = info.main;
        break;
      case 'dep':
        last = parseModule(rest, where);
        info.deps.push(last);
        break;
      case '=>':
        if (!last) throw new FormatError(`${where}: replacement without a module`);
        last.replace = parseModule(rest, where);
        last = undefined;
        break;
      case 'build':
        info.settings.push(parseSetting(rest, where));
        break;
      default:
        throw new FormatError(`${where}: unexpected "${line.slice(0, 60)}"`);
    }
  }
  return info;
}

function parseModule(s: string, where: string): GoModule {
  const f = s.split('\t');
  const path = f[0] ?? '';
  if (path === '') throw new FormatError(`${where}: module without a path`);
  if (f.length > 3) throw new FormatError(`${where}: too many fields`);
  const m: GoModule = { path, version: f[1] ?? '' };
  if (f[2]) m.sum = f[2];
  return m;
}

function parseSetting(s: string, where: string): { key: string; value: string } {
  let key: string;
  let rest: string;
  if (s.startsWith('"')) {
    const q = readQuoted(s, where);
    key = q.value;
    rest = s.slice(q.end);
  } else {
    const eq = s.indexOf('=');
    if (eq < 0) throw new FormatError(`${where}: build setting without '='`);
    key = s.slice(0, eq);
    rest = s.slice(eq);
  }
  if (!rest.startsWith('=')) throw new FormatError(`${where}: build setting without '='`);
  rest = rest.slice(1);
  let value = rest;
  if (rest.startsWith('"')) {
    const q = readQuoted(rest, where);
    if (q.end !== rest.length) throw new FormatError(`${where}: text after a quoted value`);
    value = q.value;
  }
  if (key === '') throw new FormatError(`${where}: empty build setting key`);
  return { key, value };
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

/** A Go double-quoted string literal (strconv.Quote output) at the start of s. */
export function readQuoted(s: string, where = 'string'): { value: string; end: number } {
  const bytes: number[] = [];
  const push = (str: string) => bytes.push(...Buffer.from(str, 'utf8'));
  let i = 1;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') return { value: Buffer.from(bytes).toString('utf8'), end: i + 1 };
    if (c !== '\\') {
      const cp = s.codePointAt(i)!;
      push(String.fromCodePoint(cp));
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = s[i + 1];
    if (e === undefined) break;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      push(simple);
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = s.slice(i + 2, i + 2 + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n)
        throw new FormatError(`${where}: bad \\${e} escape`);
      const v = Number.parseInt(hex, 16);
      if (e === 'x') bytes.push(v);
      else push(String.fromCodePoint(v));
      i += 2 + n;
    } else if (e >= '0' && e <= '7') {
      const oct = s.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) throw new FormatError(`${where}: bad octal escape`);
      bytes.push(Number.parseInt(oct, 8) & 0xff);
      i += 4;
    } else throw new FormatError(`${where}: unknown escape \\${e}`);
  }
  throw new FormatError(`${where}: unterminated quoted string`);
}
