/**
 * Python versions (PEP 440), ordered as pypa/packaging's Version: epoch, release (trailing zeros
 * ignored), pre-release (a < b < rc), post-release, dev-release, local label; the spellings PEP 440
 * normalises (alpha, c, preview, rev, '-1', separators, 'v', case) are accepted.
 * Written here rather than taken from @renovatebot/pep440, which holds numbers as JS numbers and so
 * calls 1.99999999999999999999 and 1.99999999999999999998 equal; these compare digit strings.
 */
import { compareDigits, compareStrings, defineComparator, fail, type Order, sign } from './common.ts';

// PEP 440 appendix B's pattern, anchored; surrounding whitespace is tolerated as packaging does
const PATTERN = new RegExp(
  '^\\s*v?(?:([0-9]+)!)?([0-9]+(?:\\.[0-9]+)*)' +
    '(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?([0-9]+)?)?' +
    '(?:-([0-9]+)|[-_.]?(post|rev|r)[-_.]?([0-9]+)?)?' +
    '(?:[-_.]?(dev)[-_.]?([0-9]+)?)?' +
    '(?:\\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\\s*$',
  'i',
);

const PRE_LABELS: Readonly<Record<string, 'a' | 'b' | 'rc'>> = {
  a: 'a',
  alpha: 'a',
  b: 'b',
  beta: 'b',
  c: 'rc',
  pre: 'rc',
  preview: 'rc',
  rc: 'rc',
};

export interface Pep440Version {
  epoch: string;
  /** Without trailing zeros: 1.0.0 and 1 are one version. */
  release: readonly string[];
  pre: { label: 'a' | 'b' | 'rc'; n: string } | undefined;
  post: string | undefined;
  dev: string | undefined;
  /** Lower-cased parts; all-digit parts compare as numbers. */
  local: readonly string[] | undefined;
}

export function parsePep440(v: string) {
  const m = PATTERN.exec(v);
  if (!m) return fail('not a PEP 440 version');
  const release = m[2]!.split('.');
  while (release.length > 0 && /^0+$/.test(release[release.length - 1]!)) release.pop();
  const preLabel = m[3]?.toLowerCase();
  return {
    epoch: m[1] ?? '0',
    release,
    pre: preLabel === undefined ? undefined : { label: PRE_LABELS[preLabel]!, n: m[4] ?? '0' },
    post: m[5] ?? (m[6] === undefined ? undefined : (m[7] ?? '0')),
    dev: m[8] === undefined ? undefined : (m[9] ?? '0'),
    local: m[10]?.toLowerCase().split(/[-_.]/),
  } satisfies Pep440Version;
}

/** Compares optional parts where a missing one sorts first (`missing = -1`) or last (`missing = 1`). */
function optional<T>(a: T | undefined, b: T | undefined, missing: Order, cmp: (x: T, y: T) => Order): Order {
  if (a === undefined || b === undefined) {
    if (a === b) return 0;
    return a === undefined ? missing : (-missing as Order);
  }
  return cmp(a, b);
}

function compareRelease(a: readonly string[], b: readonly string[]): Order {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const r = compareDigits(a[i] ?? '0', b[i] ?? '0');
    if (r !== 0) return r;
  }
  return 0;
}

/** Local labels: numeric parts above string parts, then by value; a longer label wins a tie. */
function compareLocal(a: readonly string[], b: readonly string[]): Order {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const nx = /^[0-9]+$/.test(x);
    const ny = /^[0-9]+$/.test(y);
    const r = nx && ny ? compareDigits(x, y) : nx !== ny ? (nx ? 1 : -1) : compareStrings(x, y);
    if (r !== 0) return r;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** A dev release of a final version sorts before that version's pre-releases (1.0.dev0 < 1.0a0). */
function preRank(v: Pep440Version): number {
  if (v.pre !== undefined) return 1;
  return v.post === undefined && v.dev !== undefined ? 0 : 2;
}

function comparePre(a: Pep440Version, b: Pep440Version): Order {
  const r = sign(preRank(a) - preRank(b));
  if (r !== 0 || a.pre === undefined || b.pre === undefined) return r;
  return compareStrings(a.pre.label, b.pre.label) || compareDigits(a.pre.n, b.pre.n);
}

export function comparePep440Versions(a: Pep440Version, b: Pep440Version): Order {
  return (
    compareDigits(a.epoch, b.epoch) ||
    compareRelease(a.release, b.release) ||
    comparePre(a, b) ||
    optional(a.post, b.post, -1, compareDigits) ||
    optional(a.dev, b.dev, 1, compareDigits) ||
    optional(a.local, b.local, -1, compareLocal)
  );
}

export const pep440Comparator = defineComparator('pep440', parsePep440, comparePep440Versions);
