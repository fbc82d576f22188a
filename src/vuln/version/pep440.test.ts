import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePep440, pep440Comparator as pep } from './pep440.ts';
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
  // normalisation: case, separators, spellings, 'v', whitespace
  ['1.0', '=', '1.0.0'],
  ['1', '=', '1.0.0.0'],
  ['v1.0', '=', '1.0'],
  ['V1.0', '=', '1.0'],
  [' 1.0 ', '=', '1.0'],
  ['1.0RC1', '=', '1.0rc1'],
  ['1.0c1', '=', '1.0rc1'],
  ['1.0pre1', '=', '1.0rc1'],
  ['1.0preview1', '=', '1.0rc1'],
  ['1.0alpha1', '=', '1.0a1'],
  ['1.0beta', '=', '1.0b0'],
  ['1.0-a-1', '=', '1.0a1'],
  ['1.0_a_1', '=', '1.0a1'],
  ['1.0.a.1', '=', '1.0a1'],
  ['1.0-1', '=', '1.0.post1'],
  ['1.0post', '=', '1.0.post0'],
  ['1.0.rev1', '=', '1.0.post1'],
  ['1.0.r1', '=', '1.0.post1'],
  ['1.0-r', '=', '1.0.post0'],
  ['1.0-dev1', '=', '1.0.dev1'],
  ['1.0.dev', '=', '1.0.dev0'],
  ['1.0+LOCAL.1', '=', '1.0+local.1'],
  ['1.0+local-1', '=', '1.0+local.1'],
  ['1.0+local_1', '=', '1.0+local.1'],
  ['1.0+01', '=', '1.0+1'],
  ['01.02', '=', '1.2'],
  ['0!1.0', '=', '1.0'],
  // order of phases: dev < pre < final < post
  ['1.0.dev0', '<', '1.0a0'],
  ['1.0.dev1', '<', '1.0a1'],
  ['1.0a1.dev1', '<', '1.0a1'],
  ['1.0a1', '<', '1.0a1.post1.dev1'],
  ['1.0a1.post1.dev1', '<', '1.0a1.post1'],
  ['1.0a1.post1', '<', '1.0a2'],
  ['1.0a2', '<', '1.0b1'],
  ['1.0b1', '<', '1.0rc1'],
  ['1.0rc1', '<', '1.0'],
  ['1.0', '<', '1.0.post1.dev1'],
  ['1.0.post1.dev1', '<', '1.0.post1'],
  ['1.0.post1', '<', '1.0.post2'],
  ['1.0.post2', '<', '1.0.1'],
  ['1.0.1.dev1', '>', '1.0.post99'],
  ['1.0a10', '>', '1.0a9'],
  // local labels: above the public version, numbers above strings, longer wins a tie
  ['1.0', '<', '1.0+local'],
  ['1.0+abc', '<', '1.0+abd'],
  ['1.0+abc.2', '<', '1.0+abc.10'],
  ['1.0+abc', '<', '1.0+1'],
  ['1.0+1', '<', '1.0+1.0'],
  ['1.0+2.abc', '>', '1.0+1.xyz'],
  ['1.0+local', '<', '1.0.post1'],
  ['1.0.dev1+local', '<', '1.0a1'],
  // epochs dominate
  ['1!0.1', '>', '2.0'],
  ['2!1.0', '>', '1!9.0'],
  // numbers beyond 2^53 stay exact
  ['1.99999999999999999999', '>', '1.99999999999999999998'],
  ['9007199254740993', '>', '9007199254740992'],
  ['1.0a99999999999999999999', '>', '1.0a99999999999999999998'],
  ['1.0.post99999999999999999999', '>', '1.0.post99999999999999999998'],
  // real PyPI shapes
  ['2.28.2', '<', '2.31.0'],
  ['4.2.1', '<', '4.2.10'],
  ['0.9.10', '>', '0.9.9'],
  ['2023.7.22', '>', '2022.12.7'],
  ['1.26.18', '<', '2.0.0a1'],
  ['3.0.0b1', '<', '3.0.0'],
];

test('pep440: packaging rules, table of comparisons both ways', () => {
  assertTable(pep, TABLE);
});

test('pep440: parse normalises spellings and drops trailing zeros', () => {
  assert.deepEqual(parsePep440('V2!1.0.0-Preview_3.Post-4.DEV5+Ubuntu-1.0'), {
    epoch: '2',
    release: ['1'],
    pre: { label: 'rc', n: '3' },
    post: '4',
    dev: '5',
    local: ['ubuntu', '1', '0'],
  });
  assert.deepEqual(parsePep440('0.0'), {
    epoch: '0',
    release: [],
    pre: undefined,
    post: undefined,
    dev: undefined,
    local: undefined,
  });
});

const INVALID = [
  '',
  '1.0+',
  '+1.0',
  '1.0.',
  '1..0',
  'a1',
  '1.0a1a',
  '1.0-',
  '1.0+lo cal',
  'latest',
  '1.0.x',
  '1,0',
];

test('pep440: what packaging rejects is unparseable', () => {
  assertInvalid(pep, INVALID, '1.0');
});

/** One python process answering "valid"/"invalid" lines, then one sign per "a\tb" pair. */
const ORACLE = `
import sys
from packaging.version import Version, InvalidVersion
def ok(v):
    try:
        Version(v); return True
    except InvalidVersion:
        return False
out = []
for line in sys.stdin.read().split("\\n"):
    if not line: continue
    kind, rest = line.split("\\t", 1)
    if kind == "v":
        out.append("1" if ok(rest) else "0")
    else:
        a, b = rest.split("\\t")
        x, y = Version(a), Version(b)
        out.append(str((x > y) - (x < y)))
sys.stdout.write("\\n".join(out) + "\\n")
`;

function findPython(): string | undefined {
  return ['python3', '/usr/bin/python3'].find((p) => hasTool(p, ['-c', 'import packaging.version']));
}

test('pep440: agrees with python packaging on every PyPI version in the OSV records', (t) => {
  const python = findPython();
  if (
    !requireOrSkip(t, python !== undefined, 'no python3 with packaging (apt-get install python3-packaging)')
  )
    return;
  const all = osvVersions('pypi');
  if (!requireOrSkip(t, all !== undefined, 'shared/data/osv/pypi is missing')) return;
  assert.ok(all!.length > 10_000, `real PyPI versions: ${all!.length}`);
  const extra = [...TABLE.flatMap(([a, , b]) => [a, b]), ...INVALID.filter((v) => !/[\n\t]/.test(v))];
  const candidates = [...all!, ...extra];
  // validity first: the same strings must parse on both sides
  const validity = runTool(python!, ['-c', ORACLE], candidates.map((v) => `v\t${v}`).join('\n'));
  const theirs = parseOrders(validity);
  const differ = candidates.filter((v, i) => pep.isValid(v) !== (theirs[i] === 1));
  assert.deepEqual(differ, [], 'validity differs from packaging');
  const valid = candidates.filter((v) => pep.isValid(v));
  const { pairs } = proofPairs(pep, valid, 20_000);
  pairs.push(...TABLE.map(([a, , b]) => [a, b] as const));
  const out = runTool(python!, ['-c', ORACLE], pairs.map(([a, b]) => `p\t${a}\t${b}`).join('\n'));
  assertAgrees(pep, pairs, parseOrders(out), 'packaging');
});
