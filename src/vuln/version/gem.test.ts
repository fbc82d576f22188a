import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gemComparator as gem, parseGem } from './gem.ts';
import {
  assertAgrees,
  assertInvalid,
  assertTable,
  type Case,
  hasTool,
  osvVersions,
  parseOrders,
  proofPairs,
  requireOrSkip,
  runTool,
} from './test-support.ts';

const TABLE: Case[] = [
  // trailing zeros do not count
  ['1.0', '=', '1'],
  ['1.0.0', '=', '1.0'],
  ['1.0.a', '=', '1.a'],
  ['1.0.a.0', '=', '1.a'],
  ['1.2', '<', '1.2.1'],
  ['1.10', '>', '1.9'],
  ['01.2', '=', '1.2'],
  // a string segment makes a pre-release, below any number
  ['1.0.a', '<', '1.0'],
  ['1.0.rc1', '<', '1.0'],
  ['1.0.rc1', '>', '1.0.beta'],
  ['1.0.beta', '>', '1.0.alpha'],
  ['1.0.pre', '<', '1.0.rc'],
  ['1.0.a', '<', '1.0.0.1'],
  ['1.0.a.2', '>', '1.0.a.1'],
  ['1.0.a.10', '>', '1.0.a.9'],
  ['1.0.a', '<', '1.0.a.1'],
  ['1.0.A', '<', '1.0.a'],
  ['1.0rc1', '=', '1.0.rc.1'],
  ['1.0rc1', '<', '1.0'],
  ['1.0.b1', '>', '1.0.a2'],
  ['1.0.b1', '<', '1.0.b2'],
  ['1.a', '>', '0.9'],
  // '-' reads as '.pre.'
  ['1.0-1', '=', '1.0.pre.1'],
  ['1.0-1', '<', '1.0'],
  ['1.0-beta', '<', '1.0'],
  ['2.0.0-rc.1', '=', '2.0.0.pre.rc.1'],
  // numbers without limit
  ['1.99999999999999999999', '>', '1.99999999999999999998'],
  // real gem versions
  ['7.0.4.3', '>', '7.0.4.2'],
  ['7.0.4.3', '<', '7.0.5'],
  ['6.1.7.1', '<', '6.1.7.10'],
  ['3.0.0.beta2', '<', '3.0.0.rc1'],
  ['1.13.10', '>', '1.13.9'],
  ['2.2.0.rc.1', '<', '2.2.0'],
  ['1.6.0.pre2', '<', '1.6.0'],
  ['0.9.5.1', '>', '0.9.5'],
];

test('gem: Gem::Version rules, table of comparisons both ways', () => {
  assertTable(gem, TABLE);
});

test('gem: canonical segments drop zeros at the end of the release and pre-release parts', () => {
  assert.deepEqual(parseGem('1.0.0.rc.1.0'), [
    { kind: 'number', digits: '1' },
    { kind: 'string', text: 'rc' },
    { kind: 'number', digits: '1' },
  ]);
  assert.deepEqual(parseGem('1.0-1'), [
    { kind: 'number', digits: '1' },
    { kind: 'string', text: 'pre' },
    { kind: 'number', digits: '1' },
  ]);
});

const INVALID = [
  '',
  'a',
  '.1',
  '1.',
  '1..2',
  '1.2.',
  '1.2+3',
  '1.2_3',
  '1 2',
  '-1',
  '1.2-',
  '1.2-.3',
  'v1.0',
  '1.0é',
];

test('gem: what Gem::Version rejects is unparseable', () => {
  assertInvalid(gem, INVALID, '1.0');
});

const ORACLE = `
out = []
STDIN.read.split("\\n").each do |line|
  next if line.empty?
  kind, a, b = line.split("\\t", -1)
  if kind == "v"
    out << (Gem::Version.correct?(a) ? 1 : 0)
  else
    out << (Gem::Version.new(a) <=> Gem::Version.new(b))
  end
end
STDOUT.write(out.join("\\n") + "\\n")
`;

test('gem: agrees with Gem::Version (ruby) on real version strings from OSV PyPI and Go records', (t) => {
  if (!requireOrSkip(t, hasTool('ruby'), 'ruby is not installed')) return;
  const pypi = osvVersions('pypi');
  const go = osvVersions('go');
  if (!requireOrSkip(t, pypi !== undefined && go !== undefined, 'shared/data/osv is missing')) return;
  // gem grammar overlaps both: '1.0rc1', '2.0.0-beta.1'; what it rejects must be rejected by ruby too
  const candidates = [...pypi!, ...go!, ...TABLE.flatMap(([a, , b]) => [a, b]), ...INVALID].filter(
    (v) => v.trim() !== '' && !/[\t\n]/.test(v) && v.trim() === v,
  );
  const validity = parseOrders(runTool('ruby', ['-e', ORACLE], candidates.map((v) => `v\t${v}`).join('\n')));
  const differ = candidates.filter((v, i) => gem.isValid(v) !== (validity[i] === 1));
  assert.deepEqual(differ.slice(0, 30), [], `validity differs from Gem::Version on ${differ.length}`);
  const valid = candidates.filter((v) => gem.isValid(v));
  assert.ok(valid.length > 10_000, `valid gem versions: ${valid.length}`);
  const { pairs } = proofPairs(gem, valid, 20_000);
  const out = runTool('ruby', ['-e', ORACLE], pairs.map(([a, b]) => `p\t${a}\t${b}`).join('\n'));
  assertAgrees(gem, pairs, parseOrders(out), 'Gem::Version');
});
