/**
 * Go module versions, ordered as golang.org/x/mod/semver: SemVer with a `v` prefix (accepted without it,
 * as OSV's Go records write them), `vM` and `vM.m` shorthands, build metadata such as `+incompatible`
 * ignored. Pseudo-versions (`v0.0.0-20200101000000-abcdef123456`) are ordinary pre-releases.
 */
import { defineComparator, fail } from './common.ts';
import { compareSemverParts, parseSemverParts } from './semver-core.ts';

export function parseGo(v: string) {
  if (v === '' || v === 'v') return fail('version string is empty');
  return parseSemverParts(v.startsWith('v') ? v.slice(1) : v, true);
}

export const goComparator = defineComparator('go', parseGo, compareSemverParts);
