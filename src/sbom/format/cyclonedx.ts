/**
 * CycloneDX 1.6 JSON writer (schema: schemas/cyclonedx/bom-1.6.schema.json).
 *
 * - metadata.component is what the SBOM describes: the image as a `container` (version = the
 *   manifest digest, purl pkg:oci/…) or the directory as a `file`; bom-ref `root`.
 * - The OS from /etc/os-release is an `operating-system` component.
 * - Each package is a `library` with bom-ref = Package.id, licenses (listed SPDX id as `id`,
 *   one compound expression as `expression`, anything else as `name`), purl, the evidence files
 *   as evidence.occurrences, and vouch's extras as `vouch:` properties (foundBy, locations with
 *   their layer, arch, source package, metadata). A package with ownedBy is nested in its
 *   owner's `components`.
 * - dependencies: the root depends on every top-level component; depends-on relationships.
 * - Files no package owns are `file` components; problems are metadata properties.
 *
 * Output is deterministic: components, properties and dependencies are sorted, and the
 * serialNumber is a UUIDv5 of the rest of the document (see contentUuid).
 */
import type { Package, Sbom } from '../model.ts';
import {
  canonicalJson,
  cmp,
  contentUuid,
  dependencyEdges,
  hexOf,
  imagePurl,
  ownership,
  PROP,
  peopleOf,
  sortProblems,
  sortUnowned,
} from './common.ts';
import { classifyLicense, type LicenseKind } from './license.ts';

export const CYCLONEDX_SPEC_VERSION = '1.6';
export const CYCLONEDX_SCHEMA_URL = 'http://cyclonedx.org/schema/bom-1.6.schema.json';
/** bom-ref of metadata.component: the model's 'root'. */
export const CYCLONEDX_ROOT_REF = 'root';

type Json = Record<string, unknown>;
interface Property {
  name: string;
  value: string;
}

/** The SBOM as a CycloneDX 1.6 JSON object. */
export function toCycloneDx(sbom: Sbom): Json {
  const tree = ownership(sbom.packages);
  const osRef = sbom.os ? osBomRef(sbom) : undefined;
  const components: Json[] = [];
  if (sbom.os && osRef) components.push(osComponent(sbom, osRef));
  const component = (p: Package): Json => {
    const c = packageComponent(p, p.ownedBy !== undefined && tree.ownerOf.get(p.id) !== p.ownedBy);
    const kids = tree.children.get(p.id);
    if (kids && kids.length > 0) c.components = kids.map(component);
    return c;
  };
  for (const p of tree.top) components.push(component(p));
  for (const f of sortUnowned(sbom.unowned)) components.push(fileComponent(f));

  const known = new Set(sbom.packages.map((p) => p.id));
  const edges = dependencyEdges(sbom, known);
  const rootDeps = new Set<string>([...(osRef ? [osRef] : []), ...tree.top.map((p) => p.id)]);
  for (const to of edges.get('root') ?? []) rootDeps.add(to);
  const dependencies: Json[] = [{ ref: CYCLONEDX_ROOT_REF, dependsOn: [...rootDeps].sort(cmp) }];
  for (const [from, to] of edges) if (from !== 'root') dependencies.push({ ref: from, dependsOn: to });

  const metadata: Json = {};
  if (sbom.created !== '') metadata.timestamp = sbom.created;
  metadata.tools = {
    components: [{ type: 'application', name: sbom.tool.name, version: sbom.tool.version }],
  };
  metadata.component = rootComponent(sbom);
  const problemProps = problemProperties(sbom);
  if (problemProps.length > 0) metadata.properties = problemProps;

  const bom: Json = {
    $schema: CYCLONEDX_SCHEMA_URL,
    bomFormat: 'CycloneDX',
    specVersion: CYCLONEDX_SPEC_VERSION,
    serialNumber: '',
    version: 1,
    metadata,
    components,
    dependencies,
  };
  bom.serialNumber = `urn:uuid:${contentUuid(JSON.stringify(bom))}`;
  return bom;
}

/** CycloneDX 1.6 JSON text: 2-space indentation and a final newline; byte-identical for the same SBOM. */
export function serializeCycloneDx(sbom: Sbom): string {
  return `${JSON.stringify(toCycloneDx(sbom), null, 2)}\n`;
}

function rootComponent(sbom: Sbom): Json {
  const s = sbom.subject;
  if (s.kind === 'directory') {
    return {
      'bom-ref': CYCLONEDX_ROOT_REF,
      type: 'file',
      name: s.name,
      properties: [{ name: PROP.directoryPath, value: s.path }],
    };
  }
  const c: Json = { 'bom-ref': CYCLONEDX_ROOT_REF, type: 'container', name: s.name, version: s.digest };
  const { alg, hex } = hexOf(s.digest);
  const cdxAlg = alg === 'sha256' ? 'SHA-256' : alg === 'sha512' ? 'SHA-512' : undefined;
  if (cdxAlg) c.hashes = [{ alg: cdxAlg, content: hex }];
  const purl = imagePurl(s);
  if (purl) c.purl = purl;
  const props: Property[] = [];
  if (s.repository !== undefined) props.push({ name: PROP.imageRepository, value: s.repository });
  if (s.tag !== undefined) props.push({ name: PROP.imageTag, value: s.tag });
  if (s.indexDigest !== undefined) props.push({ name: PROP.imageIndexDigest, value: s.indexDigest });
  props.push({ name: PROP.imageOs, value: s.platform.os });
  props.push({ name: PROP.imageArchitecture, value: s.platform.architecture });
  if (s.platform.variant !== undefined) props.push({ name: PROP.imageVariant, value: s.platform.variant });
  for (const [i, d] of s.layers.entries()) props.push({ name: `${PROP.imageLayerPrefix}${i}`, value: d });
  c.properties = props;
  return c;
}

function osBomRef(sbom: Sbom): string {
  const os = sbom.os!;
  return `os:${os.id}${os.versionId ? `@${os.versionId}` : ''}`;
}

function osComponent(sbom: Sbom, ref: string): Json {
  const os = sbom.os!;
  const c: Json = { 'bom-ref': ref, type: 'operating-system', name: os.id };
  if (os.versionId !== undefined) c.version = os.versionId;
  if (os.prettyName !== undefined) c.description = os.prettyName;
  const props: Property[] = [];
  if (os.versionCodename !== undefined) props.push({ name: PROP.osCodename, value: os.versionCodename });
  if (os.release !== undefined) props.push({ name: PROP.osRelease, value: os.release });
  if (os.idLike && os.idLike.length > 0) props.push({ name: PROP.osIdLike, value: os.idLike.join(' ') });
  if (props.length > 0) c.properties = props;
  return c;
}

function packageComponent(p: Package, ownerNotNested: boolean): Json {
  const c: Json = { 'bom-ref': p.id, type: 'library' };
  const { supplier } = peopleOf(p);
  if (supplier !== undefined) c.supplier = { name: supplier };
  c.name = p.name;
  if (p.version !== '') c.version = p.version;
  const licenses = licenseChoices(p.licenses);
  if (licenses.length > 0) c.licenses = licenses;
  if (p.purl !== '') c.purl = p.purl;
  if (p.locations.length > 0) c.evidence = { occurrences: p.locations.map((l) => ({ location: l.path })) };

  const props: Property[] = [
    { name: PROP.foundBy, value: p.foundBy },
    { name: PROP.type, value: p.type },
  ];
  if (p.arch !== undefined) props.push({ name: PROP.arch, value: p.arch });
  if (p.source) {
    props.push({ name: PROP.sourceName, value: p.source.name });
    props.push({ name: PROP.sourceVersion, value: p.source.version });
  }
  if (ownerNotNested && p.ownedBy !== undefined) props.push({ name: PROP.ownedBy, value: p.ownedBy });
  for (const [i, l] of p.locations.entries()) {
    props.push({ name: `${PROP.locationPrefix}${i}:path`, value: l.path });
    if (l.layer !== undefined) props.push({ name: `${PROP.locationPrefix}${i}:layerID`, value: l.layer });
  }
  if (p.metadata && Object.keys(p.metadata).length > 0) {
    props.push({ name: PROP.metadata, value: canonicalJson(p.metadata) });
  }
  c.properties = props;
  return c;
}

/**
 * CycloneDX allows either a list of `{license: {id | name}}` or exactly one `{expression}`.
 * One compound expression → `expression`; otherwise listed ids → `id`, and everything else
 * (free text, and compound expressions among several licenses) → `name`, which keeps each
 * declared license as one entry.
 */
export function licenseChoices(licenses: readonly string[]): Json[] {
  const kinds = licenses.filter((l) => l.trim() !== '').map(classifyLicense);
  if (kinds.length === 1 && kinds[0]!.kind === 'expression') {
    return [{ expression: kinds[0]!.expression, acknowledgement: 'declared' }];
  }
  return kinds.map((k) => ({
    license:
      k.kind === 'id'
        ? { id: k.id, acknowledgement: 'declared' }
        : { name: licenseText(k), acknowledgement: 'declared' },
  }));
}

function licenseText(k: LicenseKind): string {
  return k.kind === 'expression' ? k.expression : k.kind === 'text' ? k.text : k.id;
}

function fileComponent(f: Sbom['unowned'][number]): Json {
  const c: Json = {
    'bom-ref': `file:${f.layer ?? ''}:${f.path}`,
    type: 'file',
    name: f.path,
  };
  if (f.digest !== undefined) {
    const { alg, hex } = hexOf(f.digest);
    if (alg === 'sha256') c.hashes = [{ alg: 'SHA-256', content: hex }];
    if (alg === 'sha512') c.hashes = [{ alg: 'SHA-512', content: hex }];
  }
  const props: Property[] = [{ name: PROP.unownedKind, value: f.kind }];
  if (f.layer !== undefined) props.push({ name: PROP.unownedLayer, value: f.layer });
  c.properties = props;
  return c;
}

function problemProperties(sbom: Sbom): Property[] {
  const out: Property[] = [];
  for (const [i, p] of sortProblems(sbom.problems).entries()) {
    const at = `${PROP.problemPrefix}${i}:`;
    out.push({ name: `${at}cataloger`, value: p.cataloger });
    out.push({ name: `${at}path`, value: p.path });
    if (p.layer !== undefined) out.push({ name: `${at}layerID`, value: p.layer });
    out.push({ name: `${at}message`, value: p.message });
  }
  return out;
}
