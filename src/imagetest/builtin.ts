/**
 * The built-in static checks, each a function from the image (config + merged filesystem) to
 * one pass/fail result: the user is not root, no package manager is left, no secret-looking
 * config values, every needed shared library is there.
 */
import { isPackageManagerProgram, PROGRAM_DIRS, pathDirs } from '../build/harden-rules.ts';
import { checkLibraries, describeMissing } from './libraries.ts';
import { findSecrets } from './secrets.ts';
import type { BuiltinCheck, CheckResult, CheckTarget } from './types.ts';
import { resolveUser } from './user.ts';

const SOURCE = 'builtin';

export const BUILTIN_RUNNERS: { readonly [C in BuiltinCheck]: (t: CheckTarget) => Promise<CheckResult> } = {
  user: checkUser,
  'package-managers': checkPackageManagers,
  secrets: checkSecrets,
  libraries: checkLibrariesResult,
};

export async function checkUser(t: CheckTarget): Promise<CheckResult> {
  const name = 'user is not root';
  const r = await resolveUser(t.config?.User, t.files);
  return { name, source: SOURCE, status: r.kind === 'non-root' ? 'pass' : 'fail', message: r.reason };
}

/** Package manager programs still executable, in the usual program directories and the PATH. */
export async function checkPackageManagers(t: CheckTarget): Promise<CheckResult> {
  const name = 'package managers are gone';
  const dirs = new Set<string>();
  for (const d of [...PROGRAM_DIRS, ...pathDirs(t.config)]) {
    const real = await t.files.realPath(d);
    if (real !== undefined && (await t.files.stat(real))?.type === 'dir') dirs.add(real);
  }
  const found: string[] = [];
  for (const dir of [...dirs].sort()) {
    for (const rec of await t.files.list(dir)) {
      const base = rec.path.slice(rec.path.lastIndexOf('/') + 1);
      if (!isPackageManagerProgram(base)) continue;
      const target = await t.files.stat(rec.path);
      if (target?.type !== 'file' || (target.mode & 0o111) === 0) continue;
      found.push(target.path === rec.path ? rec.path : `${rec.path} -> ${target.path}`);
    }
  }
  if (found.length === 0) {
    return {
      name,
      source: SOURCE,
      status: 'pass',
      message: `no package manager program in ${[...dirs].sort().join(', ') || 'any program directory'}`,
    };
  }
  return {
    name,
    source: SOURCE,
    status: 'fail',
    message: `${found.length} package manager program${found.length === 1 ? '' : 's'} left: ${found
      .slice(0, 5)
      .map((f) => f.split(' ')[0])
      .join(', ')}${found.length > 5 ? ', …' : ''}`,
    details: found,
  };
}

export async function checkSecrets(t: CheckTarget): Promise<CheckResult> {
  const name = 'no secrets in env or labels';
  const findings = findSecrets(t.config?.Env ?? [], t.config?.Labels ?? {});
  if (findings.length === 0) {
    const n = (t.config?.Env ?? []).length + Object.keys(t.config?.Labels ?? {}).length;
    return { name, source: SOURCE, status: 'pass', message: `${n} env variables and labels look clean` };
  }
  const lines = findings.map((f) => `${f.source} ${f.name}=${f.redacted}: ${f.reason}`);
  return {
    name,
    source: SOURCE,
    status: 'fail',
    message: `${findings.length} secret-looking value${findings.length === 1 ? '' : 's'}: ${findings
      .map((f) => `${f.source} ${f.name}`)
      .join(', ')}`,
    details: lines,
  };
}

export async function checkLibrariesResult(t: CheckTarget): Promise<CheckResult> {
  const name = 'needed shared libraries are present';
  const r = await checkLibraries(t);
  const unreadable = r.unreadable.map((u) => `${u.path}: not checked, ${u.reason}`);
  if (r.missing.length === 0) {
    return {
      name,
      source: SOURCE,
      status: 'pass',
      message:
        r.objects === 0
          ? 'no dynamically linked ELF programs or libraries'
          : `all ${r.objects} dynamically linked ELF objects find their interpreter and libraries`,
      ...(unreadable.length > 0 ? { details: unreadable } : {}),
    };
  }
  const objects = new Set(r.missing.map((m) => m.object)).size;
  const first = r.missing[0]!;
  const more = r.missing.length > 1 ? ` (${r.missing.length - 1} more below)` : '';
  return {
    name,
    source: SOURCE,
    status: 'fail',
    message: `${objects} of ${r.objects} ELF objects cannot load: ${first.object} needs ${first.name}${more}`,
    details: [...r.missing.map(describeMissing), ...unreadable],
  };
}
