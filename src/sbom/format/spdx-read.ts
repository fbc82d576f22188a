/**
 * SPDX 2.2 / 2.3 JSON → the package model. The inverse of spdx.ts for vouch's own documents
 * (vouch's annotations carry what SPDX has no field for), and a best reading of others':
 *
 * - the subject is the one package the document DESCRIBES (documentDescribes, DESCRIBES,
 *   DESCRIBED_BY); a CONTAINER package with a digest is an image. When several elements are
 *   described, they are all packages and the subject is named after the document;
 * - packages with a purl (externalRefs PACKAGE-MANAGER / purl) of a modelled ecosystem; an
 *   OPERATING_SYSTEM package without one is the OS;
 * - licenses: licenseDeclared (else licenseConcluded) split at its top-level ANDs;
 *   LicenseRef-x read back as the name (or text) hasExtractedLicensingInfos gives it;
 * - locations from vouch's annotation, else from sourceInfo's paths;
 * - X CONTAINS Y between packages → Y.ownedBy = X; DEPENDS_ON / DEPENDENCY_OF → depends-on.
 * Packages vouch cannot model are reported as problems (cataloger 'spdx-reader').
 */
import { type Digest, isDigest } from '../../digest/digest.ts';
import { isVouchError, VouchError } from '../../errors.ts';
import {
  type Location,
  type OsInfo,
  PACKAGE_TYPES,
  type Package,
  type PackageType,
  type Relationship,
  type Sbom,
  type SbomProblem,
  type SbomSubject,
} from '../model.ts';
import { splitConjuncts } from './license.ts';
import {
  IdAllocator,
  isObject,
  type JsonObject,
  type PurlFacts,
  purlFacts,
  Shape,
  UNKNOWN_TOOL_VERSION,
} from './read-common.ts';
import { SPDX_DOCUMENT_ID, VOUCH_ANNOTATION_PREFIX, type VouchAnnotationKind } from './spdx.ts';

export const SPDX_READER = 'spdx-reader';
export const SPDX_READ_VERSIONS = ['SPDX-2.2', 'SPDX-2.3'] as const;

export function fromSpdx(doc: JsonObject): Sbom {
  const version = doc.spdxVersion;
  if (typeof version !== 'string' || !(SPDX_READ_VERSIONS as readonly string[]).includes(version)) {
    throw new VouchError(
      'SBOM_INVALID',
      `SPDX version ${JSON.stringify(version)} is not supported; vouch reads ${SPDX_READ_VERSIONS.join(' and ')} JSON`,
      version === 'SPDX-3.0'
        ? { hint: 'SPDX 3 is JSON-LD with a different model; export SPDX 2.3 instead' }
        : {},
    );
  }
  const shape = new Shape('SPDX document');
  shape.str(doc, 'SPDXID', '$', true);
  shape.str(doc, 'name', '$', true);
  const creationInfo = shape.obj(doc.creationInfo, '$.creationInfo');
  if (!creationInfo) shape.fail('$.creationInfo', 'missing');
  const rawPackages = shape.arr(doc, 'packages', '$');
  const packageObjs: { o: JsonObject; path: string }[] = [];
  rawPackages.forEach((v, i) => {
    const path = `$.packages[${i}]`;
    const o = shape.obj(v, path);
    if (!o) return;
    shape.str(o, 'SPDXID', path, true);
    shape.str(o, 'name', path, true);
    for (const k of [
      'versionInfo',
      'licenseDeclared',
      'licenseConcluded',
      'sourceInfo',
      'primaryPackagePurpose',
    ]) {
      shape.str(o, k, path);
    }
    shape.arr(o, 'externalRefs', path);
    shape.arr(o, 'annotations', path);
    packageObjs.push({ o, path });
  });
  const rels: { from: string; type: string; to: string }[] = [];
  shape.arr(doc, 'relationships', '$').forEach((v, i) => {
    const path = `$.relationships[${i}]`;
    const o = shape.obj(v, path);
    if (!o) return;
    const from = shape.str(o, 'spdxElementId', path, true);
    const type = shape.str(o, 'relationshipType', path, true);
    const to = shape.str(o, 'relatedSpdxElement', path, true);
    if (from !== undefined && type !== undefined && to !== undefined) rels.push({ from, type, to });
  });
  const describes = shape
    .arr(doc, 'documentDescribes', '$')
    .filter((x): x is string => typeof x === 'string');
  shape.arr(doc, 'hasExtractedLicensingInfos', '$');
  shape.check();

  const problems: SbomProblem[] = [];
  const note = (path: string, message: string): void => {
    problems.push({ cataloger: SPDX_READER, path, message });
  };
  for (const a of vouchAnnotations(doc.annotations)) {
    if (a.kind === 'problem' && isProblem(a.value)) problems.push(a.value);
  }

  const extracted = new Map<string, string>();
  for (const e of Array.isArray(doc.hasExtractedLicensingInfos) ? doc.hasExtractedLicensingInfos : []) {
    if (!isObject(e) || typeof e.licenseId !== 'string') continue;
    const name = typeof e.name === 'string' && e.name !== '' ? e.name : undefined;
    extracted.set(e.licenseId, name ?? e.licenseId);
  }

  // The described element(s).
  const described = new Set(describes);
  for (const r of rels) {
    if (r.from === SPDX_DOCUMENT_ID && r.type === 'DESCRIBES') described.add(r.to);
    if (r.to === SPDX_DOCUMENT_ID && r.type === 'DESCRIBED_BY') described.add(r.from);
  }
  const byId = new Map(packageObjs.map((p) => [p.o.SPDXID as string, p]));
  // One described package is the subject; several described elements (packages or files)
  // mean the document has no single subject, and described packages are packages.
  const only = described.size === 1 ? [...described][0]! : undefined;
  const rootId = only !== undefined && byId.has(only) ? only : undefined;
  const subject = subjectFrom(rootId !== undefined ? byId.get(rootId)!.o : undefined, doc.name as string);

  let os: OsInfo | undefined;
  const ids = new IdAllocator();
  const spdxToId = new Map<string, string>();
  const packages: Package[] = [];
  for (const { o, path } of packageObjs) {
    const spdxId = o.SPDXID as string;
    if (spdxId === rootId) continue;
    const notes = vouchAnnotations(o.annotations);
    const osNote = notes.find((a) => a.kind === 'os');
    const noted = osNote ? osInfo(osNote.value) : undefined;
    if (noted) {
      os ??= noted;
      continue;
    }
    const purl = purlOf(o);
    if (o.primaryPackagePurpose === 'OPERATING_SYSTEM' && purl === undefined) {
      os ??= osFrom(o);
      continue;
    }
    const made = packageFrom(o, path, purl, notes, extracted, ids, note);
    if (!made) continue;
    spdxToId.set(spdxId, made.id);
    packages.push(made);
  }

  const byPkgId = new Map(packages.map((p) => [p.id, p]));
  const relationships: Relationship[] = [];
  const seen = new Set<string>();
  const add = (from: string, to: string, type: Relationship['type']): void => {
    const key = `${from}\0${to}\0${type}`;
    if (from === to || seen.has(key)) return;
    seen.add(key);
    relationships.push({ from, to, type });
  };
  for (const r of rels) {
    let parent: string | undefined;
    let child: string | undefined;
    if (r.type === 'CONTAINS') [parent, child] = [r.from, r.to];
    else if (r.type === 'CONTAINED_BY') [parent, child] = [r.to, r.from];
    if (parent !== undefined && child !== undefined) {
      const p = spdxToId.get(parent);
      const c = spdxToId.get(child);
      if (p === undefined || c === undefined) continue;
      const pkg = byPkgId.get(c)!;
      if (pkg.ownedBy === undefined) pkg.ownedBy = p;
      else if (pkg.ownedBy !== p) add(p, c, 'contains');
      continue;
    }
    let from: string | undefined;
    let to: string | undefined;
    if (r.type === 'DEPENDS_ON') [from, to] = [r.from, r.to];
    else if (r.type === 'DEPENDENCY_OF') [from, to] = [r.to, r.from];
    else continue;
    const f = spdxToId.get(from);
    const t = spdxToId.get(to);
    if (f !== undefined && t !== undefined) add(f, t, 'depends-on');
  }

  const creators = Array.isArray(creationInfo?.creators) ? creationInfo.creators : [];
  const tool = creators
    .filter((c): c is string => typeof c === 'string')
    .map((c) => /^Tool:\s*vouch-(\S+)$/.exec(c)?.[1])
    .find((v) => v !== undefined);
  const sbom: Sbom = {
    subject,
    packages,
    relationships,
    problems,
    unowned: [],
    created: typeof creationInfo?.created === 'string' ? creationInfo.created : '',
    tool: { name: 'vouch', version: tool ?? UNKNOWN_TOOL_VERSION },
  };
  if (os) sbom.os = os;
  return sbom;
}

interface VouchNote {
  kind: VouchAnnotationKind;
  value: unknown;
}

/** vouch's own annotations (`vouch:<kind> <json>`); others' annotations are ignored. */
function vouchAnnotations(v: unknown): VouchNote[] {
  const out: VouchNote[] = [];
  for (const a of Array.isArray(v) ? v : []) {
    if (!isObject(a) || typeof a.comment !== 'string' || !a.comment.startsWith(VOUCH_ANNOTATION_PREFIX))
      continue;
    const rest = a.comment.slice(VOUCH_ANNOTATION_PREFIX.length);
    const sp = rest.indexOf(' ');
    if (sp === -1) continue;
    const kind = rest.slice(0, sp);
    if (kind !== 'package' && kind !== 'subject' && kind !== 'os' && kind !== 'problem') continue;
    try {
      out.push({ kind, value: JSON.parse(rest.slice(sp + 1)) });
    } catch {
      // Not vouch's JSON after all: an annotation someone wrote by hand. Ignored like others'.
    }
  }
  return out;
}

function isProblem(v: unknown): v is SbomProblem {
  return (
    isObject(v) &&
    typeof v.cataloger === 'string' &&
    typeof v.path === 'string' &&
    typeof v.message === 'string' &&
    (v.layer === undefined || (typeof v.layer === 'string' && isDigest(v.layer)))
  );
}

function purlOf(o: JsonObject): string | undefined {
  for (const r of Array.isArray(o.externalRefs) ? o.externalRefs : []) {
    if (!isObject(r) || r.referenceType !== 'purl' || typeof r.referenceLocator !== 'string') continue;
    if (r.referenceCategory === 'PACKAGE-MANAGER' || r.referenceCategory === 'PACKAGE_MANAGER') {
      return r.referenceLocator;
    }
  }
  return undefined;
}

function packageFrom(
  o: JsonObject,
  path: string,
  purl: string | undefined,
  notes: VouchNote[],
  extracted: ReadonlyMap<string, string>,
  ids: IdAllocator,
  note: (path: string, message: string) => void,
): Package | undefined {
  const name = o.name as string;
  const label = `package "${name}"${typeof o.versionInfo === 'string' ? ` ${o.versionInfo}` : ''}`;
  const extra = notes.find((a) => a.kind === 'package')?.value;
  const x = isObject(extra) ? extra : {};
  let facts: PurlFacts | undefined;
  if (purl !== undefined) {
    try {
      facts = purlFacts(purl);
    } catch (e) {
      if (!isVouchError(e, 'PURL_INVALID')) throw e;
      note(path, `${label}: ${e.message}; skipped`);
      return undefined;
    }
  }
  const type: PackageType | undefined =
    typeof x.type === 'string' && (PACKAGE_TYPES as readonly string[]).includes(x.type)
      ? (x.type as PackageType)
      : facts?.type;
  if (type === undefined) {
    note(
      path,
      facts
        ? `${label}: purl type "${facts.purlType}" is not an ecosystem vouch models (${PACKAGE_TYPES.join(', ')}); skipped`
        : `${label}: no purl external reference, so its ecosystem is unknown; skipped`,
    );
    return undefined;
  }
  const version = typeof o.versionInfo === 'string' ? o.versionInfo : (facts?.version ?? '');
  const locations = locationsOf(x.locations) ?? locationsFromSourceInfo(o.sourceInfo);
  const out: Package = {
    id: ids.take(typeof x.id === 'string' ? x.id : undefined, { type, name, version, locations }),
    type,
    name,
    version,
    purl: purl ?? '',
    licenses: licensesOf(o, extracted),
    locations,
    foundBy: typeof x.foundBy === 'string' ? x.foundBy : SPDX_READER,
  };
  const arch = typeof x.arch === 'string' ? x.arch : facts?.arch;
  if (arch !== undefined) out.arch = arch;
  if (isObject(x.source) && typeof x.source.name === 'string' && typeof x.source.version === 'string') {
    out.source = { name: x.source.name, version: x.source.version };
  } else if (facts?.upstream) {
    out.source = { name: facts.upstream.name, version: facts.upstream.version ?? version };
  }
  if (isObject(x.metadata)) out.metadata = x.metadata;
  return out;
}

function locationsOf(v: unknown): Location[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: Location[] = [];
  for (const l of v) {
    if (!isObject(l) || typeof l.path !== 'string') continue;
    const loc: Location = { path: l.path };
    if (typeof l.layer === 'string' && isDigest(l.layer)) loc.layer = l.layer as Digest;
    out.push(loc);
  }
  return out;
}

/** syft's and vouch's `acquired package info from <what>: /a, /b` → the absolute paths. */
function locationsFromSourceInfo(v: unknown): Location[] {
  if (typeof v !== 'string') return [];
  const m = /^acquired package info from [^:]*: (.*)$/s.exec(v);
  if (!m) return [];
  return m[1]!
    .split(', ')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('/'))
    .map((path) => ({ path }));
}

const NO_LICENSE = new Set(['NOASSERTION', 'NONE', '']);

function licensesOf(o: JsonObject, extracted: ReadonlyMap<string, string>): string[] {
  const declared = typeof o.licenseDeclared === 'string' ? o.licenseDeclared.trim() : '';
  const concluded = typeof o.licenseConcluded === 'string' ? o.licenseConcluded.trim() : '';
  const expr = !NO_LICENSE.has(declared) ? declared : !NO_LICENSE.has(concluded) ? concluded : '';
  if (expr === '') return [];
  const parts = splitConjuncts(expr) ?? [expr];
  return parts.map((p) => (/^LicenseRef-[A-Za-z0-9.-]+$/.test(p) ? (extracted.get(p) ?? p) : p));
}

/** vouch's `vouch:os` annotation back to OsInfo, keeping only well-typed fields. */
function osInfo(v: unknown): OsInfo | undefined {
  if (!isObject(v) || typeof v.id !== 'string') return undefined;
  const os: OsInfo = { id: v.id };
  if (typeof v.versionId === 'string') os.versionId = v.versionId;
  if (typeof v.release === 'string') os.release = v.release;
  if (typeof v.versionCodename === 'string') os.versionCodename = v.versionCodename;
  if (typeof v.prettyName === 'string') os.prettyName = v.prettyName;
  if (Array.isArray(v.idLike) && v.idLike.every((x) => typeof x === 'string')) os.idLike = v.idLike;
  return os;
}

function osFrom(o: JsonObject): OsInfo {
  const os: OsInfo = { id: (o.name as string).toLowerCase() };
  if (typeof o.versionInfo === 'string') os.versionId = o.versionInfo;
  if (typeof o.description === 'string') os.prettyName = o.description;
  return os;
}

function subjectFrom(root: JsonObject | undefined, docName: string): SbomSubject {
  if (!root) return { kind: 'directory', name: docName, path: '' };
  const note = vouchAnnotations(root.annotations).find((a) => a.kind === 'subject');
  if (note && isSubject(note.value)) return note.value;
  const name = root.name as string;
  if (root.primaryPackagePurpose === 'CONTAINER') {
    const digest = containerDigest(root);
    if (digest !== undefined) {
      let arch: string | undefined;
      const purl = purlOf(root);
      if (purl !== undefined) {
        try {
          arch = purlFacts(purl).arch;
        } catch {
          arch = undefined;
        }
      }
      return {
        kind: 'image',
        name,
        digest,
        platform: { os: 'unknown', architecture: arch ?? 'unknown' },
        layers: [],
      };
    }
  }
  return { kind: 'directory', name, path: name };
}

function isSubject(v: unknown): v is SbomSubject {
  if (!isObject(v) || typeof v.name !== 'string') return false;
  if (v.kind === 'directory') return typeof v.path === 'string';
  const optionalString = (x: unknown) => x === undefined || typeof x === 'string';
  return (
    v.kind === 'image' &&
    typeof v.digest === 'string' &&
    isDigest(v.digest) &&
    (v.indexDigest === undefined || (typeof v.indexDigest === 'string' && isDigest(v.indexDigest))) &&
    optionalString(v.repository) &&
    optionalString(v.tag) &&
    isObject(v.platform) &&
    typeof v.platform.os === 'string' &&
    typeof v.platform.architecture === 'string' &&
    optionalString(v.platform.variant) &&
    Array.isArray(v.layers) &&
    v.layers.every((l) => typeof l === 'string' && isDigest(l))
  );
}

function containerDigest(o: JsonObject): Digest | undefined {
  if (typeof o.versionInfo === 'string' && isDigest(o.versionInfo)) return o.versionInfo as Digest;
  for (const c of Array.isArray(o.checksums) ? o.checksums : []) {
    if (isObject(c) && c.algorithm === 'SHA256' && typeof c.checksumValue === 'string') {
      const d = `sha256:${c.checksumValue.toLowerCase()}`;
      if (isDigest(d)) return d as Digest;
    }
  }
  return undefined;
}
