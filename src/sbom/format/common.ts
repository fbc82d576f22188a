/**
 * What the CycloneDX and SPDX writers and readers share: deterministic ordering and ids,
 * the ownedBy tree, the image's pkg:oci purl, and vouch's property names.
 */
import { createHash } from 'node:crypto';
import type { Digest } from '../../digest/digest.ts';
import { parseImageName } from '../../transport/name.ts';
import type { Package, Relationship, Sbom, SbomProblem, SbomSubject, UnownedFile } from '../model.ts';
import { buildPurl } from '../purl.ts';

/** vouch's CycloneDX property names (the `vouch:` namespace, as syft uses `syft:`). */
export const PROP = {
  foundBy: 'vouch:package:foundBy',
  type: 'vouch:package:type',
  arch: 'vouch:package:arch',
  sourceName: 'vouch:package:sourceName',
  sourceVersion: 'vouch:package:sourceVersion',
  /** Only when the owner is not in the SBOM, so the package cannot be nested under it. */
  ownedBy: 'vouch:package:ownedBy',
  /** Package.metadata as canonical JSON. */
  metadata: 'vouch:package:metadata',
  /** `vouch:location:<i>:path` and `vouch:location:<i>:layerID`. */
  locationPrefix: 'vouch:location:',
  /** `vouch:problem:<i>:cataloger|path|layerID|message` on metadata. */
  problemPrefix: 'vouch:problem:',
  unownedKind: 'vouch:unowned:kind',
  unownedLayer: 'vouch:unowned:layerID',
  imageTag: 'vouch:image:tag',
  imageRepository: 'vouch:image:repository',
  imageIndexDigest: 'vouch:image:indexDigest',
  imageOs: 'vouch:image:os',
  imageArchitecture: 'vouch:image:architecture',
  imageVariant: 'vouch:image:variant',
  /** `vouch:image:layer:<i>` = layer digest, in image order. */
  imageLayerPrefix: 'vouch:image:layer:',
  directoryPath: 'vouch:directory:path',
  osCodename: 'vouch:os:versionCodename',
  /** OsInfo.release: Debian's point release ('12.7'); the component's version stays VERSION_ID. */
  osRelease: 'vouch:os:release',
  osIdLike: 'vouch:os:idLike',
} as const;

/** Byte-order string comparison (never locale-dependent). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Packages in output order: name, version, type, purl, id. */
export function sortPackages(packages: readonly Package[]): Package[] {
  return [...packages].sort(
    (a, b) =>
      cmp(a.name, b.name) ||
      cmp(a.version, b.version) ||
      cmp(a.type, b.type) ||
      cmp(a.purl, b.purl) ||
      cmp(a.id, b.id),
  );
}

export function sortProblems(problems: readonly SbomProblem[]): SbomProblem[] {
  return [...problems].sort(
    (a, b) =>
      cmp(a.path, b.path) ||
      cmp(a.cataloger, b.cataloger) ||
      cmp(a.layer ?? '', b.layer ?? '') ||
      cmp(a.message, b.message),
  );
}

export function sortUnowned(files: readonly UnownedFile[]): UnownedFile[] {
  return [...files].sort((a, b) => cmp(a.path, b.path) || cmp(a.layer ?? '', b.layer ?? ''));
}

/** depends-on edges between known packages (or from 'root'), deduplicated and sorted. */
export function dependencyEdges(sbom: Sbom, known: ReadonlySet<string>): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const r of sbom.relationships) {
    if (r.type !== 'depends-on') continue;
    if ((r.from !== 'root' && !known.has(r.from)) || !known.has(r.to) || r.from === r.to) continue;
    const set = out.get(r.from) ?? new Set<string>();
    out.set(r.from, set);
    set.add(r.to);
  }
  const sorted = new Map<string, string[]>();
  for (const from of [...out.keys()].sort(cmp)) sorted.set(from, [...out.get(from)!].sort(cmp));
  return sorted;
}

/** 'contains' edges between packages that nesting (ownedBy) does not already say. */
export function extraContains(
  sbom: Sbom,
  known: ReadonlySet<string>,
  owner: (id: string) => string | undefined,
) {
  const seen = new Set<string>();
  const out: Relationship[] = [];
  for (const r of sbom.relationships) {
    if (r.type !== 'contains' || r.from === 'root' || !known.has(r.from) || !known.has(r.to)) continue;
    if (owner(r.to) === r.from) continue;
    const key = `${r.from}\0${r.to}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ from: r.from, to: r.to, type: 'contains' });
  }
  return out.sort((a, b) => cmp(a.from, b.from) || cmp(a.to, b.to));
}

export interface Ownership {
  /** Packages not nested under another, sorted. */
  top: Package[];
  /** Owner id → owned packages, sorted. */
  children: Map<string, Package[]>;
  /** The owner a package is nested under (its ownedBy when that package exists and no cycle). */
  ownerOf: Map<string, string>;
  /** Packages whose ownedBy names a package that is not in the SBOM. */
  dangling: Set<string>;
}

/**
 * The ownedBy tree: a package is nested under its owner when the owner is in the SBOM and
 * following ownedBy from it does not come back to it (a cycle is cut where it closes, so
 * every package appears exactly once).
 */
export function ownership(packages: readonly Package[]): Ownership {
  const byId = new Map(packages.map((p) => [p.id, p]));
  const ownerOf = new Map<string, string>();
  const dangling = new Set<string>();
  for (const p of sortPackages(packages)) {
    if (p.ownedBy === undefined) continue;
    if (!byId.has(p.ownedBy)) {
      dangling.add(p.id);
      continue;
    }
    // Walk up from the would-be owner; if we meet p, nesting would close a cycle.
    let cur: string | undefined = p.ownedBy;
    let cycle = false;
    for (let hops = 0; cur !== undefined && hops <= packages.length; hops++) {
      if (cur === p.id) {
        cycle = true;
        break;
      }
      cur = ownerOf.get(cur);
    }
    if (!cycle) ownerOf.set(p.id, p.ownedBy);
  }
  const top: Package[] = [];
  const children = new Map<string, Package[]>();
  for (const p of sortPackages(packages)) {
    const o = ownerOf.get(p.id);
    if (o === undefined) top.push(p);
    else {
      const list = children.get(o) ?? [];
      children.set(o, list);
      list.push(p);
    }
  }
  return { top, children, ownerOf, dangling };
}

/** JSON with object keys sorted at every level: a stable text for hashing and properties. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort(cmp)) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** RFC 4122 name-based UUID, version 5 (SHA-1), formatted lowercase. */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** RFC 4122 appendix C URL namespace. */
const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';
/** vouch's namespace for document ids: uuidV5(URL, 'https://vouch.dev/sbom'). */
const VOUCH_NAMESPACE = uuidV5(NAMESPACE_URL, 'https://vouch.dev/sbom');

/**
 * A UUID that is a function of the document's content: the same SBOM always gets the same
 * id, and any change in content gives a different one. `text` is the document serialised
 * without its id; its SHA-256 is the UUIDv5 name.
 */
export function contentUuid(text: string): string {
  return uuidV5(VOUCH_NAMESPACE, createHash('sha256').update(text, 'utf8').digest('hex'));
}

/** The repository an image subject names, when known: from `repository` or a registry reference. */
function imageRepo(s: SbomSubject & { kind: 'image' }): { repository?: string; url?: string; tag?: string } {
  let parsed: ReturnType<typeof parseImageName> | undefined;
  try {
    parsed = parseImageName(s.name);
  } catch {
    parsed = undefined;
  }
  const ref = parsed?.transport === 'docker' ? parsed.ref : undefined;
  const out: { repository?: string; url?: string; tag?: string } = {};
  const repository = s.repository ?? ref?.repository;
  if (repository !== undefined) out.repository = repository;
  if (ref !== undefined && (s.repository === undefined || ref.repository.endsWith(s.repository))) {
    out.url = `${ref.registry}/${ref.repository}`;
  }
  const tag = s.tag ?? ref?.tag ?? (parsed?.transport === 'oci' ? parsed.tag : undefined);
  if (tag !== undefined) out.tag = tag;
  return out;
}

/**
 * `pkg:oci/<name>@sha256:<hex>?arch=…&repository_url=…&tag=…` (purl-spec oci type: the name is
 * the last path segment of the repository), or undefined when the repository is unknown
 * (an OCI layout opened by path names no repository).
 */
export function imagePurl(s: SbomSubject): string | undefined {
  if (s.kind !== 'image') return undefined;
  const { repository, url, tag } = imageRepo(s);
  if (repository === undefined) return undefined;
  const name = repository.slice(repository.lastIndexOf('/') + 1).toLowerCase();
  if (name === '') return undefined;
  try {
    return buildPurl({
      type: 'oci',
      name,
      version: s.digest,
      qualifiers: { arch: s.platform.architecture, repository_url: url, tag },
    });
  } catch {
    return undefined;
  }
}

/** SPDX wants `YYYY-MM-DDThh:mm:ssZ`: drop fractional seconds and normalise to UTC when parseable. */
export function spdxDate(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `sha256:<hex>` → hex, for checksums and hashes. */
export function hexOf(d: Digest): { alg: string; hex: string } {
  const i = d.indexOf(':');
  return { alg: d.slice(0, i), hex: d.slice(i + 1) };
}

/** Supplier (metadata.maintainer / supplier / packager) and originator (metadata.author), when a cataloger recorded them. */
export function peopleOf(p: Package): { supplier?: string; originator?: string } {
  const m = p.metadata ?? {};
  const str = (k: string): string | undefined => {
    const v = m[k];
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
  };
  const out: { supplier?: string; originator?: string } = {};
  const supplier = str('maintainer') ?? str('supplier') ?? str('packager');
  if (supplier !== undefined) out.supplier = supplier;
  const originator = str('author');
  if (originator !== undefined) out.originator = originator;
  return out;
}
