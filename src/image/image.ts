import { createHash } from 'node:crypto';
import type { Digest } from '../digest/digest.ts';
import { VouchError } from '../errors.ts';
import type { LayerInput } from '../fs/types.ts';
import { decompress } from '../oci/compression.ts';
import { parseConfig, parseManifest } from '../oci/manifest.ts';
import { type Compression, layerCompression } from '../oci/media-types.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest } from '../oci/types.ts';
import type { ImageSource, ReadOptions } from '../source/types.ts';

/** One layer of an image: lazy, every read verified against the manifest and the config. */
export interface Layer {
  readonly index: number;
  readonly descriptor: Descriptor;
  readonly diffId: Digest;
  /** From the media type; 'auto' when the type does not say (the bytes decide). */
  readonly compression: Compression | 'auto';
  /** Stored bytes, verified against the descriptor. */
  open(opts?: ReadOptions): Promise<AsyncIterable<Uint8Array>>;
  /** The uncompressed tar, verified against the config's diff_id once fully read. */
  openUncompressed(opts?: ReadOptions): Promise<AsyncIterable<Uint8Array>>;
}

/** A single-platform image: the manifest's exact bytes, the parsed config, lazy layers. */
export interface Image {
  readonly source: ImageSource;
  readonly descriptor: Descriptor;
  readonly manifestBytes: Uint8Array;
  readonly manifest: ImageManifest;
  readonly configBytes: Uint8Array;
  readonly config: ImageConfig;
  readonly layers: readonly Layer[];
}

/** The layers as a merged view reads them: each uncompressed, opened afresh on every call. */
export function layerInputs(image: Image, signal?: AbortSignal): LayerInput[] {
  return image.layers.map((l) => ({
    digest: l.descriptor.digest,
    open: () => l.openUncompressed(signal ? { signal } : {}),
    compressedSize: l.descriptor.size,
  }));
}

export type Resolved =
  | { kind: 'image'; descriptor: Descriptor; bytes: Uint8Array; manifest: ImageManifest }
  | { kind: 'index'; descriptor: Descriptor; bytes: Uint8Array; index: ImageIndex };

/** Fetch and parse the manifest or index a descriptor names. */
export async function fetchManifest(
  source: ImageSource,
  desc: Descriptor,
  opts?: ReadOptions,
): Promise<Resolved> {
  const bytes = await source.getManifest(desc, opts);
  const parsed = parseManifest(bytes, desc.mediaType, `manifest ${desc.digest}`);
  const descriptor = { ...desc, mediaType: parsed.mediaType };
  return parsed.kind === 'index'
    ? { kind: 'index', descriptor, bytes, index: parsed.index }
    : { kind: 'image', descriptor, bytes, manifest: parsed.manifest };
}

const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** Read a whole small blob (configs), verified. */
export async function readBlob(
  source: ImageSource,
  desc: Descriptor,
  opts?: ReadOptions,
): Promise<Uint8Array> {
  if (desc.size > MAX_CONFIG_BYTES) {
    throw new VouchError(
      'BLOB_TOO_LARGE',
      `blob ${desc.digest}: ${desc.size} bytes is over the ${MAX_CONFIG_BYTES} limit`,
    );
  }
  const chunks: Uint8Array[] = [];
  for await (const c of await source.openBlob(desc, opts)) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Build the Image for a manifest already fetched. */
export async function loadImage(
  source: ImageSource,
  resolved: Extract<Resolved, { kind: 'image' }>,
  opts?: ReadOptions,
): Promise<Image> {
  const { manifest } = resolved;
  const configBytes = await readBlob(source, manifest.config, opts);
  const config = parseConfig(configBytes, `config ${manifest.config.digest}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw new VouchError(
      'MANIFEST_INVALID',
      `image ${resolved.descriptor.digest}: the manifest lists ${manifest.layers.length} layers but the config has ${diffIds.length} diff_ids`,
    );
  }
  const layers = manifest.layers.map((d, i) => makeLayer(source, d, diffIds[i]!, i));
  return {
    source,
    descriptor: resolved.descriptor,
    manifestBytes: resolved.bytes,
    manifest,
    configBytes,
    config,
    layers,
  };
}

function makeLayer(source: ImageSource, descriptor: Descriptor, diffId: Digest, index: number): Layer {
  const compression = layerCompression(descriptor.mediaType) ?? 'auto';
  return {
    index,
    descriptor,
    diffId,
    compression,
    open: (opts) => source.openBlob(descriptor, opts),
    async openUncompressed(opts) {
      const raw = await source.openBlob(descriptor, opts);
      // Labels can lie (archives, old registries): always sniff.
      return checkDiffId(decompress(raw, 'auto', `layer ${descriptor.digest}`), diffId, descriptor.digest);
    },
  };
}

async function* checkDiffId(
  src: AsyncIterable<Uint8Array>,
  diffId: Digest,
  layer: Digest,
): AsyncGenerator<Uint8Array> {
  const h = createHash(diffId.slice(0, diffId.indexOf(':')));
  for await (const c of src) {
    h.update(c);
    yield c;
  }
  const got = `${diffId.slice(0, diffId.indexOf(':'))}:${h.digest('hex')}`;
  if (got !== diffId) {
    throw new VouchError(
      'DIGEST_MISMATCH',
      `layer ${layer}: uncompressed content does not match the config's diff_id: expected ${diffId}, found ${got}`,
    );
  }
}
