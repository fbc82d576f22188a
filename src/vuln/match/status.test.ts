import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FixStatus } from '../finding.ts';
import type { OsvAffected } from '../osv.ts';
import { fixStatus, statusFromWord } from './status.ts';

const es = (o: Record<string, unknown>): OsvAffected => ({ ecosystem_specific: o });
const ds = (o: Record<string, unknown>): OsvAffected => ({ database_specific: o });

test('fixStatus', () => {
  const T: [string | undefined, OsvAffected[], FixStatus][] = [
    ['1.2-3', [es({ urgency: 'end-of-life' })], 'fixed'], // a fix beats every marker (trivy)
    [undefined, [], 'affected'],
    [undefined, [es({ urgency: 'unimportant' })], 'affected'],
    [undefined, [es({ urgency: 'not yet assigned' })], 'affected'],
    [undefined, [es({ urgency: 'end-of-life' })], 'end_of_life'],
    [undefined, [es({ status: 'ignored' })], 'will_not_fix'],
    [undefined, [ds({ status: 'deferred' })], 'fix_deferred'],
    [undefined, [es({ status: 'needed' })], 'fix_deferred'],
    [undefined, [es({ nodsa_reason: 'postponed' })], 'fix_deferred'],
    [undefined, [ds({ fix_status: "Won't fix" })], 'will_not_fix'],
    [undefined, [es({ urgency: 'end-of-life' }), es({ status: 'ignored' })], 'will_not_fix'],
    [undefined, [es({ urgency: 'low' }), es({ urgency: 'end-of-life' })], 'end_of_life'],
    [undefined, [es({ status: 42 })], 'affected'],
  ];
  for (const [fixed, entries, want] of T)
    assert.equal(fixStatus(fixed, entries), want, JSON.stringify(entries));
});

test('statusFromWord', () => {
  assert.equal(statusFromWord('End-Of-Life'), 'end_of_life');
  assert.equal(statusFromWord('released'), undefined);
  assert.equal(statusFromWord(undefined), undefined);
});
