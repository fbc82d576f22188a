/** Pieces every comparator shares: the error, numeric and byte-order helpers, the parse-then-compare shell. */
import { VouchError } from '../../errors.ts';
import type { VersionComparator, VersionScheme } from './types.ts';

export type Order = -1 | 0 | 1;

/** A parser returns the parsed form or, for a bad version, the reason as a string. */
export type Parser<T> = (v: string) => T | ParseFailure;
export interface ParseFailure {
  readonly failure: string;
}

export function fail(reason: string): ParseFailure {
  return { failure: reason };
}

function isFailure<T>(r: T | ParseFailure): r is ParseFailure {
  return typeof r === 'object' && r !== null && 'failure' in r;
}

export function sign(n: number): Order {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Code-unit order, which is byte order for the ASCII strings every scheme here accepts (C strcmp). */
export function compareStrings(a: string, b: string): Order {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two runs of ASCII digits as unbounded integers (leading zeros ignored), so no tool's overflow leaks in. */
export function compareDigits(a: string, b: string): Order {
  const x = stripZeros(a);
  const y = stripZeros(b);
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return compareStrings(x, y);
}

function stripZeros(s: string): string {
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) === 48) i++;
  return s.length === 0 ? '0' : s.slice(i);
}

export function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

export function isAsciiLetter(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

/** Printable ASCII without space: anything else in a version string is a data error, not a version. */
export const PRINTABLE = /^[\x21-\x7e]+$/;

/** Builds a comparator that parses both sides (throwing VERSION_UNPARSEABLE) and compares the parsed forms. */
export function defineComparator<T>(
  scheme: VersionScheme,
  parse: Parser<T>,
  compareParsed: (a: T, b: T) => Order,
): VersionComparator & { parse(v: string): T } {
  const parseOrThrow = (v: string): T => {
    if (typeof v !== 'string') {
      throw new VouchError('VERSION_UNPARSEABLE', `${scheme} version: expected a string, got ${typeof v}`);
    }
    const r = parse(v);
    if (isFailure(r)) {
      throw new VouchError('VERSION_UNPARSEABLE', `${scheme} version ${JSON.stringify(v)}: ${r.failure}`, {
        hint: 'the advisory or package carries a version this scheme cannot order; the match is unknown',
      });
    }
    return r;
  };
  return {
    scheme,
    parse: parseOrThrow,
    compare: (a, b) => compareParsed(parseOrThrow(a), parseOrThrow(b)),
    isValid: (v) => typeof v === 'string' && !isFailure(parse(v)),
  };
}
