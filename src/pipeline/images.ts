/**
 * The images of a run in the work layout: each stage reads an architecture's current image (tag
 * `{version}-{arch}`) and may write its successor, which takes over the tag. The multi-arch
 * index (tag `{version}`) is computed from the current images, so its digest is known locally
 * before anything is published.
 */
import { digestOf } from '../digest/digest.ts';
import { VouchError } from '../errors.ts';
import { fetchManifest, type Image, loadImage } from '../image/image.ts';
import { encodeJson } from '../oci/manifest.ts';
import { MediaType } from '../oci/media-types.ts';
import type { Descriptor, ImageIndex } from '../oci/types.ts';
import { ensureLayout, openLayoutDestination, openLayoutSource } from '../source/layout/layout.ts';
import type { ImageDestination } from '../source/types.ts';
import { platformFor } from './base.ts';
import { isoSeconds, type PipelineContext } from './context.ts';
import { OCI_LABEL } from './image-config.ts';
import { archTag, bindArtifacts } from './work.ts';

/** The current image of `arch`: from this run, else the layout an earlier run left. */
export async function currentDescriptor(ctx: PipelineContext, arch: string): Promise<Descriptor> {
  const known = ctx.state.images.get(arch);
  if (known) return known;
  const tag = archTag(ctx.config.image.version, arch);
  await ensureLayout(ctx.work.layout);
  const source = await openLayoutSource(ctx.work.layout, { tag });
  try {
    const d = await source.resolve();
    ctx.state.images.set(arch, d);
    return d;
  } catch (e) {
    throw new VouchError(
      'IMAGE_NOT_FOUND',
      `no ${arch} image in the work area (oci:${ctx.work.layout}:${tag})`,
      {
        hint: 'run the build stage first (it is not in --stages / stages:)',
        cause: e,
      },
    );
  } finally {
    await source.close();
  }
}

/** Run `fn` on the current image of `arch` (its layers read lazily from the work layout). */
export async function withImage<T>(
  ctx: PipelineContext,
  arch: string,
  fn: (image: Image) => Promise<T>,
): Promise<T> {
  const desc = await currentDescriptor(ctx, arch);
  const source = await openLayoutSource(ctx.work.layout);
  try {
    const resolved = await fetchManifest(source, desc, ctx.signal ? { signal: ctx.signal } : {});
    if (resolved.kind !== 'image') {
      throw new VouchError(
        'MANIFEST_INVALID',
        `${arch}: ${desc.digest} in the work area is an index, not an image`,
      );
    }
    return await fn(await loadImage(source, resolved));
  } finally {
    await source.close();
  }
}

/** Write `arch`'s next image with `fn` and move the tag to it. */
export async function writeImage(
  ctx: PipelineContext,
  arch: string,
  fn: (dst: ImageDestination) => Promise<Descriptor>,
): Promise<Descriptor> {
  const tag = archTag(ctx.config.image.version, arch);
  const dst = await openLayoutDestination(ctx.work.layout, { tag });
  try {
    const written = await fn(dst);
    const desc: Descriptor = { ...written, platform: written.platform ?? platformFor(arch) };
    await dst.commit(desc);
    ctx.state.images.set(arch, desc);
    await bindArtifacts(ctx.work, arch, desc.digest);
    return desc;
  } finally {
    await dst.close();
  }
}

export interface LocalIndex {
  descriptor: Descriptor;
  bytes: Uint8Array;
  index: ImageIndex;
}

/** The index of the current images, in `image.architectures` order (deterministic bytes). */
export async function computeIndex(ctx: PipelineContext): Promise<LocalIndex> {
  const manifests: Descriptor[] = [];
  for (const arch of ctx.config.image.architectures) {
    const d = await currentDescriptor(ctx, arch);
    manifests.push({ mediaType: d.mediaType, digest: d.digest, size: d.size, platform: platformFor(arch) });
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests,
    annotations: {
      [OCI_LABEL.version]: ctx.config.image.version,
      [OCI_LABEL.created]: isoSeconds(ctx.epoch),
    },
  };
  const bytes = encodeJson(index);
  return {
    descriptor: { mediaType: MediaType.OciIndex, digest: digestOf(bytes), size: bytes.byteLength },
    bytes,
    index,
  };
}

/** Compute the index and tag it `{version}` in the work layout. */
export async function writeIndex(ctx: PipelineContext): Promise<LocalIndex> {
  const local = await computeIndex(ctx);
  const dst = await openLayoutDestination(ctx.work.layout, { tag: ctx.config.image.version });
  try {
    await dst.putManifest(local.descriptor, local.bytes);
    await dst.commit(local.descriptor);
  } finally {
    await dst.close();
  }
  ctx.state.index = local.descriptor;
  return local;
}

/** Bytes of a manifest in the work layout, checked against its digest. */
export async function manifestBytes(ctx: PipelineContext, desc: Descriptor): Promise<Uint8Array> {
  const source = await openLayoutSource(ctx.work.layout);
  try {
    return await source.getManifest(desc);
  } finally {
    await source.close();
  }
}
