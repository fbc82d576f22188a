/**
 * CVSS vectors → base score, with the metæffekt calculator (ae-cvss-calculator: FIRST's CVSS
 * 2.0, 3.0, 3.1 and 4.0 formulas), never hand-rolled math. Score → severity with the
 * qualitative rating scales: v3.x and v4.0 (FIRST) 0.1–3.9 LOW, 4.0–6.9 MEDIUM, 7.0–8.9 HIGH,
 * 9.0–10.0 CRITICAL; v2 (NVD) 0–3.9 LOW, 4.0–6.9 MEDIUM, 7.0–10.0 HIGH. A 0.0 ("None") rates
 * LOW: the advisory still names the package as affected.
 */
import cvssCalculator from 'ae-cvss-calculator';
import type { CvssScore, Severity } from '../finding.ts';

export type CvssVersion = CvssScore['version'];

export interface ScoredVector {
  version: CvssVersion;
  /** The vector as given. */
  vector: string;
  /** Base score (v2/v3: base metrics only; v4: the score of the given metrics). */
  score: number;
}

const cache = new Map<string, ScoredVector | null>();

/** Score one vector; undefined when it is not a complete, valid CVSS vector. */
export function scoreCvss(vector: string): ScoredVector | undefined {
  const hit = cache.get(vector);
  if (hit !== undefined) return hit ?? undefined;
  const scored = compute(vector.trim());
  if (cache.size > 10_000) cache.clear();
  cache.set(vector, scored ?? null);
  return scored;
}

function compute(vector: string): ScoredVector | undefined {
  const version = versionOf(vector);
  if (!version) return undefined;
  let parsed: ReturnType<typeof cvssCalculator.fromVector>;
  try {
    parsed = cvssCalculator.fromVector(vector);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed.isBaseFullyDefined !== 'function' || !parsed.isBaseFullyDefined())
    return undefined;
  // The library reads some unknown metric names leniently: the vector must survive a round trip.
  const scores: { base?: unknown; vector?: unknown } = parsed.calculateScores();
  if (typeof scores.base !== 'number' || !Number.isFinite(scores.base)) return undefined;
  if (!sameMetrics(vector, String(scores.vector ?? ''))) return undefined;
  return { version, vector, score: scores.base };
}

function versionOf(vector: string): CvssVersion | undefined {
  if (vector.startsWith('CVSS:3.1/')) return '3.1';
  if (vector.startsWith('CVSS:3.0/')) return '3.0';
  if (vector.startsWith('CVSS:4.0/')) return '4.0';
  if (vector.startsWith('CVSS:2.0/') || /^AV:[LAN]\/AC:[HML]\/Au:[MSN]\//.test(vector)) return '2.0';
  return undefined;
}

/** Every metric of the input appears, with the same value, in the calculator's normalised vector. */
function sameMetrics(input: string, normalised: string): boolean {
  const out = new Map(
    normalised
      .split('/')
      .map((p) => p.split(':') as [string, string])
      .filter((p) => p.length === 2),
  );
  const parts = input.split('/').filter((p) => !p.startsWith('CVSS:'));
  const seen = new Set<string>();
  for (const p of parts) {
    const [k, v, extra] = p.split(':');
    if (!k || !v || extra !== undefined || seen.has(k)) return false;
    seen.add(k);
    if (out.get(k) !== v) return false;
  }
  return true;
}

/** The qualitative rating of a score in its CVSS version's scale. */
export function severityFromScore(score: number, version: CvssVersion): Severity {
  if (!Number.isFinite(score) || score < 0 || score > 10) return 'UNKNOWN';
  if (version === '2.0') return score >= 7 ? 'HIGH' : score >= 4 ? 'MEDIUM' : 'LOW';
  return score >= 9 ? 'CRITICAL' : score >= 7 ? 'HIGH' : score >= 4 ? 'MEDIUM' : 'LOW';
}
