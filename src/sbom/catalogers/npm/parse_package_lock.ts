/**
 * npm's package-lock.json (and npm-shrinkwrap.json):
 *  - lockfileVersion 2 and 3: `packages` keyed by install path ('node_modules/a/node_modules/b'),
 *    '' being the project itself; `name` only when it differs from the path (aliases);
 *    `dev: true` for packages needed only in development; `link: true` for workspace links;
 *  - lockfileVersion 1: a `dependencies` tree (nested `dependencies` = nested node_modules),
 *    `requires` naming what each needs; an alias's version is 'npm:real-name@1.2.3'.
 * Entries outside any node_modules (workspace packages: the project's own code) and links are
 * left out; so are `file:` dependencies.
 */
import { FormatError } from '../golang/byte-source.ts';
import type { LockEntry, ParsedLock } from './lock.ts';
import { isObject, packageLicenses, parseAlias } from './parse_package_json.ts';

export function parsePackageLock(text: string): ParsedLock {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new FormatError(`not JSON: ${(e as Error).message}`);
  }
  if (!isObject(raw)) throw new FormatError('not a JSON object');
  const v = raw.lockfileVersion;
  if (typeof v !== 'number') throw new FormatError('no lockfileVersion');
  if ((v === 2 || v === 3) && isObject(raw.packages)) {
    return { format: 'package-lock', lockfileVersion: String(v), entries: fromPackages(raw.packages) };
  }
  if (v === 1 || (v === 2 && isObject(raw.dependencies))) {
    return {
      format: 'package-lock',
      lockfileVersion: String(v),
      entries: fromDependencies(raw.dependencies),
    };
  }
  throw new FormatError(`unsupported lockfileVersion ${v}`);
}

function fromPackages(packages: Record<string, unknown>): LockEntry[] {
  const entries: LockEntry[] = [];
  const meta = new Map<string, Record<string, unknown>>();
  for (const [key, e] of Object.entries(packages)) {
    if (key === '' || !key.includes('node_modules/')) continue;
    if (!isObject(e)) throw new FormatError(`packages["${key}"] is not an object`);
    if (e.link === true) continue;
    const name = typeof e.name === 'string' ? e.name : nameFromPath(key);
    const version = e.version;
    if (typeof version !== 'string' || version === '')
      throw new FormatError(`packages["${key}"] has no version`);
    if (version.startsWith('file:')) continue;
    const entry: LockEntry = { key, name, version, path: key, deps: [] };
    if (e.dev === true) entry.dev = true;
    else entry.dev = false;
    if (typeof e.resolved === 'string') entry.resolved = e.resolved;
    if (typeof e.integrity === 'string') entry.integrity = e.integrity;
    const lic = packageLicenses(e);
    if (lic.length > 0) entry.licenses = lic;
    entries.push(entry);
    meta.set(key, e);
  }
  const keys = new Set(entries.map((x) => x.key));
  for (const entry of entries) {
    const e = meta.get(entry.key)!;
    const names = [
      ...Object.keys(isObject(e.dependencies) ? e.dependencies : {}),
      ...Object.keys(isObject(e.optionalDependencies) ? e.optionalDependencies : {}),
    ];
    for (const n of new Set(names)) {
      const to = nodeResolve(keys, entry.key, n);
      if (to) entry.deps.push(to);
    }
  }
  return entries;
}

function fromDependencies(deps: unknown): LockEntry[] {
  const entries: LockEntry[] = [];
  const requires = new Map<string, string[]>();
  const walk = (tree: unknown, parent: string) => {
    if (tree === undefined) return;
    if (!isObject(tree)) throw new FormatError(`dependencies under "${parent || '/'}" is not an object`);
    for (const [depName, d] of Object.entries(tree)) {
      const key = `${parent ? `${parent}/` : ''}node_modules/${depName}`;
      if (!isObject(d)) throw new FormatError(`dependencies["${depName}"] is not an object`);
      const version = d.version;
      if (typeof version !== 'string' || version === '') throw new FormatError(`${key} has no version`);
      if (version.startsWith('file:')) continue;
      const alias = parseAlias(version);
      const entry: LockEntry = {
        key,
        name: alias?.name ?? depName,
        version: alias?.version ?? version,
        path: key,
        dev: d.dev === true,
        deps: [],
      };
      if (typeof d.resolved === 'string') entry.resolved = d.resolved;
      if (typeof d.integrity === 'string') entry.integrity = d.integrity;
      entries.push(entry);
      requires.set(key, Object.keys(isObject(d.requires) ? d.requires : {}));
      walk(d.dependencies, key);
    }
  };
  walk(deps, '');
  const keys = new Set(entries.map((x) => x.key));
  for (const entry of entries) {
    for (const n of requires.get(entry.key) ?? []) {
      const to = nodeResolve(keys, entry.key, n);
      if (to) entry.deps.push(to);
    }
  }
  return entries;
}

/** 'node_modules/a/node_modules/@s/b' → '@s/b'. */
export function nameFromPath(path: string): string {
  const i = path.lastIndexOf('node_modules/');
  return path.slice(i + 'node_modules/'.length);
}

/**
 * Node's lookup: from the package at `from` (an install path), the first of
 * from/node_modules/dep, then each ancestor's node_modules/dep, that exists in `paths`.
 */
export function nodeResolve(paths: Set<string>, from: string, dep: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = `${dir ? `${dir}/` : ''}node_modules/${dep}`;
    if (paths.has(candidate)) return candidate;
    if (dir === '') return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}
