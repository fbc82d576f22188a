/**
 * The read-only filesystem of an image: its layers applied base first with OCI whiteouts, as
 * a FileResolver for catalogers.
 *
 * Memory design (flat for multi-GB images): building streams each layer once and keeps only
 * metadata per path (plus a sha256 of each file while it passes, on by default). Contents are
 * read later, lazily:
 *  - during that single pass, `capture` (or the simpler `keepContents`) takes what will be
 *    needed: small files kept in memory (package databases, manifests), files read in full
 *    later appended to one private temp file (executables, archives), the first bytes of others
 *    (a magic-number check), digests where wanted: no second read at all;
 *  - `prefetch(filter)` reads each needed layer once more and spills the selected files to a
 *    content-addressed cache on disk (`cacheDir`, or a private temp dir removed by close());
 *  - anything else is streamed by re-reading its layer up to that entry.
 * Every re-read of a layer or of `cacheDir` is checked against the digest taken during the
 * first pass, when one was taken (DIGEST_MISMATCH), so a layer that changes between reads
 * cannot feed different bytes. Private temp files hold bytes already checked when written
 * (by the layer's own digest checks, or against the file's digest) and are read as is.
 *
 * Semantics follow what runtimes (containerd) do when they unpack: a path whose parent is a
 * symlink lands where the symlink leads, resolved inside the image root; a parent that is a
 * regular file is a problem; a non-directory replaces a directory with all its subtree;
 * a directory over a directory merges. Whiteouts and opaque markers act only on lower layers,
 * whatever their position in the tar. Unsafe entries ('..', absolute) are skipped as problems.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, stat as fsStat, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Digest, digestHex, parseDigest } from '../digest/digest.ts';
import { verified } from '../digest/verify.ts';
import { VouchError } from '../errors.ts';
import { createAtomicWriteStream } from '../util/atomic.ts';
import { baseName, parentOf } from './path.ts';
import { layerTarOptions, readTar, TarBudget, type TarHeader, type TarLimits } from './tar.ts';
import { childPath, type Found, resolveNode, TreeLookup } from './tree.ts';
import type { FileRecord, LayerInput, Problem } from './types.ts';
import { classifyWhiteout } from './whiteout.ts';

export type { FileRecord, LayerInput, Problem } from './types.ts';

/** What catalogers see: a directory tree, whatever it is backed by. Paths may omit the leading '/'. */
export interface FileResolver {
  /** Follows symlinks (inside the image); undefined when missing or a symlink loop. */
  stat(path: string): Promise<FileRecord | undefined>;
  /** Does not follow a final symlink. */
  lstat(path: string): Promise<FileRecord | undefined>;
  /** Children of a directory (symlinks followed to reach it), sorted by name. */
  list(dir: string): Promise<FileRecord[]>;
  /** Every path, sorted by path (byte order). */
  walk(): AsyncIterable<FileRecord>;
  /** Records whose path matches a glob (see glob.ts), sorted by path. */
  glob(pattern: string): Promise<FileRecord[]>;
  /** The path with every symlink resolved inside the root; undefined when missing or looping. */
  realPath(path: string): Promise<string | undefined>;
  /** Whole content of a regular file (symlinks followed); BLOB_TOO_LARGE over maxBytes. */
  readFile(path: string, opts?: { maxBytes?: number }): Promise<Uint8Array>;
  /** Stream of a regular file's content (symlinks followed). */
  open(path: string): Promise<AsyncIterable<Uint8Array>>;
}

/** A regular file as the indexing pass meets it, for `capture`. */
export interface CaptureCandidate {
  /** '/…', as stored in the layer (symlinked parents not resolved). */
  path: string;
  size: number;
  /** Permission bits (0o7777). */
  mode: number;
}

/** What the indexing pass takes of one regular file's content. */
export interface Capture {
  /** Keep it whole in memory (only up to keepMaxBytes; bigger ones can be spilled instead). */
  keep?: boolean;
  /** Copy it to a private temp file (files that will be read in full later). */
  spill?: boolean;
  /** sha256 it: FileRecord.digest, and its later re-reads from the layer are checked. */
  hash?: boolean;
  /** Keep its first bytes in memory (when not kept or spilled): a magic check reads no layer. */
  head?: number;
}

export interface MergedViewOptions {
  /** Capture these files' contents in memory during the indexing pass (path is '/…'). */
  keepContents?: (path: string, size: number) => boolean;
  /** Largest file keepContents or capture may keep in memory (default 4 MiB). */
  keepMaxBytes?: number;
  /** sha256 every file while indexing (default true): record digests and checked re-reads. */
  hashFiles?: boolean;
  /**
   * Per regular file, what to take of it during the indexing pass; when given it replaces
   * keepContents and hashFiles (undefined: nothing, the file stays lazy and unhashed).
   */
  capture?: (file: CaptureCandidate) => Capture | undefined;
  /** Where prefetch() spills contents; default a temp dir removed by close(). */
  cacheDir?: string;
  limits?: TarLimits;
}

interface Content {
  layer: number;
  /** Index of the entry in its layer's tar. */
  index: number;
  size: number;
  digest?: Digest;
  kept?: Uint8Array;
  /** The first bytes (see Capture.head), when not kept whole. */
  head?: Uint8Array;
  cached?: string;
  /** Where Capture.spill put it in the spill file. */
  spilled?: number;
}

interface Node {
  rec: FileRecord;
  parent: Node | undefined;
  children?: Map<string, Node>;
  content?: Content;
}

/** Bytes gathered before the spill file is written to. */
const SPILL_BATCH = 1024 * 1024;
/** The first read of a spilled file: enough for headers (ELF tables, zip magic). */
const SPILL_FIRST_READ = 64 * 1024;
/** Later reads of a spilled file. */
const SPILL_READ = 256 * 1024;
const DEFAULT_READ_LIMIT = 64 * 1024 ** 2;

/** Index `layers` (one streaming pass each) into a merged view. */
export function openMergedView(
  layers: readonly LayerInput[],
  opts: MergedViewOptions = {},
): Promise<MergedView> {
  return MergedView.build(layers, opts);
}

export class MergedView implements FileResolver {
  readonly layers: readonly LayerInput[];
  readonly problems: Problem[] = [];
  readonly #opts: MergedViewOptions;
  readonly #root: Node;
  #cacheDir: string | undefined;
  #ownCache = false;
  /** Files spilled while indexing (Capture.spill), one after the other; removed by close(). */
  #spill: SpillFile | undefined;
  #count = 1;
  /** Every node sorted by path; computed once the view is complete. */
  readonly #lookup: TreeLookup<Node>;

  static async build(layers: readonly LayerInput[], opts: MergedViewOptions = {}): Promise<MergedView> {
    const view = new MergedView(layers, opts);
    const budget = new TarBudget(opts.limits);
    try {
      for (let i = 0; i < layers.length; i++) await view.#addLayer(i, budget);
    } catch (e) {
      await view.close();
      throw e;
    }
    return view;
  }

  private constructor(layers: readonly LayerInput[], opts: MergedViewOptions) {
    this.layers = layers;
    this.#opts = opts;
    const digest = layers[0]?.digest ?? parseDigest(`sha256:${'0'.repeat(64)}`);
    this.#root = {
      rec: {
        path: '/',
        type: 'dir',
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtime: 0,
        size: 0,
        layer: 0,
        layerDigest: digest,
        implicit: true,
      },
      parent: undefined,
      children: new Map(),
    };
    this.#lookup = new TreeLookup(this.#root);
    this.#cacheDir = opts.cacheDir;
  }

  /** Number of paths in the view, the root included. */
  get size(): number {
    return this.#count;
  }

  async #addLayer(i: number, budget: TarBudget): Promise<void> {
    const layer = this.layers[i]!;
    const pending: { h: TarHeader; content?: Content }[] = [];
    const opaque: string[] = [];
    const whiteouts: { dir: string; name: string }[] = [];
    const keepMax = this.#opts.keepMaxBytes ?? 4 * 1024 ** 2;
    for await (const e of readTar(await layer.open(), layerTarOptions(i, layer, budget))) {
      const { body, ...h } = e;
      if (h.unsafe !== undefined) {
        this.#problem(i, h.path, h.unsafe);
        continue;
      }
      const wh = classifyWhiteout(baseName(h.path));
      if (wh.kind === 'opaque') opaque.push(parentOf(h.path));
      else if (wh.kind === 'whiteout') whiteouts.push({ dir: parentOf(h.path), name: wh.name });
      else if (wh.kind === 'invalid') this.#problem(i, h.path, wh.reason);
      if (wh.kind !== 'none') continue;
      if (h.type !== 'file') {
        pending.push({ h });
        continue;
      }
      const content: Content = { layer: i, index: h.index, size: h.size };
      const plan = this.#plan(h, keepMax);
      if (plan) await this.#capture(body, content, plan);
      pending.push({ h, content });
    }
    // Whiteouts and opaque markers hide lower layers only: apply them before this layer's entries.
    for (const dir of opaque) {
      const found = this.#resolve(dir, { create: false, followLast: true });
      if (found.ok && found.node.children) {
        this.#count -= countBelow(found.node);
        found.node.children.clear();
      }
    }
    for (const w of whiteouts) {
      const found = this.#resolve(w.dir, { create: false, followLast: true });
      if (!found.ok) continue;
      const victim = found.node.children?.get(w.name);
      if (victim) {
        this.#count -= 1 + countBelow(victim);
        found.node.children!.delete(w.name);
      }
    }
    for (const p of pending) this.#place(i, p.h, p.content);
    await this.#spill?.flush();
  }

  /** What to take of a file while indexing: `capture`, else keepContents and hashFiles. */
  #plan(h: TarHeader, keepMax: number): Capture | undefined {
    const o = this.#opts;
    if (o.capture) {
      const c = o.capture({ path: `/${h.path}`, size: h.size, mode: h.mode });
      if (!c) return undefined;
      const keep = c.keep === true && h.size <= keepMax;
      const spill = c.spill === true && !keep && h.size > 0;
      const head = keep || spill ? 0 : Math.min(c.head ?? 0, h.size);
      if (!keep && !spill && c.hash !== true && head === 0) return undefined;
      return { keep, spill, hash: c.hash === true, head };
    }
    const keep = h.size <= keepMax && o.keepContents?.(`/${h.path}`, h.size) === true;
    // A kept file is hashed too (its digest costs nothing more).
    return keep || (o.hashFiles ?? true) ? { keep, hash: true } : undefined;
  }

  /** Consume a file's body once, taking what `plan` says. */
  async #capture(body: AsyncIterable<Uint8Array>, content: Content, plan: Capture): Promise<void> {
    const sha = plan.hash ? createHash('sha256') : undefined;
    const chunks: Uint8Array[] | undefined = plan.keep ? [] : undefined;
    const want = plan.head ?? 0;
    const head: Uint8Array[] = [];
    let got = 0;
    if (plan.spill) this.#spill ??= await SpillFile.create();
    const out = plan.spill ? this.#spill : undefined;
    const at = out?.size;
    let n = 0;
    for await (const c of body) {
      sha?.update(c);
      chunks?.push(c);
      if (got < want) {
        head.push(c.subarray(0, want - got));
        got += Math.min(c.byteLength, want - got);
      }
      n += c.byteLength;
      await out?.append(c);
    }
    if (sha) content.digest = parseDigest(`sha256:${sha.digest('hex')}`);
    if (chunks) content.kept = Buffer.concat(chunks);
    if (want > 0) content.head = Buffer.concat(head);
    if (at !== undefined) {
      if (n !== content.size) throw new VouchError('INTERNAL', `entry ${content.index}: ${n} bytes read`);
      content.spilled = at;
    }
  }

  #problem(layer: number, path: string, reason: string): void {
    this.problems.push({ path, layer, layerDigest: this.layers[layer]!.digest, reason });
  }

  #place(i: number, h: TarHeader, content: Content | undefined): void {
    const layerDigest = this.layers[i]!.digest;
    if (h.path === '') {
      if (h.type !== 'dir') this.#problem(i, h.path, `the root must be a directory, found a ${h.type}`);
      else {
        Object.assign(this.#root.rec, meta(h, i, layerDigest));
        delete this.#root.rec.implicit;
      }
      return;
    }
    const parent = this.#resolve(parentOf(h.path), { create: true, followLast: true, layer: i });
    if (!parent.ok) {
      this.#problem(i, h.path, parent.reason);
      return;
    }
    const dir = parent.node;
    const name = baseName(h.path);
    const existing = dir.children!.get(name);
    const path = childPath(dir, name);
    if (h.type === 'dir' && existing?.children) {
      Object.assign(existing.rec, meta(h, i, layerDigest));
      delete existing.rec.implicit;
      return;
    }
    const rec: FileRecord = { ...meta(h, i, layerDigest), path };
    const node: Node = { rec, parent: dir };
    if (h.type === 'dir') node.children = new Map();
    if (h.type === 'file' && content) {
      node.content = content;
      if (content.digest) rec.digest = content.digest;
    }
    if (h.type === 'hardlink') {
      const target = this.#resolve(h.linkname!, { create: false, followLast: false });
      if (!target.ok) {
        this.#problem(i, h.path, `hardlink target "${h.linkname}": ${target.reason}`);
        return;
      }
      const t = target.node;
      if (t.children) {
        this.#problem(i, h.path, `hardlink target "${h.linkname}" is a directory`);
        return;
      }
      // A hardlink is another name for the same inode: same type, content and metadata.
      Object.assign(rec, { ...t.rec, path, layer: i, layerDigest, hardlinkOf: t.rec.path });
      if (t.content) node.content = t.content;
    }
    if (existing) this.#count -= 1 + countBelow(existing);
    this.#count++;
    dir.children!.set(name, node);
  }

  /**
   * Walk `path` from the root. Symlinks in the middle are always followed (inside the root:
   * absolute targets start at the root, '..' stops at it); the last one only with followLast.
   * With `create`, missing directories are made (implicit), like MkdirAll during unpacking.
   */
  #resolve(path: string, o: { create: boolean; followLast: boolean; layer?: number }): Found<Node> {
    return resolveNode(this.#root, path, {
      followLast: o.followLast,
      ...(o.create
        ? { create: (parent: Node, name: string) => this.#implicitDir(parent, name, o.layer ?? 0) }
        : {}),
    });
  }

  #implicitDir(parent: Node, name: string, layer: number): Node {
    const path = childPath(parent, name);
    const node: Node = {
      rec: {
        path,
        type: 'dir',
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtime: 0,
        size: 0,
        layer,
        layerDigest: this.layers[layer]!.digest,
        implicit: true,
      },
      parent,
      children: new Map(),
    };
    parent.children!.set(name, node);
    this.#count++;
    return node;
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
    const chunks: Uint8Array[] = [];
    for await (const c of await this.#openContent(node)) chunks.push(c);
    return Buffer.concat(chunks);
  }

  async open(path: string): Promise<AsyncIterable<Uint8Array>> {
    return this.#openContent(this.#fileNode(path));
  }

  #fileNode(path: string): Node {
    const f = this.#resolve(path, { create: false, followLast: true });
    if (!f.ok) throw new VouchError('FILE_NOT_FOUND', `${path}: ${f.reason}`);
    if (f.node.rec.type !== 'file' || !f.node.content) {
      throw new VouchError(
        'FILE_NOT_FOUND',
        `${f.node.rec.path} is a ${f.node.rec.type}, not a regular file`,
      );
    }
    return f.node;
  }

  async #openContent(node: Node): Promise<AsyncIterable<Uint8Array>> {
    const c = node.content!;
    if (c.kept) return once(c.kept);
    if (c.size === 0) return once(new Uint8Array(0));
    if (c.spilled !== undefined && this.#spill) return this.#spill.read(c.spilled, c.size);
    if (c.head && c.head.byteLength > 0) return this.#afterHead(node, c.head);
    return this.#full(node);
  }

  #full(node: Node): AsyncIterable<Uint8Array> {
    const c = node.content!;
    const what = `${node.rec.path} (layer ${c.layer})`;
    const check = (src: AsyncIterable<Uint8Array>) =>
      c.digest ? verified(src, { digest: c.digest, size: c.size }, what) : src;
    if (c.cached) return check(createReadStream(c.cached));
    return check(this.#fromLayer(c, what));
  }

  /** The kept first bytes, then (only if the reader goes on) the rest from where the file is. */
  async *#afterHead(node: Node, head: Uint8Array): AsyncGenerator<Uint8Array> {
    yield head;
    if (head.byteLength >= node.content!.size) return;
    let skip = head.byteLength;
    for await (const chunk of this.#full(node)) {
      if (skip >= chunk.byteLength) {
        skip -= chunk.byteLength;
        continue;
      }
      yield skip > 0 ? chunk.subarray(skip) : chunk;
      skip = 0;
    }
  }

  async *#fromLayer(c: Content, what: string): AsyncGenerator<Uint8Array> {
    const layer = this.layers[c.layer]!;
    for await (const e of readTar(await layer.open(), {
      what: `layer ${c.layer} (${layer.digest})`,
      unsafePaths: 'flag',
    })) {
      if (e.index < c.index) continue;
      if (e.index > c.index || e.type !== 'file') break;
      yield* e.body;
      return;
    }
    throw new VouchError('LAYER_INVALID', `${what}: entry ${c.index} is gone when the layer is read again`);
  }

  /**
   * Copy the contents of the files `filter` selects (all files by default) to the disk cache,
   * reading each layer involved once. Later open()/readFile() of them read the cache.
   */
  async prefetch(filter: (rec: FileRecord) => boolean = () => true): Promise<void> {
    const byLayer = new Map<number, Map<number, Content>>();
    for (const n of this.#lookup.nodes()) {
      const c = n.content;
      if (!c || c.kept || c.cached || c.spilled !== undefined || !filter(n.rec)) continue;
      const m = byLayer.get(c.layer) ?? new Map<number, Content>();
      m.set(c.index, c);
      byLayer.set(c.layer, m);
    }
    if (byLayer.size === 0) return;
    const dir = await this.#cache();
    for (const [li, wanted] of [...byLayer].sort((a, b) => a[0] - b[0])) {
      const layer = this.layers[li]!;
      let left = wanted.size;
      for await (const e of readTar(await layer.open(), {
        what: `layer ${li} (${layer.digest})`,
        unsafePaths: 'flag',
      })) {
        const c = wanted.get(e.index);
        if (!c || e.type !== 'file') continue;
        c.cached = await spill(dir, e.body, c, `${e.path} (layer ${li})`);
        if (--left === 0) break;
      }
      if (left > 0) {
        throw new VouchError(
          'LAYER_INVALID',
          `layer ${li} (${layer.digest}): ${left} entries are gone when it is read again`,
        );
      }
    }
  }

  async #cache(): Promise<string> {
    if (this.#cacheDir === undefined) {
      this.#cacheDir = await mkdtemp(join(tmpdir(), 'vouch-fs-'));
      this.#ownCache = true;
    }
    return this.#cacheDir;
  }

  /** Remove the private content cache and the spill file, if they were made. */
  async close(): Promise<void> {
    if (this.#ownCache && this.#cacheDir !== undefined)
      await rm(this.#cacheDir, { recursive: true, force: true });
    await this.#spill?.remove();
    this.#cacheDir = undefined;
    this.#ownCache = false;
    this.#spill = undefined;
    for (const n of this.#lookup.nodes()) {
      if (n.content) {
        n.content.cached = undefined;
        n.content.spilled = undefined;
      }
    }
  }
}

/**
 * Write a body to the cache and return its file: named by content digest when known (identical
 * files are stored once, and the copy is verified), else by layer and entry.
 */
async function spill(
  dir: string,
  body: AsyncIterable<Uint8Array>,
  c: Content,
  what: string,
): Promise<string> {
  const final = join(dir, c.digest ? digestHex(c.digest) : `layer${c.layer}-entry${c.index}`);
  const have = await fsStat(final).catch(() => undefined);
  if (c.digest && have?.size === c.size) return final;
  const src = c.digest ? verified(body, { digest: c.digest, size: c.size }, what) : body;
  const out = await createAtomicWriteStream(final, { fsync: false });
  try {
    for await (const chunk of src) await out.write(chunk);
    await out.commit();
  } catch (e) {
    await out.abort();
    throw e;
  }
  return final;
}

/** One private temp file that entries are appended to, written in large batches. */
class SpillFile {
  readonly #dir: string;
  readonly #path: string;
  readonly #fh: FileHandle;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Bytes appended so far (written or pending). */
  size = 0;

  private constructor(dir: string, fh: FileHandle) {
    this.#dir = dir;
    this.#path = join(dir, 'spill');
    this.#fh = fh;
  }

  static async create(): Promise<SpillFile> {
    const dir = await mkdtemp(join(tmpdir(), 'vouch-spill-'));
    try {
      return new SpillFile(dir, await open(join(dir, 'spill'), 'wx+', 0o600));
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  async append(chunk: Uint8Array): Promise<void> {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.byteLength;
    this.size += chunk.byteLength;
    if (this.#pendingBytes >= SPILL_BATCH) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    const want = this.#pendingBytes;
    this.#pending = [];
    this.#pendingBytes = 0;
    const { bytesWritten } = await this.#fh.writev(batch);
    if (bytesWritten !== want) {
      throw new VouchError('IO_ERROR', `${this.#path}: wrote ${bytesWritten} of ${want} bytes`);
    }
  }

  /**
   * Bytes [at, at + size), only after flush(): positional reads on the one open handle, a
   * small first read (a header check stops there), larger ones after.
   */
  async *read(at: number, size: number): AsyncGenerator<Uint8Array> {
    let pos = at;
    const end = at + size;
    let step = SPILL_FIRST_READ;
    while (pos < end) {
      const buf = Buffer.allocUnsafe(Math.min(step, end - pos));
      const { bytesRead } = await this.#fh.read(buf, 0, buf.byteLength, pos);
      if (bytesRead === 0)
        throw new VouchError('IO_ERROR', `${this.#path}: ends at byte ${pos}, before ${end}`);
      pos += bytesRead;
      step = SPILL_READ;
      yield buf.subarray(0, bytesRead);
    }
  }

  async remove(): Promise<void> {
    await this.#fh.close().catch(() => undefined);
    await rm(this.#dir, { recursive: true, force: true });
  }
}

function meta(h: TarHeader, layer: number, layerDigest: Digest): Omit<FileRecord, 'path'> {
  const m: Omit<FileRecord, 'path'> = {
    type: h.type,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    mtime: h.mtime,
    size: h.size,
    layer,
    layerDigest,
  };
  if (h.linkname !== undefined && h.type === 'symlink') m.linkname = h.linkname;
  if (h.devmajor !== undefined) m.devmajor = h.devmajor;
  if (h.devminor !== undefined) m.devminor = h.devminor;
  if (h.xattrs) m.xattrs = h.xattrs;
  return m;
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

function countBelow(n: Node): number {
  if (!n.children) return 0;
  let total = 0;
  for (const c of n.children.values()) total += 1 + countBelow(c);
  return total;
}
