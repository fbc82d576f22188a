/**
 * RPM versions `[epoch:]version[-release]`, ordered as rpm 4.18's `rpm.vercmp` (rpmverCmp over rpmvercmp):
 * missing epoch = 0, and a missing release sorts below any release.
 * Valid means the characters rpmbuild allows in Version and Release, so stray text is unknown, not guessed.
 */
import {
  compareDigits,
  compareStrings,
  defineComparator,
  fail,
  isAsciiLetter,
  isDigit,
  type Order,
} from './common.ts';

export interface RpmVersion {
  epoch: string;
  version: string;
  release: string | undefined;
}

const PART = /^[A-Za-z0-9._+~^]+$/;

export function parseRpm(v: string) {
  if (v === '') return fail('version string is empty');
  // rpm's parseEVR: an epoch is leading digits up to ':', the release follows the last '-'
  let rest = v;
  let epoch = '0';
  const m = /^([0-9]*):/.exec(v);
  if (m) {
    epoch = m[1] === '' ? '0' : m[1]!;
    rest = v.slice(m[0].length);
  }
  const dash = rest.lastIndexOf('-');
  const version = dash < 0 ? rest : rest.slice(0, dash);
  const release = dash < 0 ? undefined : rest.slice(dash + 1);
  if (version === '') return fail('version part is empty');
  if (!PART.test(version))
    return fail(`version part ${JSON.stringify(version)} has characters rpm does not allow`);
  if (release !== undefined && !PART.test(release)) {
    return fail(`release part ${JSON.stringify(release)} is empty or has characters rpm does not allow`);
  }
  return { epoch, version, release } satisfies RpmVersion;
}

const isAlnum = (c: string | undefined) => isDigit(c) || isAsciiLetter(c);

/**
 * rpmvercmp: alphanumeric segments, separators skipped; numbers beat letters, `~` sorts before anything
 * (even the end), `^` after the end but before any further segment.
 */
export function rpmvercmp(a: string, b: string): Order {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    const ca = a[i];
    const cb = b[j];
    if (ca === '~' || cb === '~') {
      if (ca !== '~') return 1;
      if (cb !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === '^' || cb === '^') {
      if (ca === undefined) return -1;
      if (cb === undefined) return 1;
      if (ca !== '^') return 1;
      if (cb !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (ca === undefined || cb === undefined) break;
    const numeric = isDigit(ca);
    const same = numeric ? isDigit : isAsciiLetter;
    const si = i;
    const sj = j;
    while (i < a.length && same(a[i])) i++;
    while (j < b.length && same(b[j])) j++;
    // a number against letters: the number is newer
    if (j === sj) return numeric ? 1 : -1;
    const sa = a.slice(si, i);
    const sb = b.slice(sj, j);
    const r = numeric ? compareDigits(sa, sb) : compareStrings(sa, sb);
    if (r !== 0) return r;
  }
  const endA = i >= a.length;
  const endB = j >= b.length;
  if (endA && endB) return 0;
  return endA ? -1 : 1;
}

export function compareRpmVersions(a: RpmVersion, b: RpmVersion): Order {
  const r = rpmvercmp(a.epoch, b.epoch) || rpmvercmp(a.version, b.version);
  if (r !== 0) return r;
  if (a.release === undefined || b.release === undefined) {
    return a.release === b.release ? 0 : a.release === undefined ? -1 : 1;
  }
  return rpmvercmp(a.release, b.release);
}

export const rpmComparator = defineComparator('rpm', parseRpm, compareRpmVersions);
