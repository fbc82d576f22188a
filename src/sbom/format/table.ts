/**
 * A terminal table of an SBOM's packages, as syft prints it: NAME, VERSION, TYPE, sorted,
 * sorted by name (case-insensitively), version and type, then one summary line (packages per
 * type, problems, unowned files).
 */
import { PACKAGE_TYPES, type Sbom } from '../model.ts';
import { cmp } from './common.ts';

const HEADER = ['NAME', 'VERSION', 'TYPE'] as const;
const GAP = '  ';

/** The table and summary, lines joined by '\n', without a final newline. */
export function renderTable(sbom: Sbom): string {
  const rows = sbom.packages
    .map((p) => [safe(p.name), safe(p.version), p.type] as const)
    .sort(
      (a, b) =>
        cmp(a[0].toLowerCase(), b[0].toLowerCase()) || cmp(a[0], b[0]) || cmp(a[1], b[1]) || cmp(a[2], b[2]),
    );
  const lines: string[] = [];
  if (rows.length === 0) lines.push('No packages found');
  else {
    const widths = HEADER.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i]!))));
    const line = (cells: readonly string[]): string =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c))))
        .join(GAP)
        .trimEnd();
    lines.push(line(HEADER));
    for (const r of rows) lines.push(line(r));
  }
  lines.push('');
  lines.push(summary(sbom));
  return lines.join('\n');
}

/** `42 packages (40 deb, 2 npm), 1 problem, 3 unowned files`. */
export function summary(sbom: Sbom): string {
  const counts = new Map<string, number>();
  for (const p of sbom.packages) counts.set(p.type, (counts.get(p.type) ?? 0) + 1);
  const perType = PACKAGE_TYPES.filter((t) => counts.has(t)).map((t) => `${counts.get(t)} ${t}`);
  let s = plural(sbom.packages.length, 'package');
  if (perType.length > 0) s += ` (${perType.join(', ')})`;
  s += `, ${plural(sbom.problems.length, 'problem')}`;
  if (sbom.unowned.length > 0) s += `, ${plural(sbom.unowned.length, 'unowned file')}`;
  return s;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** Names come from the image: never let them send control sequences to the terminal. */
function safe(s: string): string {
  return s.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

function width(s: string): number {
  return [...s].length;
}
