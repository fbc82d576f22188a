/** How a release verification reads: a list per image (✓ pass, ✗ fail with its code, - skipped), or JSON. */
import type { ErrorCode } from '../errors.ts';
import type { CheckOutcome, ReleaseResult, SubjectResult } from './types.ts';

export interface Failure {
  /** `index` or the platform. */
  subject: string;
  digest: string;
  check: CheckOutcome['check'];
  code: ErrorCode;
  message: string;
}

const subjectName = (s: SubjectResult): string => s.platform ?? 'index';

/** Every failed check, in report order. */
export function failures(r: ReleaseResult): Failure[] {
  return r.subjects.flatMap((s) =>
    s.checks.flatMap((c) =>
      c.status === 'fail'
        ? [{ subject: subjectName(s), digest: s.digest, check: c.check, code: c.code, message: c.message }]
        : [],
    ),
  );
}

function line(c: CheckOutcome): string[] {
  switch (c.status) {
    case 'pass':
      return [`  ✓ ${c.check}: ${c.detail}`];
    case 'fail':
      return [`  ✗ ${c.check}: [${c.code}] ${c.message}`, ...(c.hint ? [`      hint: ${c.hint}`] : [])];
    case 'skip':
      return [`  - ${c.check}: skipped (${c.reason})`];
  }
}

export function renderText(r: ReleaseResult): string[] {
  const images = r.subjects.filter((s) => s.role === 'image').length;
  const out = [`Release ${r.display} (${r.kind === 'index' ? `index of ${images} images` : 'single image'})`];
  for (const s of r.subjects) {
    out.push(`${subjectName(s)} ${s.digest}`);
    for (const c of s.checks) out.push(...line(c));
  }
  for (const w of r.sboms) out.push(`SBOM ${w.platform} (${w.format}) written to ${w.path}`);
  const all = r.subjects.flatMap((s) => s.checks);
  const run = all.filter((c) => c.status !== 'skip').length;
  const skipped = all.length - run;
  const failed = failures(r);
  const skippedText = skipped > 0 ? `, ${skipped} skipped` : '';
  out.push(
    failed.length === 0
      ? `PASSED: ${run} checks passed${skippedText}`
      : `FAILED: ${failed.length} of ${run} checks failed: ${failed.map((f) => `${f.subject} ${f.check} [${f.code}]`).join(', ')}`,
  );
  return out;
}

/** The result as JSON, with the failures listed once more at the top level for scripts. */
export function toJson(r: ReleaseResult): string {
  return JSON.stringify({ ...r, failures: failures(r) }, null, 2);
}
