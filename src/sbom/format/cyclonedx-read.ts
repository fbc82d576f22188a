/**
 * CycloneDX 1.4–1.6 JSON → the package model. The inverse of cyclonedx.ts for vouch's own
 * documents (every package field comes back), and a best reading of other tools' documents:
 *
 * - components (nested ones too) with a purl of a modelled ecosystem become packages; a
 *   component nested in a package is ownedBy it; type/arch/source come from vouch properties,
 *   else from the purl (`arch`, deb/apk `upstream`);
 * - licenses: `license.id` / `license.name` / `expression`, one entry each;
 * - locations: vouch:location properties (with layers), else syft's syft:location, else trivy's
 *   FilePath + LayerDigest, else evidence.occurrences; foundBy and source likewise fall back to
 *   syft's and trivy's properties;
 * - metadata.component is the subject (a `container` with a digest is an image), the
 *   `operating-system` component the OS, `dependencies` the depends-on relationships;
 * - vouch's file components and problem properties come back as unowned files and problems.
 * Components vouch cannot model are reported as problems (cataloger 'cyclonedx-reader',
 * path = JSON path of the component).
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
  type UnownedFile,
} from '../model.ts';
import { cmp, PROP } from './common.ts';
import {
  IdAllocator,
  isObject,
  type JsonObject,
  kindOf,
  type PurlFacts,
  purlFacts,
  Shape,
  UNKNOWN_TOOL_VERSION,
} from './read-common.ts';

export const CYCLONEDX_READER = 'cyclonedx-reader';

/** syft's property names, read when vouch's are absent (documents syft wrote). */
const SYFT = {
  foundBy: 'syft:package:foundBy',
  locationPrefix: 'syft:location:',
  osCodename: 'syft:distro:versionCodename',
  osPrettyName: 'syft:distro:prettyName',
  osIdLikePrefix: 'syft:distro:idLike:',
} as const;

/** trivy's property names (aquasecurity:trivy:*), read when vouch's are absent. */
const TRIVY = {
  filePath: 'aquasecurity:trivy:FilePath',
  /** The layer's blob digest, like Location.layer (LayerDiffID is the uncompressed one). */
  layerDigest: 'aquasecurity:trivy:LayerDigest',
  srcName: 'aquasecurity:trivy:SrcName',
  srcVersion: 'aquasecurity:trivy:SrcVersion',
  srcRelease: 'aquasecurity:trivy:SrcRelease',
  srcEpoch: 'aquasecurity:trivy:SrcEpoch',
  repoDigest: 'aquasecurity:trivy:RepoDigest',
} as const;

export const CYCLONEDX_READ_VERSIONS = ['1.4', '1.5', '1.6'] as const;

/** Deeper nesting is refused (no real BOM comes near it; it would only exhaust the stack). */
const MAX_NESTING = 64;

interface Walked {
  c: JsonObject;
  path: string;
  /** bom-ref of the enclosing component, if any. */
  parentRef?: string;
}

export function fromCycloneDx(doc: JsonObject): Sbom {
  const shape = new Shape('CycloneDX document');
  const spec = doc.specVersion;
  if (typeof spec !== 'string' || !(CYCLONEDX_READ_VERSIONS as readonly string[]).includes(spec)) {
    throw new VouchError(
      'SBOM_INVALID',
      `CycloneDX specVersion ${JSON.stringify(spec)} is not supported; vouch reads ${CYCLONEDX_READ_VERSIONS.join(', ')}`,
      { hint: 'convert older BOMs with the CycloneDX CLI (cyclonedx convert --output-version v1_6)' },
    );
  }
  const metadata = shape.obj(doc.metadata, '$.metadata') ?? {};
  const rootComponent = shape.obj(metadata.component, '$.metadata.component');

  // Walk every component (top level, nested, and those nested in metadata.component).
  const walked: Walked[] = [];
  const walk = (list: unknown[], path: string, parentRef: string | undefined, depth = 0): void => {
    if (depth > MAX_NESTING) {
      shape.fail(path, `components nested more than ${MAX_NESTING} deep`);
      return;
    }
    list.forEach((v, i) => {
      const p = `${path}[${i}]`;
      const c = shape.obj(v, p);
      if (!c) return;
      shape.str(c, 'type', p, true);
      shape.str(c, 'name', p, true);
      for (const k of ['bom-ref', 'version', 'purl', 'group']) shape.str(c, k, p);
      const w: Walked = { c, path: p };
      if (parentRef !== undefined) w.parentRef = parentRef;
      walked.push(w);
      const ref = typeof c['bom-ref'] === 'string' ? c['bom-ref'] : undefined;
      walk(shape.arr(c, 'components', p), `${p}.components`, ref ?? `\0${p}`, depth + 1);
    });
  };
  if (rootComponent) {
    shape.str(rootComponent, 'name', '$.metadata.component', true);
    walk(
      shape.arr(rootComponent, 'components', '$.metadata.component'),
      '$.metadata.component.components',
      undefined,
    );
  }
  walk(shape.arr(doc, 'components', '$'), '$.components', undefined);
  const dependencies = shape.arr(doc, 'dependencies', '$');
  dependencies.forEach((d, i) => {
    const o = shape.obj(d, `$.dependencies[${i}]`);
    if (o) {
      shape.str(o, 'ref', `$.dependencies[${i}]`, true);
      shape.arr(o, 'dependsOn', `$.dependencies[${i}]`);
    }
  });
  shape.check();

  const problems: SbomProblem[] = problemsFrom(props(metadata));
  const note = (path: string, message: string): void => {
    problems.push({ cataloger: CYCLONEDX_READER, path, message });
  };

  let os: OsInfo | undefined;
  const unowned: UnownedFile[] = [];
  const ids = new IdAllocator();
  const refToId = new Map<string, string>();
  const pending: { pkg: Package; parentRef?: string; ownedByProp?: string }[] = [];

  for (const w of walked) {
    const type = w.c.type as string;
    const p = props(w.c);
    if (type === 'operating-system') {
      if (os === undefined) os = osFrom(w.c, p);
      continue;
    }
    if (type === 'file') {
      const kind = p.get(PROP.unownedKind)?.[0];
      if (kind === 'executable' || kind === 'shared-library') unowned.push(unownedFrom(w.c, p, kind));
      // Other file components are file listings, not packages: nothing of the model is lost.
      continue;
    }
    const made = packageFrom(w, p, ids, note);
    if (!made) continue;
    const ref = w.c['bom-ref'];
    if (typeof ref === 'string') refToId.set(ref, made.id);
    const entry: (typeof pending)[number] = { pkg: made };
    if (w.parentRef !== undefined) entry.parentRef = w.parentRef;
    const ownedBy = p.get(PROP.ownedBy)?.[0];
    if (ownedBy !== undefined) entry.ownedByProp = ownedBy;
    pending.push(entry);
  }

  const packages: Package[] = [];
  for (const { pkg, parentRef, ownedByProp } of pending) {
    const owner = parentRef !== undefined ? refToId.get(parentRef) : undefined;
    if (owner !== undefined) pkg.ownedBy = owner;
    else if (ownedByProp !== undefined) pkg.ownedBy = ownedByProp;
    packages.push(pkg);
  }

  const rootRef = typeof rootComponent?.['bom-ref'] === 'string' ? rootComponent['bom-ref'] : undefined;
  const relationships: Relationship[] = [];
  const seen = new Set<string>();
  for (const d of dependencies) {
    if (!isObject(d) || typeof d.ref !== 'string' || d.ref === rootRef) continue;
    const from = refToId.get(d.ref);
    if (from === undefined) continue;
    for (const t of Array.isArray(d.dependsOn) ? d.dependsOn : []) {
      const to = typeof t === 'string' ? refToId.get(t) : undefined;
      if (to === undefined || to === from || seen.has(`${from}\0${to}`)) continue;
      seen.add(`${from}\0${to}`);
      relationships.push({ from, to, type: 'depends-on' });
    }
  }

  const sbom: Sbom = {
    subject: subjectFrom(rootComponent),
    packages,
    relationships,
    problems,
    unowned,
    created: typeof metadata.timestamp === 'string' ? metadata.timestamp : '',
    tool: { name: 'vouch', version: vouchVersion(metadata.tools) },
  };
  if (os) sbom.os = os;
  return sbom;
}

/** name → values, in document order (properties may repeat). */
function props(o: JsonObject): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (!Array.isArray(o.properties)) return out;
  for (const p of o.properties) {
    if (!isObject(p) || typeof p.name !== 'string' || typeof p.value !== 'string') continue;
    const list = out.get(p.name);
    if (list) list.push(p.value);
    else out.set(p.name, [p.value]);
  }
  return out;
}

function one(p: Map<string, string[]>, name: string): string | undefined {
  return p.get(name)?.[0];
}

/** Values of `<prefix><i>:<field>` grouped by i, in numeric order. */
function indexed(p: Map<string, string[]>, prefix: string): Map<string, string>[] {
  const byIndex = new Map<number, Map<string, string>>();
  for (const [name, values] of p) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+):(.+)$/.exec(name.slice(prefix.length));
    if (!m) continue;
    const i = Number(m[1]);
    const fields = byIndex.get(i) ?? new Map<string, string>();
    byIndex.set(i, fields);
    fields.set(m[2]!, values[0]!);
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, f]) => f);
}

function problemsFrom(p: Map<string, string[]>): SbomProblem[] {
  const out: SbomProblem[] = [];
  for (const f of indexed(p, PROP.problemPrefix)) {
    const cataloger = f.get('cataloger');
    const path = f.get('path');
    const message = f.get('message');
    if (cataloger === undefined || path === undefined || message === undefined) continue;
    const problem: SbomProblem = { cataloger, path, message };
    const layer = f.get('layerID');
    if (layer !== undefined && isDigest(layer)) problem.layer = layer as Digest;
    out.push(problem);
  }
  return out;
}

function packageFrom(
  w: Walked,
  p: Map<string, string[]>,
  ids: IdAllocator,
  note: (path: string, message: string) => void,
): Package | undefined {
  const c = w.c;
  const name = c.name as string;
  const label = `component "${name}"${typeof c.version === 'string' ? ` ${c.version}` : ''}`;
  let facts: PurlFacts | undefined;
  const purl = typeof c.purl === 'string' ? c.purl : '';
  if (purl !== '') {
    try {
      facts = purlFacts(purl);
    } catch (e) {
      if (!isVouchError(e, 'PURL_INVALID')) throw e;
      note(w.path, `${label}: ${e.message}; skipped`);
      return undefined;
    }
  }
  const typeProp = one(p, PROP.type);
  const type: PackageType | undefined =
    typeProp !== undefined && (PACKAGE_TYPES as readonly string[]).includes(typeProp)
      ? (typeProp as PackageType)
      : facts?.type;
  if (type === undefined) {
    note(
      w.path,
      facts
        ? `${label}: purl type "${facts.purlType}" is not an ecosystem vouch models (${PACKAGE_TYPES.join(', ')}); skipped`
        : `${label}: no purl, so its ecosystem is unknown; skipped`,
    );
    return undefined;
  }
  const group = typeof c.group === 'string' ? c.group : '';
  const fullName =
    type === 'npm' && group.startsWith('@') && !name.startsWith('@') ? `${group}/${name}` : name;
  const version = typeof c.version === 'string' ? c.version : (facts?.version ?? '');

  const locations = locationsFrom(c, p);
  const ref = typeof c['bom-ref'] === 'string' ? c['bom-ref'] : undefined;
  const out: Package = {
    id: ids.take(ref, { type, name: fullName, version, locations }),
    type,
    name: fullName,
    version,
    purl,
    licenses: licensesFrom(c.licenses),
    locations,
    foundBy: one(p, PROP.foundBy) ?? one(p, SYFT.foundBy) ?? CYCLONEDX_READER,
  };
  const arch = one(p, PROP.arch) ?? facts?.arch;
  if (arch !== undefined) out.arch = arch;
  const sourceName = one(p, PROP.sourceName);
  const trivySource = one(p, TRIVY.srcName);
  if (sourceName !== undefined) {
    out.source = { name: sourceName, version: one(p, PROP.sourceVersion) ?? version };
  } else if (trivySource !== undefined) {
    out.source = { name: trivySource, version: trivySourceVersion(p) ?? version };
  } else if (facts?.upstream) {
    out.source = { name: facts.upstream.name, version: facts.upstream.version ?? version };
  }
  const meta = one(p, PROP.metadata);
  if (meta !== undefined) {
    try {
      const parsed: unknown = JSON.parse(meta);
      if (isObject(parsed)) out.metadata = parsed;
      else note(w.path, `${label}: property ${PROP.metadata} is ${kindOf(parsed)}, not an object; ignored`);
    } catch (e) {
      note(w.path, `${label}: property ${PROP.metadata} is not JSON (${(e as Error).message}); ignored`);
    }
  }
  return out;
}

function locationsFrom(c: JsonObject, p: Map<string, string[]>): Location[] {
  for (const prefix of [PROP.locationPrefix, SYFT.locationPrefix]) {
    const fromProps = indexed(p, prefix)
      .filter((f) => f.has('path'))
      .map((f) => {
        const l: Location = { path: f.get('path')! };
        const layer = f.get('layerID');
        if (layer !== undefined && isDigest(layer)) l.layer = layer as Digest;
        return l;
      });
    if (fromProps.length > 0) return fromProps;
  }
  const trivyPath = one(p, TRIVY.filePath);
  if (trivyPath !== undefined && trivyPath !== '') {
    const l: Location = { path: trivyPath.startsWith('/') ? trivyPath : `/${trivyPath}` };
    const layer = one(p, TRIVY.layerDigest);
    if (layer !== undefined && isDigest(layer)) l.layer = layer as Digest;
    return [l];
  }
  const evidence = isObject(c.evidence) ? c.evidence : undefined;
  const occurrences = Array.isArray(evidence?.occurrences) ? evidence.occurrences : [];
  return occurrences
    .filter((o): o is JsonObject => isObject(o) && typeof o.location === 'string')
    .map((o) => ({ path: o.location as string }));
}

/** One license string per CycloneDX license choice: the id, the name, or the expression. */
function licensesFrom(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const choice of v) {
    if (!isObject(choice)) continue;
    if (typeof choice.expression === 'string') out.push(choice.expression);
    else if (isObject(choice.license)) {
      const l = choice.license;
      if (typeof l.id === 'string') out.push(l.id);
      else if (typeof l.name === 'string') out.push(l.name);
    }
  }
  return out;
}

/** trivy's `[SrcEpoch:]SrcVersion[-SrcRelease]` (rpm splits them; deb and apk use SrcVersion alone). */
function trivySourceVersion(p: Map<string, string[]>): string | undefined {
  const version = one(p, TRIVY.srcVersion);
  if (version === undefined) return undefined;
  const release = one(p, TRIVY.srcRelease);
  const epoch = one(p, TRIVY.srcEpoch);
  return `${epoch && epoch !== '0' ? `${epoch}:` : ''}${version}${release ? `-${release}` : ''}`;
}

function osFrom(c: JsonObject, p: Map<string, string[]>): OsInfo {
  const os: OsInfo = { id: c.name as string };
  if (typeof c.version === 'string') os.versionId = c.version;
  const release = one(p, PROP.osRelease);
  if (release !== undefined) os.release = release;
  const codename = one(p, PROP.osCodename) ?? one(p, SYFT.osCodename);
  if (codename !== undefined) os.versionCodename = codename;
  const pretty = typeof c.description === 'string' ? c.description : one(p, SYFT.osPrettyName);
  if (pretty !== undefined) os.prettyName = pretty;
  const idLike =
    one(p, PROP.osIdLike)?.split(/\s+/) ??
    [...p.entries()]
      .filter(([k]) => k.startsWith(SYFT.osIdLikePrefix))
      .sort(
        ([a], [b]) =>
          Number(a.slice(SYFT.osIdLikePrefix.length)) - Number(b.slice(SYFT.osIdLikePrefix.length)),
      )
      .map(([, v]) => v[0]!);
  const likes = idLike.filter((x) => x !== '');
  if (likes.length > 0) os.idLike = likes;
  return os;
}

function unownedFrom(c: JsonObject, p: Map<string, string[]>, kind: UnownedFile['kind']): UnownedFile {
  const f: UnownedFile = { path: c.name as string, kind };
  const layer = one(p, PROP.unownedLayer);
  if (layer !== undefined && isDigest(layer)) f.layer = layer as Digest;
  const hashes = Array.isArray(c.hashes) ? c.hashes : [];
  for (const h of hashes) {
    if (!isObject(h) || typeof h.content !== 'string') continue;
    const d = h.alg === 'SHA-256' ? `sha256:${h.content}` : h.alg === 'SHA-512' ? `sha512:${h.content}` : '';
    if (isDigest(d)) {
      f.digest = d as Digest;
      break;
    }
  }
  return f;
}

function subjectFrom(c: JsonObject | undefined): SbomSubject {
  if (!c) return { kind: 'directory', name: 'unknown', path: '' };
  const p = props(c);
  const name = typeof c.name === 'string' ? c.name : 'unknown';
  if (c.type === 'container') {
    const digest = imageDigest(c);
    if (digest !== undefined) {
      let purlArch: string | undefined;
      if (typeof c.purl === 'string') {
        try {
          purlArch = purlFacts(c.purl).arch;
        } catch {
          purlArch = undefined;
        }
      }
      const platform: { os: string; architecture: string; variant?: string } = {
        os: one(p, PROP.imageOs) ?? 'unknown',
        architecture: one(p, PROP.imageArchitecture) ?? purlArch ?? 'unknown',
      };
      const variant = one(p, PROP.imageVariant);
      if (variant !== undefined) platform.variant = variant;
      const layers = [...p.entries()]
        .filter(([k]) => k.startsWith(PROP.imageLayerPrefix))
        .map(([k, v]) => ({ i: Number(k.slice(PROP.imageLayerPrefix.length)), d: v[0]! }))
        .filter((x) => Number.isInteger(x.i) && isDigest(x.d))
        .sort((a, b) => a.i - b.i)
        .map((x) => x.d as Digest);
      const s: SbomSubject = { kind: 'image', name, digest, platform, layers };
      const repository = one(p, PROP.imageRepository);
      if (repository !== undefined) s.repository = repository;
      const tag = one(p, PROP.imageTag);
      if (tag !== undefined) s.tag = tag;
      const index = one(p, PROP.imageIndexDigest);
      if (index !== undefined && isDigest(index)) s.indexDigest = index as Digest;
      return s;
    }
  }
  return { kind: 'directory', name, path: one(p, PROP.directoryPath) ?? name };
}

function imageDigest(c: JsonObject): Digest | undefined {
  if (typeof c.version === 'string' && isDigest(c.version)) return c.version as Digest;
  // trivy: `aquasecurity:trivy:RepoDigest` = `name@sha256:…`, the manifest digest in a registry.
  for (const rd of props(c).get(TRIVY.repoDigest) ?? []) {
    const d = rd.slice(rd.lastIndexOf('@') + 1);
    if (isDigest(d)) return d as Digest;
  }
  for (const h of Array.isArray(c.hashes) ? c.hashes : []) {
    if (
      isObject(h) &&
      h.alg === 'SHA-256' &&
      typeof h.content === 'string' &&
      isDigest(`sha256:${h.content}`)
    ) {
      return `sha256:${h.content}` as Digest;
    }
  }
  if (typeof c.purl === 'string') {
    try {
      const v = purlFacts(c.purl).version;
      if (v !== undefined && isDigest(v)) return v as Digest;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The vouch version in metadata.tools (1.5+ object form or the legacy array). */
function vouchVersion(tools: unknown): string {
  const list: unknown[] = Array.isArray(tools)
    ? tools
    : isObject(tools) && Array.isArray(tools.components)
      ? tools.components
      : [];
  const versions = list
    .filter((t): t is JsonObject => isObject(t) && t.name === 'vouch' && typeof t.version === 'string')
    .map((t) => t.version as string)
    .sort(cmp);
  return versions[0] ?? UNKNOWN_TOOL_VERSION;
}
