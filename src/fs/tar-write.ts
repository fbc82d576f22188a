/**
 * A deterministic tar writer: the same entries always give the same bytes. ustar headers with
 * empty uname/gname; a PAX header only when ustar cannot hold a value (long or non-ASCII
 * names, large ids or sizes, xattrs), under a name derived from the entry, never a pid or time.
 * Entries must come sorted (byte order) with unique paths; that is checked, not assumed.
 */
import { VouchError } from '../errors.ts';
import { cleanTarPath, compareBytes } from './path.ts';
import type { EntryType } from './tar.ts';

export interface LayerEntry {
  /** Normalised relative path, e.g. 'app/bin/tool' (see path.ts); directories without '/'. */
  path: string;
  type: EntryType;
  /** Permission bits (0o7777). */
  mode: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch; written as whole seconds (floored). Default 0. */
  mtime?: number;
  /** Files: exact number of bytes the body yields. */
  size?: number;
  /** Symlink target as is, or archive path of a hardlink's target. */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Written as PAX `SCHILY.xattr.<name>` records, sorted by name. */
  xattrs?: Record<string, string>;
  /** Files only: the data, or a function opening it only when the entry is written. */
  body?: AsyncIterable<Uint8Array> | (() => Promise<AsyncIterable<Uint8Array>>);
}

const TYPEFLAG: Record<EntryType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

const BLOCK = 512;
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;
const enc = new TextEncoder();
const isAscii = (s: string) => /^[\x01-\x7f]*$/.test(s);

/** The tar stream of `entries`: headers, data, padding and the two zero end blocks. */
export async function* writeTar(
  entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>,
): AsyncGenerator<Uint8Array> {
  let previous: string | undefined;
  for await (const e of entries) {
    checkEntry(e, previous);
    previous = e.path;
    const name = e.type === 'dir' ? `${e.path}/` : e.path;
    const size = e.type === 'file' ? (e.size ?? 0) : 0;
    const mtime = Math.max(0, Math.floor(e.mtime ?? 0));
    const pax: [string, string][] = [];
    const fields = {
      name,
      linkname: e.linkname ?? '',
      mode: e.mode & 0o7777,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size,
      mtime,
      typeflag: TYPEFLAG[e.type],
      devmajor: e.devmajor,
      devminor: e.devminor,
    };
    const split = splitName(name);
    if (split === undefined) pax.push(['path', name]);
    if (!isAscii(fields.linkname) || enc.encode(fields.linkname).length > 100) {
      pax.push(['linkpath', fields.linkname]);
    }
    if (fields.uid > MAX_OCTAL_7) pax.push(['uid', String(fields.uid)]);
    if (fields.gid > MAX_OCTAL_7) pax.push(['gid', String(fields.gid)]);
    if (size > MAX_OCTAL_11) pax.push(['size', String(size)]);
    if (mtime > MAX_OCTAL_11) pax.push(['mtime', String(mtime)]);
    for (const k of Object.keys(e.xattrs ?? {}).sort(compareBytes)) {
      pax.push([`SCHILY.xattr.${k}`, e.xattrs![k]!]);
    }
    if (pax.length > 0) {
      pax.sort((a, b) => compareBytes(a[0], b[0]));
      const data = encodePax(pax);
      yield header({
        ...fields,
        name: paxName(e.path),
        linkname: '',
        mode: 0o644,
        uid: 0,
        gid: 0,
        size: data.length,
        typeflag: 'x',
        devmajor: undefined,
        devminor: undefined,
      });
      yield data;
      yield* padding(data.length);
    }
    yield header(fields);
    if (e.type === 'file') yield* body(e, size);
  }
  yield new Uint8Array(BLOCK * 2);
}

function checkEntry(e: LayerEntry, previous: string | undefined): void {
  const clean = cleanTarPath(e.path);
  if (clean.unsafe !== undefined || clean.path !== e.path || e.path === '') {
    throw new VouchError('USAGE', `layer entry "${e.path}": not a normalised relative path`);
  }
  if (previous !== undefined && compareBytes(previous, e.path) >= 0) {
    throw new VouchError(
      'USAGE',
      `layer entry "${e.path}" comes after "${previous}": entries must be unique and sorted by path (byte order)`,
    );
  }
  if ((e.type === 'symlink' || e.type === 'hardlink') && !e.linkname) {
    throw new VouchError('USAGE', `layer entry "${e.path}": a ${e.type} needs a linkname`);
  }
  if (e.type === 'file' && e.size !== undefined && (!Number.isSafeInteger(e.size) || e.size < 0)) {
    throw new VouchError('USAGE', `layer entry "${e.path}": invalid size ${e.size}`);
  }
}

async function* body(e: LayerEntry, size: number): AsyncGenerator<Uint8Array> {
  let n = 0;
  if (e.body !== undefined) {
    const src = typeof e.body === 'function' ? await e.body() : e.body;
    for await (const chunk of src) {
      n += chunk.byteLength;
      if (n > size) break;
      yield chunk;
    }
  }
  if (n !== size) {
    throw new VouchError(
      'SIZE_MISMATCH',
      `layer entry "${e.path}": declared ${size} bytes, its data has ${n > size ? 'more' : n}`,
    );
  }
  yield* padding(size);
}

function* padding(n: number): Generator<Uint8Array> {
  const rest = n % BLOCK;
  if (rest !== 0) yield new Uint8Array(BLOCK - rest);
}

/** ustar's name (100 bytes) + prefix (155 bytes) split; undefined when PAX is needed. */
function splitName(name: string): { name: string; prefix: string } | undefined {
  if (!isAscii(name)) return undefined;
  if (name.length <= 100) return { name, prefix: '' };
  // A trailing '/' (directories) must stay in the name part, so search before it.
  for (let i = name.indexOf('/'); i >= 0 && i <= 155; i = name.indexOf('/', i + 1)) {
    const rest = name.slice(i + 1);
    if (rest.length <= 100 && rest !== '' && rest !== '/') return { name: rest, prefix: name.slice(0, i) };
  }
  return undefined;
}

/** Deterministic name for a PAX header: 'PaxHeaders/<base name>', ASCII, at most 100 bytes. */
function paxName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1).replace(/[^\x20-\x7e]/g, '_');
  return `PaxHeaders/${base}`.slice(0, 100);
}

function encodePax(records: [string, string][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [k, v] of records) {
    const rest = enc.encode(` ${k}=${v}\n`).length;
    // The length prefix counts its own digits.
    let len = rest + 1;
    while (String(len).length + rest !== len) len = String(len).length + rest;
    parts.push(enc.encode(`${len} ${k}=${v}\n`));
  }
  return Buffer.concat(parts);
}

interface HeaderFields {
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  devmajor: number | undefined;
  devminor: number | undefined;
}

function header(f: HeaderFields): Uint8Array {
  const b = Buffer.alloc(BLOCK);
  const split = splitName(f.name) ?? { name: asciiTail(f.name, 100), prefix: '' };
  b.write(split.name, 0, 100, 'ascii');
  numeric(b, 100, 8, f.mode);
  numeric(b, 108, 8, f.uid);
  numeric(b, 116, 8, f.gid);
  numeric(b, 124, 12, f.size);
  numeric(b, 136, 12, f.mtime);
  b.write(f.typeflag, 156, 1, 'ascii');
  if (f.linkname !== '') b.write(asciiTail(f.linkname, 100), 157, 100, 'ascii');
  b.write('ustar\0', 257, 6, 'ascii');
  b.write('00', 263, 2, 'ascii');
  if (f.devmajor !== undefined) numeric(b, 329, 8, f.devmajor);
  if (f.devminor !== undefined) numeric(b, 337, 8, f.devminor);
  if (split.prefix !== '') b.write(split.prefix, 345, 155, 'ascii');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return b;
}

/** Octal, zero-padded, NUL-terminated; base-256 (GNU) when it does not fit (PAX carries it too). */
function numeric(b: Buffer, off: number, width: number, v: number): void {
  const octal = v.toString(8);
  if (octal.length <= width - 1) {
    b.write(`${octal.padStart(width - 1, '0')}\0`, off, width, 'ascii');
    return;
  }
  b[off] = 0x80;
  let x = v;
  for (let i = off + width - 1; i > off; i--) {
    b[i] = x % 256;
    x = Math.floor(x / 256);
  }
}

/** A placeholder for readers without PAX: printable ASCII, the last `n` bytes. */
function asciiTail(s: string, n: number): string {
  const a = s.replace(/[^\x20-\x7e]/g, '_');
  return a.length <= n ? a : a.slice(a.length - n);
}
