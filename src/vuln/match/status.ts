/**
 * Fix status of a finding, as trivy reports it: a fixed version above the installed one makes
 * it `fixed` (whatever the vendor says). Otherwise the vendor's markers on the matched entries:
 *
 *  - Debian (DEBIAN-CVE records, `ecosystem_specific.urgency`, copied from the security
 *    tracker): `end-of-life` → `end_of_life` (the release's package is no longer supported);
 *    `unimportant`, `not yet assigned` and the ratings → `affected`. The OSV export carries no
 *    `<no-dsa>` / `<ignored>` / `<postponed>` reason, so Debian never yields `will_not_fix` here.
 *  - A `status` word in `ecosystem_specific` / `database_specific` (Ubuntu's tracker words, as
 *    trivy-db maps them): `ignored` → `will_not_fix`, `deferred`/`needed`/`pending` → `fix_deferred`.
 *  - Free-text markers (`will not fix`, `won't fix`, `wontfix`) in those fields → `will_not_fix`;
 *    `end-of-life` / `end of life` → `end_of_life`; `postponed` / `deferred` → `fix_deferred`.
 *
 * When entries disagree the strongest statement wins: will_not_fix, end_of_life, fix_deferred,
 * affected.
 */
import type { FixStatus } from '../finding.ts';
import type { OsvAffected } from '../osv.ts';

const ORDER: readonly FixStatus[] = ['will_not_fix', 'end_of_life', 'fix_deferred', 'affected'];

export function fixStatus(fixedVersion: string | undefined, entries: readonly OsvAffected[]): FixStatus {
  if (fixedVersion !== undefined) return 'fixed';
  let best = ORDER.length - 1;
  for (const a of entries) {
    for (const bag of [a.ecosystem_specific, a.database_specific]) {
      for (const key of ['urgency', 'status', 'fix_status', 'nodsa_reason'] as const) {
        const s = statusFromWord(bag?.[key]);
        if (s) best = Math.min(best, ORDER.indexOf(s));
      }
    }
  }
  return ORDER[best]!;
}

export function statusFromWord(word: unknown): FixStatus | undefined {
  if (typeof word !== 'string') return undefined;
  const w = word.trim().toLowerCase().replace(/\*+$/, '');
  if (['ignored', 'will not fix', "won't fix", 'wontfix', 'will_not_fix'].includes(w)) return 'will_not_fix';
  if (['end-of-life', 'end of life', 'end_of_life', 'eol'].includes(w)) return 'end_of_life';
  if (['deferred', 'postponed', 'needed', 'pending', 'fix_deferred'].includes(w)) return 'fix_deferred';
  return undefined;
}
