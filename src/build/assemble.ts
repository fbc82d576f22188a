import { createReadStream } from 'node:fs';
import type { Digest } from '../digest/digest.ts';
import { digestOf } from '../digest/digest.ts';
import type { Image } from '../image/image.ts';
import { encodeJson } from '../oci/manifest.ts';
import { type Compression, layerMediaType, MediaType } from '../oci/media-types.ts';
import type { ContainerConfig, Descriptor, HistoryEntry, ImageConfig, ImageManifest } from '../oci/types.ts';
import type { ImageDestination, WriteOptions } from '../source/types.ts';

/** A layer blob already written to a local file (by layerFromDirectory or writeLayer). */
export interface LayerFile {
  path: string;
  digest: Digest;
  size: number;
  diffId: Digest;
  compression: Compression;
  /** history entry describing how the layer was made */
  history?: HistoryEntry;
}

/** An image config without rootfs (computed here); history entries precede the new layers'. */
export interface ConfigInput {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ContainerConfig;
  history?: HistoryEntry[];
  /** Other config fields are kept as they are. */
  [key: string]: unknown;
}

export interface AssembledImage {
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
}

export interface AssembleInput {
  /** Base image whose layers come first (read from its own source). */
  base?: Image;
  /** Base layers to keep (default: all of them). */
  keepBaseLayers?: boolean;
  layers: LayerFile[];
  /** The full config to write; rootfs and history are filled in here. */
  config: ConfigInput;
  flavour?: 'oci' | 'docker';
  annotations?: Record<string, string>;
}

/**
 * Write an image into a destination: base blobs, new layer files, config, manifest (by digest).
 * Returns the manifest descriptor; the caller commits (tags) it.
 */
export async function assembleImage(
  dst: ImageDestination,
  input: AssembleInput,
  o: WriteOptions = {},
): Promise<AssembledImage> {
  const flavour = input.flavour ?? 'oci';
  const layers: Descriptor[] = [];
  const diffIds: Digest[] = [];
  const history: HistoryEntry[] = [...(input.config.history ?? [])];
  if (input.base && input.keepBaseLayers !== false) {
    for (const l of input.base.layers) {
      if (!(await dst.hasBlob(l.descriptor, o))) await dst.putBlob(l.descriptor, () => l.open(o), o);
      const c = l.compression === 'auto' ? 'gzip' : l.compression;
      layers.push({ ...l.descriptor, mediaType: layerMediaType(flavour, c) });
      diffIds.push(l.diffId);
    }
  }
  for (const l of input.layers) {
    const d: Descriptor = {
      mediaType: layerMediaType(flavour, l.compression),
      digest: l.digest,
      size: l.size,
    };
    if (!(await dst.hasBlob(d, o))) {
      await dst.putBlob(d, async () => createReadStream(l.path, { highWaterMark: 1 << 20 }), o);
    }
    layers.push(d);
    diffIds.push(l.diffId);
    if (l.history) history.push(l.history);
  }
  const { history: _h, ...rest } = input.config;
  const config: ImageConfig = {
    ...rest,
    rootfs: { type: 'layers', diff_ids: diffIds },
    history,
  };
  const configBytes = encodeJson(config);
  const configDesc: Descriptor = {
    mediaType: flavour === 'oci' ? MediaType.OciConfig : MediaType.DockerConfig,
    digest: digestOf(configBytes),
    size: configBytes.byteLength,
  };
  if (!(await dst.hasBlob(configDesc, o))) {
    await dst.putBlob(configDesc, async () => oneChunk(configBytes), o);
  }
  const mediaType = flavour === 'oci' ? MediaType.OciManifest : MediaType.DockerManifest;
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType,
    config: configDesc,
    layers,
    ...(flavour === 'oci' && input.annotations ? { annotations: input.annotations } : {}),
  };
  const bytes = encodeJson(manifest);
  const desc: Descriptor = {
    mediaType,
    digest: digestOf(bytes),
    size: bytes.byteLength,
    platform: {
      os: config.os,
      architecture: config.architecture,
      ...(config.variant ? { variant: config.variant } : {}),
    },
  };
  await dst.putManifest(desc, bytes, o);
  return { descriptor: desc, manifest, config };
}

async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
