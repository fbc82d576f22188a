/**
 * Who a container runs as: the config's `User` (`user|uid[:group|gid]`, empty = root) resolved
 * the way the runtime does it, names through the image's own /etc/passwd and /etc/group.
 */
import type { FileResolver } from '../fs/merged.ts';
import { id, readUserDatabases } from './passwd.ts';

export interface UserSpec {
  user: string;
  group?: string;
}

export type UserResolution =
  | { kind: 'root'; reason: string }
  | { kind: 'non-root'; uid: number; gid?: number; reason: string }
  /** A name the image's databases do not have: the runtime refuses to start the container. */
  | { kind: 'unresolvable'; reason: string };

export function parseUserSpec(s: string): UserSpec {
  const i = s.indexOf(':');
  return i < 0 ? { user: s } : { user: s.slice(0, i), group: s.slice(i + 1) };
}

/** Resolve a config `User` against the image's files. */
export async function resolveUser(
  configUser: string | undefined,
  files: FileResolver,
): Promise<UserResolution> {
  const raw = configUser ?? '';
  if (raw.trim() === '')
    return { kind: 'root', reason: 'no User is set, so the container runs as root (uid 0)' };
  const spec = parseUserSpec(raw);
  const numericUid = id(spec.user);
  const numericGid = spec.group === undefined ? undefined : id(spec.group);
  // Only names need the databases.
  const needDb = numericUid === undefined || (spec.group !== undefined && numericGid === undefined);
  const db = needDb ? await readUserDatabases(files) : { passwd: undefined, group: undefined };

  let uid = numericUid;
  let gid: number | undefined;
  if (uid === undefined) {
    if (spec.user === 'root') return { kind: 'root', reason: `User "${raw}" is root` };
    if (spec.user === '') return { kind: 'unresolvable', reason: `User "${raw}" has an empty user part` };
    if (!db.passwd) {
      return {
        kind: 'unresolvable',
        reason: `User "${raw}" is a name but the image has no /etc/passwd to resolve it (the runtime will refuse to start)`,
      };
    }
    const entry = db.passwd.find((p) => p.name === spec.user);
    if (!entry) {
      return {
        kind: 'unresolvable',
        reason: `User "${raw}": no user "${spec.user}" in the image's /etc/passwd (the runtime will refuse to start)`,
      };
    }
    uid = entry.uid;
    gid = entry.gid;
  }
  if (spec.group !== undefined) {
    if (numericGid !== undefined) gid = numericGid;
    else {
      const g = db.group?.find((e) => e.name === spec.group);
      if (!g) {
        return {
          kind: 'unresolvable',
          reason: `User "${raw}": no group "${spec.group}" in the image's /etc/group (the runtime will refuse to start)`,
        };
      }
      gid = g.gid;
    }
  }
  if (uid === 0) {
    const how = numericUid === undefined ? ` ("${spec.user}" has uid 0 in /etc/passwd)` : '';
    return { kind: 'root', reason: `User "${raw}" is uid 0${how}` };
  }
  const ids = gid === undefined ? `uid ${uid}` : `uid ${uid}, gid ${gid}`;
  return gid === undefined
    ? { kind: 'non-root', uid, reason: `User "${raw}" is ${ids}` }
    : { kind: 'non-root', uid, gid, reason: `User "${raw}" is ${ids}` };
}
