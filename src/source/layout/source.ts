/**
 * ImageSource over an OCI image layout (directory or tar, via LayoutFiles). Image selection
 * mirrors skopeo: with a tag, the index.json entry whose ref.name equals it; without, the only
 * entry.
 */
import { type Digest, digestAlgorithm, digestHex, parseDigest } from '../../digest/digest.ts';
import { verified, verifyBytes } from '../../digest/verify.ts';
import { isVouchError, VouchError } from '../../errors.ts';
import { MAX_JSON_BYTES, parseManifest } from '../../oci/manifest.ts';
import { isIndexMediaType, isManifestMediaType } from '../../oci/media-types.ts';
import type { Descriptor, ImageIndex } from '../../oci/types.ts';
import type { ImageSource, ReadOptions } from '../types.ts';
import { directoryFiles, type LayoutFiles } from './files.ts';
import { entryLabel, entryTag, readLayout } from './index-json.ts';

export interface LayoutSourceOptions {
  /** The image's ref.name in index.json; without it the layout must hold exactly one image. */
  tag?: string;
}

/** Path of a blob inside a layout. Parses the digest so a crafted one cannot escape blobs/. */
export function blobPath(digest: string): string {
  const d: Digest = parseDigest(digest);
  return `blobs/${digestAlgorithm(d)}/${digestHex(d)}`;
}

export async function openLayoutSource(dir: string, opts: LayoutSourceOptions = {}): Promise<ImageSource> {
  return layoutSource(directoryFiles(dir), `oci:${dir}`, opts);
}

/** Pick the image a tag (or no tag) names in index.json, as skopeo does. */
export function selectEntry(index: ImageIndex, tag: string | undefined, where: string): Descriptor {
  const all = index.manifests;
  let found: Descriptor | undefined;
  if (tag !== undefined) {
    const named = all.filter((d) => entryTag(d) === tag);
    found = named.find((d) => isManifestMediaType(d.mediaType) || isIndexMediaType(d.mediaType));
    if (found === undefined && named.length > 0) {
      throw new VouchError(
        'MEDIA_TYPE_UNSUPPORTED',
        `${where}: "${tag}" names ${named.map((d) => d.mediaType).join(', ')}, not an image manifest or index`,
      );
    }
    if (found === undefined) {
      const tags = all.map(entryTag).filter((t) => t !== undefined);
      throw new VouchError(
        'IMAGE_NOT_FOUND',
        `${where}: no image tagged "${tag}"; ${tags.length > 0 ? `tags: ${tags.join(', ')}` : 'the layout has no tagged images'}`,
      );
    }
    return found;
  }
  // signatures, attestations and other referrers stored beside an image are not candidates
  const images = all.filter((d) => !isAttachmentEntry(d));
  if (images.length === 0) throw new VouchError('IMAGE_NOT_FOUND', `${where}: the layout holds no images`);
  if (images.length > 1) {
    throw new VouchError(
      'IMAGE_AMBIGUOUS',
      `${where} holds ${images.length} images: ${images.map(entryLabel).join(', ')}`,
      { hint: `name one with ${where}:TAG` },
    );
  }
  return images[0]!;
}

/** cosign tag-scheme attachments (`sha256-<hex>.sig`, referrers fallback tags) and artifacts. */
function isAttachmentEntry(d: Descriptor): boolean {
  if (d.artifactType !== undefined) return true;
  const tag = entryTag(d);
  return tag !== undefined && /^sha256-[0-9a-f]{64}(\.(sig|att|sbom))?$/.test(tag);
}

/** A layout source over any file store; `name` is the transport form without tag. */
export async function layoutSource(
  files: LayoutFiles,
  name: string,
  opts: LayoutSourceOptions = {},
): Promise<ImageSource> {
  const index = await readLayout(files);
  const fullName = opts.tag !== undefined ? `${name}:${opts.tag}` : name;

  function missing(desc: Descriptor, what: string): VouchError {
    return new VouchError(
      'BLOB_UNKNOWN',
      `${what} ${desc.digest} not found in ${fullName} (no ${blobPath(desc.digest)})`,
    );
  }

  async function getManifest(desc: Descriptor): Promise<Uint8Array> {
    const path = blobPath(desc.digest);
    if (desc.size > MAX_JSON_BYTES) {
      throw new VouchError(
        'BLOB_TOO_LARGE',
        `manifest ${desc.digest} in ${fullName}: ${desc.size} bytes is over the ${MAX_JSON_BYTES}-byte limit`,
      );
    }
    const bytes = await files.read(path, desc.size);
    if (bytes === undefined) throw missing(desc, 'manifest');
    return verifyBytes(bytes, desc, 'manifest');
  }

  return {
    name: fullName,
    async resolve() {
      const d = selectEntry(index, opts.tag, name);
      return { ...d };
    },
    getManifest,
    async openBlob(desc: Descriptor, o: ReadOptions = {}) {
      const s = await files.stream(blobPath(desc.digest), o.signal);
      if (s === undefined) throw missing(desc, 'blob');
      return verified(s, desc, 'blob');
    },
    async listReferrers(subject, o = {}) {
      return findReferrers(index, subject.digest, getManifest, o.artifactType);
    },
    async close() {
      await files.close();
    },
  };
}

/**
 * Referrers known to a layout: manifests reachable from index.json (entries and the children
 * of index entries) whose `subject` is `subject`. Layouts have no referrers API, but tools like
 * cosign and oras put referrers in them this way. Missing blobs are skipped (layouts may be
 * partial); returned descriptors carry artifactType and annotations as the referrers API does.
 */
export async function findReferrers(
  index: ImageIndex,
  subject: Digest,
  getManifest: (d: Descriptor) => Promise<Uint8Array>,
  artifactType?: string,
): Promise<Descriptor[]> {
  const out: Descriptor[] = [];
  const seen = new Set<string>();
  const queue = [...index.manifests];
  while (queue.length > 0) {
    const d = queue.shift()!;
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    if (!isManifestMediaType(d.mediaType) && !isIndexMediaType(d.mediaType)) continue;
    let bytes: Uint8Array;
    try {
      bytes = await getManifest(d);
    } catch (e) {
      if (isVouchError(e, 'BLOB_UNKNOWN')) continue;
      throw e;
    }
    const p = parseManifest(bytes, d.mediaType, `manifest ${d.digest}`);
    const m = p.kind === 'index' ? p.index : p.manifest;
    if (p.kind === 'index') queue.push(...p.index.manifests);
    if (m.subject?.digest !== subject) continue;
    const type = m.artifactType ?? (p.kind === 'manifest' ? p.manifest.config.mediaType : undefined);
    if (artifactType !== undefined && type !== artifactType) continue;
    const r: Descriptor = { mediaType: p.mediaType, digest: d.digest, size: d.size };
    if (type !== undefined) r.artifactType = type;
    if (m.annotations !== undefined) r.annotations = m.annotations;
    out.push(r);
  }
  return out;
}
