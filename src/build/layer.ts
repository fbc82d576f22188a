/**
 * Reproducible layers: the same tree gives the same diffId and digest on any machine, whatever
 * the files' mtimes, owners or the order readdir returns. Entries are sorted by path (byte
 * order), mtimes set to SOURCE_DATE_EPOCH, owners normalised, names empty; compression runs
 * with a fixed level on fixed-size chunks so its output cannot depend on read sizes.
 * One pass hashes the tar (diffId) and the compressed blob (digest) while writing it atomically.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, createGzip, createZstdCompress } from 'node:zlib';
import { type Digest, parseDigest } from '../digest/digest.ts';
import { isVouchError, VouchError } from '../errors.ts';
import { cleanTarPath, compareBytes, joinPath } from '../fs/path.ts';
import { type LayerEntry, writeTar } from '../fs/tar-write.ts';
import { type Compression, layerMediaType } from '../oci/media-types.ts';
import { createAtomicWriteStream } from '../util/atomic.ts';

export type { LayerEntry } from '../fs/tar-write.ts';

export interface WriteLayerOptions {
  compression: Compression;
  /** File the blob is written to (atomically: temp file in the same directory, then rename). */
  output: string;
  /** gzip 0-9 (default 6) or zstd 1-22 (default 3). Part of what makes the digest. */
  level?: number;
  /** When set, every entry's mtime becomes this (seconds). */
  sourceDateEpoch?: number;
}

export interface LayerResult {
  /** The blob file written (`output`). */
  path: string;
  /** Digest and size of the blob as written (compressed). */
  digest: Digest;
  size: number;
  /** Digest of the uncompressed tar: the config's rootfs.diff_ids entry. */
  diffId: Digest;
  compression: Compression;
  /** The OCI layer media type for this compression. */
  mediaType: string;
  /** Tar entries written. */
  entries: number;
}

export interface LayerFromDirectoryOptions extends Omit<WriteLayerOptions, 'sourceDateEpoch'> {
  /** mtime of every entry; default $SOURCE_DATE_EPOCH, else 0. */
  sourceDateEpoch?: number;
  /** Owner of every entry (default 0:0). */
  uid?: number;
  gid?: number;
  /** Where the directory's content goes in the image, e.g. 'app/' (default: the root). */
  prefix?: string;
  /**
   * Permission bits of every file and directory, as Docker's `COPY --chmod` (symlinks stay
   * 0777; default: the modes on disk). The tree may then hold only files, directories and symlinks.
   */
  mode?: number;
}

const CHUNK = 64 * 1024;
const DEFAULT_LEVEL: Record<Compression, number> = { gzip: 6, zstd: 3, none: 0 };

/**
 * Build a layer from `dir`. Symlinks are stored, not followed; files sharing an inode become
 * hardlinks to the first path in sort order; sockets are skipped (tar cannot hold them).
 */
export async function layerFromDirectory(dir: string, opts: LayerFromDirectoryOptions): Promise<LayerResult> {
  const epoch = opts.sourceDateEpoch ?? epochFromEnv();
  const uid = opts.uid ?? 0;
  const gid = opts.gid ?? 0;
  const prefix = cleanPrefix(opts.prefix ?? '');
  let top: Stats;
  try {
    top = await stat(dir);
  } catch (e) {
    throw new VouchError('IO_ERROR', `cannot read directory ${dir} (${code(e)})`, { cause: e });
  }
  if (!top.isDirectory()) throw new VouchError('USAGE', `${dir} is not a directory`);

  const found: { path: string; abs: string; st: Stats }[] = [];
  if (prefix !== '') found.push({ path: prefix, abs: dir, st: top });
  await walk(dir, prefix, found);
  found.sort((a, b) => compareBytes(a.path, b.path));

  const entries: LayerEntry[] = [];
  // Parents of the prefix ('opt' for 'opt/app') exist in no directory: plain 0755 dirs.
  const parts = prefix.split('/');
  for (let i = 1; i < parts.length; i++) {
    entries.push({ path: parts.slice(0, i).join('/'), type: 'dir', mode: 0o755, uid, gid });
  }
  const firstByInode = new Map<string, string>();
  for (const { path, abs, st } of found) {
    const base = { path, mode: opts.mode ?? st.mode & 0o7777, uid, gid };
    if (st.isDirectory()) entries.push({ ...base, type: 'dir' });
    else if (st.isSymbolicLink()) {
      const mode = opts.mode === undefined ? base.mode : 0o777;
      entries.push({ ...base, mode, type: 'symlink', linkname: await readlink(abs) });
    } else if (opts.mode !== undefined && !st.isFile()) {
      throw new VouchError(
        'USAGE',
        `layer source ${abs}: only files, directories and symlinks can be added with a mode`,
      );
    } else if (st.isFile()) {
      const inode = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? firstByInode.get(inode) : undefined;
      if (first !== undefined) entries.push({ ...base, type: 'hardlink', linkname: first });
      else {
        if (st.nlink > 1) firstByInode.set(inode, path);
        entries.push({ ...base, type: 'file', size: st.size, body: async () => createReadStream(abs) });
      }
    } else if (st.isFIFO()) entries.push({ ...base, type: 'fifo' });
    else if (st.isCharacterDevice() || st.isBlockDevice()) {
      entries.push({
        ...base,
        type: st.isCharacterDevice() ? 'char' : 'block',
        devmajor: devMajor(st.rdev),
        devminor: devMinor(st.rdev),
      });
    }
  }
  return writeLayer(entries, { ...opts, sourceDateEpoch: epoch });
}

/**
 * Write `entries` (sorted by path, byte order, unique; a USAGE error otherwise) as a layer
 * blob. Used by layerFromDirectory and for squashing a merged view.
 */
export async function writeLayer(
  entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>,
  opts: WriteLayerOptions,
): Promise<LayerResult> {
  const level = opts.level ?? DEFAULT_LEVEL[opts.compression];
  const diff = createHash('sha256');
  const blob = createHash('sha256');
  let size = 0;
  let count = 0;
  async function* counted(): AsyncGenerator<LayerEntry> {
    for await (const e of entries) {
      count++;
      yield opts.sourceDateEpoch === undefined ? e : { ...e, mtime: opts.sourceDateEpoch };
    }
  }
  async function* tarBytes(): AsyncGenerator<Uint8Array> {
    for await (const c of rechunk(writeTar(counted()), CHUNK)) {
      diff.update(c);
      yield c;
    }
  }
  const out = await createAtomicWriteStream(opts.output);
  const sink = async (src: AsyncIterable<Uint8Array>) => {
    for await (const c of src) {
      blob.update(c);
      size += c.byteLength;
      await out.write(c);
    }
  };
  try {
    if (opts.compression === 'none') await sink(tarBytes());
    else await pipeline(Readable.from(tarBytes()), compressor(opts.compression, level), sink);
    await out.commit();
  } catch (e) {
    await out.abort();
    if (isVouchError(e)) throw e;
    throw new VouchError('IO_ERROR', `cannot write layer ${opts.output} (${code(e)})`, { cause: e });
  }
  return {
    path: opts.output,
    digest: parseDigest(`sha256:${blob.digest('hex')}`),
    size,
    diffId: parseDigest(`sha256:${diff.digest('hex')}`),
    compression: opts.compression,
    mediaType: layerMediaType('oci', opts.compression),
    entries: count,
  };
}

function compressor(c: 'gzip' | 'zstd', level: number) {
  // Node's gzip header has mtime 0, no file name and OS 3 (Unix) on every platform.
  if (c === 'gzip') return createGzip({ level });
  return createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: level } });
}

/** Re-cut a stream into `size`-byte chunks (the last may be shorter). */
export async function* rechunk(src: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let buf = Buffer.allocUnsafe(size);
  let fill = 0;
  for await (const chunk of src) {
    let off = 0;
    while (off < chunk.byteLength) {
      const n = Math.min(size - fill, chunk.byteLength - off);
      buf.set(chunk.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === size) {
        yield buf;
        buf = Buffer.allocUnsafe(size);
        fill = 0;
      }
    }
  }
  if (fill > 0) yield buf.subarray(0, fill);
}

async function walk(abs: string, rel: string, out: { path: string; abs: string; st: Stats }[]) {
  let names: string[];
  try {
    names = await readdir(abs);
  } catch (e) {
    throw new VouchError('IO_ERROR', `cannot list ${abs} (${code(e)})`, { cause: e });
  }
  for (const name of names) {
    const childAbs = join(abs, name);
    const childRel = joinPath(rel, name);
    const st = await lstat(childAbs);
    if (st.isSocket()) continue;
    out.push({ path: childRel, abs: childAbs, st });
    if (st.isDirectory()) await walk(childAbs, childRel, out);
  }
}

function epochFromEnv(): number {
  const v = process.env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return 0;
  if (!/^\d+$/.test(v)) {
    throw new VouchError('USAGE', `SOURCE_DATE_EPOCH must be a whole number of seconds, got "${v}"`);
  }
  return Number(v);
}

function cleanPrefix(p: string): string {
  const c = cleanTarPath(p);
  // '/app' and 'app/' both mean the image's /app; only '..' is refused.
  if (c.unsafe === 'dotdot')
    throw new VouchError('USAGE', `layer prefix "${p}": must be a relative path inside the image`);
  return c.path;
}

// Linux dev_t encoding (glibc's gnu_dev_major/minor).
function devMajor(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
}
function devMinor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));
}

function code(e: unknown): string {
  return (e as { code?: string }).code ?? String((e as Error).message ?? e);
}
