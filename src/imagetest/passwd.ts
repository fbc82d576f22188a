/**
 * /etc/passwd and /etc/group as the container runtime reads them to turn a config `User`
 * name into ids (runc's libcontainer/user, like glibc: first matching line wins, `#` lines and
 * malformed lines are skipped).
 */
import type { FileResolver } from '../fs/merged.ts';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const MAX_DB_BYTES = 4 * 1024 ** 2;

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const f = line.split(':');
    if (f.length < 7) continue;
    const uid = id(f[2]);
    const gid = id(f[3]);
    if (uid === undefined || gid === undefined) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5]!, shell: f[6]! });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const f = line.split(':');
    if (f.length < 4) continue;
    const gid = id(f[2]);
    if (gid === undefined) continue;
    out.push({ name: f[0]!, gid, members: f[3]! === '' ? [] : f[3]!.split(',') });
  }
  return out;
}

/** A decimal id as the runtime accepts it (0..2^32-2). */
export function id(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 0xfffffffe ? n : undefined;
}

/** The image's user and group databases; undefined when a file is missing or not a regular file. */
export async function readUserDatabases(
  files: FileResolver,
): Promise<{ passwd: PasswdEntry[] | undefined; group: GroupEntry[] | undefined }> {
  return {
    passwd: await readText(files, '/etc/passwd').then((t) => (t === undefined ? undefined : parsePasswd(t))),
    group: await readText(files, '/etc/group').then((t) => (t === undefined ? undefined : parseGroup(t))),
  };
}

async function readText(files: FileResolver, path: string): Promise<string | undefined> {
  const rec = await files.stat(path);
  if (rec?.type !== 'file') return undefined;
  return Buffer.from(await files.readFile(path, { maxBytes: MAX_DB_BYTES })).toString('utf8');
}
