/**
 * The in-memory path tree behind every FileResolver (the merged image view, a directory on
 * disk): symlink-aware resolution that never leaves the root, and sorted listings.
 */
import { globMatcher } from './glob.ts';
import { compareBytes, splitPath, toImagePath } from './path.ts';
import type { FileRecord } from './types.ts';

export interface TreeNode<N> {
  rec: FileRecord;
  parent: N | undefined;
  children?: Map<string, N>;
}

export type Found<N> = { ok: true; node: N } | { ok: false; reason: string };

const MAX_HOPS = 40;

export function childPath<N extends TreeNode<N>>(dir: N, name: string): string {
  return dir.parent === undefined ? `/${name}` : `${dir.rec.path}/${name}`;
}

/**
 * Walk `path` from `root`: middle symlinks are always followed, the last one only with
 * followLast; '..' stops at the root and absolute link targets restart there, so nothing
 * escapes. With `create`, missing directories are made (used while indexing layers).
 */
export function resolveNode<N extends TreeNode<N>>(
  root: N,
  path: string,
  o: { followLast: boolean; create?: (parent: N, name: string) => N },
): Found<N> {
  const stack = splitPath(toImagePath(path)).reverse();
  let cur = root;
  let hops = 0;
  while (stack.length > 0) {
    const c = stack.pop()!;
    if (c === '.' || c === '') continue;
    if (c === '..') {
      cur = cur.parent ?? root;
      continue;
    }
    const last = stack.length === 0;
    let child = cur.children?.get(c);
    if (!child) {
      if (!o.create) return { ok: false, reason: `${childPath(cur, c)} does not exist` };
      child = o.create(cur, c);
    }
    if (child.rec.type === 'symlink' && (!last || o.followLast)) {
      if (++hops > MAX_HOPS) return { ok: false, reason: `too many levels of symlinks at ${child.rec.path}` };
      const target = child.rec.linkname ?? '';
      if (target.startsWith('/')) cur = root;
      for (const part of splitPath(target).reverse()) stack.push(part);
      continue;
    }
    if ((!last || o.create) && !child.children) {
      return { ok: false, reason: `${child.rec.path} is not a directory` };
    }
    cur = child;
  }
  return { ok: true, node: cur };
}

/** Every node under `root` (itself included), sorted by path in byte order. */
export function sortedNodes<N extends TreeNode<N>>(root: N): N[] {
  const out: N[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    out.push(n);
    if (n.children) for (const c of n.children.values()) stack.push(c);
  }
  return out.sort((a, b) => compareBytes(a.rec.path, b.rec.path));
}

/** A directory's children's records, sorted by name. */
export function childRecords<N extends TreeNode<N>>(node: N | undefined): FileRecord[] {
  if (!node?.children) return [];
  const children = node.children;
  return [...children.keys()].sort(compareBytes).map((k) => children.get(k)!.rec);
}

/**
 * The read-only lookups of a FileResolver over a finished path tree (the merged image view,
 * a directory on disk): one implementation, so both answer stat, list and glob alike.
 */
export class TreeLookup<N extends TreeNode<N>> {
  readonly #root: N;
  #sorted: N[] | undefined;

  constructor(root: N) {
    this.#root = root;
  }

  find(path: string, followLast: boolean): N | undefined {
    const f = resolveNode(this.#root, path, { followLast });
    return f.ok ? f.node : undefined;
  }

  /** Every node, sorted by path; computed once, on first use after the tree is built. */
  nodes(): N[] {
    this.#sorted ??= sortedNodes(this.#root);
    return this.#sorted;
  }

  stat(path: string): FileRecord | undefined {
    return this.find(path, true)?.rec;
  }

  lstat(path: string): FileRecord | undefined {
    return this.find(path, false)?.rec;
  }

  list(dir: string): FileRecord[] {
    return childRecords(this.find(dir, true));
  }

  glob(pattern: string): FileRecord[] {
    const match = globMatcher(pattern);
    return this.nodes()
      .filter((n) => n !== this.#root && match(n.rec.path))
      .map((n) => n.rec);
  }

  realPath(path: string): string | undefined {
    return this.find(path, true)?.rec.path;
  }
}
