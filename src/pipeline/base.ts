/**
 * The base image of a build, opened by the digest vouch.yaml pins (config.ts refuses anything
 * else): a registry reference `NAME@sha256:…`, or `oci:DIR@sha256:…` for a local layout. An
 * index is narrowed to the architecture being built; a single image must already be for it.
 */
import { parseDigest } from '../digest/digest.ts';
import { verifyBytes } from '../digest/verify.ts';
import { VouchError } from '../errors.ts';
import { fetchManifest, type Image, loadImage } from '../image/image.ts';
import { MAX_JSON_BYTES, parseManifest } from '../oci/manifest.ts';
import { formatPlatform, normalizePlatform, platformMatches, selectManifest } from '../oci/platform.ts';
import type { Descriptor, Platform } from '../oci/types.ts';
import type { RegistryOptions } from '../registry/options.ts';
import { directoryFiles } from '../source/layout/files.ts';
import { blobPath } from '../source/layout/source.ts';
import type { ImageSource } from '../source/types.ts';
import { openSource } from '../transport/open.ts';

export interface BaseImage {
  /** As vouch.yaml names it. */
  reference: string;
  /** The pinned digest (an index or a manifest). */
  pinned: string;
  /** The image used for this architecture. */
  image: Image;
  close(): Promise<void>;
}

/** The platform vouch builds for an architecture (32-bit arm is v7, as Docker's default). */
export function platformFor(arch: string): Platform {
  return arch === 'arm'
    ? { os: 'linux', architecture: 'arm', variant: 'v7' }
    : { os: 'linux', architecture: arch };
}

export async function openBase(
  base: { image: string; digest: string | undefined },
  arch: string,
  o: { registry?: RegistryOptions; signal?: AbortSignal } = {},
): Promise<BaseImage | undefined> {
  if (base.image === 'scratch' || base.digest === undefined) return undefined;
  const digest = parseDigest(base.digest);
  const { source, root } = base.image.startsWith('oci:')
    ? await openLayoutBase(base.image, digest)
    : await openRegistryBase(base.image, o.registry ?? {});
  try {
    const want = platformFor(arch);
    let resolved = await fetchManifest(source, root, o.signal ? { signal: o.signal } : {});
    while (resolved.kind === 'index') {
      const child = selectManifest(resolved.index, want);
      resolved = await fetchManifest(source, child, o.signal ? { signal: o.signal } : {});
    }
    const image = await loadImage(source, resolved, o.signal ? { signal: o.signal } : {});
    const have: Platform = {
      os: image.config.os,
      architecture: image.config.architecture,
      ...(image.config.variant ? { variant: image.config.variant } : {}),
    };
    if (!platformMatches(normalizePlatform(want), normalizePlatform(have))) {
      throw new VouchError(
        'PLATFORM_NOT_FOUND',
        `base image ${base.image} is ${formatPlatform(have)} only; cannot build ${formatPlatform(want)} on it`,
        { hint: 'pin a multi-platform index, or build only the architectures the base has' },
      );
    }
    return { reference: base.image, pinned: digest, image, close: () => source.close() };
  } catch (e) {
    await source.close();
    throw e;
  }
}

async function openRegistryBase(
  name: string,
  registry: RegistryOptions,
): Promise<{ source: ImageSource; root: Descriptor }> {
  const source = await openSource(name, { registry });
  try {
    return { source, root: await source.resolve() };
  } catch (e) {
    await source.close();
    throw e;
  }
}

/**
 * `oci:DIR@sha256:…`: the pinned manifest is read straight from the layout's blobs (whether or
 * not index.json names it) and checked against the digest.
 */
async function openLayoutBase(
  name: string,
  digest: ReturnType<typeof parseDigest>,
): Promise<{ source: ImageSource; root: Descriptor }> {
  const dir = name.slice('oci:'.length, name.lastIndexOf('@'));
  const bytes = await directoryFiles(dir).read(blobPath(digest), MAX_JSON_BYTES);
  if (bytes === undefined) {
    throw new VouchError(
      'IMAGE_NOT_FOUND',
      `base image ${name}: the layout ${dir} has no manifest ${digest}`,
    );
  }
  verifyBytes(bytes, { digest, size: bytes.byteLength }, `base image ${name}`);
  const mediaType = parseManifest(bytes, undefined, `base image ${name}`).mediaType;
  const source = await openSource({ transport: 'oci', path: dir });
  return { source, root: { mediaType, digest, size: bytes.byteLength } };
}
