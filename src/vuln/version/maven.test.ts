import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { mavenComparator as maven } from './maven.ts';
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
  seeded,
} from './test-support.ts';

const TABLE: Case[] = [
  // trailing null items are dropped
  ['1', '=', '1.0'],
  ['1', '=', '1.0.0'],
  ['1.0', '=', '1-0'],
  ['1-ga', '=', '1'],
  ['1-final', '=', '1'],
  ['1.0.0.RELEASE', '=', '1'],
  ['1.0-GA', '=', '1.0-ga'],
  ['1-0.ga', '=', '1'],
  // qualifier ranks: alpha < beta < milestone < rc = cr < snapshot < release < sp < unknown
  ['1-alpha', '<', '1-beta'],
  ['1-beta', '<', '1-milestone'],
  ['1-milestone', '<', '1-rc'],
  ['1-rc', '=', '1-cr'],
  ['1-rc', '<', '1-snapshot'],
  ['1-SNAPSHOT', '<', '1'],
  ['1', '<', '1-sp'],
  ['1-sp', '<', '1-abc'],
  ['1-abc', '<', '1-abd'],
  ['1-abc', '<', '1.1'],
  // shorthands only before a digit
  ['1-a1', '=', '1-alpha-1'],
  ['1-b2', '=', '1-beta-2'],
  ['1-m3', '=', '1-milestone-3'],
  ['1a1', '=', '1-alpha-1'],
  ['1-a', '>', '1'],
  ['1-a', '>', '1-alpha'],
  // numbers
  ['1.10', '>', '1.9'],
  ['1.0.1', '>', '1'],
  ['1.010', '=', '1.10'],
  ['1.99999999999999999999', '>', '1.99999999999999999998'],
  ['1.2147483648', '>', '1.2147483647'],
  // numbers beat qualifiers at the same place, '-' opens a sub-list
  ['1-1', '<', '1.1'],
  ['1-1', '>', '1'],
  ['1.0-alpha-1', '<', '1.0'],
  ['1.0-alpha-1', '>', '1.0-alpha'],
  ['1.0-beta-1', '>', '1.0-alpha-2'],
  ['1.0-rc-1', '<', '1.0-rc-2'],
  ['1.0-rc1', '<', '1.0'],
  ['1.0-RC1', '=', '1.0-rc-1'],
  ['1.0.RC1', '<', '1.0'],
  ['1.0-SNAPSHOT', '>', '1.0-rc1'],
  ['1.0-SNAPSHOT', '>', '1.0-beta'],
  ['1.0-sp-1', '>', '1.0'],
  ['1.0.1-SNAPSHOT', '>', '1.0'],
  ['2.0', '>', '2.0-rc'],
  // a qualifier after '.' opens a sub-list like '-' does (MNG-5568)
  ['1.0.RC1', '=', '1.0-RC1'],
  ['1.0.beta', '=', '1-beta'],
  ['0.5.1.dev', '=', '0.5.1.dev0'],
  ['0.1.post3', '>', '0.1a1'],
  // a sub-list counts as a whole against nothing (MNG-6964)
  ['0.2.12', '<', '0.2.12-0.20230925092853-5b05b5c147d9'],
  ['1', '<', '1-0.1'],
  // case does not matter
  ['1.0-Alpha', '=', '1.0-ALPHA'],
  ['1.0-Final', '=', '1.0'],
  // real Maven Central shapes
  ['5.3.20', '<', '5.3.21'],
  ['2.3.1.RELEASE', '=', '2.3.1'],
  ['5.6.10.Final', '=', '5.6.10'],
  ['31.1-jre', '>', '31.1'],
  ['31.1-android', '<', '31.1-jre'],
  ['32.0.0-jre', '>', '31.1-jre'],
  ['2.14.0-rc1', '<', '2.14.0'],
  ['1.0.0-M1', '<', '1.0.0-RC1'],
  ['9.4.51.v20230217', '<', '9.4.52.v20230823'],
  ['2.17.1', '>', '2.17.0'],
  ['2.0.0-beta9', '<', '2.0'],
];

test('maven: ComparableVersion rules, table of comparisons both ways', () => {
  assertTable(maven, TABLE);
});

const INVALID = ['', '1.0 beta', ' 1.0', '1.0\n', '1.0é', '1,0\t'];

test('maven: empty strings, spaces and non-ASCII are unparseable', () => {
  assertInvalid(maven, INVALID, '1.0');
});

const JARS = ['/usr/share/maven/lib/maven-artifact-3.x.jar', '/usr/share/java/maven3-artifact.jar'];

const ORACLE = `
import java.io.*;
import java.nio.charset.StandardCharsets;
import org.apache.maven.artifact.versioning.ComparableVersion;

public class Oracle {
  public static void main(String[] args) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    StringBuilder out = new StringBuilder();
    for (String line; (line = in.readLine()) != null; ) {
      if (line.isEmpty()) continue;
      String[] f = line.split("\\t", -1);
      int r = new ComparableVersion(f[0]).compareTo(new ComparableVersion(f[1]));
      out.append(Integer.signum(r)).append('\\n');
    }
    System.out.print(out);
  }
}
`;

/** Maven-style versions: qualifiers, separators and numbers mixed the way Maven Central artifacts do. */
function mavenLike(): string[] {
  const cores = ['1', '1.0', '1.0.0', '1.1', '2.0', '2.0.1', '1.2.3.4', '10.0', '0.9', '1.10', '1.01'];
  const quals = [
    '',
    '-SNAPSHOT',
    '-alpha',
    '-alpha-1',
    '-alpha1',
    '-a1',
    '-beta-2',
    '-b2',
    '-M1',
    '-milestone-1',
    '-RC1',
    '-rc-2',
    '-CR1',
    '.RELEASE',
    '.Final',
    '-GA',
    '-ga',
    '-sp',
    '-sp1',
    '-jre',
    '-android',
    '.v20230217',
    '-20230101.123456-1',
    '-1',
    '-0',
    '.0',
    '-foo',
    '-a',
    'a',
    'b1',
    '-1-SNAPSHOT',
    '.1-rc1',
    '-alpha.1',
    '-beta.0',
    '_1',
    '+build',
    '~1',
  ];
  const out = new Set<string>();
  for (const c of cores) for (const q of quals) out.add(`${c}${q}`);
  const next = seeded(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  while (out.size < 2000) out.add(`${pick(cores)}${pick(quals)}${pick(quals)}`);
  return [...out];
}

test('maven: agrees with Maven 3 ComparableVersion (java) on Maven-style and real OSV version strings', (t) => {
  const jar = JARS.find((j) => existsSync(j));
  const ok = jar !== undefined && hasTool('java', ['-version']);
  if (!requireOrSkip(t, ok, 'java or the maven-artifact jar is missing (apt-get install maven)')) return;
  const pypi = osvVersions('pypi');
  const go = osvVersions('go');
  if (!requireOrSkip(t, pypi !== undefined && go !== undefined, 'shared/data/osv is missing')) return;
  const versions = [...mavenLike(), ...pypi!, ...go!, ...TABLE.flatMap(([a, , b]) => [a, b])].filter((v) =>
    maven.isValid(v),
  );
  assert.ok(versions.length > 15_000, `versions: ${versions.length}`);
  const { pairs } = proofPairs(maven, versions, 20_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-maven-oracle-'));
  try {
    const src = path.join(dir, 'Oracle.java');
    writeFileSync(src, ORACLE);
    // Java's single-file launcher compiles and runs it in one JVM
    const out = runTool('java', ['-cp', jar!, src], pairs.map(([a, b]) => `${a}\t${b}`).join('\n'));
    assertAgrees(maven, pairs, parseOrders(out), 'ComparableVersion');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
