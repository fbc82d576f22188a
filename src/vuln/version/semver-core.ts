/** The SemVer 2.0.0 grammar and precedence that Go and cargo share (build metadata parsed, never ordered). */
import { compareDigits, compareStrings, fail, type Order, type ParseFailure } from './common.ts';

export interface SemverParts {
  major: string;
  minor: string;
  patch: string;
  pre: readonly string[];
  build: readonly string[];
}

const NUMBER = /^(?:0|[1-9][0-9]*)$/;
const IDENT = /^[0-9A-Za-z-]+$/;
const ALL_DIGITS = /^[0-9]+$/;

/** Parses `M.m.p[-pre][+build]`; with `short`, `M` and `M.m` are accepted too (as Go's x/mod does). */
export function parseSemverParts(v: string, short = false): SemverParts | ParseFailure {
  const plus = v.indexOf('+');
  const main = plus < 0 ? v : v.slice(0, plus);
  const build = plus < 0 ? [] : v.slice(plus + 1).split('.');
  const dash = main.indexOf('-');
  const core = dash < 0 ? main : main.slice(0, dash);
  const pre = dash < 0 ? [] : main.slice(dash + 1).split('.');
  const nums = core.split('.');
  if (nums.length !== 3 && !(short && dash < 0 && plus < 0 && nums.length < 3)) {
    return fail('expected MAJOR.MINOR.PATCH');
  }
  for (const n of nums) {
    if (!NUMBER.test(n)) return fail(`${JSON.stringify(n)} is not a number without leading zeros`);
  }
  for (const id of pre) {
    if (!IDENT.test(id)) return fail('pre-release identifiers must be non-empty [0-9A-Za-z-]');
    if (ALL_DIGITS.test(id) && !NUMBER.test(id))
      return fail(`pre-release identifier ${id} has a leading zero`);
  }
  for (const id of build) {
    if (!IDENT.test(id)) return fail('build identifiers must be non-empty [0-9A-Za-z-]');
  }
  return { major: nums[0]!, minor: nums[1] ?? '0', patch: nums[2] ?? '0', pre, build };
}

function compareIdent(a: string, b: string): Order {
  const na = ALL_DIGITS.test(a);
  const nb = ALL_DIGITS.test(b);
  if (na && nb) return compareDigits(a, b);
  if (na !== nb) return na ? -1 : 1;
  return compareStrings(a, b);
}

/** SemVer precedence: core numbers, then a release above its pre-releases, identifiers left to right. */
export function compareSemverParts(a: SemverParts, b: SemverParts): Order {
  const core =
    compareDigits(a.major, b.major) || compareDigits(a.minor, b.minor) || compareDigits(a.patch, b.patch);
  if (core !== 0) return core;
  if (a.pre.length === 0 || b.pre.length === 0) {
    return a.pre.length === b.pre.length ? 0 : a.pre.length === 0 ? 1 : -1;
  }
  const n = Math.min(a.pre.length, b.pre.length);
  for (let i = 0; i < n; i++) {
    const r = compareIdent(a.pre[i]!, b.pre[i]!);
    if (r !== 0) return r;
  }
  return a.pre.length === b.pre.length ? 0 : a.pre.length < b.pre.length ? -1 : 1;
}
