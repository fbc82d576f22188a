import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { debComparator as deb, parseDeb } from './deb.ts';
import {
  assertInvalid,
  assertTable,
  type Case,
  hasTool,
  opOf,
  proofPairs,
  requireOrSkip,
  runToolAsync,
} from './test-support.ts';

const TABLE: Case[] = [
  // epochs dominate, missing epoch = 0
  ['1.0', '=', '0:1.0'],
  ['1:0.1', '>', '9.9'],
  ['2:1.0', '>', '1:9.9'],
  ['10:1', '>', '9:1'],
  ['00:1.0', '=', '0:1.0'],
  // tilde sorts before everything, even the end
  ['1.0~rc1', '<', '1.0'],
  ['1.0~rc1', '<', '1.0~rc2'],
  ['1.0~~', '<', '1.0~'],
  ['1.0~~a', '<', '1.0~'],
  ['1.0~', '<', '1.0'],
  ['1.0~beta', '<', '1.0~rc'],
  ['2.30~rc1-1', '<', '2.30-1'],
  // letters before other symbols, end before letters
  ['1.0', '<', '1.0a'],
  ['1.0a', '<', '1.0b'],
  ['1.0a', '<', '1.0+'],
  ['1.0+', '<', '1.0.'],
  ['1.0z', '<', '1.0+'],
  ['1.0A', '<', '1.0a'],
  ['1.0+dfsg', '>', '1.0'],
  ['1.0+dfsg', '<', '1.0.1'],
  ['1.0.1', '>', '1.0+really0.9'],
  // numbers: numeric, leading zeros ignored, empty = 0
  ['1.10', '>', '1.9'],
  ['1.010', '=', '1.10'],
  ['1.0', '<', '1.0.0'],
  ['1.00', '=', '1.0'],
  ['1.2.3', '<', '1.2.10'],
  ['20230101', '>', '2022.12.31'],
  ['1.99999999999999999999', '>', '1.99999999999999999998'],
  ['1a', '=', '1a0'],
  // revisions: after the last hyphen, missing = 0 by digit rule
  ['1.0-1', '<', '1.0-2'],
  ['1.0-10', '>', '1.0-9'],
  ['1.0', '=', '1.0-0'],
  ['1.0-1', '>', '1.0'],
  ['1.0-1~bpo1', '<', '1.0-1'],
  ['1.0-1+b1', '>', '1.0-1'],
  ['1.0-1+b1', '<', '1.0-1.1'],
  ['1.0-1+deb12u1', '>', '1.0-1'],
  ['1.0-1+deb12u1', '<', '1.0-1+deb12u2'],
  ['1.0-1+deb11u3', '<', '1.0-1+deb12u1'],
  ['1.0-1ubuntu1', '>', '1.0-1'],
  ['1.0-1ubuntu0.22.04.1', '<', '1.0-1ubuntu1'],
  ['1.2-3-4', '>', '1.2-3-3'],
  ['1.2-3-4', '>', '1.2-4'],
  ['1:2.3-4', '=', '1:2.3-4'],
  ['2.36-9+deb12u4', '>', '2.36-9+deb12u3'],
  ['2.36-9+deb12u10', '>', '2.36-9+deb12u9'],
  ['3.0.11-1~deb12u2', '<', '3.0.11-1'],
  ['7.88.1-10+deb12u5', '<', '7.88.1-10+deb12u12'],
  ['1:9.18.24-1', '>', '9.18.28-1'],
  ['5.10.0-28', '<', '6.1.0-1'],
  ['0.0~git20230101.abcdef-1', '<', '0.0'],
  ['2.4.57-2', '=', '2.4.057-2'],
];

test('deb: dpkg rules, table of comparisons both ways', () => {
  assertTable(deb, TABLE);
});

test('deb: parses epoch, upstream and revision (revision after the last hyphen)', () => {
  assert.deepEqual(parseDeb('1:2.3-4-5'), { epoch: '1', upstream: '2.3-4', revision: '5' });
  assert.deepEqual(parseDeb('2.3'), { epoch: '0', upstream: '2.3', revision: '' });
  assert.deepEqual(parseDeb(' 1:2:3 '), { epoch: '1', upstream: '2:3', revision: '' });
});

const INVALID = [
  '',
  '   ',
  'abc',
  '1.0 1',
  ':1.0',
  'a:1.0',
  '-1:1.0',
  '1:',
  '1.0-',
  '-1',
  '1.0_1',
  '1.0-1:2',
  '1.0-1_2',
  '2147483648:1.0',
  '1.0!',
  'é1',
];

test('deb: what dpkg rejects or warns about is unparseable', () => {
  assertInvalid(deb, INVALID, '1.0');
  assert.equal(deb.isValid('2147483647:1.0'), true);
});

const DPKG_OP = { '<': 'lt', '=': 'eq', '>': 'gt' } as const;
const VECTORS = path.resolve(import.meta.dirname, '../../../test/vectors/deb/versions.txt');

test('deb: agrees with dpkg --compare-versions on real Debian versions', async (t) => {
  if (!requireOrSkip(t, hasTool('dpkg'), 'dpkg is not installed')) return;
  const versions = readFileSync(VECTORS, 'utf8').trimEnd().split('\n');
  assert.ok(versions.length > 2500, 'the vector file holds a few thousand versions');
  const invalid = versions.filter((v) => !deb.isValid(v));
  assert.deepEqual(invalid, [], 'every version from the Debian archive is valid');
  // every neighbour in our order plus 2,000 seeded pairs; dpkg confirms the relation we claim
  const { sorted, pairs } = proofPairs(deb, versions, 2000);
  assert.equal(sorted.length, versions.length);
  const claims = pairs.map(([a, b]) => `${a} ${DPKG_OP[opOf(deb.compare(a, b))]} ${b}`);
  // the table above is checked too, and a few false claims prove dpkg is really answering
  claims.push(...TABLE.map(([a, op, b]) => `${a} ${DPKG_OP[op]} ${b}`));
  const controls = ['1.0 gt 1.0~rc1', '1.0 lt 1.0~rc1', '1:1 lt 2', '1.0-1 eq 1.0'];
  const all = [...claims, ...controls];
  const script =
    'while read -r a op b; do if dpkg --compare-versions "$a" "$op" "$b"; then echo 1; else echo 0; fi; done';
  const half = Math.ceil(all.length / 2);
  const outs = await Promise.all(
    [all.slice(0, half), all.slice(half)].map((part) =>
      runToolAsync('sh', ['-c', script], `${part.join('\n')}\n`),
    ),
  );
  const answers = outs.join('').trimEnd().split('\n');
  assert.equal(answers.length, all.length);
  assert.deepEqual(answers.slice(claims.length), ['1', '0', '0', '0'], 'dpkg answers the control claims');
  const refused = claims.filter((_, i) => answers[i] !== '1');
  assert.deepEqual(refused.slice(0, 30), [], `dpkg refuses ${refused.length} of ${claims.length} claims`);
});

test('deb: dpkg reports bad syntax for every version vouch rejects, and none for ones it accepts', async (t) => {
  if (!requireOrSkip(t, hasTool('dpkg'), 'dpkg is not installed')) return;
  // dpkg reads a leading '-' as an option and '' as "no version", so those two kinds are left out
  const rejected = INVALID.filter((v) => v.trim() !== '' && !v.startsWith('-'));
  const accepted = ['2147483647:1.0', '1:2:3', '0.0~git1-1+b1', '1.0+dfsg-1~bpo12+1'];
  const script =
    'while IFS= read -r v; do if dpkg --compare-versions "$v" eq 1 2>&1 | grep -q "bad syntax"; then echo bad; else echo ok; fi; done';
  const out = await runToolAsync('sh', ['-c', script], `${[...rejected, ...accepted].join('\n')}\n`);
  assert.deepEqual(out.trimEnd().split('\n'), [...rejected.map(() => 'bad'), ...accepted.map(() => 'ok')]);
  for (const v of accepted) assert.equal(deb.isValid(v), true, v);
});
