/**
 * A FileResolver over a root filesystem on disk (an unpacked image, an mmdebstrap tree, a
 * chroot), with the merged view's semantics: paths are '/…' inside the root, symlinks are
 * resolved inside the root and never escape it (an absolute target starts at the root, '..'
 * stops there), walk() and glob() are sorted by path (byte order), readFile() is capped.
 *
 * The tree's metadata is indexed once (one lstat per entry, no content read), so catalogers'
 * globs, stats and symlink resolution never touch the disk again. Contents are read on demand;
 * every open checks that the file is still the inode that was indexed (O_NOFOLLOW + device and
 * inode), so a tree changed under the scan cannot lead a read outside the root.
 * Records have layer 0 and no layer digest: a directory has no layers.
 */
import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, open, readdir, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { VouchError } from '../errors.ts';
import type { FileResolver } from '../fs/merged.ts';
import { toImagePath } from '../fs/path.ts';
import { childPath, type Found, resolveNode, TreeLookup } from '../fs/tree.ts';
import type { FileRecord } from '../fs/types.ts';

export interface DirectoryOptions {
  /** Directories indexed but not descended into (image paths); default /proc, /sys, /dev. */
  exclude?: readonly string[];
  /** Refuse trees with more entries than this (default 5,000,000). */
  maxEntries?: number;
  signal?: AbortSignal;
}

/** An entry that could not be indexed (unreadable directory, vanished file). */
export interface DirectoryProblem {
  path: string;
  reason: string;
}

interface Node {
  rec: FileRecord;
  parent: Node | undefined;
  children?: Map<string, Node>;
  dev: number;
  ino: number;
}

const DEFAULT_READ_LIMIT = 64 * 1024 ** 2;
const STAT_BATCH = 64;
const DEFAULT_EXCLUDE = ['/proc', '/sys', '/dev'];

/** Index the tree under `root` and return a resolver over it. */
export function openDirectory(root: string, o: DirectoryOptions = {}): Promise<DirectoryView> {
  return DirectoryView.build(root, o);
}

export class DirectoryView implements FileResolver {
  /** Absolute host path of the root. */
  readonly root: string;
  readonly problems: DirectoryProblem[] = [];
  readonly #root: Node;
  #count = 1;
  readonly #lookup: TreeLookup<Node>;

  static async build(root: string, o: DirectoryOptions = {}): Promise<DirectoryView> {
    const abs = resolve(root);
    let st: Stats;
    try {
      st = await lstat(abs);
    } catch (e) {
      throw new VouchError('FILE_NOT_FOUND', `${abs}: cannot read the directory (${errCode(e)})`, {
        cause: e,
      });
    }
    if (!st.isDirectory()) throw new VouchError('FILE_NOT_FOUND', `${abs} is not a directory`);
    const view = new DirectoryView(abs, st);
    await view.#index(o);
    return view;
  }

  private constructor(root: string, st: Stats) {
    this.root = root;
    this.#root = {
      rec: record('/', st, 'dir'),
      parent: undefined,
      children: new Map(),
      dev: st.dev,
      ino: st.ino,
    };
    this.#lookup = new TreeLookup(this.#root);
  }

  /** Number of paths indexed, the root included. */
  get size(): number {
    return this.#count;
  }

  async #index(o: DirectoryOptions): Promise<void> {
    const exclude = new Set((o.exclude ?? DEFAULT_EXCLUDE).map((p) => `/${toImagePath(p)}`));
    const max = o.maxEntries ?? 5_000_000;
    const queue: Node[] = [this.#root];
    while (queue.length > 0) {
      if (o.signal?.aborted) throw new VouchError('ABORTED', `indexing ${this.root} was aborted`);
      const dir = queue.pop()!;
      const host = this.#host(dir.rec.path);
      let names: string[];
      try {
        names = await readdir(host);
      } catch (e) {
        this.problems.push({ path: dir.rec.path, reason: `cannot list the directory (${errCode(e)})` });
        continue;
      }
      for (let i = 0; i < names.length; i += STAT_BATCH) {
        const batch = names.slice(i, i + STAT_BATCH);
        const stats = await Promise.all(
          batch.map(async (name) => {
            const childHost = join(host, name);
            try {
              const s = await lstat(childHost);
              const link = s.isSymbolicLink() ? await readlink(childHost) : undefined;
              return { name, s, link };
            } catch (e) {
              this.problems.push({ path: childPath(dir, name), reason: `cannot stat (${errCode(e)})` });
              return undefined;
            }
          }),
        );
        for (const r of stats) {
          if (!r) continue;
          const type = entryType(r.s);
          if (type === undefined) continue; // sockets and unknown kinds: nothing to catalog
          if (++this.#count > max) {
            throw new VouchError('BLOB_TOO_LARGE', `${this.root}: more than ${max} entries`, {
              hint: 'scan a smaller tree or raise maxEntries',
            });
          }
          const rec = record(childPath(dir, r.name), r.s, type);
          if (r.link !== undefined) rec.linkname = r.link;
          const node: Node = { rec, parent: dir, dev: r.s.dev, ino: r.s.ino };
          dir.children!.set(r.name, node);
          if (type === 'dir') {
            node.children = new Map();
            if (!exclude.has(rec.path)) queue.push(node);
          }
        }
      }
    }
  }

  #host(path: string): string {
    return path === '/' ? this.root : join(this.root, path);
  }

  #resolve(path: string, followLast: boolean): Found<Node> {
    return resolveNode(this.#root, path, { followLast });
  }

  async stat(path: string): Promise<FileRecord | undefined> {
    return this.#lookup.stat(path);
  }

  async lstat(path: string): Promise<FileRecord | undefined> {
    return this.#lookup.lstat(path);
  }

  async list(dir: string): Promise<FileRecord[]> {
    return this.#lookup.list(dir);
  }

  async *walk(): AsyncGenerator<FileRecord> {
    for (const n of this.#lookup.nodes()) yield n.rec;
  }

  async glob(pattern: string): Promise<FileRecord[]> {
    return this.#lookup.glob(pattern);
  }

  async realPath(path: string): Promise<string | undefined> {
    return this.#lookup.realPath(path);
  }

  async readFile(path: string, opts: { maxBytes?: number } = {}): Promise<Uint8Array> {
    const max = opts.maxBytes ?? DEFAULT_READ_LIMIT;
    const node = this.#fileNode(path);
    if (node.rec.size > max) {
      throw new VouchError(
        'BLOB_TOO_LARGE',
        `${node.rec.path}: ${node.rec.size} bytes is over the ${max} byte limit`,
      );
    }
    const fh = await this.#openChecked(node);
    try {
      const chunks: Uint8Array[] = [];
      let total = 0;
      const buf = Buffer.allocUnsafe(Math.min(Math.max(node.rec.size, 1), 1024 * 1024) + 1);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        total += bytesRead;
        if (total > max) {
          throw new VouchError(
            'BLOB_TOO_LARGE',
            `${node.rec.path}: grew over the ${max} byte limit while read`,
          );
        }
        chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
      }
      return Buffer.concat(chunks);
    } finally {
      await fh.close();
    }
  }

  async open(path: string): Promise<AsyncIterable<Uint8Array>> {
    const fh = await this.#openChecked(this.#fileNode(path));
    return fh.createReadStream({ highWaterMark: 256 * 1024 });
  }

  #fileNode(path: string): Node {
    const f = this.#resolve(path, true);
    if (!f.ok) throw new VouchError('FILE_NOT_FOUND', `${path}: ${f.reason}`);
    if (f.node.rec.type !== 'file') {
      throw new VouchError(
        'FILE_NOT_FOUND',
        `${f.node.rec.path} is a ${f.node.rec.type}, not a regular file`,
      );
    }
    return f.node;
  }

  /** Open the indexed inode, or fail: never follow a symlink that appeared since indexing. */
  async #openChecked(node: Node): Promise<FileHandle> {
    let fh: FileHandle;
    try {
      fh = await open(this.#host(node.rec.path), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      throw new VouchError('IO_ERROR', `${node.rec.path}: cannot open (${errCode(e)})`, { cause: e });
    }
    const st = await fh.stat();
    if (!st.isFile() || st.ino !== node.ino || st.dev !== node.dev) {
      await fh.close();
      throw new VouchError('IO_ERROR', `${node.rec.path}: changed on disk since the directory was indexed`);
    }
    return fh;
  }
}

function entryType(s: Stats): FileRecord['type'] | undefined {
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'dir';
  if (s.isSymbolicLink()) return 'symlink';
  if (s.isCharacterDevice()) return 'char';
  if (s.isBlockDevice()) return 'block';
  if (s.isFIFO()) return 'fifo';
  return undefined;
}

function record(path: string, s: Stats, type: FileRecord['type']): FileRecord {
  // A directory scan has no layers: layer 0 and no layer digest (FileRecord declares it; the
  // value is absent at run time, and catalog.ts drops empty layer fields from its output).
  const rec = {
    path,
    type,
    mode: s.mode & 0o7777,
    uid: s.uid,
    gid: s.gid,
    mtime: Math.floor(s.mtimeMs / 1000),
    size: type === 'file' ? s.size : 0,
    layer: 0,
  };
  return rec as FileRecord;
}

function errCode(e: unknown): string {
  return (e as { code?: string }).code ?? String((e as Error).message ?? e);
}
