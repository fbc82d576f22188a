/**
 * Declared files (vouch.yaml `tests.files`, `vouch test --file`): each must exist with its type,
 * mode and owner, or be absent. The path itself is checked (a symlink is not followed), as
 * container-structure-test reports it.
 */
import { goFileMode } from './filemode.ts';
import type { CheckResult, CheckTarget, DeclaredFile } from './types.ts';

const SOURCE = 'files';

export async function checkDeclaredFile(t: CheckTarget, f: DeclaredFile): Promise<CheckResult> {
  const name = `${f.absent ? 'absent' : 'present'}: ${f.path}`;
  const rec = await t.files.lstat(f.path);
  if (f.absent) {
    return rec
      ? { name, source: SOURCE, status: 'fail', message: `${f.path} exists (${rec.type}) but must be absent` }
      : { name, source: SOURCE, status: 'pass', message: `${f.path} is absent` };
  }
  if (!rec) return { name, source: SOURCE, status: 'fail', message: `${f.path} does not exist` };
  const wrong: string[] = [];
  if (f.type !== undefined && rec.type !== f.type) wrong.push(`type ${rec.type}, expected ${f.type}`);
  if (f.mode !== undefined && (rec.mode & 0o7777) !== f.mode) {
    wrong.push(`mode ${octal(rec.mode)}, expected ${octal(f.mode)}`);
  }
  if (f.uid !== undefined && rec.uid !== f.uid) wrong.push(`uid ${rec.uid}, expected ${f.uid}`);
  if (f.gid !== undefined && rec.gid !== f.gid) wrong.push(`gid ${rec.gid}, expected ${f.gid}`);
  const what = `${goFileMode(rec.type, rec.mode)} ${rec.uid}:${rec.gid}`;
  return wrong.length === 0
    ? { name, source: SOURCE, status: 'pass', message: `${f.path} is ${what}` }
    : { name, source: SOURCE, status: 'fail', message: `${f.path}: ${wrong.join('; ')}` };
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}
