/**
 * Store keys: `/`-separated relative paths such as `sboms/amd64/sbom-app-1.2.3-spdx.json`.
 * Both stores accept the same keys, so a directory store and a bucket hold the same tree, and
 * a key can never name anything outside the store root: segments are non-empty, never `.` or
 * `..`, and use a portable file-name alphabet (no NUL, `\`, spaces or control characters).
 */
import { VouchError } from '../errors.ts';

/** One key segment: a portable file name (POSIX portable set plus `+ = @ ,`). */
const SEGMENT = /^[A-Za-z0-9._+=@,-]+$/;
const MAX_KEY_LENGTH = 1024;
/**
 * The temp names src/util/atomic.ts uses (`<name>.<12 hex>.tmp`): refused as keys so a listing
 * can skip half-written files without hiding a real artifact.
 */
export const TEMP_NAME = /\.[0-9a-f]{12}\.tmp$/;

function unsafe(what: string, value: string, problem: string): VouchError {
  return new VouchError('UNSAFE_PATH', `${what} ${JSON.stringify(value)} ${problem}`, {
    hint: 'keys are relative paths of [A-Za-z0-9._+=@,-] segments, without "." or ".." segments',
  });
}

function checkSegment(what: string, value: string, seg: string): void {
  if (seg === '') throw unsafe(what, value, 'has an empty segment (leading, trailing or double "/")');
  if (seg === '.' || seg === '..') throw unsafe(what, value, `has a "${seg}" segment`);
  if (seg.includes('..')) throw unsafe(what, value, 'contains ".."');
  if (!SEGMENT.test(seg)) {
    const bad = [...seg].find((c) => !SEGMENT.test(c)) ?? '';
    throw unsafe(what, value, `contains the character ${JSON.stringify(bad)} (U+${codePoint(bad)})`);
  }
}

function codePoint(c: string): string {
  return (c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}

/** Check a key and return its segments. Throws UNSAFE_PATH naming the key and the problem. */
export function keySegments(key: string): string[] {
  if (typeof key !== 'string' || key === '') throw unsafe('key', String(key), 'is empty');
  if (key.length > MAX_KEY_LENGTH) throw unsafe('key', key, `is longer than ${MAX_KEY_LENGTH} characters`);
  if (key.startsWith('/')) throw unsafe('key', key, 'is absolute (starts with "/")');
  const segs = key.split('/');
  for (const s of segs) checkSegment('key', key, s);
  if (TEMP_NAME.test(key)) throw unsafe('key', key, 'looks like a temporary file name (*.<hex>.tmp)');
  return segs;
}

export function validateKey(key: string): string {
  keySegments(key);
  return key;
}

export function isValidKey(key: string): boolean {
  try {
    keySegments(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * Check a listing prefix: like a key, but it may be empty, end with `/`, or end in a partial
 * segment (`sboms/amd` matches `sboms/amd64/...`, as S3 prefixes do).
 */
export function validatePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  if (prefix.length > MAX_KEY_LENGTH) {
    throw unsafe('prefix', prefix, `is longer than ${MAX_KEY_LENGTH} characters`);
  }
  if (prefix.startsWith('/')) throw unsafe('prefix', prefix, 'is absolute (starts with "/")');
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  for (const s of body.split('/')) checkSegment('prefix', prefix, s);
  return prefix;
}

/**
 * A bucket prefix from the configuration (`releases/app`, `releases/app/` or ''), normalised
 * to '' or `releases/app/` so keys join with exactly one `/`.
 */
export function normalisePrefix(prefix: string): string {
  const p = prefix.replace(/^\/+/, '').replace(/\/+$/, '');
  if (p === '') return '';
  for (const s of p.split('/')) checkSegment('store prefix', prefix, s);
  return `${p}/`;
}
