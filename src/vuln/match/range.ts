/**
 * Is this version affected by this OSV `affected[]` entry? Evaluated exactly as the OSV schema's
 * "Evaluation" section says (ossf/osv-schema docs/schema.md):
 *
 *  - a version listed in `versions` is affected;
 *  - SEMVER and ECOSYSTEM ranges: events are sorted by version (`introduced: "0"` is below every
 *    version, `limit: "*"` above every version); when `limit` events exist the version must be
 *    below one of them; then, walking the sorted events, `v >= introduced` makes it affected,
 *    `v >= fixed` not affected, `v > last_affected` not affected;
 *  - GIT ranges name commits, not versions: they are ignored (only `versions` speaks for them);
 *  - an entry with neither ranges nor versions affects every version (osv-scanner reads it so).
 *
 * A version the scheme cannot parse is `unknown`, never `not-affected`; so is a range whose own
 * event versions cannot be parsed (bad data must not read as "safe").
 */
import { isVouchError } from '../../errors.ts';
import type { OsvAffected, OsvEvent, OsvEventType, OsvRange } from '../osv.ts';
import { comparators as realComparators } from '../version/index.ts';
import type { VersionComparator, VersionScheme } from '../version/types.ts';

export type RangeResult =
  | { kind: 'affected'; range: string }
  | { kind: 'not-affected' }
  | { kind: 'unknown'; reason: string };

/** One comparator per scheme, as src/vuln/version/index.ts exports them. */
export type Comparators = { readonly [S in VersionScheme]: VersionComparator };

/** Schemes whose grammar is SemVer 2.0 (possibly with extras), so a SEMVER range can use them as they are. */
const SEMVER_LIKE: readonly VersionScheme[] = ['semver', 'go', 'cargo'];

interface SortedEvent {
  type: OsvEventType;
  version: string;
  /** `introduced: "0"` (below everything) or `limit: "*"` (above everything). */
  infinite: boolean;
}

type CompiledRange =
  | { ok: true; type: OsvRange['type']; cmp: VersionComparator; events: SortedEvent[]; limits: SortedEvent[] }
  | { ok: false; reason: string };

/** An `affected[]` entry prepared once (events validated and sorted), then asked about many versions. */
export interface AffectedEvaluator {
  evaluate(version: string): RangeResult;
  /** The lowest `fixed` version above `installed` (see fixedVersions); undefined when none. */
  fixedAbove(installed: string): string | undefined;
}

export function isAffected(
  version: string,
  affected: OsvAffected,
  scheme: VersionScheme,
  comparators: Comparators = realComparators,
): RangeResult {
  return compileAffected(affected, scheme, comparators).evaluate(version);
}

/**
 * The lowest `fixed` version above `installed`: first from the ranges that contain `installed`
 * (the fix that ends its interval), else from every range (a version affected only through the
 * `versions` list). Undefined when no range has a fixed event above it (unfixed, or
 * `last_affected` only).
 */
export function fixedVersions(
  affected: OsvAffected,
  installed: string,
  scheme: VersionScheme,
  comparators: Comparators = realComparators,
): string | undefined {
  return compileAffected(affected, scheme, comparators).fixedAbove(installed);
}

export function compileAffected(
  affected: OsvAffected,
  scheme: VersionScheme,
  comparators: Comparators = realComparators,
): AffectedEvaluator {
  const native = comparators[scheme];
  const listed = affected.versions ?? [];
  const listedSet = new Set(listed);
  const all = affected.ranges ?? [];
  const ranges = all.filter((r) => r.type !== 'GIT').map((r) => compileRange(r, scheme, comparators));
  const onlyGit = all.length > 0 && ranges.length === 0;
  const everything = all.length === 0 && listed.length === 0;
  let listedValid: string[] | undefined;

  const evaluate = (version: string): RangeResult => {
    if (everything) return { kind: 'affected', range: 'all versions (no ranges or versions given)' };
    if (listedSet.has(version)) return { kind: 'affected', range: 'listed version' };
    let unknown: string | undefined;
    for (const r of ranges) {
      const res = evaluateRange(r, version);
      if (res.kind === 'affected') return res;
      if (res.kind === 'unknown') unknown ??= res.reason;
    }
    if (!native.isValid(version)) {
      return { kind: 'unknown', reason: invalidReason(native, version) };
    }
    // The same version spelled differently ("1.0" and "1.0.0" in PEP 440) is still listed.
    listedValid ??= listed.filter((v) => native.isValid(v));
    if (listedValid.length > 0 && listedValid.some((v) => native.compare(v, version) === 0)) {
      return { kind: 'affected', range: 'listed version' };
    }
    if (unknown !== undefined) return { kind: 'unknown', reason: unknown };
    if (onlyGit && listed.length === 0) {
      return {
        kind: 'unknown',
        reason: 'only GIT ranges and no versions list: commits cannot be compared with a version',
      };
    }
    return { kind: 'not-affected' };
  };

  const fixedAbove = (installed: string): string | undefined => {
    const inside: { v: string; cmp: VersionComparator }[] = [];
    const above: { v: string; cmp: VersionComparator }[] = [];
    for (const r of ranges) {
      if (!r.ok || !r.cmp.isValid(installed)) continue;
      const closing = closingFix(r, installed);
      if (closing !== undefined) inside.push({ v: closing, cmp: r.cmp });
      for (const e of r.events) {
        if (e.type === 'fixed' && r.cmp.compare(e.version, installed) > 0)
          above.push({ v: e.version, cmp: r.cmp });
      }
    }
    return lowest(inside.length > 0 ? inside : above);
  };

  return { evaluate, fixedAbove };
}

function compileRange(range: OsvRange, scheme: VersionScheme, comparators: Comparators): CompiledRange {
  const cmp =
    range.type === 'SEMVER' && !SEMVER_LIKE.includes(scheme) ? comparators.semver : comparators[scheme];
  const events: SortedEvent[] = [];
  const limits: SortedEvent[] = [];
  for (const [i, e] of (range.events ?? []).entries()) {
    const parsed = parseEvent(e);
    if (typeof parsed === 'string')
      return { ok: false, reason: `${range.type} range event ${i + 1}: ${parsed}` };
    const infinite =
      (parsed.type === 'introduced' && parsed.version === '0') ||
      (parsed.type === 'limit' && parsed.version === '*');
    if (!infinite && !cmp.isValid(parsed.version)) {
      return {
        ok: false,
        reason: `${range.type} range: ${parsed.type} ${JSON.stringify(parsed.version)} is not a valid ${cmp.scheme} version`,
      };
    }
    (parsed.type === 'limit' ? limits : events).push({ ...parsed, infinite });
  }
  if (!events.some((e) => e.type === 'introduced')) {
    return { ok: false, reason: `${range.type} range has no introduced event` };
  }
  // Stable sort: events at the same version keep the record's order.
  events.sort((a, b) => {
    if (a.infinite || b.infinite) return a.infinite === b.infinite ? 0 : a.infinite ? -1 : 1;
    return cmp.compare(a.version, b.version);
  });
  return { ok: true, type: range.type, cmp, events, limits };
}

function parseEvent(e: OsvEvent): { type: OsvEventType; version: string } | string {
  const keys = Object.keys(e ?? {}) as OsvEventType[];
  if (keys.length !== 1) return `an event has exactly one key, found ${keys.length}`;
  const type = keys[0]!;
  const version = e[type];
  if (!['introduced', 'fixed', 'last_affected', 'limit'].includes(type)) return `unknown event type ${type}`;
  if (typeof version !== 'string' || version === '') return `${type} has no version`;
  return { type, version };
}

function evaluateRange(r: CompiledRange, v: string): RangeResult {
  if (!r.ok) return { kind: 'unknown', reason: r.reason };
  if (!r.cmp.isValid(v)) return { kind: 'unknown', reason: invalidReason(r.cmp, v) };
  if (r.limits.length > 0 && !r.limits.some((l) => l.infinite || r.cmp.compare(v, l.version) < 0)) {
    return { kind: 'not-affected' };
  }
  let affected = false;
  let opened = -1;
  for (const [i, e] of r.events.entries()) {
    if (e.type === 'introduced') {
      if (e.infinite || r.cmp.compare(v, e.version) >= 0) {
        affected = true;
        opened = i;
      }
    } else if (e.type === 'fixed') {
      if (r.cmp.compare(v, e.version) >= 0) affected = false;
    } else if (e.type === 'last_affected') {
      if (r.cmp.compare(v, e.version) > 0) affected = false;
    }
  }
  if (!affected) return { kind: 'not-affected' };
  const from = r.events[opened]!;
  const to = r.events.slice(opened + 1).find((e) => e.type === 'fixed' || e.type === 'last_affected');
  const parts = [`introduced ${from.version}`];
  if (to) parts.push(`${to.type} ${to.version}`);
  for (const l of r.limits) parts.push(`limit ${l.version}`);
  return { kind: 'affected', range: parts.join(', ') };
}

/** The fixed event that ends the interval holding `v`, when `v` is inside one. */
function closingFix(r: Extract<CompiledRange, { ok: true }>, v: string): string | undefined {
  const res = evaluateRange(r, v);
  if (res.kind !== 'affected') return undefined;
  let opened = -1;
  for (const [i, e] of r.events.entries()) {
    if (e.type === 'introduced' && (e.infinite || r.cmp.compare(v, e.version) >= 0)) opened = i;
  }
  const to = r.events.slice(opened + 1).find((e) => e.type === 'fixed' || e.type === 'last_affected');
  return to?.type === 'fixed' ? to.version : undefined;
}

function lowest(xs: { v: string; cmp: VersionComparator }[]): string | undefined {
  let best = xs[0];
  for (const x of xs.slice(1)) {
    // Fixed versions of ranges with different comparators may not order: keep the first.
    if (best && x.cmp.isValid(best.v) && x.cmp.compare(x.v, best.v) < 0) best = x;
  }
  return best?.v;
}

function invalidReason(cmp: VersionComparator, v: string): string {
  try {
    cmp.compare(v, v);
  } catch (e) {
    if (isVouchError(e)) return e.message;
    throw e;
  }
  return `${JSON.stringify(v)} is not a valid ${cmp.scheme} version`;
}
