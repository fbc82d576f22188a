/**
 * Packages of one Java archive (jar, war, ear, ...), nested archives included:
 *  - every META-INF/maven/<groupId>/<artifactId>/pom.properties is a package (a fat or shaded
 *    jar holds many), purl pkg:maven/<groupId>/<artifactId>@<version>;
 *  - without any, the archive itself is a package named from its file name (then
 *    Bundle-SymbolicName, Implementation-Title, Specification-Title) with the manifest's
 *    version (Implementation-Version, Bundle-Version, Specification-Version, then the file
 *    name's); groupId from Implementation-Vendor-Id when given, else the name (syft's fallback
 *    too), marked `groupIdGuessed`. Same when no pom.properties could be read;
 *  - archives inside (WEB-INF/lib, BOOT-INF/lib, lib/, any *.jar entry) are read in memory
 *    down to MAX_NESTING levels, their packages located at the outer file with a virtual path
 *    `outer.war:WEB-INF/lib/x.jar` in metadata (syft's convention).
 * The archive's own package (the pom.properties whose artifactId matches the file name, or
 * the only one) carries the manifest's Bundle-License and contains the others.
 */
import type { FileRecord } from '../../../fs/types.ts';
import type { CatalogResult, Package } from '../../model.ts';
import { packageId } from '../../model.ts';
import { languagePurl } from '../../purl.ts';
import { type ByteRange, type ByteSource, bufferSource } from '../golang/byte-source.ts';
import { errorMessage, isFatal, locationOf, problemAt } from '../golang/shared.ts';
import { parseManifest, parseProperties } from './parse_manifest.ts';
import { entryContent, entryRange, readZipDirectory, type ZipEntry } from './zip.ts';

export const JAVA_ARCHIVE_CATALOGER_ID = 'java-archive';
export const ARCHIVE_EXTENSIONS = ['jar', 'war', 'ear', 'par', 'sar', 'nar', 'jpi', 'hpi', 'kar'] as const;
/** Archives inside archives inside the file, at most. */
export const MAX_NESTING = 2;
/** A nested archive is inflated in memory: at most this big. */
export const MAX_NESTED_BYTES = 64 * 1024 ** 2;
const MAX_TEXT_BYTES = 1024 ** 2;
const POM_PROPERTIES = /^META-INF\/maven\/([^/]+)\/([^/]+)\/pom\.properties$/;
const NESTED = new RegExp(`\\.(${ARCHIVE_EXTENSIONS.join('|')})$`, 'i');

export interface ArchiveScope {
  rec: FileRecord;
  out: CatalogResult;
  /** Ids already reported for this file (the same library twice inside one war is one package). */
  seen: Set<string>;
}

/**
 * Catalog the archive in `src` (named `virtualPath`, at `depth` 0 for the file itself) and
 * return its top-level packages (its own first when it has one).
 */
export async function catalogArchive(
  src: ByteSource,
  virtualPath: string,
  depth: number,
  scope: ArchiveScope,
): Promise<Package[]> {
  const dir = await readZipDirectory(src);
  const poms: { entry: ZipEntry; group: string; artifact: string }[] = [];
  let manifest: ZipEntry | undefined;
  const nested: ZipEntry[] = [];
  for (const e of dir.entries) {
    if (e.isDirectory) continue;
    const m = POM_PROPERTIES.exec(e.name);
    if (m) poms.push({ entry: e, group: m[1]!, artifact: m[2]! });
    else if (e.name.toUpperCase() === 'META-INF/MANIFEST.MF') manifest ??= e;
    else if (depth < MAX_NESTING && NESTED.test(e.name)) nested.push(e);
  }
  const texts = new Map<ZipEntry, string>();
  const children: Package[] = [];
  const wanted = new Map<ByteRange, ZipEntry>();
  for (const e of [...poms.map((p) => p.entry), ...(manifest ? [manifest] : []), ...nested]) {
    if (nested.includes(e) && e.size > MAX_NESTED_BYTES) {
      problem(
        scope,
        `${virtualPath}:${e.name}: nested archive of ${e.size} bytes is over ${MAX_NESTED_BYTES}, skipped`,
      );
      continue;
    }
    wanted.set(entryRange(e, src.size), e);
  }
  const more = (o: number, l: number) => src.read(o, l);
  await src.visit([...wanted.keys()], async (range, bytes) => {
    const e = wanted.get(range)!;
    try {
      if (nested.includes(e)) {
        const inner = await entryContent(e, bytes, MAX_NESTED_BYTES, more);
        children.push(
          ...(await catalogArchive(bufferSource(inner), `${virtualPath}:${e.name}`, depth + 1, scope)),
        );
      } else {
        texts.set(e, Buffer.from(await entryContent(e, bytes, MAX_TEXT_BYTES, more)).toString('utf8'));
      }
    } catch (err) {
      if (isFatal(err)) throw err;
      problem(scope, `${virtualPath}:${e.name}: ${errorMessage(err)}`);
    }
  });

  const mf =
    manifest && texts.has(manifest) ? parseManifest(texts.get(manifest)!) : new Map<string, string>();
  const file = fileNameParts(virtualPath);
  const licenses = manifestLicenses(mf);
  const own: Package[] = [];
  const others: Package[] = [];
  const mainIndex = pickMain(poms, file.name);
  let readable = 0;
  poms.forEach((pom, i) => {
    const text = texts.get(pom.entry);
    if (text === undefined) return;
    const props = parseProperties(text);
    readable++;
    const group = props.get('groupId') || pom.group;
    const artifact = props.get('artifactId') || pom.artifact;
    const version = props.get('version');
    if (!version) {
      problem(scope, `${virtualPath}:${pom.entry.name}: no version`);
      return;
    }
    const isMain = i === mainIndex;
    const p = mavenPackage(scope, group, artifact, version, isMain ? licenses : [], {
      groupId: group,
      artifactId: artifact,
      virtualPath,
      pomProperties: pom.entry.name,
    });
    if (!p) return;
    (isMain ? own : others).push(p);
  });
  if (readable === 0 || (mainIndex < 0 && poms.length > 1 && manifestVersion(mf))) {
    const p = manifestPackage(scope, mf, file, licenses, virtualPath);
    if (p) own.push(p);
  }
  const main = own[0];
  const top = [...own, ...others, ...children];
  if (main) {
    for (const p of top) {
      if (p !== main) scope.out.relationships.push({ from: main.id, to: p.id, type: 'contains' });
    }
    return [main];
  }
  return top;
}

function problem(scope: ArchiveScope, message: string): void {
  scope.out.problems.push(problemAt(JAVA_ARCHIVE_CATALOGER_ID, scope.rec, message));
}

/** The pom.properties that describes the archive itself: artifactId = file name, or the only one. */
function pickMain(poms: { artifact: string }[], fileName: string): number {
  const i = poms.findIndex((p) => p.artifact === fileName);
  if (i >= 0) return i;
  return poms.length === 1 ? 0 : -1;
}

/** 'commons-lang3-3.12.0.jar' → name commons-lang3, version 3.12.0 (name only when no version). */
export function fileNameParts(virtualPath: string): { base: string; name: string; version: string } {
  const last = virtualPath.split(/[:/]/).at(-1) ?? '';
  const base = last.replace(NESTED, '');
  const m = /^(.+?)-(\d[\w.+~-]*)$/.exec(base);
  return m ? { base, name: m[1]!, version: m[2]! } : { base, name: base, version: '' };
}

function manifestVersion(mf: Map<string, string>): string {
  return (
    mf.get('implementation-version') || mf.get('bundle-version') || mf.get('specification-version') || ''
  );
}

function manifestPackage(
  scope: ArchiveScope,
  mf: Map<string, string>,
  file: { name: string; version: string },
  licenses: string[],
  virtualPath: string,
): Package | undefined {
  const symbolic = (mf.get('bundle-symbolicname') ?? '').split(';')[0]!.trim();
  const name = file.name || symbolic || mf.get('implementation-title') || mf.get('specification-title') || '';
  if (name === '') {
    problem(scope, `${virtualPath}: no pom.properties, manifest name or file name to name the archive`);
    return undefined;
  }
  const version = manifestVersion(mf) || file.version;
  // A Maven purl needs a groupId: Implementation-Vendor-Id when the manifest has it, else the
  // name (what syft falls back to as well), marked as a guess.
  const vendorId = mf.get('implementation-vendor-id');
  const group = vendorId || name;
  const metadata: Record<string, unknown> = {
    groupId: group,
    artifactId: name,
    virtualPath,
    fromManifest: true,
  };
  if (!vendorId) metadata.groupIdGuessed = true;
  const title = mf.get('implementation-title') ?? mf.get('bundle-name');
  if (title) metadata.title = title;
  return mavenPackage(scope, group, name, version, licenses, metadata);
}

function mavenPackage(
  scope: ArchiveScope,
  group: string,
  artifact: string,
  version: string,
  licenses: string[],
  metadata: Record<string, unknown>,
): Package | undefined {
  let purl: string;
  try {
    purl = languagePurl('maven', { namespace: group, name: artifact, ...(version ? { version } : {}) });
  } catch (e) {
    problem(scope, `${metadata.virtualPath}: ${errorMessage(e)}`);
    return undefined;
  }
  const p: Package = {
    id: '',
    type: 'maven',
    name: artifact,
    version,
    purl,
    licenses,
    locations: [locationOf(scope.rec)],
    foundBy: JAVA_ARCHIVE_CATALOGER_ID,
    metadata,
  };
  p.id = packageId(p);
  if (scope.seen.has(p.id)) return undefined;
  scope.seen.add(p.id);
  scope.out.packages.push(p);
  return p;
}

/** Licenses an OSGi manifest declares (Bundle-License: SPDX ids, names or URLs, comma separated). */
export function manifestLicenses(mf: Map<string, string>): string[] {
  const raw = mf.get('bundle-license');
  if (!raw) return [];
  const out: string[] = [];
  // Entries are separated by commas outside quotes; each may carry ;description=...;link=...
  for (const part of raw.match(/(?:[^,"]|"[^"]*")+/g) ?? []) {
    const v = part.split(';')[0]!.trim().replace(/^"|"$/g, '');
    if (v === '') continue;
    out.push(KNOWN_LICENSE_URLS[v.replace(/^https?:\/\//, '').replace(/\/$/, '')] ?? v);
  }
  return [...new Set(out)];
}

const KNOWN_LICENSE_URLS: Record<string, string> = {
  'www.apache.org/licenses/LICENSE-2.0': 'Apache-2.0',
  'www.apache.org/licenses/LICENSE-2.0.txt': 'Apache-2.0',
  'www.apache.org/licenses/LICENSE-2.0.html': 'Apache-2.0',
  'opensource.org/licenses/MIT': 'MIT',
  'opensource.org/licenses/mit-license.php': 'MIT',
  'www.eclipse.org/legal/epl-2.0': 'EPL-2.0',
  'www.eclipse.org/legal/epl-v20.html': 'EPL-2.0',
  'www.eclipse.org/legal/epl-v10.html': 'EPL-1.0',
  'www.gnu.org/licenses/lgpl-2.1.html': 'LGPL-2.1-only',
  'opensource.org/licenses/BSD-3-Clause': 'BSD-3-Clause',
};
