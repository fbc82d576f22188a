import assert from 'node:assert/strict';
import { test } from 'node:test';
import semver from 'semver';
import { cargoComparator as cargo } from './cargo.ts';
import {
  assertAgrees,
  assertInvalid,
  assertTable,
  type Case,
  osvVersions,
  proofPairs,
  requireOrSkip,
} from './test-support.ts';

const TABLE: Case[] = [
  // the SemVer 2.0.0 precedence examples, in order
  ['1.0.0', '<', '2.0.0'],
  ['2.0.0', '<', '2.1.0'],
  ['2.1.0', '<', '2.1.1'],
  ['1.0.0-alpha', '<', '1.0.0-alpha.1'],
  ['1.0.0-alpha.1', '<', '1.0.0-alpha.beta'],
  ['1.0.0-alpha.beta', '<', '1.0.0-beta'],
  ['1.0.0-beta', '<', '1.0.0-beta.2'],
  ['1.0.0-beta.2', '<', '1.0.0-beta.11'],
  ['1.0.0-beta.11', '<', '1.0.0-rc.1'],
  ['1.0.0-rc.1', '<', '1.0.0'],
  // numeric identifiers below alphanumeric ones, hyphens are alphanumeric
  ['1.0.0-1', '<', '1.0.0-a'],
  ['1.0.0-999', '<', '1.0.0--'],
  ['1.0.0-a-b', '>', '1.0.0-a'],
  ['1.0.0-rc.1', '<', '1.0.0-rc.1.0'],
  ['1.0.0-99999999999999999999', '>', '1.0.0-99999999999999999998'],
  // build metadata does not order
  ['1.0.0+build.1', '=', '1.0.0+build.2'],
  ['1.0.0+zzz', '=', '1.0.0'],
  ['1.0.0-rc.1+build', '<', '1.0.0'],
  // numbers up to u64
  ['18446744073709551615.0.0', '>', '18446744073709551614.0.0'],
  ['0.10.0', '>', '0.9.99'],
  // real crate versions
  ['0.4.38', '<', '0.4.39'],
  ['1.0.0-alpha.1', '<', '1.0.0-alpha.10'],
  ['0.2.0-pre.1', '<', '0.2.0'],
  ['1.35.1', '<', '1.40.0'],
];

test('cargo: SemVer 2.0.0 precedence, table of comparisons both ways', () => {
  assertTable(cargo, TABLE);
});

test('cargo: what the semver crate rejects is unparseable', () => {
  assertInvalid(
    cargo,
    [
      '',
      'v1.0.0',
      '1',
      '1.0',
      '1.0.0.0',
      '01.0.0',
      '1.00.0',
      '1.0.0-',
      '1.0.0-01',
      '1.0.0-a..b',
      '1.0.0+',
      '1.0.0+a..b',
      '1.0.0-a_b',
      ' 1.0.0',
      '=1.0.0',
      '18446744073709551616.0.0',
      '1.0.x',
      '*',
    ],
    '1.0.0',
  );
});

/** node-semver follows the same SemVer grammar, apart from a tolerated 'v'/'=' and numbers past 2^53. */
const comparable = (v: string) => !/^[v=\s]/.test(v) && !/\d{16}/.test(v) && !/\s$/.test(v);

test('cargo: agrees with node-semver (strict) on every Go version in the OSV records, without the v', (t) => {
  const all = osvVersions('go');
  if (!requireOrSkip(t, all !== undefined, 'shared/data/osv/go is missing')) return;
  const candidates = [
    ...all!,
    ...all!.map((v) => v.replace(/\+.*/, '')),
    ...TABLE.flatMap(([a, , b]) => [a, b]),
  ]
    .concat(['1', '1.0', '01.0.0', '1.0.0-01', '1.0.0-a..b', '1.0.0+a..b'])
    .filter(comparable);
  const differ = candidates.filter((v) => cargo.isValid(v) !== (semver.valid(v) !== null));
  assert.deepEqual(differ, [], 'validity differs from node-semver');
  const { pairs } = proofPairs(
    cargo,
    candidates.filter((v) => cargo.isValid(v)),
    5000,
  );
  assertAgrees(
    cargo,
    pairs,
    pairs.map(([a, b]) => semver.compare(a, b)),
    'node-semver',
  );
});
