/**
 * The two metadata files of an OCI image layout: `oci-layout` (version marker) and
 * `index.json` (the image index whose entries are the layout's images; a tag is the
 * `org.opencontainers.image.ref.name` annotation of an entry).
 */
import { join } from 'node:path';
import { isVouchError, VouchError } from '../../errors.ts';
import { encodeJson, parseManifest } from '../../oci/manifest.ts';
import { isManifestMediaType, MediaType } from '../../oci/media-types.ts';
import { Annotation, type Descriptor, type ImageIndex } from '../../oci/types.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import type { LayoutFiles } from './files.ts';

export const LAYOUT_FILE = 'oci-layout';
export const INDEX_FILE = 'index.json';
export const LAYOUT_VERSION = '1.0.0';
const MAX_LAYOUT_FILE = 64 * 1024;
const MAX_INDEX_FILE = 4 * 1024 * 1024;

export const LAYOUT_BYTES = encodeJson({ imageLayoutVersion: LAYOUT_VERSION });

export function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
}

function invalid(where: string, problem: string, cause?: unknown): VouchError {
  return new VouchError('LAYOUT_INVALID', `${where} is not a valid OCI image layout: ${problem}`, {
    cause,
  });
}

/** Check an `oci-layout` file: a JSON object whose imageLayoutVersion is 1.x. */
export function checkLayoutFile(bytes: Uint8Array, where: string): void {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw invalid(where, `oci-layout is not JSON (${(e as Error).message})`, e);
  }
  const version =
    typeof v === 'object' && v !== null
      ? (v as { imageLayoutVersion?: unknown }).imageLayoutVersion
      : undefined;
  if (typeof version !== 'string') throw invalid(where, 'oci-layout has no imageLayoutVersion string');
  // Minor versions only add things; a new major version may change the layout.
  if (!/^1\.\d+\.\d+$/.test(version)) {
    throw invalid(where, `unsupported imageLayoutVersion "${version}" (vouch reads 1.x)`);
  }
}

/** Parse `index.json` bytes; any problem is LAYOUT_INVALID naming the file. */
export function parseIndexFile(bytes: Uint8Array, where: string): ImageIndex {
  try {
    // Read as an index (it may omit mediaType) unless it says it is a manifest.
    const p = parseManifest(bytes, declaresManifest(bytes) ? undefined : MediaType.OciIndex, 'index.json');
    if (p.kind !== 'index') throw invalid(where, 'index.json is an image manifest, not an image index');
    return p.index;
  } catch (e) {
    if (isVouchError(e, 'LAYOUT_INVALID')) throw e;
    throw invalid(where, isVouchError(e) ? e.message : String(e), e);
  }
}

function declaresManifest(bytes: Uint8Array): boolean {
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return isManifestMediaType((v as { mediaType?: string } | null)?.mediaType);
  } catch {
    return false;
  }
}

/** Read and check oci-layout and index.json. */
export async function readLayout(files: LayoutFiles): Promise<ImageIndex> {
  const where = files.location;
  const marker = await files.read(LAYOUT_FILE, MAX_LAYOUT_FILE);
  if (marker === undefined) throw invalid(where, 'the oci-layout file is missing');
  if (marker.byteLength > MAX_LAYOUT_FILE) throw invalid(where, 'oci-layout is too large');
  checkLayoutFile(marker, where);
  const index = await files.read(INDEX_FILE, MAX_INDEX_FILE);
  if (index === undefined) throw invalid(where, 'index.json is missing');
  return parseIndexFile(index, where);
}

/** The tag (ref.name annotation) of an index.json entry. */
export function entryTag(d: Descriptor): string | undefined {
  return d.annotations?.[Annotation.RefName];
}

/** A short label for an entry in messages: its tag, or its digest when untagged. */
export function entryLabel(d: Descriptor): string {
  const tag = entryTag(d);
  return tag !== undefined ? tag : `(untagged ${d.digest})`;
}

/**
 * index.json after committing `root` under `tag`: the entry with that tag is replaced (others
 * kept, order kept); without a tag the descriptor is added unless an entry already has its
 * digest. Pure: returns a new index.
 */
export function withIndexEntry(index: ImageIndex, root: Descriptor, tag?: string): ImageIndex {
  const entry: Descriptor = { mediaType: root.mediaType, digest: root.digest, size: root.size };
  if (root.artifactType !== undefined) entry.artifactType = root.artifactType;
  if (root.platform !== undefined) entry.platform = root.platform;
  const annotations: Record<string, string> = { ...root.annotations };
  // A ref.name copied from wherever the descriptor came from must not tag it here.
  delete annotations[Annotation.RefName];
  if (tag !== undefined) annotations[Annotation.RefName] = tag;
  if (Object.keys(annotations).length > 0) entry.annotations = annotations;

  const manifests = [...index.manifests];
  if (tag !== undefined) {
    const at = manifests.findIndex((d) => entryTag(d) === tag);
    if (at === -1) manifests.push(entry);
    else {
      manifests[at] = entry;
      // Drop any later duplicates of the tag so it names exactly one image.
      for (let i = manifests.length - 1; i > at; i--)
        if (entryTag(manifests[i]!) === tag) manifests.splice(i, 1);
    }
  } else if (!manifests.some((d) => d.digest === root.digest)) {
    manifests.push(entry);
  }
  return { ...index, manifests };
}

/** Write index.json atomically. */
export async function writeLayoutIndex(dir: string, index: ImageIndex): Promise<void> {
  await writeFileAtomic(join(dir, INDEX_FILE), encodeJson(index));
}
