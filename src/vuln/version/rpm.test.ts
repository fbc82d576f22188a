import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parseRpm, rpmComparator as rpm, rpmvercmp } from './rpm.ts';
import {
  assertAgrees,
  assertInvalid,
  assertTable,
  type Case,
  hasTool,
  parseOrders,
  proofPairs,
  requireOrSkip,
  runTool,
  seeded,
} from './test-support.ts';

/** rpmvercmp on single version strings: segments, separators, '~' and '^'. */
const SEGMENTS: Case[] = [
  ['1.0', '=', '1.0'],
  ['1.0', '<', '2.0'],
  ['2.0.1', '>', '2.0'],
  ['2.0.1a', '>', '2.0.1'],
  ['5.5p1', '<', '5.5p2'],
  ['5.5p10', '>', '5.5p2'],
  ['10xyz', '<', '10.1xyz'],
  ['xyz10', '<', 'xyz10.1'],
  ['xyz.4', '<', '8'],
  ['1b.fc17', '<', '1.fc17'],
  ['1g.fc17', '>', '1.fc17'],
  ['1.0a', '<', '1.0b'],
  ['1.0a', '<', '1.0.1'],
  ['FC5', '<', 'fc4'],
  ['2a', '<', '2.0'],
  ['1.0', '<', '1.0a'],
  ['2_0', '=', '2.0'],
  ['2.0', '=', '2_0'],
  ['2.0+1', '=', '2.0.1'],
  ['1.0.', '=', '1.0'],
  ['10.0001', '=', '10.1'],
  ['10.0001', '<', '10.0039'],
  ['4.999.9', '<', '5.0'],
  ['20101121', '>', '20101120'],
  ['1.0.0001', '=', '1.0.1'],
  ['a', '<', 'b'],
  ['b', '>', 'a'],
  ['a+', '=', 'a_'],
  ['+a', '=', '_a'],
  ['1.0~rc1', '<', '1.0'],
  ['1.0~rc1', '<', '1.0~rc2'],
  ['1.0~rc1~git123', '<', '1.0~rc1'],
  ['1.0~~', '<', '1.0~'],
  ['1.0~', '<', '1.0'],
  ['1.0^', '>', '1.0'],
  ['1.0^git1', '>', '1.0'],
  ['1.0^git1', '<', '1.01'],
  ['1.0^git1', '<', '1.0^git2'],
  ['1.0^git1', '<', '1.0.1'],
  ['1.0^20160101', '<', '1.0.1'],
  ['1.0^20160101^git1', '>', '1.0^20160101'],
  ['1.0^20160102', '>', '1.0^20160101^git1'],
  ['1.0~rc1^git1', '>', '1.0~rc1'],
  ['1.0^git1~pre', '<', '1.0^git1'],
  ['1.0~rc1^git1', '<', '1.0'],
  ['1.1.1k', '<', '1.1.1w'],
  ['0.9.8zh', '>', '0.9.8za'],
  ['1.99999999999999999999', '>', '1.99999999999999999998'],
];

/** Whole EVRs: missing epoch = 0, missing release below any release. */
const EVRS: Case[] = [
  ['1.0-1', '=', '0:1.0-1'],
  ['1:1.0-1', '>', '2.0-1'],
  ['2:1.0', '>', '1:9.9-9'],
  ['1.0-1', '>', '1.0'],
  ['1.0-0', '>', '1.0'],
  ['1.0-1.el8', '<', '1.0-2.el8'],
  ['1.0-1.el8', '<', '1.0-1.el9'],
  ['1.0-10.el8', '>', '1.0-9.el8'],
  ['1.0-1.el8_6', '>', '1.0-1.el8'],
  ['1.0-1.el8_6.1', '>', '1.0-1.el8_6'],
  ['3.0.7-24.el9', '<', '3.0.7-25.el9'],
  ['1:3.0.7-24.el9', '>', '3.0.7-99.el9'],
  ['4.18.0-477.10.1.el8_8', '<', '4.18.0-513.5.1.el8_9'],
  ['2.28-225.el8', '<', '2.28-225.el8_8.6'],
  ['1.2.3-150400.3.6.1', '<', '1.2.3-150500.1.1'],
  ['1.0~rc1-1', '<', '1.0-1'],
  ['1.0-1~pre', '<', '1.0-1'],
  ['0.1-0.1.beta2.fc38', '<', '0.1-1.fc38'],
  ['00:1.0', '=', '1.0'],
];

test('rpm: rpmvercmp segments, tilde and caret, table both ways', () => {
  for (const [a, op, b] of SEGMENTS) {
    const want = op === '<' ? -1 : op === '>' ? 1 : 0;
    assert.equal(rpmvercmp(a, b), want, `${a} ${op} ${b}`);
    assert.equal(rpmvercmp(b, a), 0 - want || 0, `${b} vs ${a}`);
  }
  assertTable(
    rpm,
    SEGMENTS.filter(([a, , b]) => rpm.isValid(a) && rpm.isValid(b)),
  );
});

test('rpm: epoch:version-release, table both ways', () => {
  assertTable(rpm, EVRS);
  assert.deepEqual(parseRpm('2:1.0-3.el9'), { epoch: '2', version: '1.0', release: '3.el9' });
  assert.deepEqual(parseRpm('1.0'), { epoch: '0', version: '1.0', release: undefined });
});

const INVALID = ['', '-1', '1.0-', '1:', ':', '1.0-1-2', 'a:1.0', '1.0 1', '1.0/1', '1.0-1:2', 'é', '1.0@1'];

test('rpm: empty parts and characters rpmbuild refuses are unparseable', () => {
  assertInvalid(rpm, INVALID, '1.0-1');
});

/** Real-looking EVRs: Fedora, RHEL, SUSE shapes combined from typical parts, seeded. */
function corpus(): string[] {
  const versions = [
    '0.9.8zh',
    '1.0',
    '1.0.1',
    '1.01',
    '1.001',
    '1.0a',
    '1.0b',
    '1.0.a',
    '1.1.1k',
    '1.1.1w',
    '1.2_3',
    '1.2+3',
    '1.2.3',
    '2.0',
    '2.0~rc1',
    '2.0~beta2',
    '2.0~rc1~git5',
    '2.0^20230101git1a2b3c',
    '2.0^git1',
    '2.0^1',
    '2.9.10',
    '2.28',
    '2.36',
    '3.0.7',
    '3.0.7~alpha',
    '4.18.0',
    '5.14.0',
    '5.5p1',
    '5.5p10',
    '7.76.1',
    '8.0',
    '9.0p1',
    '10.0001',
    '10.1',
    '2023.01',
    '20230101',
    '1.2.3.4.5',
    'FC5',
    'fc4',
    '1.0~~',
    '1.0~^',
    '1.0^~',
  ];
  const releases = [
    undefined,
    '1',
    '2',
    '10',
    '1.el8',
    '1.el8_6',
    '2.el9',
    '3.el9_2.1',
    '0.1.beta2.el9',
    '4.fc38',
    '1.fc39',
    '1.module+el8.5.0+12345+abcdef12',
    '150400.1.1',
    '150500.3.6.1',
    '12.el7_9',
    '1~rc',
    '1^post',
    '477.10.1.el8_8',
    '225.el8_8.6',
    '0',
    'alt1',
    '1.mga9',
  ];
  const epochs = ['', '', '', '0:', '1:', '2:', '10:'];
  const next = seeded(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const out = new Set<string>();
  for (const v of versions) for (const r of releases) out.add(r === undefined ? v : `${v}-${r}`);
  while (out.size < 2500) {
    const r = pick(releases);
    out.add(`${pick(epochs)}${pick(versions)}${r === undefined ? '' : `-${r}`}`);
  }
  return [...out];
}

test('rpm: agrees with rpm.vercmp (rpm 4.18 lua) on 2,500 real-looking EVRs', (t) => {
  if (!requireOrSkip(t, hasTool('rpm'), 'rpm is not installed')) return;
  const evrs = corpus();
  assert.deepEqual(
    evrs.filter((v) => !rpm.isValid(v)),
    [],
  );
  const { pairs } = proofPairs(rpm, evrs, 5000);
  pairs.push(...[...SEGMENTS, ...EVRS].map(([a, , b]) => [a, b] as const));
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-rpm-oracle-'));
  try {
    const file = path.join(dir, 'pairs.tsv');
    writeFileSync(file, `${pairs.map(([a, b]) => `${a}\t${b}`).join('\n')}\n`);
    // one rpm process: a lua chunk reads every pair and prints rpm.vercmp's answer
    const lua = `%{lua: for l in io.lines(${JSON.stringify(file)}) do local a, b = l:match("^([^\\t]*)\\t(.*)$"); io.write(rpm.vercmp(a, b), "\\n") end}`;
    const out = runTool('rpm', ['--eval', lua], '');
    assertAgrees(rpm, pairs, parseOrders(out), 'rpm.vercmp');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
