/**
 * Alpine (and Wolfi/Chainguard) versions, as apk-tools orders them:
 * `digit{.digit}...{letter}{_suffix{N}}...{~hash}{-rN}`.
 * apk-tools compares even invalid strings by a partial fallback; here they are unknown instead.
 */
import { compareDigits, compareStrings, defineComparator, fail, isDigit, type Order } from './common.ts';

/** Token kinds in the order apk-tools ranks them: when two versions part ways, the later kind is the lower version. */
const INITIAL = 0;
const DIGIT = 1;
const LETTER = 2;
const SUFFIX = 3;
const SUFFIX_NO = 4;
const HASH = 5;
const REVISION = 6;
const END = 7;

/** Pre-release suffixes rank below no suffix (index 4 here), the rest above. */
const SUFFIXES = ['alpha', 'beta', 'pre', 'rc', '', 'cvs', 'svn', 'git', 'hg', 'p'];
const NO_SUFFIX = 4;

interface Token {
  kind: number;
  /** The token's text: digits, the letter, the suffix name or the hash. */
  text: string;
}

export type ApkVersion = readonly Token[];

function run(s: string, from: number, ok: (c: string) => boolean): number {
  let i = from;
  while (i < s.length && ok(s[i]!)) i++;
  return i;
}

const lower = (c: string) => c >= 'a' && c <= 'z';
const hex = (c: string) => isDigit(c) || (c >= 'a' && c <= 'f');

export function parseApk(v: string) {
  const tokens: Token[] = [];
  let i = run(v, 0, isDigit);
  if (i === 0) return fail('must start with a digit');
  tokens.push({ kind: INITIAL, text: v.slice(0, i) });
  let last = INITIAL;
  while (i < v.length) {
    const c = v[i]!;
    const at = `at offset ${i} (${JSON.stringify(c)})`;
    let kind: number;
    let start = i;
    if (lower(c)) {
      if (last > DIGIT) return fail(`letter ${at} may only follow a number`);
      kind = LETTER;
      i++;
    } else if (c === '.' || isDigit(c)) {
      if (c === '.' && last > DIGIT) return fail(`"." ${at} may only follow a number`);
      if (last > SUFFIX || last === LETTER) return fail(`number ${at} is out of place`);
      kind = last === SUFFIX ? SUFFIX_NO : DIGIT;
      if (c === '.') start = ++i;
      i = run(v, i, isDigit);
      if (i === start) return fail(`"." ${at} is not followed by a number`);
    } else if (c === '_') {
      if (last > SUFFIX_NO) return fail(`suffix ${at} is out of place`);
      start = ++i;
      i = run(v, i, lower);
      const name = v.slice(start, i);
      if (name === '' || !SUFFIXES.includes(name)) return fail(`unknown suffix "_${name}"`);
      kind = SUFFIX;
    } else if (c === '~') {
      if (last >= HASH) return fail(`commit hash ${at} is out of place`);
      start = ++i;
      i = run(v, i, hex);
      if (i === start) return fail(`"~" ${at} is not followed by a lowercase hex commit hash`);
      kind = HASH;
    } else if (c === '-') {
      if (last >= REVISION) return fail(`second revision ${at}`);
      if (v[i + 1] !== 'r') return fail(`"-" ${at} must start a revision "-rN"`);
      start = i += 2;
      i = run(v, i, isDigit);
      if (i === start) return fail('revision "-r" has no number');
      kind = REVISION;
    } else {
      return fail(`unexpected character ${at}`);
    }
    tokens.push({ kind, text: v.slice(start, i) });
    last = kind;
  }
  return tokens satisfies ApkVersion;
}

function compareTokens(a: Token, b: Token): Order {
  switch (a.kind) {
    case DIGIT:
      // a component with a leading zero compares as a string (Gentoo's rule: 1.05 < 1.1)
      if (a.text[0] === '0' || b.text[0] === '0') return compareStrings(a.text, b.text);
      return compareDigits(a.text, b.text);
    case INITIAL:
    case SUFFIX_NO:
    case REVISION:
      return compareDigits(a.text, b.text);
    case SUFFIX:
      return compareDigits(String(SUFFIXES.indexOf(a.text)), String(SUFFIXES.indexOf(b.text)));
    default:
      // letters and commit hashes: byte order
      return compareStrings(a.text, b.text);
  }
}

function isPreRelease(t: Token | undefined): boolean {
  return t?.kind === SUFFIX && SUFFIXES.indexOf(t.text) < NO_SUFFIX;
}

export function compareApkVersions(a: ApkVersion, b: ApkVersion): Order {
  let i = 0;
  for (; i < a.length && i < b.length && a[i]!.kind === b[i]!.kind; i++) {
    const r = compareTokens(a[i]!, b[i]!);
    if (r !== 0) return r;
  }
  const ta = a[i];
  const tb = b[i];
  if (ta === undefined && tb === undefined) return 0;
  // the longer one wins unless what follows is a pre-release suffix; otherwise the later token kind loses
  if (isPreRelease(ta)) return -1;
  if (isPreRelease(tb)) return 1;
  const ka = ta?.kind ?? END;
  const kb = tb?.kind ?? END;
  return ka > kb ? -1 : ka < kb ? 1 : 0;
}

export const apkComparator = defineComparator('apk', parseApk, compareApkVersions);
