/**
 * Read one image out of a `docker save` archive (legacy layout, or Docker >= 25's OCI layout
 * inside the tar). The archive has no registry manifest, so one is synthesized: a Docker schema 2
 * manifest whose config is the archive's config file and whose layers describe the layer files
 * exactly as stored (digest and size of the stored bytes, media type from their magic bytes).
 * Blobs are then served as stored, like any other source.
 */
import { createHash } from 'node:crypto';
import { type Digest, digestOf, isDigest, parseDigest } from '../../digest/digest.ts';
import { verified, verifyBytes } from '../../digest/verify.ts';
import { isVouchError, VouchError } from '../../errors.ts';
import { decompress } from '../../oci/compression.ts';
import { encodeJson, parseConfig } from '../../oci/manifest.ts';
import { type Compression, layerMediaType, MediaType, sniffCompression } from '../../oci/media-types.ts';
import { familiarReference, type Reference } from '../../oci/reference.ts';
import type { Descriptor } from '../../oci/types.ts';
import { indexTar, type TarIndex, type TarMember } from '../../util/tar-index.ts';
import type { ImageSource, ReadOptions } from '../types.ts';
import { type ArchiveImage, MANIFEST_JSON, parseArchiveManifest, selectImage } from './manifest-json.ts';

export interface DockerArchiveSourceOptions {
  /** Select the image whose RepoTags contain this reference (registry, repository and tag). */
  ref?: Reference;
  /** Select the image at this position of manifest.json (`@N`). */
  index?: number;
  signal?: AbortSignal;
}

const MAX_MANIFEST_JSON_BYTES = 4 * 1024 * 1024;
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

interface StoredLayer {
  member: TarMember;
  descriptor: Descriptor;
}

/**
 * Open an image of a docker archive. Selection: by `ref`, by `index`, or the only image.
 * Opening checks the archive: the config against the digest its name promises, the layer count
 * against rootfs.diff_ids, and every layer's content against its diff_id (layers named
 * `blobs/<alg>/<hex>` are instead checked against their name when streamed).
 */
export async function openDockerArchiveSource(
  file: string,
  opts: DockerArchiveSourceOptions = {},
): Promise<ImageSource> {
  const tar = await indexTar(file, opts.signal ? { signal: opts.signal } : {});
  try {
    return await openImage(tar, file, opts);
  } catch (e) {
    await tar.close();
    throw e;
  }
}

async function openImage(
  tar: TarIndex,
  file: string,
  opts: DockerArchiveSourceOptions,
): Promise<ImageSource> {
  const signal = opts.signal;
  if (!tar.get(MANIFEST_JSON)) {
    throw new VouchError('ARCHIVE_INVALID', `${file}: no ${MANIFEST_JSON}: not a docker archive`, {
      hint: 'archives from docker before 1.10 (no manifest.json) are not supported',
    });
  }
  const images = parseArchiveManifest(
    await tar.read(MANIFEST_JSON, MAX_MANIFEST_JSON_BYTES, { signal }),
    file,
  );
  const image = selectImage(images, file, opts);
  const at = `${MANIFEST_JSON}[${image.position}]`;

  const configBytes = await tar.read(member(tar, file, image.config, `${at}.Config`).name, MAX_CONFIG_BYTES, {
    signal,
  });
  const named = digestInName(image.config);
  const configDigest = named ?? digestOf(configBytes);
  if (named) {
    verifyBytes(
      configBytes,
      { digest: named, size: configBytes.byteLength },
      `config ${image.config} in ${file}`,
    );
  }
  const config = parseConfig(configBytes, `image config ${image.config} in ${file}`);
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== image.layers.length) {
    throw new VouchError(
      'ARCHIVE_INVALID',
      `${file}: ${at}.Layers lists ${image.layers.length} layers but its config's rootfs.diff_ids has ${diffIds.length}`,
    );
  }

  const byPath = new Map<string, { layer: StoredLayer; diffId?: Digest }>();
  const layers: StoredLayer[] = [];
  for (const [i, path] of image.layers.entries()) {
    const what = `${at}.Layers[${i}] "${path}"`;
    const m = member(tar, file, path, what);
    let known = byPath.get(m.name);
    if (!known) {
      known = await describeLayer(tar, m, signal);
      byPath.set(m.name, known);
    }
    const want = diffIds[i]!;
    const got = known.diffId;
    if (got !== undefined && got !== want) {
      throw new VouchError(
        'DIGEST_MISMATCH',
        `${file}: layer ${what} does not match its config: rootfs.diff_ids[${i}] is ${want}, the layer's content is ${got}`,
      );
    }
    layers.push(known.layer);
  }

  const configDescriptor: Descriptor = {
    mediaType: MediaType.DockerConfig,
    size: configBytes.byteLength,
    digest: configDigest,
  };
  // Key order as containers/image serialises Schema2 (mediaType, size, digest). Built from the
  // archive's bytes alone, so every open of the same image gives the same manifest digest.
  const manifestBytes = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.DockerManifest,
    config: configDescriptor,
    layers: layers.map((l) => l.descriptor),
  });
  const manifest: Descriptor = {
    mediaType: MediaType.DockerManifest,
    digest: digestOf(manifestBytes),
    size: manifestBytes.byteLength,
  };
  if (opts.ref?.digest && opts.ref.digest !== manifest.digest) {
    throw new VouchError(
      'DIGEST_MISMATCH',
      `${file}: ${familiarReference(opts.ref)} was pinned, but the image's manifest is ${manifest.digest}`,
    );
  }
  const layerByDigest = new Map(layers.map((l) => [l.descriptor.digest, l]));
  return sourceObject(
    tar,
    nameOf(file, opts),
    image,
    manifest,
    manifestBytes,
    configDescriptor,
    configBytes,
    layerByDigest,
  );
}

function sourceObject(
  tar: TarIndex,
  name: string,
  image: ArchiveImage,
  manifest: Descriptor,
  manifestBytes: Uint8Array,
  config: Descriptor,
  configBytes: Uint8Array,
  layers: Map<Digest, StoredLayer>,
): ImageSource {
  return {
    name,
    async resolve() {
      return { ...manifest };
    },
    async getManifest(desc: Descriptor) {
      if (desc.digest !== manifest.digest) {
        throw new VouchError(
          'MANIFEST_UNKNOWN',
          `${name}: no manifest ${desc.digest} (the image's is ${manifest.digest})`,
        );
      }
      return verifyBytes(manifestBytes.slice(), desc, `manifest of ${name}`);
    },
    async openBlob(desc: Descriptor, o: ReadOptions = {}) {
      if (desc.digest === config.digest) {
        const bytes = configBytes.slice();
        return verified(
          (async function* () {
            yield bytes;
          })(),
          desc,
          `config ${image.config} of ${name}`,
        );
      }
      const layer = layers.get(desc.digest);
      if (!layer) throw new VouchError('BLOB_UNKNOWN', `${name}: no blob ${desc.digest} in this image`);
      return verified(tar.open(layer.member.name, o), desc, `layer ${layer.member.name} of ${name}`);
    },
    close: () => tar.close(),
  };
}

function nameOf(file: string, opts: DockerArchiveSourceOptions): string {
  if (opts.ref) return `docker-archive:${file}:${familiarReference(opts.ref)}`;
  if (opts.index !== undefined) return `docker-archive:${file}:@${opts.index}`;
  return `docker-archive:${file}`;
}

function member(tar: TarIndex, file: string, path: string, what: string): TarMember {
  try {
    return tar.resolve(path);
  } catch (e) {
    if (isVouchError(e, 'ARCHIVE_INVALID')) {
      throw new VouchError('ARCHIVE_INVALID', `${file}: ${what}: ${e.message.replace(`${file}: `, '')}`, {
        cause: e,
      });
    }
    throw e;
  }
}

/** The digest a member's name promises: `blobs/<alg>/<hex>`, or a legacy `<hex>.json` config. */
export function digestInName(path: string): Digest | undefined {
  const clean = path.replace(/^(\.\/)+/, '');
  const blob = /^blobs\/(sha256|sha512)\/([0-9a-f]+)$/.exec(clean);
  const legacy = /^([0-9a-f]{64})\.json$/.exec(clean);
  const s = blob ? `${blob[1]}:${blob[2]}` : legacy ? `sha256:${legacy[1]}` : undefined;
  return s !== undefined && isDigest(s) ? parseDigest(s) : undefined;
}

/**
 * Describe a layer as stored. A `blobs/<alg>/<hex>` name gives the digest (checked when
 * streamed); other layers are hashed once here, and their uncompressed content too, which is
 * the diff_id the config must list. An uncompressed blob's name digest is its diff_id.
 */
async function describeLayer(
  tar: TarIndex,
  m: TarMember,
  signal: AbortSignal | undefined,
): Promise<{ layer: StoredLayer; diffId?: Digest }> {
  const compression = await sniff(tar, m, signal);
  const mediaType = layerMediaType('docker', compression);
  const named = digestInName(m.name);
  if (named) {
    const layer = { member: m, descriptor: { mediaType, size: m.size, digest: named } };
    return compression === 'none' ? { layer, diffId: named } : { layer };
  }
  const stored = createHash('sha256');
  let n = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const c of tar.open(m.name, signal ? { signal } : {})) {
      stored.update(c);
      n += c.byteLength;
      yield c;
    }
  }
  let diffId: Digest;
  if (compression === 'none') {
    for await (const _ of counted()) {
      // hashing happens in counted()
    }
    diffId = `sha256:${stored.digest('hex')}` as Digest;
    return { layer: { member: m, descriptor: { mediaType, size: m.size, digest: diffId } }, diffId };
  }
  const plain = createHash('sha256');
  for await (const c of decompress(counted(), compression, `layer ${m.name}`)) plain.update(c);
  if (n !== m.size) {
    throw new VouchError('LAYER_INVALID', `layer ${m.name}: data after the end of its ${compression} stream`);
  }
  diffId = `sha256:${plain.digest('hex')}` as Digest;
  const digest = `sha256:${stored.digest('hex')}` as Digest;
  return { layer: { member: m, descriptor: { mediaType, size: m.size, digest } }, diffId };
}

async function sniff(tar: TarIndex, m: TarMember, signal: AbortSignal | undefined): Promise<Compression> {
  const it = tar.open(m.name, signal ? { signal } : {})[Symbol.asyncIterator]();
  try {
    const first = await it.next();
    return first.done ? 'none' : sniffCompression(first.value);
  } finally {
    await it.return?.();
  }
}
