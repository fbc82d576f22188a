/**
 * Shared by the comparator tests (not part of the library): running a reference tool as an oracle,
 * skipping when it is missing (failing instead under CI), seeded sampling, and real version lists.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { isVouchError } from '../../errors.ts';
import type { Order } from './common.ts';
import type { VersionComparator } from './types.ts';

export type Op = '<' | '=' | '>';
export type Case = readonly [string, Op, string];

const OP_ORDER: Readonly<Record<Op, Order>> = { '<': -1, '=': 0, '>': 1 };
const ORDER_OP: Readonly<Record<Order, Op>> = { '-1': '<', '0': '=', '1': '>' };

export function opOf(o: Order): Op {
  return ORDER_OP[o];
}

/** Asserts every `a op b` of a table, and its mirror `b op' a`; reports all failures at once. */
export function assertTable(c: VersionComparator, table: readonly Case[]): void {
  const bad: string[] = [];
  for (const [a, op, b] of table) {
    const want = OP_ORDER[op];
    const got = c.compare(a, b);
    const back = c.compare(b, a);
    if (got !== want || back !== -want) bad.push(`${a} ${op} ${b}: got ${opOf(got)}, reversed ${opOf(back)}`);
  }
  assert.deepEqual(bad, [], `${c.scheme}: ${bad.length} of ${table.length} cases wrong`);
}

/** Asserts that each string is rejected by isValid and by compare, with VERSION_UNPARSEABLE naming it. */
export function assertInvalid(c: VersionComparator, versions: readonly string[], valid = '1.0.0'): void {
  for (const v of versions) {
    assert.equal(c.isValid(v), false, `${c.scheme}: ${JSON.stringify(v)} should be invalid`);
    for (const [a, b] of [
      [v, valid],
      [valid, v],
    ] as const) {
      assert.throws(
        () => c.compare(a, b),
        (e: unknown) =>
          isVouchError(e, 'VERSION_UNPARSEABLE') &&
          e.message.includes(c.scheme) &&
          e.message.includes(JSON.stringify(v)),
        `${c.scheme}: compare(${JSON.stringify(a)}, ${JSON.stringify(b)}) should throw VERSION_UNPARSEABLE`,
      );
    }
  }
}

/** True when `cmd` runs; tools missing here skip their oracle test (and fail it under CI). */
export function hasTool(cmd: string, args: readonly string[] = ['--version']): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
  return r.error === undefined && r.status === 0;
}

/** Skips the test with a reason when `ok` is false, unless CI is set, where it fails instead. */
export function requireOrSkip(t: TestContext, ok: boolean, reason: string): boolean {
  if (ok) return true;
  if (process.env.CI) assert.fail(`${reason} (CI is set, so this cannot be skipped)`);
  t.skip(reason);
  return false;
}

/** Runs a tool to completion with `input` on stdin and returns stdout; any failure throws with stderr. */
export function runTool(
  cmd: string,
  args: readonly string[],
  input: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 256 << 20, timeout: 300_000, env });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  return r.stdout;
}

/** runTool without blocking, so a slow per-pair oracle (dpkg) can use both cores. */
export function runToolAsync(cmd: string, args: readonly string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    p.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(0, 2000)}`));
    });
    p.stdin.end(input);
  });
}

/** Deterministic PRNG (mulberry32), so sampled pairs are the same on every run. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks `n` items spread evenly over a list (first and last included). */
export function spread<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.round((i * (items.length - 1)) / (n - 1))]!);
}

/**
 * The pairs an oracle proof checks: neighbours after sorting with our comparator (so the whole order
 * is checked link by link) and `random` seeded pairs across the list.
 */
export function proofPairs(
  c: VersionComparator,
  versions: readonly string[],
  random: number,
  seed = 1,
): {
  sorted: string[];
  pairs: Array<readonly [string, string]>;
} {
  const sorted = [...new Set(versions)].sort((a, b) => c.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0));
  const pairs: Array<readonly [string, string]> = [];
  for (let i = 1; i < sorted.length; i++) pairs.push([sorted[i - 1]!, sorted[i]!]);
  const next = seeded(seed);
  for (let i = 0; i < random; i++) {
    pairs.push([sorted[Math.floor(next() * sorted.length)]!, sorted[Math.floor(next() * sorted.length)]!]);
  }
  return { sorted, pairs };
}

/** Compares our answers with an oracle's and fails listing the first disagreements. */
export function assertAgrees(
  c: VersionComparator,
  pairs: ReadonlyArray<readonly [string, string]>,
  oracle: readonly Order[],
  tool: string,
): void {
  assert.equal(oracle.length, pairs.length, `${tool} answered ${oracle.length} of ${pairs.length} pairs`);
  const bad: string[] = [];
  pairs.forEach(([a, b], i) => {
    const ours = c.compare(a, b);
    if (ours !== oracle[i]) bad.push(`${a} vs ${b}: vouch ${opOf(ours)}, ${tool} ${opOf(oracle[i]!)}`);
  });
  assert.deepEqual(
    bad.slice(0, 30),
    [],
    `${c.scheme}: ${bad.length} of ${pairs.length} pairs differ from ${tool}`,
  );
}

/** Parses one -1/0/1 per line, as every oracle script here prints them. */
export function parseOrders(out: string): Order[] {
  return out
    .trimEnd()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const n = Math.sign(Number(l));
      assert.ok(l.trim() !== '' && !Number.isNaN(n), `oracle printed ${JSON.stringify(l)}`);
      return n as Order;
    });
}

/** shared/data/osv beside the repository (the CI layout), where real OSV records are read from. */
export const OSV_DATA = path.resolve(import.meta.dirname, '../../../../shared/data/osv');

/**
 * Every version an OSV ecosystem's records name: `versions` lists and ECOSYSTEM/SEMVER range events
 * (GIT ranges hold commit hashes, and "0" only means "from the start"). Sorted bytewise, deduplicated.
 */
export function osvVersions(dir: string): string[] | undefined {
  const root = path.join(OSV_DATA, dir);
  if (!existsSync(root)) return undefined;
  const out = new Set<string>();
  for (const f of readdirSync(root)) {
    if (!f.endsWith('.json')) continue;
    const rec = JSON.parse(readFileSync(path.join(root, f), 'utf8')) as {
      affected?: Array<{
        versions?: string[];
        ranges?: Array<{ type: string; events: Array<Record<string, string>> }>;
      }>;
    };
    for (const a of rec.affected ?? []) {
      for (const v of a.versions ?? []) out.add(v);
      for (const r of a.ranges ?? []) {
        if (r.type === 'GIT') continue;
        for (const e of r.events) for (const v of Object.values(e)) if (v !== '0') out.add(v);
      }
    }
  }
  return [...out].sort();
}
