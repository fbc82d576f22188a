/**
 * RubyGems versions, ordered as Gem::Version#<=>: segments are digit runs (numbers) and letter runs
 * (strings); a string segment marks a pre-release and sorts below any number; trailing zeros of the
 * release part and of the pre-release part are ignored ("1.0.a" == "1.a"). '-' reads as ".pre.".
 */
import { compareDigits, compareStrings, defineComparator, fail, type Order } from './common.ts';

export type GemSegment = { kind: 'number'; digits: string } | { kind: 'string'; text: string };
export type GemVersion = readonly GemSegment[];

// Gem::Version::ANCHORED_VERSION_PATTERN without the surrounding whitespace it tolerates
const VERSION = /^[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

function isZero(s: GemSegment): boolean {
  return s.kind === 'number' && /^0+$/.test(s.digits);
}

function dropTrailingZeros(segments: GemSegment[]): GemSegment[] {
  let n = segments.length;
  while (n > 0 && isZero(segments[n - 1]!)) n--;
  return segments.slice(0, n);
}

export function parseGem(v: string) {
  if (v === '') return fail('version string is empty');
  if (!VERSION.test(v)) return fail('not a RubyGems version (digits, then dot-separated alphanumerics)');
  const segments: GemSegment[] = [];
  for (const m of v.replaceAll('-', '.pre.').matchAll(/[0-9]+|[a-z]+/gi)) {
    const t = m[0];
    segments.push(/^[0-9]/.test(t) ? { kind: 'number', digits: t } : { kind: 'string', text: t });
  }
  // canonical segments: zeros dropped from the end of the release part and of the pre-release part
  const firstString = segments.findIndex((s) => s.kind === 'string');
  const release = firstString < 0 ? segments : segments.slice(0, firstString);
  const pre = firstString < 0 ? [] : segments.slice(firstString);
  return [...dropTrailingZeros(release), ...dropTrailingZeros(pre)] satisfies GemVersion;
}

const ZERO: GemSegment = { kind: 'number', digits: '0' };

export function compareGemVersions(a: GemVersion, b: GemVersion): Order {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? ZERO;
    const y = b[i] ?? ZERO;
    if (x.kind === 'number' && y.kind === 'number') {
      const r = compareDigits(x.digits, y.digits);
      if (r !== 0) return r;
    } else if (x.kind === 'string' && y.kind === 'string') {
      const r = compareStrings(x.text, y.text);
      if (r !== 0) return r;
    } else {
      return x.kind === 'string' ? -1 : 1;
    }
  }
  return 0;
}

export const gemComparator = defineComparator('gem', parseGem, compareGemVersions);
