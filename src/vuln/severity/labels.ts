/**
 * Vendor severity words → vouch severities. Debian's urgencies as trivy-db maps them
 * (pkg/vulnsrc/debian: `unimportant`/`low` LOW, `medium` MEDIUM, `high` HIGH, a trailing `*` or
 * `**` marks an urgency the tracker inherited and changes nothing, `not yet assigned` and
 * `end-of-life` rate nothing); Ubuntu priorities (`negligible` LOW ... `critical`, `untriaged`
 * nothing); Red Hat style labels (`Low`, `Moderate`, `Important`, `Critical`); GitHub's
 * (`LOW`, `MODERATE`, `HIGH`, `CRITICAL`). Anything else rates nothing: undefined, so the next
 * source in the precedence decides.
 */
import type { Severity } from '../finding.ts';

const LABELS: ReadonlyMap<string, Severity> = new Map<string, Severity>([
  ['unimportant', 'LOW'],
  ['negligible', 'LOW'],
  ['low', 'LOW'],
  ['medium', 'MEDIUM'],
  ['moderate', 'MEDIUM'],
  ['high', 'HIGH'],
  ['important', 'HIGH'],
  ['critical', 'CRITICAL'],
]);

export function severityFromLabel(label: unknown): Severity | undefined {
  if (typeof label !== 'string') return undefined;
  return LABELS.get(label.trim().toLowerCase().replace(/\*+$/, ''));
}
