/**
 * Matching rules shared by ignore files and VEX: purl constraints (trivy's purl.Match and
 * go-vex's PurlMatches) and package-path globs (doublestar syntax, via src/fs/glob.ts).
 */

import { isVouchError } from '../errors.ts';
import { globToRegExp } from '../fs/glob.ts';
import { type PurlParts, parsePurl } from '../sbom/purl.ts';
import type { Finding } from '../vuln/finding.ts';
import type { Exception } from './types.ts';

/** Parsed purl, or undefined when the string is not one (a constraint never matches it). */
export function tryParsePurl(s: string | undefined): PurlParts | undefined {
  if (!s) return undefined;
  try {
    return parsePurl(s);
  } catch (e) {
    if (isVouchError(e, 'PURL_INVALID')) return undefined;
    throw e;
  }
}

/**
 * True when `target` satisfies the `constraint` purl: same type, namespace and name; the
 * constraint's version (if any) equals the target's; its subpath (if any) equals; every qualifier
 * it lists is present in the target with the same value. Extra target qualifiers are fine.
 */
export function purlMatches(constraint: PurlParts, target: PurlParts): boolean {
  if (constraint.type !== target.type) return false;
  if ((constraint.namespace ?? '') !== (target.namespace ?? '')) return false;
  if (constraint.name !== target.name) return false;
  if (constraint.version && constraint.version !== target.version) return false;
  if (constraint.subpath && constraint.subpath !== target.subpath) return false;
  const tq = target.qualifiers ?? {};
  for (const [k, v] of Object.entries(constraint.qualifiers ?? {})) {
    if (v === undefined) continue;
    if (tq[k] !== v) return false;
  }
  return true;
}

const globCache = new Map<string, RegExp>();

/** doublestar-style match of a package path; leading '/' ignored on both sides. */
export function pathMatches(pattern: string, path: string): boolean {
  let re = globCache.get(pattern);
  if (!re) {
    re = globToRegExp(pattern);
    globCache.set(pattern, re);
  }
  return re.test(path.replace(/^\/+/, ''));
}

/**
 * trivy's IgnoreFindings.Match for one vulnerability: exact id (when given), then (no paths, or one glob
 * matches the package path) and (no purls, or one purl constraint matches the package purl).
 * Unlike trivy, a finding whose purl cannot be parsed never matches a purl constraint.
 */
export function exceptionMatches(e: Exception, f: Finding): boolean {
  if (e.id !== undefined && e.id !== f.id) return false;
  if (e.paths && e.paths.length > 0) {
    const path = f.package.path;
    if (path === undefined || !e.paths.some((p) => pathMatches(p, path))) return false;
  }
  if (e.purls && e.purls.length > 0) {
    const target = tryParsePurl(f.package.purl);
    if (!target) return false;
    if (!e.purls.some((c) => purlMatchesString(c, target))) return false;
  }
  return true;
}

function purlMatchesString(constraint: string, target: PurlParts): boolean {
  const c = tryParsePurl(constraint);
  return c !== undefined && purlMatches(c, target);
}
