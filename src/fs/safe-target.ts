/**
 * A directory that untrusted archive paths are written into, openat-style: every parent
 * component is checked with lstat from the root down; a symlink met on the way is resolved
 * by hand inside the root (absolute targets restart at the root, '..' stops at it), so no path
 * can lead outside. The last component is never followed: creations use O_EXCL|O_NOFOLLOW,
 * mkdir, symlink or link, which fail on an existing name instead of following it.
 * Sound because this process is the only writer of the tree while it extracts.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readlink, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { VouchError } from '../errors.ts';
import { splitPath } from './path.ts';

const MAX_HOPS = 40;

export type Resolved = { ok: true; abs: string; rel: string } | { ok: false; reason: string };

export class SafeTarget {
  readonly root: string;
  /** Parent directory (rel) → its resolved rel path; cleared whenever something is removed. */
  #dirs = new Map<string, string>();

  private constructor(root: string) {
    this.root = root;
  }

  /** The target directory is created if missing; a symlink given as target is resolved once. */
  static async open(target: string): Promise<SafeTarget> {
    try {
      await mkdir(target, { recursive: true });
      const root = await realpath(target);
      if (!(await lstat(root)).isDirectory()) throw new Error('not a directory');
      return new SafeTarget(root);
    } catch (e) {
      throw new VouchError('IO_ERROR', `cannot use ${target} as extraction target (${errCode(e)})`, {
        cause: e,
      });
    }
  }

  /**
   * Host path for `rel` (a normalised path without '..'): parents resolved inside the root and,
   * with `create`, made as directories when missing; the last component is left unresolved.
   */
  async resolve(rel: string, create: boolean): Promise<Resolved> {
    const parts = splitPath(rel);
    const name = parts.pop();
    if (name === undefined) return { ok: true, abs: this.root, rel: '' };
    const parentRel = parts.join('/');
    let dir = this.#dirs.get(parentRel);
    if (dir === undefined) {
      const r = await this.#resolveDir(parts, create);
      if (!r.ok) return r;
      dir = r.rel;
      this.#dirs.set(parentRel, dir);
    }
    const out = dir === '' ? name : `${dir}/${name}`;
    return { ok: true, abs: join(this.root, out), rel: out };
  }

  async #resolveDir(parts: string[], create: boolean): Promise<Resolved> {
    const stack = [...parts].reverse();
    const cur: string[] = [];
    let hops = 0;
    while (stack.length > 0) {
      const c = stack.pop()!;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        cur.pop();
        continue;
      }
      const abs = join(this.root, ...cur, c);
      const st = await this.lstat(abs);
      if (st === undefined) {
        if (!create) return { ok: false, reason: `/${[...cur, c].join('/')} does not exist` };
        await mkdir(abs, { mode: 0o755 });
        cur.push(c);
      } else if (st.isSymbolicLink()) {
        if (++hops > MAX_HOPS)
          return { ok: false, reason: `too many levels of symlinks at /${[...cur, c].join('/')}` };
        const target = await readlink(abs);
        if (target.startsWith('/')) cur.length = 0;
        for (const p of splitPath(target).reverse()) stack.push(p);
      } else if (st.isDirectory()) {
        cur.push(c);
      } else {
        return { ok: false, reason: `/${[...cur, c].join('/')} is not a directory` };
      }
    }
    const rel = cur.join('/');
    return { ok: true, abs: join(this.root, rel), rel };
  }

  async lstat(abs: string): Promise<Stats | undefined> {
    try {
      return await lstat(abs);
    } catch (e) {
      if (errCode(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Remove whatever is at `abs` (a directory with its content; symlinks are not followed). */
  async remove(abs: string): Promise<void> {
    if (abs === this.root) throw new VouchError('INTERNAL', 'refusing to remove the extraction root');
    this.#dirs.clear();
    await rm(abs, { recursive: true, force: true });
  }

  /**
   * Create a new regular file at `abs` (never through a symlink), stream `body` into it, then
   * set owner (when given) and mode on the open file.
   */
  async writeFile(
    abs: string,
    body: AsyncIterable<Uint8Array>,
    attrs: { mode: number; owner?: { uid: number; gid: number } },
  ): Promise<number> {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const fh = await open(abs, flags, 0o600);
    let n = 0;
    try {
      for await (const chunk of body) {
        let off = 0;
        while (off < chunk.byteLength) off += (await fh.write(chunk, off)).bytesWritten;
        n += chunk.byteLength;
      }
      // chown first: it clears setuid bits that chmod then sets.
      if (attrs.owner) await fh.chown(attrs.owner.uid, attrs.owner.gid);
      await fh.chmod(attrs.mode);
    } finally {
      await fh.close();
    }
    return n;
  }
}

export function errCode(e: unknown): string {
  return (e as { code?: string }).code ?? String((e as Error).message ?? e);
}
