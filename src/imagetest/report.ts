/**
 * The pass/fail list for people (text), machines (JSON) and CI systems (JUnit XML: one test
 * suite per source, a failure element per failed check, skipped ones marked).
 */
import { summariseChecks } from './run.ts';
import type { CheckResult } from './types.ts';

export const REPORT_FORMATS = ['text', 'json', 'junit'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportSubject {
  /** The image name as given. */
  name: string;
  digest: string;
}

const LABEL = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' } as const;

export function formatReport(
  format: ReportFormat,
  subject: ReportSubject,
  results: readonly CheckResult[],
): string {
  switch (format) {
    case 'text':
      return formatText(subject, results);
    case 'json':
      return `${JSON.stringify({ image: subject.name, digest: subject.digest, ...summariseChecks(results), results }, null, 2)}\n`;
    case 'junit':
      return formatJunit(subject, results);
  }
}

function formatText(subject: ReportSubject, results: readonly CheckResult[]): string {
  const lines = [`Testing ${subject.name} (${subject.digest})`];
  let source = '';
  for (const r of results) {
    if (r.source !== source) {
      source = r.source;
      lines.push('', `${source}:`);
    }
    lines.push(`  ${LABEL[r.status]}  ${r.name}: ${r.message}`);
    if (r.status !== 'pass' || r.details) {
      const details = r.details ?? [];
      for (const d of details.slice(0, 50)) lines.push(`          ${d}`);
      if (details.length > 50) lines.push(`          … and ${details.length - 50} more`);
    }
  }
  const s = summariseChecks(results);
  lines.push('', `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped${s.ok ? '' : ': FAILED'}`);
  return `${lines.join('\n')}\n`;
}

function formatJunit(subject: ReportSubject, results: readonly CheckResult[]): string {
  const bySource = new Map<string, CheckResult[]>();
  for (const r of results) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r]);
  const all = summariseChecks(results);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xml(`vouch test ${subject.name}`)}" tests="${results.length}" failures="${all.failed}" skipped="${all.skipped}">`,
  ];
  for (const [source, rs] of bySource) {
    const s = summariseChecks(rs);
    out.push(
      `  <testsuite name="${xml(source)}" tests="${rs.length}" failures="${s.failed}" skipped="${s.skipped}" errors="0">`,
    );
    for (const r of rs) {
      const open = `    <testcase classname="${xml(source)}" name="${xml(r.name)}"`;
      if (r.status === 'pass') {
        out.push(`${open}/>`);
        continue;
      }
      out.push(`${open}>`);
      const body = [r.message, ...(r.details ?? [])].join('\n');
      out.push(
        r.status === 'fail'
          ? `      <failure message="${xml(r.message)}">${xml(body)}</failure>`
          : `      <skipped message="${xml(r.message)}"/>`,
      );
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/** Text for XML attributes and content; characters XML 1.0 cannot hold become U+FFFD. */
function xml(s: string): string {
  return s
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
