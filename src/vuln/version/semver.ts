/**
 * npm versions, through node-semver itself (the reference implementation): strict parsing (a leading
 * `v` and surrounding spaces tolerated, as npm does), build metadata ignored when ordering.
 */
import semver from 'semver';
import { defineComparator, fail, type Order } from './common.ts';

export function parseNpm(v: string) {
  // parse() returns null for bad input and throws for some (too long, numbers past 2^53)
  try {
    const parsed = semver.parse(v, { loose: false });
    if (parsed !== null) return parsed;
  } catch {
    // reported below
  }
  return fail('not a semantic version (node-semver, strict)');
}

export const semverComparator = defineComparator('semver', parseNpm, (a, b) => a.compare(b) as Order);
