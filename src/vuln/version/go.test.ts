import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { goComparator as go } from './go.ts';
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
  // with or without 'v', shorthands
  ['v1.2.3', '=', '1.2.3'],
  ['v1', '=', 'v1.0.0'],
  ['v1.2', '=', '1.2.0'],
  ['v1.2', '<', 'v1.2.1'],
  ['v0.0.1', '>', 'v0.0.0'],
  // numbers compare numerically, without limit
  ['v1.10.0', '>', 'v1.9.0'],
  ['v1.2.10', '>', 'v1.2.9'],
  ['v2.0.0', '>', 'v1.99.99'],
  ['v1.0.99999999999999999999', '>', 'v1.0.99999999999999999998'],
  // build metadata, +incompatible included, is ignored
  ['v2.0.0+incompatible', '=', 'v2.0.0'],
  ['v2.0.0+incompatible', '<', 'v2.0.1'],
  ['v1.0.0+build.1', '=', 'v1.0.0+build.2'],
  ['v17.12.0+incompatible', '<', 'v20.10.0+incompatible'],
  // pre-releases: below the release, identifiers numeric < alphanumeric, fewer < more
  ['v1.0.0-alpha', '<', 'v1.0.0'],
  ['v1.0.0-alpha', '<', 'v1.0.0-alpha.1'],
  ['v1.0.0-alpha.1', '<', 'v1.0.0-alpha.beta'],
  ['v1.0.0-alpha.beta', '<', 'v1.0.0-beta'],
  ['v1.0.0-beta.2', '<', 'v1.0.0-beta.11'],
  ['v1.0.0-beta.11', '<', 'v1.0.0-rc.1'],
  ['v1.0.0-rc.1', '<', 'v1.0.0'],
  ['v1.0.0-1', '<', 'v1.0.0-a'],
  ['v1.0.0-A', '<', 'v1.0.0-a'],
  ['v1.0.0-x-y', '>', 'v1.0.0-x'],
  // pseudo-versions are pre-releases ordered by timestamp
  ['v0.0.0-20200101000000-abcdefabcdef', '<', 'v0.0.0-20210101000000-000000000000'],
  ['v0.0.0-20200101000000-abcdefabcdef', '<', 'v0.0.1'],
  ['v1.2.3-0.20200101000000-abcdefabcdef', '<', 'v1.2.3'],
  ['v1.2.3-0.20200101000000-abcdefabcdef', '>', 'v1.2.2'],
  ['v1.2.4-pre.0.20200101000000-abcdefabcdef', '>', 'v1.2.4-pre'],
  ['v1.2.4-pre.0.20200101000000-abcdefabcdef', '<', 'v1.2.4-pre.1'],
  ['0.0.0-20220722155217-630584e8d5aa', '>', '0.0.0-20220315194320-039c03cc5b86'],
  ['2.0.0-20180308190211-c5d4a2d5c6cb+incompatible', '<', '2.0.0+incompatible'],
];

test('go: x/mod semver rules, table of comparisons both ways', () => {
  assertTable(go, TABLE);
});

const INVALID = [
  '',
  'v',
  'vv1.0.0',
  'V1.0.0',
  'v01.0.0',
  'v1.02.0',
  'v1.2.03',
  'v1.2.3.4',
  'v1.2-pre',
  'v1-pre',
  'v1.2+meta',
  'v1.2.3-',
  'v1.2.3-01',
  'v1.2.3-a..b',
  'v1.2.3+',
  'v1.2.3+a..b',
  'v1.2.3-a_b',
  ' v1.2.3',
  'latest',
  'v1.2.x',
];

test('go: what x/mod rejects is unparseable', () => {
  assertInvalid(go, INVALID, 'v1.0.0');
});

const MOD = '/usr/share/gocode/src/golang.org/x/mod/semver/semver.go';

const ORACLE = `package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		f := strings.Split(in.Text(), "\\t")
		if f[0] == "v" {
			if semver.IsValid(f[1]) {
				fmt.Fprintln(out, 1)
			} else {
				fmt.Fprintln(out, 0)
			}
		} else {
			fmt.Fprintln(out, semver.Compare(f[1], f[2]))
		}
	}
}
`;

/** x/mod wants the 'v'; OSV's Go records leave it out. */
const withV = (v: string) => (v.startsWith('v') ? v : `v${v}`);

test('go: agrees with golang.org/x/mod/semver on every Go version in the OSV records', (t) => {
  const ok = hasTool('go', ['version']) && existsSync(MOD);
  if (
    !requireOrSkip(
      t,
      ok,
      'go or golang.org/x/mod is missing (apt-get install golang-go golang-golang-x-mod-dev)',
    )
  ) {
    return;
  }
  const all = osvVersions('go');
  if (!requireOrSkip(t, all !== undefined, 'shared/data/osv/go is missing')) return;
  assert.ok(all!.length > 2000, `real Go versions: ${all!.length}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'vouch-go-oracle-'));
  try {
    const main = path.join(dir, 'oracle.go');
    writeFileSync(main, ORACLE);
    // GOPATH mode over Debian's source tree: no module download, nothing outside this machine
    const env = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOFLAGS: '' };
    const bin = path.join(dir, 'oracle');
    runTool('go', ['build', '-o', bin, main], '', env);
    const candidates = [
      ...all!,
      ...all!.slice(0, 200).map(withV),
      ...TABLE.flatMap(([a, , b]) => [a, b]),
      ...INVALID,
    ];
    const lines = candidates.filter((v) => !/[\t\n]/.test(v));
    const valid = parseOrders(
      runTool(bin, [], lines.map((v) => `v\t${v === '' ? '' : withV(v)}`).join('\n')),
    );
    const differ = lines.filter((v, i) => go.isValid(v) !== (valid[i] === 1) && v !== 'v');
    assert.deepEqual(differ, [], 'validity differs from x/mod');
    const { pairs } = proofPairs(
      go,
      lines.filter((v) => go.isValid(v)),
      5000,
    );
    const out = runTool(bin, [], pairs.map(([a, b]) => `p\t${withV(a)}\t${withV(b)}`).join('\n'));
    assertAgrees(go, pairs, parseOrders(out), 'x/mod semver');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
