/**
 * SPDX 2.3 JSON writer (schema: schemas/spdx/spdx-schema.json).
 *
 * - The document DESCRIBES one package for the subject: the image (primaryPackagePurpose
 *   CONTAINER, versionInfo and a SHA256 checksum = the manifest digest, pkg:oci purl) or the
 *   directory. The OS is an OPERATING_SYSTEM package the subject CONTAINS.
 * - Each package: SPDXID `SPDXRef-Package-<type>-<name>-<id>` (sanitised to A-Z a-z 0-9 . -),
 *   versionInfo, supplier / originator when a cataloger recorded them (else NOASSERTION),
 *   downloadLocation NOASSERTION, filesAnalyzed false, licenseConcluded NOASSERTION,
 *   licenseDeclared = the declared licenses ANDed (free text becomes a LicenseRef- with its
 *   text in hasExtractedLicensingInfos), the purl as a PACKAGE-MANAGER external ref, and the
 *   evidence files in sourceInfo.
 * - Relationships: the subject CONTAINS each top-level package; an OS package CONTAINS the
 *   language packages it owns (ownedBy); DEPENDS_ON from depends-on relationships.
 * - What SPDX has no field for (locations with their layers, foundBy, arch, source package,
 *   metadata, the image's platform and layers, problems) is kept in `annotations` by
 *   "Tool: vouch-<version>" whose comment is `vouch:<kind> <canonical JSON>`, so vouch reads
 *   its own documents back without loss. Files no package owns are not written (SPDX files
 *   need a SHA1 checksum vouch does not compute); use CycloneDX for those.
 *
 * documentNamespace is `<base>/<name>-<uuid>` with base https://vouch.dev/spdx by default and
 * the UUIDv5 of the rest of the document, so the same SBOM always gives the same bytes.
 */
import { createHash } from 'node:crypto';
import type { Package, Sbom } from '../model.ts';
import {
  canonicalJson,
  cmp,
  contentUuid,
  dependencyEdges,
  extraContains,
  hexOf,
  imagePurl,
  ownership,
  peopleOf,
  sortPackages,
  sortProblems,
  spdxDate,
} from './common.ts';
import { classifyLicense, joinConjuncts, LICENSE_LIST_VERSION, licenseRefs } from './license.ts';

export const SPDX_VERSION = 'SPDX-2.3';
export const SPDX_DOCUMENT_ID = 'SPDXRef-DOCUMENT';
export const DEFAULT_SPDX_NAMESPACE_BASE = 'https://vouch.dev/spdx';
/** Prefix of vouch's annotation comments. */
export const VOUCH_ANNOTATION_PREFIX = 'vouch:';

export interface SpdxOptions {
  /** Base URI of documentNamespace (no trailing slash); default https://vouch.dev/spdx. */
  namespaceBase?: string;
}

type Json = Record<string, unknown>;

/** Annotation kinds vouch writes. */
export type VouchAnnotationKind = 'package' | 'subject' | 'os' | 'problem';

/** SPDX identifiers allow only letters, digits, '.' and '-'. */
export function spdxIdPart(s: string): string {
  return s.replace(/[^A-Za-z0-9.-]+/g, '-');
}

export function packageSpdxId(p: Pick<Package, 'type' | 'name' | 'id'>): string {
  return `SPDXRef-Package-${spdxIdPart(p.type)}-${spdxIdPart(p.name)}-${spdxIdPart(p.id)}`;
}

/** The SBOM as an SPDX 2.3 JSON object. */
export function toSpdx(sbom: Sbom, o: SpdxOptions = {}): Json {
  const created = spdxDate(sbom.created);
  const annotator = `Tool: ${sbom.tool.name}-${sbom.tool.version}`;
  const annotation = (kind: VouchAnnotationKind, value: unknown): Json => ({
    annotationDate: created,
    annotationType: 'OTHER',
    annotator,
    comment: `${VOUCH_ANNOTATION_PREFIX}${kind} ${canonicalJson(value)}`,
  });

  const tree = ownership(sbom.packages);
  const sorted = sortPackages(sbom.packages);
  // Ids from other tools' documents (bom-refs) may sanitise alike: keep SPDXIDs unique.
  const spdxIds = new Map<string, string>();
  const usedIds = new Set<string>();
  for (const p of sorted) {
    let id = packageSpdxId(p);
    for (let n = 2; usedIds.has(id); n++) id = `${packageSpdxId(p)}-${n}`;
    usedIds.add(id);
    spdxIds.set(p.id, id);
  }
  const licenses = new LicenseRefs();

  const root = rootPackage(sbom, annotation);
  const rootId = root.SPDXID as string;
  const packages: Json[] = [root];
  let osId: string | undefined;
  if (sbom.os) {
    osId = `SPDXRef-OperatingSystem-${spdxIdPart(sbom.os.id)}${sbom.os.versionId ? `-${spdxIdPart(sbom.os.versionId)}` : ''}`;
    const os: Json = { name: sbom.os.id, SPDXID: osId };
    if (sbom.os.versionId !== undefined) os.versionInfo = sbom.os.versionId;
    Object.assign(os, {
      supplier: 'NOASSERTION',
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
    });
    if (sbom.os.prettyName !== undefined) os.description = sbom.os.prettyName;
    os.primaryPackagePurpose = 'OPERATING_SYSTEM';
    os.annotations = [annotation('os', sbom.os)];
    packages.push(os);
  }
  for (const p of sorted) packages.push(packageEntry(p, spdxIds.get(p.id)!, licenses, annotation));

  const rel = (from: string, type: string, to: string): Json => ({
    spdxElementId: from,
    relationshipType: type,
    relatedSpdxElement: to,
  });
  const relationships: Json[] = [];
  if (osId) relationships.push(rel(rootId, 'CONTAINS', osId));
  for (const p of tree.top) relationships.push(rel(rootId, 'CONTAINS', spdxIds.get(p.id)!));
  for (const [owner, kids] of tree.children) {
    for (const k of kids) relationships.push(rel(spdxIds.get(owner)!, 'CONTAINS', spdxIds.get(k.id)!));
  }
  const known = new Set(sorted.map((p) => p.id));
  for (const r of extraContains(sbom, known, (id) => tree.ownerOf.get(id))) {
    relationships.push(rel(spdxIds.get(r.from)!, 'CONTAINS', spdxIds.get(r.to)!));
  }
  for (const [from, tos] of dependencyEdges(sbom, known)) {
    const fromId = from === 'root' ? rootId : spdxIds.get(from)!;
    for (const to of tos) relationships.push(rel(fromId, 'DEPENDS_ON', spdxIds.get(to)!));
  }
  const key = (r: Json): string =>
    `${r.spdxElementId as string}\0${r.relationshipType as string}\0${r.relatedSpdxElement as string}`;
  const unique = [...new Map(relationships.map((r) => [key(r), r])).values()];
  unique.sort((a, b) => cmp(key(a), key(b)));

  const creationInfo: Json = {};
  if (LICENSE_LIST_VERSION !== undefined) creationInfo.licenseListVersion = LICENSE_LIST_VERSION;
  creationInfo.creators = [annotator];
  creationInfo.created = created;

  const doc: Json = {
    spdxVersion: SPDX_VERSION,
    dataLicense: 'CC0-1.0',
    SPDXID: SPDX_DOCUMENT_ID,
    name: sbom.subject.name,
    documentNamespace: '',
    creationInfo,
    packages,
  };
  const extracted = licenses.infos();
  if (extracted.length > 0) doc.hasExtractedLicensingInfos = extracted;
  doc.relationships = [rel(SPDX_DOCUMENT_ID, 'DESCRIBES', rootId), ...unique];
  if (sbom.problems.length > 0)
    doc.annotations = sortProblems(sbom.problems).map((p) => annotation('problem', p));

  const base = (o.namespaceBase ?? DEFAULT_SPDX_NAMESPACE_BASE).replace(/\/+$/, '');
  const slug = sbom.subject.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'sbom';
  doc.documentNamespace = `${base}/${slug}-${contentUuid(JSON.stringify(doc))}`;
  return doc;
}

/** SPDX 2.3 JSON text: 2-space indentation and a final newline; byte-identical for the same SBOM. */
export function serializeSpdx(sbom: Sbom, o: SpdxOptions = {}): string {
  return `${JSON.stringify(toSpdx(sbom, o), null, 2)}\n`;
}

function rootPackage(sbom: Sbom, annotation: (k: VouchAnnotationKind, v: unknown) => Json): Json {
  const s = sbom.subject;
  const common = {
    supplier: 'NOASSERTION',
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
  };
  const noLicense = {
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
  };
  if (s.kind === 'directory') {
    return {
      name: s.name,
      SPDXID: `SPDXRef-DocumentRoot-Directory-${spdxIdPart(s.name)}`,
      ...common,
      ...noLicense,
      annotations: [annotation('subject', s)],
    };
  }
  const { alg, hex } = hexOf(s.digest);
  const p: Json = {
    name: s.name,
    SPDXID: `SPDXRef-DocumentRoot-Image-${spdxIdPart(s.name)}`,
    versionInfo: s.digest,
    ...common,
  };
  if (alg === 'sha256' || alg === 'sha512') {
    p.checksums = [{ algorithm: alg === 'sha256' ? 'SHA256' : 'SHA512', checksumValue: hex }];
  }
  Object.assign(p, noLicense);
  const purl = imagePurl(s);
  if (purl)
    p.externalRefs = [
      { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl },
    ];
  p.primaryPackagePurpose = 'CONTAINER';
  p.annotations = [annotation('subject', s)];
  return p;
}

function packageEntry(
  p: Package,
  spdxId: string,
  licenses: LicenseRefs,
  annotation: (k: VouchAnnotationKind, v: unknown) => Json,
): Json {
  const out: Json = { name: p.name, SPDXID: spdxId };
  if (p.version !== '') out.versionInfo = p.version;
  const people = peopleOf(p);
  out.supplier = people.supplier !== undefined ? agent(people.supplier) : 'NOASSERTION';
  if (people.originator !== undefined) out.originator = agent(people.originator);
  out.downloadLocation = 'NOASSERTION';
  out.filesAnalyzed = false;
  out.licenseConcluded = 'NOASSERTION';
  out.licenseDeclared = licenses.declared(p.licenses);
  out.copyrightText = 'NOASSERTION';
  if (p.locations.length > 0) {
    out.sourceInfo = `acquired package info from ${p.foundBy}: ${p.locations.map((l) => l.path).join(', ')}`;
  }
  if (p.purl !== '') {
    out.externalRefs = [
      { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl },
    ];
  }
  const extra: Record<string, unknown> = {
    id: p.id,
    type: p.type,
    foundBy: p.foundBy,
    locations: p.locations,
  };
  if (p.arch !== undefined) extra.arch = p.arch;
  if (p.source !== undefined) extra.source = p.source;
  if (p.metadata !== undefined && Object.keys(p.metadata).length > 0) extra.metadata = p.metadata;
  out.annotations = [annotation('package', extra)];
  return out;
}

const ORGANIZATION =
  /\b(team|group|project|maintainers|developers|foundation|community|packagers|inc\.?|ltd\.?|llc|gmbh|corporation|corp\.?)\b/i;

/** SPDX agent syntax: `Person: Name (email)` / `Organization: Name (email)`. */
function agent(who: string): string {
  const m = /^(.*?)\s*<([^<>]*)>\s*$/.exec(who);
  const name = (m ? m[1]! : who).trim() || who.trim();
  const kind = ORGANIZATION.test(name) ? 'Organization' : 'Person';
  return m ? `${kind}: ${name} (${m[2]!.trim()})` : `${kind}: ${name}`;
}

/**
 * The document's LicenseRef- entries: one per distinct free-text license (id from the text,
 * made unique with a hash when two texts sanitise alike), and one for every LicenseRef- a
 * package declared itself, so every ref in the document is defined.
 */
class LicenseRefs {
  readonly #byText = new Map<string, string>();
  readonly #byId = new Map<string, { text: string; name: string }>();

  declared(licenses: readonly string[]): string {
    const parts: string[] = [];
    for (const l of licenses) {
      if (l.trim() === '') continue;
      const k = classifyLicense(l);
      if (k.kind === 'id') parts.push(k.id);
      else if (k.kind === 'expression' && !k.expression.includes('DocumentRef-')) {
        for (const ref of licenseRefs(k.expression)) this.#define(ref, ref, ref);
        parts.push(k.expression);
      } else {
        // Free text; also an expression naming another document's LicenseRef, which this
        // document could only use with an externalDocumentRefs entry (checksum included).
        parts.push(this.#forText(k.kind === 'text' ? k.text : k.expression));
      }
    }
    return parts.length === 0 ? 'NOASSERTION' : joinConjuncts(parts);
  }

  infos(): Json[] {
    return [...this.#byId.entries()]
      .sort(([a], [b]) => cmp(a, b))
      .map(([licenseId, v]) => ({ licenseId, extractedText: v.text, name: v.name }));
  }

  #forText(text: string): string {
    const known = this.#byText.get(text);
    if (known !== undefined) return known;
    const slug = text
      .replace(/\+/g, '-plus')
      .replace(/[^A-Za-z0-9.]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 64)
      .replace(/-+$/, '');
    let id = `LicenseRef-${slug || 'text'}`;
    if (this.#byId.has(id)) id = `${id}-${hashOf(text)}`;
    this.#define(id, text, text);
    this.#byText.set(text, id);
    return id;
  }

  #define(id: string, text: string, name: string): void {
    if (!this.#byId.has(id)) this.#byId.set(id, { text, name });
  }
}

function hashOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 8);
}
