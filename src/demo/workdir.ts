/**
 * Where the demo writes: a fresh temp directory by default, or one the user names. A named
 * directory must be new, empty, or an earlier demo's (it carries a marker file), because the
 * demo replaces it: a typo such as `--work-dir ~` must never delete anything else.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { VouchError } from '../errors.ts';

/** The file that marks a directory as the demo's own. */
export const DEMO_MARKER = '.vouch-demo';

export interface WorkDir {
  path: string;
  /** Made here (a temp directory) rather than named by the user. */
  temporary: boolean;
}

/** `child` is `parent` or below it. */
function inside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === '' || (r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r));
}

/**
 * Make the demo's directory: `dir` (resolved against `cwd`) or a new temp directory. Refuses,
 * with USAGE, a directory holding anything but an earlier demo, and one inside `protect` (the
 * example itself, which the demo copies).
 */
export async function openWorkDir(
  dir: string | undefined,
  o: { cwd: string; protect: readonly string[] },
): Promise<WorkDir> {
  if (dir === undefined) {
    const path = await mkdtemp(join(tmpdir(), 'vouch-demo-'));
    await writeFile(join(path, DEMO_MARKER), 'made by vouch demo\n');
    return { path, temporary: true };
  }
  const path = resolve(o.cwd, dir);
  for (const p of o.protect) {
    if (inside(path, resolve(p)) || inside(resolve(p), path)) {
      throw new VouchError('USAGE', `--work-dir ${dir} overlaps ${p}, which the demo reads`, {
        hint: 'pick a directory outside the example, e.g. /tmp/vouch-demo',
      });
    }
  }
  const st = await stat(path).catch(() => undefined);
  if (st && !st.isDirectory())
    throw new VouchError('USAGE', `--work-dir ${dir} exists and is not a directory`);
  if (st) {
    const entries = await readdir(path);
    if (entries.length > 0 && !entries.includes(DEMO_MARKER)) {
      throw new VouchError('USAGE', `--work-dir ${dir} is not empty and was not made by vouch demo`, {
        hint: 'the demo replaces its directory: name a new or empty one',
      });
    }
    await rm(path, { recursive: true, force: true });
  }
  await mkdir(path, { recursive: true });
  await writeFile(join(path, DEMO_MARKER), 'made by vouch demo\n');
  return { path, temporary: false };
}
