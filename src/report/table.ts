/**
 * A terminal report shaped like trivy's table: per target a heading, a severity count line and
 * a box table (Library, Vulnerability, Severity, Status, Installed Version, Fixed Version, Title);
 * then what the policy set aside, with why; then expired and unused exceptions, undecidable
 * packages, and the decision. Deterministic: no colours, no widths from the terminal.
 */
import { severityCounts } from '../gate/policy.ts';
import type { GateResult, Suppressed } from '../gate/types.ts';
import { type Finding, SEVERITIES } from '../vuln/finding.ts';
import type { ReportContext } from './context.ts';
import { compareTargets, type TargetKey, targetId, targetOf } from './targets.ts';

const TITLE_WIDTH = 60;
const REASON_WIDTH = 120;

/** Cut to `n` characters (code points), marking the cut. */
function clip(s: string, n: number): string {
  const cps = [...s.replace(/\s+/g, ' ').trim()];
  return cps.length <= n ? cps.join('') : `${cps.slice(0, n - 1).join('')}…`;
}

function width(s: string): number {
  return [...s].length;
}

/** A box-drawn table, as trivy draws it. */
export function boxTable(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (l: string, m: string, r: string) => `${l}${w.map((n) => '─'.repeat(n + 2)).join(m)}${r}`;
  const row = (cells: string[]) =>
    `│${cells.map((c, i) => ` ${c}${' '.repeat(w[i]! - width(c))} `).join('│')}│`;
  return [line('┌', '┬', '┐'), row(header), line('├', '┼', '┤'), ...rows.map(row), line('└', '┴', '┘')].join(
    '\n',
  );
}

function totals(fs: readonly Finding[]): string {
  const c = severityCounts(fs);
  return `Total: ${fs.length} (${SEVERITIES.map((s) => `${s}: ${c[s]}`).join(', ')})`;
}

function heading(s: string): string {
  return `${s}\n${'='.repeat(width(s))}`;
}

export function toTable(result: GateResult, ctx: ReportContext): string {
  const os = ctx.sbom.os;
  const byTarget = new Map<string, { key: TargetKey; findings: Finding[] }>();
  for (const f of result.kept) {
    const key = targetOf(f.package, ctx.artifactName, os);
    const id = targetId(key);
    const g = byTarget.get(id) ?? { key, findings: [] };
    g.findings.push(f);
    byTarget.set(id, g);
  }
  const out: string[] = [];
  const groups = [...byTarget.values()].sort((a, b) => compareTargets(a.key, b.key));
  for (const g of groups) {
    const title = g.key.class === 'os-pkgs' ? g.key.target : `${g.key.target} (${g.key.type})`;
    out.push(heading(title), totals(g.findings), '');
    out.push(
      boxTable(
        ['Library', 'Vulnerability', 'Severity', 'Status', 'Installed Version', 'Fixed Version', 'Title'],
        g.findings.map((f) => [
          f.package.name,
          f.id,
          f.severity,
          f.status,
          f.installedVersion,
          f.fixedVersion ?? '',
          clip(f.title ?? f.description ?? f.primaryUrl ?? '', TITLE_WIDTH),
        ]),
      ),
      '',
    );
  }
  if (groups.length === 0) out.push(heading(ctx.artifactName), totals([]), '');

  const setAside = result.suppressed.filter((s) => s.reason.kind === 'set-aside');
  const others = result.suppressed.filter((s) => s.reason.kind !== 'set-aside');
  const suppressedTable = (title: string, list: Suppressed[]) => {
    if (list.length === 0) return;
    out.push(heading(`${title} (${list.length})`), '');
    out.push(
      boxTable(
        ['Library', 'Vulnerability', 'Severity', 'Installed Version', 'Reason'],
        list.map((s) => [
          s.finding.package.name,
          s.finding.id,
          s.finding.severity,
          s.finding.installedVersion,
          clip(`${s.reason.kind}: ${s.reason.detail}`, REASON_WIDTH),
        ]),
      ),
      '',
    );
  };
  suppressedTable('Suppressed by policy', others);
  suppressedTable('Set aside by vouch rules', setAside);

  for (const e of result.expiredExceptions) {
    out.push(
      `expired exception: ${e.source}: ${e.exception.id ?? '(any id)'} expired on ${e.exception.expires}`,
    );
  }
  for (const e of result.unusedExceptions) {
    out.push(`unused exception: ${e.source}: ${e.exception.id ?? '(any id)'} matched no finding`);
  }
  for (const u of ctx.unknown) out.push(`undecided: ${u.name} ${u.version}: ${u.reason}`);
  if (result.expiredExceptions.length + result.unusedExceptions.length + ctx.unknown.length > 0) out.push('');

  const c = severityCounts(result.kept);
  const counted = SEVERITIES.filter((s) => c[s] > 0)
    .reverse()
    .map((s) => `${s} ${c[s]}`)
    .join(', ');
  out.push(
    result.decision === 'pass'
      ? `Gate: PASS (${result.suppressed.length} suppressed)`
      : `Gate: FAIL: ${result.kept.length} finding(s) over the policy (${counted}); ${result.suppressed.length} suppressed`,
  );
  return `${out.join('\n')}\n`;
}
