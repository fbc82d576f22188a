import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, createZstdCompress } from 'node:zlib';
import { type Digest, digestOf } from '../digest/digest.ts';
import { isVouchError, VouchError } from '../errors.ts';
import { fetchManifest, type Image, type Layer, loadImage } from '../image/image.ts';
import { encodeJson } from '../oci/manifest.ts';
import { type Compression, layerMediaType, MediaType } from '../oci/media-types.ts';
import { hostPlatform, selectManifest } from '../oci/platform.ts';
import type { Descriptor, ImageIndex, ImageManifest, Platform } from '../oci/types.ts';
import type { ImageDestination, ImageSource } from '../source/types.ts';
import type { AttachmentEndpoints, AttachmentReport, CopiedManifest } from './referrers.ts';

export type CopyEvent =
  | { type: 'blob-start'; digest: Digest; size: number; what: 'config' | 'layer' }
  | { type: 'blob-done'; digest: Digest; size: number; skipped: boolean }
  | { type: 'manifest'; digest: Digest; mediaType: string };

export interface CopyOptions {
  /** Copy only this platform out of an index; 'all' (default when the destination can hold an index) copies every one. */
  platform?: Platform | 'all';
  /** Rewrite manifests in this flavour (conversion changes digests). */
  format?: 'oci' | 'docker';
  /** Recompress layers (conversion changes digests). */
  compression?: Compression;
  concurrency?: number;
  signal?: AbortSignal;
  onEvent?: (e: CopyEvent) => void;
  /**
   * Also copy what refers to each manifest copied unchanged (referrers, cosign `.sig`/`.att`/
   * `.sbom` tags), before the commit: see referrers.ts and openAttachmentEndpoints.
   */
  attachments?: AttachmentEndpoints;
}

export interface CopyResult {
  /** What the destination's reference now points at. */
  descriptor: Descriptor;
  /** Digests of every image copied (one per platform). */
  images: Descriptor[];
  /** Bytes transferred (not skipped), attachments included. */
  bytes: number;
  /** What was carried along, when `attachments` was given. */
  attachments?: AttachmentReport;
}

/**
 * Copy an image or index from a source to a destination. Blobs first, then manifests
 * children-first, then commit(root): the destination's tag never names a partial image.
 * Without format/compression conversion every byte and digest is kept.
 */
export async function copyImage(
  src: ImageSource,
  dst: ImageDestination,
  o: CopyOptions = {},
): Promise<CopyResult> {
  const rootDesc = await src.resolve({ signal: o.signal });
  const root = await fetchManifest(src, rootDesc, { signal: o.signal });
  const state: CopyState = { src, dst, o, bytes: 0, images: [], manifests: [] };
  let top: Descriptor;
  if (root.kind === 'index') {
    const wantAll = o.platform === 'all' || (o.platform === undefined && dst.capabilities.index);
    if (wantAll && dst.capabilities.index) {
      top = await copyIndex(state, root.descriptor, root.bytes, root.index);
    } else {
      if (o.platform === 'all') {
        throw new VouchError(
          'USAGE',
          `${dst.name} cannot hold a multi-platform index; choose one with --platform`,
        );
      }
      const child = selectManifest(root.index, o.platform ?? hostPlatform());
      top = await copyChild(state, child);
    }
  } else {
    top = await copyOneImage(state, root.descriptor, root.bytes, root.manifest);
  }
  let attachments: AttachmentReport | undefined;
  if (o.attachments) {
    const { copyAttachments } = await import('./referrers.ts');
    try {
      attachments = await copyAttachments(src, dst, o.attachments, state.manifests, { signal: o.signal });
    } catch (e) {
      if (!isVouchError(e) || e.code === 'ABORTED') throw e;
      // The image is written but not tagged: say what failed and how to copy the image alone.
      throw new VouchError(e.code, `copying signatures and referrers to ${dst.name}: ${e.message}`, {
        hint: `${e.hint ? `${e.hint}; or ` : ''}copy the image alone with --no-attachments`,
        cause: e,
      });
    }
    state.bytes += attachments.bytes;
  }
  await dst.commit(top, { signal: o.signal });
  return {
    descriptor: top,
    images: state.images,
    bytes: state.bytes,
    ...(attachments ? { attachments } : {}),
  };
}

interface CopyState {
  src: ImageSource;
  dst: ImageDestination;
  o: CopyOptions;
  bytes: number;
  images: Descriptor[];
  /** Every manifest written, with its source: attachments follow only unchanged ones. */
  manifests: CopiedManifest[];
}

function needsConversion(s: CopyState): boolean {
  const c = s.dst.capabilities;
  return Boolean(s.o.format || s.o.compression || c.layerCompression || c.manifestFlavour);
}

async function copyChild(s: CopyState, desc: Descriptor): Promise<Descriptor> {
  const child = await fetchManifest(s.src, desc, { signal: s.o.signal });
  const out =
    child.kind === 'index'
      ? await copyIndex(s, child.descriptor, child.bytes, child.index)
      : await copyOneImage(s, child.descriptor, child.bytes, child.manifest);
  // Keep the index entry's platform and annotations on the new descriptor.
  return { ...desc, mediaType: out.mediaType, digest: out.digest, size: out.size };
}

async function copyIndex(
  s: CopyState,
  desc: Descriptor,
  bytes: Uint8Array,
  index: ImageIndex,
): Promise<Descriptor> {
  const children: Descriptor[] = [];
  for (const m of index.manifests) children.push(await copyChild(s, m));
  const unchanged = children.every((c, i) => c.digest === index.manifests[i]!.digest);
  if (unchanged && !s.o.format) {
    await s.dst.putManifest(desc, bytes, { signal: s.o.signal });
    s.o.onEvent?.({ type: 'manifest', digest: desc.digest, mediaType: desc.mediaType });
    s.manifests.push({ source: desc, copied: desc });
    return desc;
  }
  const flavour = s.o.format ?? (desc.mediaType === MediaType.DockerManifestList ? 'docker' : 'oci');
  const mediaType = flavour === 'oci' ? MediaType.OciIndex : MediaType.DockerManifestList;
  const next: ImageIndex = { ...index, mediaType, manifests: children };
  const nb = encodeJson(next);
  const nd: Descriptor = { mediaType, digest: digestOf(nb), size: nb.byteLength };
  await s.dst.putManifest(nd, nb, { signal: s.o.signal });
  s.o.onEvent?.({ type: 'manifest', digest: nd.digest, mediaType });
  s.manifests.push({ source: desc, copied: nd });
  return nd;
}

async function copyOneImage(
  s: CopyState,
  desc: Descriptor,
  bytes: Uint8Array,
  manifest: ImageManifest,
): Promise<Descriptor> {
  const signal = s.o.signal;
  if (!needsConversion(s) || isArtifact(manifest)) {
    await copyBlobs(s, [manifest.config, ...manifest.layers]);
    await s.dst.putManifest(desc, bytes, { signal });
    s.o.onEvent?.({ type: 'manifest', digest: desc.digest, mediaType: desc.mediaType });
    s.images.push(desc);
    s.manifests.push({ source: desc, copied: desc });
    return desc;
  }
  const image = await loadImage(s.src, { kind: 'image', descriptor: desc, bytes, manifest }, { signal });
  const out = await convertImage(s, image);
  s.images.push(out);
  s.manifests.push({ source: desc, copied: out });
  return out;
}

/** Artifacts (signatures, SBOMs as OCI artifacts) are never converted. */
function isArtifact(m: ImageManifest): boolean {
  return m.config.mediaType !== MediaType.OciConfig && m.config.mediaType !== MediaType.DockerConfig;
}

async function copyBlobs(s: CopyState, blobs: Descriptor[]): Promise<void> {
  await runLimited(blobs, s.o.concurrency ?? 4, async (d, i) => {
    const signal = s.o.signal;
    s.o.onEvent?.({ type: 'blob-start', digest: d.digest, size: d.size, what: i === 0 ? 'config' : 'layer' });
    if (await s.dst.hasBlob(d, { signal })) {
      s.o.onEvent?.({ type: 'blob-done', digest: d.digest, size: d.size, skipped: true });
      return;
    }
    await s.dst.putBlob(d, () => s.src.openBlob(d, { signal }), {
      signal,
      sourceVerified: true,
      ...(s.src.registryLocation ? { mountFrom: s.src.registryLocation } : {}),
    });
    s.bytes += d.size;
    s.o.onEvent?.({ type: 'blob-done', digest: d.digest, size: d.size, skipped: false });
  });
}

async function runLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        await fn(items[i]!, i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  // On a failure, start nothing new but let the writes in flight finish (or fail) before
  // reporting it: a caller that cleans up after the error must not race a half-written blob.
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/** Rewrite an image for the destination: new flavour and/or layer compression; the config bytes stay. */
async function convertImage(s: CopyState, image: Image): Promise<Descriptor> {
  const signal = s.o.signal;
  const caps = s.dst.capabilities;
  const sourceFlavour = image.descriptor.mediaType === MediaType.DockerManifest ? 'docker' : 'oci';
  const flavour = caps.manifestFlavour ?? s.o.format ?? sourceFlavour;
  const want: Compression | undefined = caps.layerCompression ?? s.o.compression;
  const configDesc = descriptorIn(
    flavour,
    flavour === 'oci' ? MediaType.OciConfig : MediaType.DockerConfig,
    image.manifest.config.digest,
    image.manifest.config.size,
  );
  const tmp = await mkdtemp(join(tmpdir(), 'vouch-convert-'));
  try {
    await copyBlobs(s, [image.manifest.config]);
    const layers: Descriptor[] = [];
    for (const layer of image.layers) {
      if (want === undefined || want === layer.compression) {
        await copyBlobs(s, [layer.descriptor]);
        const c = layer.compression === 'auto' ? 'none' : layer.compression;
        const { mediaType: _m, digest, size, ...extra } = layer.descriptor;
        layers.push({ ...descriptorIn(flavour, layerMediaType(flavour, c), digest, size), ...extra });
        continue;
      }
      const t = await transcode(layer, want, join(tmp, `${layers.length}.blob`), signal);
      const d = descriptorIn(flavour, layerMediaType(flavour, want), t.digest, t.size);
      s.o.onEvent?.({ type: 'blob-start', digest: d.digest, size: d.size, what: 'layer' });
      if (!(await s.dst.hasBlob(d, { signal }))) {
        await s.dst.putBlob(d, async () => createReadStream(t.path, { highWaterMark: 1 << 20 }), { signal });
        s.bytes += d.size;
      }
      s.o.onEvent?.({ type: 'blob-done', digest: d.digest, size: d.size, skipped: false });
      layers.push(d);
    }
    const mediaType = flavour === 'oci' ? MediaType.OciManifest : MediaType.DockerManifest;
    const { annotations, subject } = image.manifest;
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType,
      config: configDesc,
      layers,
      ...(flavour === 'oci' && subject ? { subject } : {}),
      ...(flavour === 'oci' && annotations ? { annotations } : {}),
    };
    const bytes = encodeJson(manifest);
    const desc: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
    await s.dst.putManifest(desc, bytes, { signal });
    s.o.onEvent?.({ type: 'manifest', digest: desc.digest, mediaType });
    return desc;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Descriptor keys in the order each flavour's reference tools write them (docker: size before digest). */
function descriptorIn(
  flavour: 'oci' | 'docker',
  mediaType: string,
  digest: Digest,
  size: number,
): Descriptor {
  return flavour === 'docker' ? ({ mediaType, size, digest } as Descriptor) : { mediaType, digest, size };
}

/** Decompress (verifying the diff_id) and recompress a layer into a file, hashing the output. */
async function transcode(
  layer: Layer,
  to: Compression,
  path: string,
  signal?: AbortSignal,
): Promise<{ path: string; digest: Digest; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  const counted = async function* (src: AsyncIterable<Uint8Array>) {
    for await (const c of src) {
      h.update(c);
      size += c.byteLength;
      yield c;
    }
  };
  const raw = Readable.from(await layer.openUncompressed({ signal }));
  const stages =
    to === 'none' ? [raw] : [raw, to === 'gzip' ? createGzip({ level: 6 }) : createZstdCompress()];
  await pipeline([...stages, counted, createWriteStream(path)] as never, { signal });
  const st = await stat(path);
  if (st.size !== size) throw new VouchError('IO_ERROR', `transcoded layer ${path}: size mismatch`);
  return { path, digest: `sha256:${h.digest('hex')}` as Digest, size };
}
