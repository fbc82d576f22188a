/**
 * Debian versions, as dpkg orders them: `[epoch:]upstream[-revision]` (deb-version(7)).
 * Valid means dpkg parses it without an error or a warning, so a version dpkg merely tolerates
 * (upstream not starting with a digit, stray characters) is unknown here rather than guessed.
 */
import { compareDigits, defineComparator, fail, isAsciiLetter, isDigit, type Order, sign } from './common.ts';

export interface DebVersion {
  epoch: string;
  upstream: string;
  revision: string;
}

const INT_MAX = 2147483647;
const UPSTREAM_CHARS = /^[0-9][A-Za-z0-9.+~:-]*$/;
const REVISION_CHARS = /^[A-Za-z0-9.+~]+$/;

export function parseDeb(v: string) {
  // dpkg trims surrounding whitespace; inside, whitespace is an error
  const s = v.trim();
  if (s === '') return fail('version string is empty');
  if (/\s/.test(s)) return fail('version string has embedded spaces');
  let epoch = '0';
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0) {
    epoch = s.slice(0, colon);
    if (epoch === '') return fail('epoch in version is empty');
    if (!/^[0-9]+$/.test(epoch)) return fail('epoch in version is not a number');
    if (compareDigits(epoch, String(INT_MAX)) > 0) return fail('epoch in version is too big');
    rest = s.slice(colon + 1);
    if (rest === '') return fail('nothing after colon in version number');
  }
  let upstream = rest;
  let revision = '';
  const hyphen = rest.lastIndexOf('-');
  if (hyphen >= 0) {
    upstream = rest.slice(0, hyphen);
    revision = rest.slice(hyphen + 1);
    if (revision === '') return fail('revision number is empty');
    if (!REVISION_CHARS.test(revision)) return fail('invalid character in revision number');
  }
  if (upstream === '') return fail('version number is empty');
  if (!isDigit(upstream[0])) return fail('version number does not start with digit');
  if (!UPSTREAM_CHARS.test(upstream)) return fail('invalid character in version number');
  return { epoch, upstream, revision } satisfies DebVersion;
}

/** dpkg's weight of one non-digit character: `~` sorts before the end, letters before other symbols. */
function weight(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (isAsciiLetter(c)) return c.charCodeAt(0);
  if (c === '~') return -1;
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp: alternate non-digit runs (by weight) and digit runs (numerically). */
export function compareDebPart(a: string, b: string): Order {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const d = weight(a[i]) - weight(b[j]);
      if (d !== 0) return sign(d);
      i++;
      j++;
    }
    const si = i;
    const sj = j;
    while (isDigit(a[i])) i++;
    while (isDigit(b[j])) j++;
    const d = compareDigits(a.slice(si, i), b.slice(sj, j));
    if (d !== 0) return d;
  }
  return 0;
}

export function compareDebVersions(a: DebVersion, b: DebVersion): Order {
  return (
    compareDigits(a.epoch, b.epoch) ||
    compareDebPart(a.upstream, b.upstream) ||
    compareDebPart(a.revision, b.revision)
  );
}

export const debComparator = defineComparator('deb', parseDeb, compareDebVersions);
