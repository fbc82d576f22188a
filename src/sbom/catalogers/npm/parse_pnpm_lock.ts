/**
 * pnpm-lock.yaml in its three key formats:
 *  - lockfileVersion 5.x (pnpm 5-7): `packages` keyed '/name/1.0.0' or '/@s/name/1.0.0_peer@2.0.0';
 *  - '6.0' (pnpm 8): '/name@1.0.0' or '/@s/name@1.0.0(peer@2.0.0)';
 *  - '9.0' (pnpm 9+): `packages` keyed 'name@1.0.0' (resolution, engines) and `snapshots`
 *    keyed 'name@1.0.0(peer@2.0.0)' (dependencies).
 * An entry's own `name`/`version` fields win (tarball and git dependencies). 5.x and 6.0
 * mark dev-only packages with `dev: true`; for 9.0 it is worked out from the importers'
 * dependencies (what is not reachable from a production dependency is dev).
 */
import { parse as parseYaml } from 'yaml';
import { FormatError } from '../golang/byte-source.ts';
import { type LockEntry, markDevByReachability, type ParsedLock } from './lock.ts';
import { isObject } from './parse_package_json.ts';

export function parsePnpmLock(text: string): ParsedLock {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new FormatError(`not YAML: ${(e as Error).message}`);
  }
  if (!isObject(raw)) throw new FormatError('not a YAML map');
  const v = raw.lockfileVersion;
  if (v === undefined) throw new FormatError('no lockfileVersion');
  const version = String(v);
  const major = Number.parseFloat(version);
  if (!Number.isFinite(major)) throw new FormatError(`bad lockfileVersion ${version}`);
  const packages = raw.packages ?? {};
  if (!isObject(packages)) throw new FormatError('"packages" is not a map');
  const entries: LockEntry[] = [];
  const byId = new Map<string, LockEntry>();
  for (const [key, p] of Object.entries(packages)) {
    if (!isObject(p)) throw new FormatError(`packages["${key}"] is not a map`);
    const id = parseKey(key, major);
    const name = typeof p.name === 'string' ? p.name : id.name;
    const ver = p.version === undefined ? id.version : String(p.version);
    if (!name || !ver) throw new FormatError(`packages["${key}"]: no name or version`);
    const entry: LockEntry = { key: stripPeers(key.replace(/^\//, ''), major), name, version: ver, deps: [] };
    if (major < 9) entry.dev = p.dev === true;
    const res = p.resolution;
    if (isObject(res)) {
      if (typeof res.integrity === 'string') entry.integrity = res.integrity;
      if (typeof res.tarball === 'string') entry.resolved = res.tarball;
    }
    if (byId.has(entry.key)) continue;
    entries.push(entry);
    byId.set(entry.key, entry);
  }
  // Dependency edges: in 'packages' before 9.0, in 'snapshots' from 9.0.
  const graph = major >= 9 ? (raw.snapshots ?? {}) : packages;
  if (!isObject(graph)) throw new FormatError('"snapshots" is not a map');
  for (const [key, s] of Object.entries(graph)) {
    const from = byId.get(stripPeers(key.replace(/^\//, ''), major));
    if (!from || !isObject(s)) continue;
    for (const field of ['dependencies', 'optionalDependencies']) {
      const deps = s[field];
      if (!isObject(deps)) continue;
      for (const [n, ref] of Object.entries(deps)) {
        const to = byId.get(refKey(n, String(ref), major));
        if (to && !from.deps.includes(to.key)) from.deps.push(to.key);
      }
    }
  }
  if (major >= 9) markDevByReachability(entries, prodRoots(raw, byId, major));
  return { format: 'pnpm', lockfileVersion: version, entries };
}

/** The entry keys the importers need in production (dependencies, optionalDependencies). */
function prodRoots(
  raw: Record<string, unknown>,
  byId: Map<string, LockEntry>,
  major: number,
): string[] | undefined {
  const importers = isObject(raw.importers) ? raw.importers : undefined;
  if (!importers) return undefined;
  const roots: string[] = [];
  for (const imp of Object.values(importers)) {
    if (!isObject(imp)) continue;
    for (const field of ['dependencies', 'optionalDependencies']) {
      const deps = imp[field];
      if (!isObject(deps)) continue;
      for (const [n, d] of Object.entries(deps)) {
        const ref = isObject(d) ? String(d.version ?? '') : String(d);
        const e = byId.get(refKey(n, ref, major));
        if (e) roots.push(e.key);
      }
    }
  }
  return roots;
}

/** The key a dependency reference points at: 'name@ver' (or the ref itself for aliases, links). */
function refKey(name: string, ref: string, major: number): string {
  const r = stripPeers(ref.replace(/^\//, ''), major);
  if (major < 6) {
    // '1.0.0' or an alias '/real/1.0.0'
    return ref.startsWith('/') ? r : `${name}/${r}`;
  }
  // '1.0.0', or 'real@1.0.0' for an alias
  return /^(@[^/]+\/)?[^@]+@/.test(r) ? r : `${name}@${r}`;
}

/** Drop the peer suffix: '(peer@1.0.0)' groups (6.0+) or '_peer@1.0.0' (5.x). */
function stripPeers(s: string, major: number): string {
  const paren = s.indexOf('(');
  const base = paren < 0 ? s : s.slice(0, paren);
  if (major >= 6) return base;
  // 5.x: '/name/1.0.0_peer@2.0.0': the suffix starts at the first '_' of the version part.
  const us = base.indexOf('_', base.lastIndexOf('/') + 1);
  return us < 0 ? base : base.slice(0, us);
}

function parseKey(key: string, major: number): { name: string; version: string } {
  const k = stripPeers(key.replace(/^\//, ''), major);
  if (major < 6) {
    const i = k.lastIndexOf('/');
    return i <= 0 ? { name: '', version: '' } : { name: k.slice(0, i), version: k.slice(i + 1) };
  }
  const at = k.indexOf('@', k.startsWith('@') ? 1 : 0);
  return at <= 0 ? { name: '', version: '' } : { name: k.slice(0, at), version: k.slice(at + 1) };
}
