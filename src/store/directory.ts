/**
 * The default artifact store: a local directory. Keys map to files under the root.
 *
 * - Atomic: each put writes `<file>.<random>.tmp` in the target directory, fsyncs it, renames it
 *   over the file and fsyncs the directory (src/util/atomic.ts), so a crash or a failed write
 *   leaves the previous file whole.
 * - Confined: keys cannot name `..` (key.ts), and no symbolic link inside the root is followed,
 *   neither a directory on the way nor the file itself: a link planted in the store (pointing at
 *   ~/.ssh, /etc, …) makes the operation fail with UNSAFE_PATH instead of writing through it.
 *   Each path component is checked with lstat and files are opened with O_NOFOLLOW. (Someone who
 *   can swap a directory for a link between the check and the write can write to the root
 *   anyway; the check is against links already there, not against a concurrent attacker.)
 */

import { createHash } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir, realpath, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isVouchError, VouchError } from '../errors.ts';
import { createAtomicWriteStream } from '../util/atomic.ts';
import { isValidKey, keySegments, TEMP_NAME, validatePrefix } from './key.ts';
import {
  type ArtifactStore,
  checkAborted,
  chunksOf,
  type ListEntry,
  type ObjectInfo,
  type ObjectReader,
  type PutBody,
  type PutOptions,
  type PutResult,
  type ReadOptions,
  verifiedBody,
} from './store.ts';

export interface DirectoryStoreOptions {
  /** Create the root (and its parents) when missing; default true. */
  create?: boolean;
}

export class DirectoryStore implements ArtifactStore {
  /** The root, absolute and with its own links resolved (the root itself may be a link). */
  readonly root: string;
  readonly description: string;

  private constructor(root: string) {
    this.root = root;
    this.description = `dir:${root}`;
  }

  static async open(directory: string, options: DirectoryStoreOptions = {}): Promise<DirectoryStore> {
    try {
      if (options.create ?? true) await mkdir(directory, { recursive: true });
      const root = await realpath(directory);
      if (!(await stat(root)).isDirectory()) {
        throw new VouchError('STORE_ERROR', `artifact store ${directory} is not a directory`);
      }
      return new DirectoryStore(root);
    } catch (e) {
      if (isVouchError(e)) throw e;
      throw fsError(`cannot open artifact store ${directory}`, e);
    }
  }

  async put(key: string, body: PutBody, options: PutOptions): Promise<PutResult> {
    checkAborted(options.signal, `writing ${key}`);
    const { path } = await this.#resolve(key, 'write');
    const out = await createAtomicWriteStream(path, { mode: 0o644 }).catch((e: unknown) => {
      throw fsError(`${this.description}: cannot write ${key}`, e);
    });
    const h = createHash('sha256');
    const failed = (e: unknown) => {
      throw fsError(`${this.description}: cannot write ${key}`, e);
    };
    try {
      for await (const chunk of chunksOf(body)) {
        checkAborted(options.signal, `writing ${key}`);
        h.update(chunk);
        await out.write(chunk).catch(failed);
      }
      await out.commit().catch(failed);
    } catch (e) {
      // The temp file goes; whatever `key` held before is untouched.
      await out.abort();
      throw e;
    }
    await syncDir(join(path, '..'));
    return { key, size: out.bytesWritten, sha256: h.digest('hex') };
  }

  async get(key: string, options: ReadOptions = {}): Promise<ObjectReader | undefined> {
    checkAborted(options.signal, `reading ${key}`);
    const fh = await this.#openFile(key);
    if (fh === undefined) return undefined;
    const size = (await fh.stat()).size;
    // The open handle pins this version of the file: a concurrent put renames a new file over
    // the name, and this reader still sees the old one whole.
    const raw = fh.createReadStream({ autoClose: true });
    return {
      key,
      size,
      body: verifiedBody(raw, `${this.description}/${key}`, size, undefined, options.signal),
    };
  }

  async head(key: string, options: ReadOptions = {}): Promise<ObjectInfo | undefined> {
    checkAborted(options.signal, `reading ${key}`);
    const fh = await this.#openFile(key);
    if (fh === undefined) return undefined;
    try {
      const h = createHash('sha256');
      let size = 0;
      for await (const c of fh.createReadStream({ autoClose: false })) {
        h.update(c as Buffer);
        size += (c as Buffer).byteLength;
      }
      return { key, size, sha256: h.digest('hex') };
    } catch (e) {
      throw fsError(`${this.description}: cannot read ${key}`, e);
    } finally {
      await fh.close().catch(() => {});
    }
  }

  async *list(prefix: string, options: ReadOptions = {}): AsyncGenerator<ListEntry> {
    validatePrefix(prefix);
    // Start the walk at the deepest directory the prefix names completely.
    const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = dirPart === '' ? this.root : await this.#resolveDir(dirPart);
    if (start === undefined) return;
    const found: ListEntry[] = [];
    await this.#walk(start, dirPart, prefix, found, options.signal);
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* found;
  }

  async delete(key: string, options: ReadOptions = {}): Promise<void> {
    checkAborted(options.signal, `deleting ${key}`);
    const { path, exists } = await this.#resolve(key, 'read');
    if (!exists) return;
    try {
      await unlink(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw fsError(`${this.description}: cannot delete ${key}`, e);
    }
    await syncDir(join(path, '..'));
  }

  async close(): Promise<void> {}

  /**
   * The file path of `key`, checking each directory on the way with lstat: a link is refused
   * (UNSAFE_PATH), a missing directory is created for 'write' and means "no such key" for
   * 'read'. The file itself must be absent (exists: false) or a regular file, never a link.
   */
  async #resolve(key: string, mode: 'read' | 'write'): Promise<{ path: string; exists: boolean }> {
    const segs = keySegments(key);
    const file = segs.pop() ?? '';
    let dir = this.root;
    let rel = '';
    for (const seg of segs) {
      dir = join(dir, seg);
      rel = rel === '' ? seg : `${rel}/${seg}`;
      let st = await lstatOrUndefined(dir, key, this.description);
      if (st === undefined) {
        if (mode === 'read') return { path: join(this.root, ...segs, file), exists: false };
        await mkdir(dir).catch((e: unknown) => {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
            throw fsError(`${this.description}: cannot create directory ${rel} for ${key}`, e);
          }
        });
        st = await lstatOrUndefined(dir, key, this.description);
      }
      if (st?.isSymbolicLink()) throw linkRefused(key, rel);
      if (!st?.isDirectory()) {
        throw new VouchError(
          'STORE_ERROR',
          `${this.description}: cannot use ${key}: ${rel} is not a directory`,
        );
      }
    }
    const path = join(dir, file);
    const st = await lstatOrUndefined(path, key, this.description);
    if (st?.isSymbolicLink()) throw linkRefused(key, key);
    if (st !== undefined && !st.isFile()) {
      throw new VouchError('STORE_ERROR', `${this.description}: ${key} exists but is not a regular file`);
    }
    return { path, exists: st !== undefined };
  }

  async #resolveDir(relDir: string): Promise<string | undefined> {
    let dir = this.root;
    let rel = '';
    for (const seg of relDir.split('/')) {
      dir = join(dir, seg);
      rel = rel === '' ? seg : `${rel}/${seg}`;
      const st = await lstatOrUndefined(dir, relDir, this.description);
      if (st === undefined || (!st.isDirectory() && !st.isSymbolicLink())) return undefined;
      if (st.isSymbolicLink()) throw linkRefused(`${relDir}/`, rel);
    }
    return dir;
  }

  /** Open `key` read-only without following a link at any step; undefined when missing. */
  async #openFile(key: string): Promise<FileHandle | undefined> {
    const { path, exists } = await this.#resolve(key, 'read');
    if (!exists) return undefined;
    try {
      const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      if (!(await fh.stat()).isFile()) {
        await fh.close();
        throw new VouchError('STORE_ERROR', `${this.description}: ${key} is not a regular file`);
      }
      return fh;
    } catch (e) {
      if (isVouchError(e)) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code === 'ELOOP') throw linkRefused(key, key);
      throw fsError(`${this.description}: cannot read ${key}`, e);
    }
  }

  async #walk(
    dir: string,
    rel: string,
    prefix: string,
    out: ListEntry[],
    signal?: AbortSignal,
  ): Promise<void> {
    checkAborted(signal, `listing ${this.description}`);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      throw fsError(`${this.description}: cannot list ${rel || '.'}`, e);
    }
    for (const ent of entries) {
      const key = rel === '' ? ent.name : `${rel}/${ent.name}`;
      // Links are never followed (nor listed); temp files are writes in progress or left by a crash.
      if (ent.isDirectory()) {
        const d = `${key}/`;
        if (d.startsWith(prefix) || prefix.startsWith(d))
          await this.#walk(join(dir, ent.name), key, prefix, out, signal);
      } else if (ent.isFile() && key.startsWith(prefix) && !TEMP_NAME.test(ent.name) && isValidKey(key)) {
        const st = await lstat(join(dir, ent.name)).catch(() => undefined);
        if (st?.isFile()) out.push({ key, size: st.size });
      }
    }
  }
}

async function lstatOrUndefined(path: string, key: string, where: string) {
  try {
    return await lstat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fsError(`${where}: cannot look up ${key}`, e);
  }
}

/** fsync a directory so a rename or unlink in it survives a crash (best effort: some filesystems refuse). */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY).catch(() => undefined);
  if (fh === undefined) return;
  await fh.sync().catch(() => {});
  await fh.close().catch(() => {});
}

function linkRefused(key: string, rel: string): VouchError {
  return new VouchError(
    'UNSAFE_PATH',
    `refusing ${key}: ${rel} is a symbolic link, and the artifact store does not follow links`,
    { hint: 'remove the link from the store directory; keys must name plain files and directories' },
  );
}

function fsError(message: string, cause: unknown): VouchError {
  if (isVouchError(cause) && cause.code !== 'IO_ERROR') return cause;
  const code = (cause as { code?: unknown }).code;
  const why = typeof code === 'string' ? code : cause instanceof Error ? cause.message : String(cause);
  return new VouchError('STORE_ERROR', `${message}: ${why}`, { cause });
}
