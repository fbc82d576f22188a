/**
 * Write docker archives. Two entry points over one writer:
 * - openDockerArchiveDestination: the ImageDestination the copy engine writes through (one
 *   image, uncompressed layers, Docker manifest). Each commit() adds the committed image and
 *   rewrites FILE atomically; the destination's tag moves to the last committed image.
 * - writeDockerArchive: several images, each with its own tags, read straight from their
 *   sources (layers decompressed and checked against the config's diff_ids on the way).
 */
import { verifyBytes } from '../../digest/verify.ts';
import { VouchError } from '../../errors.ts';
import { decompress } from '../../oci/compression.ts';
import { parseConfig, parseManifest } from '../../oci/manifest.ts';
import { familiarReference, type Reference } from '../../oci/reference.ts';
import type { Descriptor, ImageConfig, ImageManifest } from '../../oci/types.ts';
import type { DestinationCapabilities, ImageDestination, ImageSource, WriteOptions } from '../types.ts';
import { archiveTagOf } from './repo-tags.ts';
import { ArchiveWriter } from './writer.ts';

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export interface DockerArchiveDestinationOptions {
  /** The RepoTags entry (and `repositories` key) of the image; none when absent. */
  ref?: Reference;
}

/** A docker archive stores uncompressed layers named by diff_id, under a Docker manifest. */
export const DOCKER_ARCHIVE_CAPABILITIES: DestinationCapabilities = Object.freeze({
  index: false,
  layerCompression: 'none',
  manifestFlavour: 'docker',
});

export async function openDockerArchiveDestination(
  file: string,
  opts: DockerArchiveDestinationOptions = {},
): Promise<ImageDestination> {
  const tags = opts.ref ? [opts.ref] : [];
  for (const t of tags) archiveTagOf(t); // a digest-only reference cannot tag an archive image
  const writer = new ArchiveWriter(file);
  const manifests = new Map<string, ImageManifest>();
  const name = `docker-archive:${file}${opts.ref ? `:${familiarReference(opts.ref)}` : ''}`;
  return {
    name,
    capabilities: DOCKER_ARCHIVE_CAPABILITIES,
    async hasBlob(desc: Descriptor) {
      return writer.has(desc.digest);
    },
    async putBlob(desc: Descriptor, open: () => Promise<AsyncIterable<Uint8Array>>, o: WriteOptions = {}) {
      if (writer.has(desc.digest)) return;
      await writer.put(desc, await open(), `blob ${desc.digest} for ${name}`, o.signal);
    },
    async putManifest(desc: Descriptor, bytes: Uint8Array) {
      verifyBytes(bytes, desc, `manifest for ${name}`);
      const parsed = parseManifest(bytes, desc.mediaType, `manifest ${desc.digest}`);
      if (parsed.kind === 'index') {
        throw new VouchError(
          'MEDIA_TYPE_UNSUPPORTED',
          `${name} cannot store an image index (${desc.digest})`,
          {
            hint: 'copy one platform of it',
          },
        );
      }
      manifests.set(desc.digest, parsed.manifest);
    },
    async commit(root: Descriptor, o: WriteOptions = {}) {
      const m = manifests.get(root.digest);
      if (!m)
        throw new VouchError('MANIFEST_UNKNOWN', `${name}: commit of ${root.digest}, which was never put`);
      const configBytes = await writer.read(m.config.digest, MAX_CONFIG_BYTES);
      const config = parseConfig(configBytes, `image config ${m.config.digest}`);
      checkUncompressedLayers(m, config, name);
      writer.addImage(m.config.digest, asRecord(config), config.rootfs.diff_ids, tags);
      await writer.write(o.signal);
    },
    close: () => writer.dispose(),
  };
}

/**
 * The archive stores each layer as `<diff_id>.tar`, so the layers handed over must be the
 * uncompressed tars themselves: digest equal to the config's diff_id, in order.
 */
function checkUncompressedLayers(m: ImageManifest, config: ImageConfig, name: string): void {
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== m.layers.length) {
    throw new VouchError(
      'MANIFEST_INVALID',
      `${name}: the manifest lists ${m.layers.length} layers, the config's rootfs.diff_ids ${diffIds.length}`,
    );
  }
  m.layers.forEach((l, i) => {
    if (l.digest !== diffIds[i]) {
      throw new VouchError(
        'MANIFEST_INVALID',
        `${name}: layer ${i} is ${l.digest} but rootfs.diff_ids[${i}] is ${diffIds[i]}: docker archives need uncompressed layers`,
        { hint: 'copy with layer decompression (the copy engine does it for this destination)' },
      );
    }
  });
}

function asRecord(c: ImageConfig): Record<string, unknown> {
  return c as unknown as Record<string, unknown>;
}

export interface ArchiveImageInput {
  source: ImageSource;
  /** An image manifest of `source` (not an index: choose a platform first). */
  manifest: Descriptor;
  /** RepoTags for it; may be empty. A tag given twice ends on the later image. */
  tags: Reference[];
}

/**
 * Write several images into one docker archive at `file` (replaced atomically). Layers shared
 * by images are stored once. Each layer is read from its source (verified there), decompressed,
 * and must hash to the config's diff_id.
 */
export async function writeDockerArchive(
  file: string,
  images: ArchiveImageInput[],
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  const signal = opts.signal;
  const ro = signal ? { signal } : {};
  const writer = new ArchiveWriter(file);
  try {
    for (const img of images) {
      for (const t of img.tags) archiveTagOf(t);
      const what = `${img.source.name} (${img.manifest.digest})`;
      const bytes = await img.source.getManifest(img.manifest, ro);
      const parsed = parseManifest(bytes, img.manifest.mediaType, `manifest of ${what}`);
      if (parsed.kind === 'index') {
        throw new VouchError(
          'MEDIA_TYPE_UNSUPPORTED',
          `${what} is an image index; a docker archive holds images`,
          {
            hint: 'pass the manifest of one platform',
          },
        );
      }
      const m = parsed.manifest;
      if (!writer.has(m.config.digest)) {
        await writer.put(m.config, await img.source.openBlob(m.config, ro), `config of ${what}`, signal);
      }
      const config = parseConfig(
        await writer.read(m.config.digest, MAX_CONFIG_BYTES),
        `image config of ${what}`,
      );
      const diffIds = config.rootfs.diff_ids;
      if (diffIds.length !== m.layers.length) {
        throw new VouchError(
          'MANIFEST_INVALID',
          `${what}: the manifest lists ${m.layers.length} layers, the config's rootfs.diff_ids ${diffIds.length}`,
        );
      }
      for (const [i, layer] of m.layers.entries()) {
        const diffId = diffIds[i]!;
        if (writer.has(diffId)) continue;
        const stream = decompress(await img.source.openBlob(layer, ro), 'auto', `layer ${layer.digest}`);
        await writer.putLayer(diffId, stream, `layer ${i} (${layer.digest}) of ${what}`, signal);
      }
      writer.addImage(m.config.digest, asRecord(config), diffIds, img.tags);
    }
    await writer.write(signal);
  } finally {
    await writer.dispose();
  }
}
