/**
 * Real ELF programs for tests: a binary of this machine with every library `ldd` says it loads,
 * copied into tar entries at the same paths, symlinks included (/lib -> usr/lib on merged-/usr,
 * /lib64/ld-linux-x86-64.so.2 -> ...), so an image made of them runs the same loader lookups as
 * this machine. `ldd` (libc-bin, always on Debian) is the independent oracle of what resolves
 * where; `readelf` (binutils) the oracle of the dynamic section.
 */
import { execFile } from 'node:child_process';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TarEntry } from '../helpers/random-image.ts';

const run = promisify(execFile);

export interface LddResult {
  /** DT_NEEDED name (or loader path) → the path ldd resolved it to. */
  libraries: Map<string, string>;
  interpreter: string | undefined;
}

export async function ldd(binary: string): Promise<LddResult> {
  const { stdout } = await run('ldd', [binary]);
  const libraries = new Map<string, string>();
  let interpreter: string | undefined;
  for (const line of stdout.split('\n')) {
    const arrow = /^\s*(\S+) => (\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (arrow) libraries.set(arrow[1]!, arrow[2]!);
    const bare = /^\s*(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (bare) interpreter = bare[1]!;
  }
  return { libraries, interpreter };
}

/** `readelf -d`: the NEEDED names, in order; undefined when readelf is missing. */
export async function readelfNeeded(binary: string): Promise<string[] | undefined> {
  try {
    const { stdout } = await run('readelf', ['-d', '-W', binary]);
    return [...stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
  } catch {
    return undefined;
  }
}

/** `readelf -l`: the requested program interpreter. */
export async function readelfInterpreter(binary: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('readelf', ['-l', '-W', binary]);
    return /\[Requesting program interpreter: ([^\]]+)\]/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

/** Tar entries reproducing `paths` of this machine: files, directories and symlinks on the way. */
export async function hostEntries(paths: readonly string[]): Promise<TarEntry[]> {
  const out = new Map<string, TarEntry>();
  async function add(path: string, depth = 0): Promise<void> {
    if (depth > 40) throw new Error(`too many symlinks at ${path}`);
    const parts = path.split('/').filter((p) => p !== '');
    let cur = '';
    for (let i = 0; i < parts.length; i++) {
      cur = `${cur}/${parts[i]}`;
      const name = cur.slice(1);
      const st = await lstat(cur);
      if (st.isSymbolicLink()) {
        const target = await readlink(cur);
        if (!out.has(name)) out.set(name, { name, type: 'symlink', linkname: target });
        const rest = parts.slice(i + 1).join('/');
        const real = resolve(dirname(cur), target);
        await add(rest === '' ? real : `${real}/${rest}`, depth + 1);
        return;
      }
      if (st.isDirectory()) {
        if (!out.has(name)) out.set(name, { name: `${name}/`, type: 'directory', mode: st.mode & 0o7777 });
        continue;
      }
      if (!out.has(name)) out.set(name, { name, content: await readFile(cur), mode: st.mode & 0o7777 });
    }
  }
  for (const p of paths) await add(p);
  return [...out.values()];
}
