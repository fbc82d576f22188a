/**
 * What the package list does not explain: ELF executables and shared libraries that no
 * cataloged package owns (an OS package's file list, or a language package's evidence file
 * such as a Go binary or a jar). A binary copied in by `COPY` or `curl | tar` shows up here, so
 * an incomplete SBOM is visible instead of silently clean.
 *
 * Candidates are regular files with an x bit or named `*.so` / `*.so.*`; only those no package
 * owns are opened, and only for their first bytes (ELF magic and e_type: executables and shared
 * objects, not relocatable objects or core dumps).
 */
import { createHash } from 'node:crypto';
import { parseDigest } from '../digest/digest.ts';
import type { FileResolver } from '../fs/merged.ts';
import type { FileRecord } from '../fs/types.ts';
import type { Package, UnownedFile } from './model.ts';

export interface CoverageOptions {
  signal?: AbortSignal;
  /**
   * Called once with the candidates before any is read, so a resolver whose reads are costly
   * (the merged view re-reads layers) can fetch them all in one pass.
   */
  prepare?: (candidates: readonly FileRecord[]) => Promise<void>;
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const ET_EXEC = 2;
const ET_DYN = 3;
/** The smallest ELF header (32-bit). */
const ELF_HEADER_MIN = 52;
const SHARED_LIBRARY = /\.so(\.[^/]*)?$/;

/** Bytes of a file coverage reads to tell an ELF program (ELF header through e_type). */
export const COVERAGE_HEAD_BYTES = 20;

/** A file coverage may have to read: a regular file with an x bit or a shared-library name. */
export function isCoverageCandidate(rec: { path: string; size: number; mode: number }): boolean {
  if (rec.size < ELF_HEADER_MIN) return false;
  return (rec.mode & 0o111) !== 0 || SHARED_LIBRARY.test(rec.path);
}

/** Executables and shared libraries no package owns, sorted by path. */
export async function findUnowned(
  files: FileResolver,
  packages: readonly Package[],
  o: CoverageOptions = {},
): Promise<UnownedFile[]> {
  const canon = canonicalizer(files);
  const owned = new Set<string>();
  for (const p of packages) {
    for (const f of p.files ?? []) {
      owned.add(f);
      owned.add(await canon(f));
    }
    for (const l of p.locations) {
      owned.add(l.path);
      owned.add(await canon(l.path));
    }
  }
  const candidates: FileRecord[] = [];
  for await (const rec of files.walk()) {
    if (rec.type !== 'file' || !isCoverageCandidate(rec)) continue;
    if (owned.has(rec.path)) continue;
    if (rec.hardlinkOf !== undefined && owned.has(await canon(rec.hardlinkOf))) continue;
    candidates.push(rec);
  }
  if (candidates.length === 0) return [];
  await o.prepare?.(candidates);
  const out: UnownedFile[] = [];
  for (const rec of candidates) {
    o.signal?.throwIfAborted();
    let head: Buffer;
    try {
      head = await readHead(files, rec.path, COVERAGE_HEAD_BYTES);
    } catch {
      continue; // unreadable content is the filesystem's problem, reported there
    }
    if (!isElfProgram(head)) continue;
    const u: UnownedFile = {
      path: rec.path,
      kind: SHARED_LIBRARY.test(rec.path) ? 'shared-library' : 'executable',
    };
    if (rec.layerDigest) u.layer = rec.layerDigest;
    const digest = rec.digest ?? (await sha256(files, rec.path).catch(() => undefined));
    if (digest) u.digest = digest;
    out.push(u);
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** ELF, and an executable or shared object (e_type, in the file's own byte order). */
export function isElfProgram(head: Uint8Array): boolean {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length < 18 || !b.subarray(0, 4).equals(ELF_MAGIC)) return false;
  const type = b[5] === 2 ? b.readUInt16BE(16) : b.readUInt16LE(16);
  return type === ET_EXEC || type === ET_DYN;
}

/**
 * Map an image path to its canonical form: its directory with every symlink resolved, the
 * last component kept (so a symlink is owned as itself). `/lib/x86_64-linux-gnu/libz.so.1`
 * on a merged-/usr system is `/usr/lib/x86_64-linux-gnu/libz.so.1`. Directories are cached.
 */
export function canonicalizer(files: FileResolver): (path: string) => Promise<string> {
  const dirs = new Map<string, Promise<string>>();
  return async (path: string) => {
    const i = path.lastIndexOf('/');
    if (i <= 0) return path;
    const dir = path.slice(0, i);
    let real = dirs.get(dir);
    if (!real) {
      real = files.realPath(dir).then((r) => r ?? dir);
      dirs.set(dir, real);
    }
    const d = await real;
    return d === '/' ? `/${path.slice(i + 1)}` : `${d}/${path.slice(i + 1)}`;
  };
}

async function readHead(files: FileResolver, path: string, n: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let got = 0;
  for await (const c of await files.open(path)) {
    chunks.push(c);
    got += c.byteLength;
    if (got >= n) break;
  }
  return Buffer.concat(chunks).subarray(0, n);
}

async function sha256(files: FileResolver, path: string) {
  const h = createHash('sha256');
  for await (const c of await files.open(path)) h.update(c);
  return parseDigest(`sha256:${h.digest('hex')}`);
}
