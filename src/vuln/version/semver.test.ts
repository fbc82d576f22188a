import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goComparator } from './go.ts';
import { semverComparator as npm } from './semver.ts';
import {
  assertAgrees,
  assertInvalid,
  assertTable,
  type Case,
  osvVersions,
  proofPairs,
  requireOrSkip,
} from './test-support.ts';

// node-semver is the reference implementation; these prove the wrapper passes its answers through
const TABLE: Case[] = [
  ['1.2.3', '<', '1.2.4'],
  ['1.2.3', '=', 'v1.2.3'],
  [' 1.2.3 ', '=', '1.2.3'],
  ['1.2.3-beta', '<', '1.2.3'],
  ['1.2.3-beta.2', '<', '1.2.3-beta.10'],
  ['1.2.3-beta.2', '>', '1.2.3-beta'],
  ['1.2.3-1', '<', '1.2.3-alpha'],
  ['1.2.3+build', '=', '1.2.3'],
  ['1.2.3+b1', '=', '1.2.3+b2'],
  ['10.0.0', '>', '9.99.99'],
  ['0.0.0-0', '<', '0.0.0'],
  ['4.17.20', '<', '4.17.21'],
  ['2.0.0-rc.1', '>', '1.99.99'],
];

test('semver: node-semver order through the wrapper, table both ways', () => {
  assertTable(npm, TABLE);
});

test('semver: invalid versions (strict mode, 2^53 and length limits) are unparseable, not thrown raw', () => {
  assertInvalid(
    npm,
    [
      '',
      '1.2',
      '1.2.3.4',
      '01.2.3',
      '1.2.3-01',
      '=1.2.3',
      '~1.2.3',
      '^1.2.3',
      '1.2.x',
      '>=1.2.3',
      'latest',
      '9007199254740992.0.0',
      `1.2.3-${'a'.repeat(260)}`,
      'not a version',
    ],
    '1.0.0',
  );
  assert.equal(npm.isValid('9007199254740991.0.0'), true);
});

test('semver: agrees with the Go comparator where the grammars coincide (OSV Go versions)', (t) => {
  const all = osvVersions('go');
  if (!requireOrSkip(t, all !== undefined, 'shared/data/osv/go is missing')) return;
  const versions = all!.filter((v) => npm.isValid(v));
  assert.ok(versions.length > all!.length * 0.95, `${versions.length} of ${all!.length} parse as npm semver`);
  const { pairs } = proofPairs(npm, versions, 5000);
  assertAgrees(
    npm,
    pairs,
    pairs.map(([a, b]) => goComparator.compare(a, b)),
    'go comparator',
  );
});
