/**
 * Cargo versions: strict SemVer 2.0.0 as the semver crate parses it (no `v`, no shorthands, numbers
 * up to u64). Build metadata is ignored when ordering, as SemVer precedence and cargo's requirement
 * matching do (the crate's own `Ord` would break the tie on it).
 */
import { compareDigits, defineComparator, fail } from './common.ts';
import { compareSemverParts, parseSemverParts } from './semver-core.ts';

const U64_MAX = '18446744073709551615';

export function parseCargo(v: string) {
  const parts = parseSemverParts(v);
  if ('failure' in parts) return parts;
  for (const n of [parts.major, parts.minor, parts.patch]) {
    if (compareDigits(n, U64_MAX) > 0) return fail(`${n} does not fit in 64 bits`);
  }
  return parts;
}

export const cargoComparator = defineComparator('cargo', parseCargo, compareSemverParts);
