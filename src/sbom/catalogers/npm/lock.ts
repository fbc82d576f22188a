/**
 * What every JavaScript lockfile parser returns: resolved packages with their dependency
 * edges (by entry key) and, when the lockfile or the project's package.json can tell,
 * whether each one is needed only for development.
 */

export interface LockEntry {
  /** Unique within one lockfile ('node_modules/debug', 'debug@2.6.9', ...). */
  key: string;
  name: string;
  version: string;
  /** Install path relative to the lockfile's directory, when the lockfile records it (npm). */
  path?: string;
  /** true: only reachable from devDependencies; undefined: cannot tell. */
  dev?: boolean;
  resolved?: string;
  integrity?: string;
  licenses?: string[];
  /** Keys of the entries this one depends on. */
  deps: string[];
}

export interface ParsedLock {
  format: 'package-lock' | 'yarn' | 'pnpm';
  /** As written in the lockfile: '3', 'yarn v1', '8' (berry __metadata.version), '9.0', 5.4. */
  lockfileVersion: string;
  entries: LockEntry[];
}

/** The names (and version ranges) a project depends on, from its package.json. */
export interface ProjectDeps {
  prod: Map<string, string>;
  dev: Map<string, string>;
}

/**
 * Mark entries dev when they are not reachable from `roots` (keys of the production
 * dependencies). Entries are left undefined when there are no roots to start from.
 */
export function markDevByReachability(entries: LockEntry[], roots: string[] | undefined): void {
  if (!roots) return;
  const byKey = new Map(entries.map((e) => [e.key, e]));
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const k = stack.pop()!;
    if (seen.has(k)) continue;
    seen.add(k);
    for (const d of byKey.get(k)?.deps ?? []) stack.push(d);
  }
  for (const e of entries) e.dev = !seen.has(e.key);
}
