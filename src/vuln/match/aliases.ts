/**
 * Which OSV records are the same vulnerability. `aliases` is symmetric and transitive (OSV):
 * records linked through it, directly or not, are one finding. `upstream` names what a record
 * is derived from: a record derived from ONE vulnerability (DEBIAN-CVE-X ← CVE-X, DSA-5532-1 ←
 * CVE-2023-5363) is that vulnerability too; a record derived from SEVERAL (DLA-3942-1 names six
 * CVEs) is an umbrella: it joins the finding of each of them (as an alias, with its range and
 * fix) and never merges them, so no CVE hides inside another's aliases.
 * `DEBIAN-CVE-X`, `ALPINE-CVE-X`, `UBUNTU-CVE-X` count as the same vulnerability as `CVE-X` when
 * counting an upstream list's vulnerabilities (DSAs list both).
 */
import type { OsvRecord } from '../osv.ts';

/** 'DEBIAN-CVE-2023-5363' → 'CVE-2023-5363'; other ids unchanged. */
export function vulnerabilityKey(id: string): string {
  const m = /^[A-Z]+-(CVE-\d{4}-\d+)$/.exec(id);
  return m ? m[1]! : id;
}

/** The distinct vulnerabilities an upstream list names, each with the ids that name it. */
export function upstreamVulnerabilities(record: OsvRecord): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const id of new Set(record.upstream ?? [])) {
    if (id === record.id) continue;
    const key = vulnerabilityKey(id);
    const l = out.get(key) ?? [];
    l.push(id);
    out.set(key, l);
  }
  return out;
}

export function isUmbrella(record: OsvRecord): boolean {
  return upstreamVulnerabilities(record).size > 1;
}

/** Union-find over id strings. */
export class IdGroups {
  readonly #parent = new Map<string, string>();

  find(id: string): string {
    let root = id;
    for (let p = this.#parent.get(root); p !== undefined && p !== root; p = this.#parent.get(root)) root = p;
    if (!this.#parent.has(id)) this.#parent.set(id, id);
    // path compression
    for (let x = id; x !== root; ) {
      const next = this.#parent.get(x)!;
      this.#parent.set(x, root);
      x = next;
    }
    return root;
  }

  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    // the smaller id becomes the root, so groups do not depend on insertion order
    if (compareIds(ra, rb) < 0) this.#parent.set(rb, ra);
    else this.#parent.set(ra, rb);
  }

  /** Every id seen, by root. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const id of this.#parent.keys()) {
      const r = this.find(id);
      const l = out.get(r) ?? [];
      l.push(id);
      out.set(r, l);
    }
    return out;
  }
}

/**
 * Ids in natural order: runs of digits compare as numbers ('CVE-2019-9999' < 'CVE-2019-10223'),
 * then plain code-unit order, so the result never depends on a locale.
 */
export function compareIds(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      const ei = digitsEnd(a, i);
      const ej = digitsEnd(b, j);
      const x = stripZeros(a.slice(i, ei));
      const y = stripZeros(b.slice(j, ej));
      if (x.length !== y.length) return x.length - y.length;
      if (x !== y) return x < y ? -1 : 1;
      i = ei;
      j = ej;
      continue;
    }
    if (ca !== cb) return ca - cb;
    i++;
    j++;
  }
  if (i < a.length || j < b.length) return i < a.length ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function digitsEnd(s: string, from: number): number {
  let k = from;
  while (k < s.length && isDigit(s.charCodeAt(k))) k++;
  return k;
}

function stripZeros(d: string): string {
  let k = 0;
  while (k < d.length - 1 && d.charCodeAt(k) === 48) k++;
  return d.slice(k);
}

/** The finding's id: the lowest CVE when there is one, else the lowest id. */
export function primaryId(ids: Iterable<string>): string {
  const sorted = [...new Set(ids)].sort(compareIds);
  return sorted.find((id) => /^CVE-\d{4}-\d+$/.test(id)) ?? sorted[0]!;
}
