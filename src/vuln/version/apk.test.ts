import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apkComparator as apk } from './apk.ts';
import { assertInvalid, assertTable, type Case, seeded } from './test-support.ts';

/**
 * Written from apk-tools' src/version.c rules (no apk binary exists on Debian to run as an oracle, and
 * apk-tools' own vector file is GPL-2.0 data, so it is not copied here).
 */
const TABLE: Case[] = [
  // numbers, component by component
  ['1.0', '<', '1.1'],
  ['1.9', '<', '1.10'],
  ['1.0', '<', '1.0.1'],
  ['1.2.3', '=', '1.2.3'],
  ['2', '>', '1.99.99'],
  ['10', '>', '9.9'],
  ['1.0.0', '>', '1.0'],
  ['1.99999999999999999999', '>', '1.99999999999999999998'],
  // the first number is numeric even with leading zeros; later ones with a leading zero compare as text
  ['006', '>', '1.0.0'],
  ['013', '<', '014'],
  ['1.06', '<', '1.1'],
  ['1.05', '<', '1.5'],
  ['1.02.07', '<', '1.02.10'],
  ['1.010', '>', '1.0099'],
  ['1.01', '<', '1.010'],
  ['1.1', '<', '1.10'],
  // one letter after a number
  ['1.0', '<', '1.0a'],
  ['1.0a', '<', '1.0b'],
  ['1.0a', '<', '1.0.1'],
  ['1.0z', '<', '1.0.1'],
  ['2.3.0b', '<', '2.3.1'],
  ['0.9.8c', '<', '0.9.8d'],
  // pre-release suffixes below none, post-release above, in the documented order
  ['1.0_alpha', '<', '1.0_beta'],
  ['1.0_beta', '<', '1.0_pre'],
  ['1.0_pre', '<', '1.0_rc'],
  ['1.0_rc', '<', '1.0'],
  ['1.0', '<', '1.0_cvs'],
  ['1.0_cvs', '<', '1.0_svn'],
  ['1.0_svn', '<', '1.0_git'],
  ['1.0_git', '<', '1.0_hg'],
  ['1.0_hg', '<', '1.0_p'],
  ['1.0_p', '<', '1.0.1'],
  ['1.0_alpha', '<', '1.0_alpha1'],
  ['1.0_alpha1', '<', '1.0_alpha2'],
  ['1.0_alpha9', '<', '1.0_alpha10'],
  ['1.0_rc9', '<', '1.0'],
  ['1.0_p9', '<', '1.0_p10'],
  ['1.0_p1', '>', '1.0'],
  ['1.0_alpha_pre2', '<', '1.0_alpha'],
  ['1.0_alpha_p1', '>', '1.0_alpha'],
  ['1.0_pre20191002222144', '<', '1.0_pre20210530193627'],
  ['1.0a_alpha', '<', '1.0a'],
  ['1.0a_alpha', '>', '1.0'],
  // commit hash after suffixes, before the revision
  ['1.0_git20230101~abc123', '>', '1.0_git20230101'],
  ['1.0~abc', '<', '1.0~abd'],
  ['1.0~abc', '>', '1.0'],
  ['1.0~abc', '<', '1.0.1'],
  ['1.0~abc-r1', '>', '1.0~abc'],
  // revision last
  ['1.0-r0', '<', '1.0-r1'],
  ['1.0-r9', '<', '1.0-r10'],
  ['1.0', '<', '1.0-r0'],
  ['1.0-r1', '<', '1.0.1'],
  ['1.0-r1', '<', '1.0a'],
  ['1.0-r99', '<', '1.0_p1'],
  ['1.0_rc1-r5', '<', '1.0-r0'],
  // real Alpine versions
  ['3.0.8-r0', '<', '3.0.8-r1'],
  ['3.1.4-r5', '<', '3.1.5-r0'],
  ['1.36.1-r5', '<', '1.36.1-r15'],
  ['2.4.57-r0', '>', '2.4.56-r1'],
  ['8.5.0-r0', '>', '8.4.0-r3'],
  ['1.2.13-r1', '<', '1.3-r0'],
  ['0.9.28_git20230307-r0', '<', '0.9.28_git20230601-r0'],
  ['6.4_p20231125-r0', '>', '6.4-r0'],
  ['2.39.3_rc1-r0', '<', '2.39.3-r0'],
];

test('apk: apk-tools rules, table of comparisons both ways', () => {
  assertTable(apk, TABLE);
});

test('apk: a shuffled list sorts back into apk order', () => {
  const ordered = [
    '0.1.0_alpha',
    '0.1.0_alpha2',
    '0.1.0',
    '0.1.0-r1',
    '0.1.0_p1',
    '0.1.0a',
    '0.1.01',
    '0.1.1_rc1',
    '0.1.1',
    '0.1.10',
    '0.2',
    '1.0_pre1-r1',
    '1.0',
    '1.0-r0',
    '1.0-r1',
    '1.0.1',
  ];
  for (const seed of [1, 2, 3]) {
    const next = seeded(seed);
    const shuffled = ordered
      .map((v) => [next(), v] as const)
      .sort((x, y) => x[0] - y[0])
      .map(([, v]) => v);
    assert.notDeepEqual(shuffled, ordered);
    assert.deepEqual(
      shuffled.sort((a, b) => apk.compare(a, b)),
      ordered,
    );
  }
});

test('apk: tokens are typed as apk-tools reads them', () => {
  assert.deepEqual(
    apk.parse('1.2a_rc3~cafe-r4').map((t) => t.text),
    ['1', '2', 'a', 'rc', '3', 'cafe', '4'],
  );
});

test('apk: what apk-tools calls invalid is unparseable', () => {
  assertInvalid(
    apk,
    [
      '',
      'a1.0',
      'v1.0',
      '.1',
      '1.',
      '1..0',
      '1.0bc',
      '1.0b2',
      '1.0_',
      '1.0_foo',
      '1.0_Alpha',
      '1.0-',
      '1.0-r',
      '1.0-1',
      '1.0-r1-r2',
      '1.0-r1.1',
      '1.0-r1_p1',
      '1.0~',
      '1.0~xyz',
      '1.0~ABC',
      '1.0~abc~def',
      '1.0~abc_p1',
      '1.0A',
      '1.0_p1a',
      '1.0 ',
      '1,0',
    ],
    '1.0',
  );
});
