/**
 * Static image tests: the built-in checks, declared files and container-structure-test files,
 * run over an image's config and merged filesystem (read once; the ELF files the library check
 * reads are copied aside during that one pass). Returns the pass/fail list; deciding what a
 * failure means (exit code, stopping a pipeline) is the caller's.
 */
import { VouchError } from '../errors.ts';
import { openMergedView } from '../fs/merged.ts';
import { type Image, layerInputs } from '../image/image.ts';
import { BUILTIN_RUNNERS } from './builtin.ts';
import { expandEnv, runStructureTest } from './cst/run.ts';
import { checkDeclaredFile } from './files.ts';
import { isElfCandidate } from './libraries.ts';
import {
  BUILTIN_CHECKS,
  type BuiltinCheck,
  type CheckResult,
  type CheckTarget,
  type ImageTestSpec,
} from './types.ts';

/** Small files the checks read, kept in memory while the layers are indexed. */
const SMALL_FILES = [
  /^\/etc\/(passwd|group|ld\.so\.conf)$/,
  /^\/etc\/ld\.so\.conf\.d\//,
  /^\/etc\/ld-musl-[^/]+\.path$/,
];
const DEBIAN_COPYRIGHT = /^\/usr\/share\/doc\/[^/]+\/copyright$/;

export interface ImageCheckOptions {
  signal?: AbortSignal;
}

/** Run `spec` against an image. */
export async function runImageChecks(
  image: Image,
  spec: ImageTestSpec = {},
  o: ImageCheckOptions = {},
): Promise<CheckResult[]> {
  const builtins = selectBuiltins(spec.builtin);
  const libraries = builtins.includes('libraries');
  const reads = contentReads(spec, image.config.config?.Env ?? []);
  const view = await openMergedView(layerInputs(image, o.signal), {
    capture: (f) => {
      if (SMALL_FILES.some((re) => re.test(f.path))) return { keep: true };
      // Files the tests read: taken now, or each read would decompress its layer again.
      if (reads.paths.has(f.path) || (reads.debianLicenses && DEBIAN_COPYRIGHT.test(f.path))) {
        return { keep: true, spill: true };
      }
      // The library check reads ELF tables all over these files: one copy now, no layer re-reads.
      if (libraries && isElfCandidate(f)) return { spill: true };
      return undefined;
    },
  });
  try {
    // What capture missed (a test path through a symlink, /etc/os-release -> ../usr/lib/...):
    // one more pass over the layers that hold it, rather than one per read.
    const real = new Set<string>();
    for (const p of reads.paths) {
      const r = await view.realPath(p);
      if (r !== undefined) real.add(r);
    }
    if (real.size > 0 || reads.debianLicenses) {
      await view.prefetch(
        (rec) => real.has(rec.path) || (reads.debianLicenses && DEBIAN_COPYRIGHT.test(rec.path)),
      );
    }
    return await runChecks({ config: image.config.config, files: view }, spec);
  } finally {
    await view.close();
  }
}

/** The files the structure tests read (paths as written, `$VAR` expanded). */
function contentReads(
  spec: ImageTestSpec,
  env: readonly string[],
): { paths: Set<string>; debianLicenses: boolean } {
  const vars = new Map<string, string>();
  for (const e of env) {
    const i = e.indexOf('=');
    if (i > 0) vars.set(e.slice(0, i), e.slice(i + 1));
  }
  const paths = new Set<string>();
  let debianLicenses = false;
  for (const st of spec.structureTests ?? []) {
    for (const t of st.fileContent) paths.add(expandEnv(t.path, vars));
    for (const l of st.licenses) {
      debianLicenses ||= l.debian;
      for (const f of l.files) paths.add(f);
    }
  }
  return { paths, debianLicenses };
}

/** Run `spec` against any config and filesystem (an image's merged view, a directory). */
export async function runChecks(target: CheckTarget, spec: ImageTestSpec = {}): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of selectBuiltins(spec.builtin)) out.push(await BUILTIN_RUNNERS[c](target));
  for (const f of spec.files ?? []) out.push(await checkDeclaredFile(target, f));
  for (const st of spec.structureTests ?? []) {
    out.push(
      ...(await runStructureTest(target, st, spec.commandTests ? { commandTests: spec.commandTests } : {})),
    );
  }
  return out;
}

export function selectBuiltins(b: ImageTestSpec['builtin']): BuiltinCheck[] {
  if (b === undefined || b === true) return [...BUILTIN_CHECKS];
  if (b === false) return [];
  for (const c of b) {
    if (!(BUILTIN_CHECKS as readonly string[]).includes(c)) {
      throw new VouchError(
        'USAGE',
        `unknown built-in check "${c}": expected one of ${BUILTIN_CHECKS.join(', ')}`,
      );
    }
  }
  return BUILTIN_CHECKS.filter((c) => b.includes(c));
}

export interface CheckSummary {
  passed: number;
  failed: number;
  skipped: number;
  /** No failure. */
  ok: boolean;
}

export function summariseChecks(results: readonly CheckResult[]): CheckSummary {
  const n = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  const failed = n('fail');
  return { passed: n('pass'), failed, skipped: n('skip'), ok: failed === 0 };
}
