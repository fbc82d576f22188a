import type { Digest } from '../digest/digest.ts';
import { hostPlatform, selectManifest } from '../oci/platform.ts';
import type { Descriptor, Platform } from '../oci/types.ts';
import type { ImageSource, ReadOptions } from '../source/types.ts';
import { fetchManifest, type Image, loadImage } from './image.ts';

/** What `vouch inspect` shows; stable JSON for machines. */
export interface ImageDescription {
  name: string;
  digest: Digest;
  mediaType: string;
  /** Set when the reference names an index. */
  index?: {
    digest: Digest;
    mediaType: string;
    platforms: { platform: string; digest: Digest; mediaType: string }[];
  };
  platform: string;
  created?: string;
  config: {
    user: string;
    env: string[];
    entrypoint: string[];
    cmd: string[];
    workingDir: string;
    exposedPorts: string[];
    volumes: string[];
    stopSignal: string;
    labels: Record<string, string>;
  };
  layers: { digest: Digest; diffId: Digest; mediaType: string; size: number }[];
  /** Sum of stored (compressed) layer sizes plus config. */
  size: number;
}

export function platformString(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Resolve a source to one image: an index is narrowed to `platform` (default: the host's). */
export async function openImage(
  source: ImageSource,
  o: ReadOptions & { platform?: Platform } = {},
): Promise<{ image: Image; index?: { descriptor: Descriptor; manifests: Descriptor[] } }> {
  let resolved = await fetchManifest(source, await source.resolve(o), o);
  let index: { descriptor: Descriptor; manifests: Descriptor[] } | undefined;
  while (resolved.kind === 'index') {
    index ??= { descriptor: resolved.descriptor, manifests: resolved.index.manifests };
    const child = selectManifest(resolved.index, o.platform ?? hostPlatform());
    resolved = await fetchManifest(source, child, o);
  }
  const image = await loadImage(source, resolved, o);
  return index ? { image, index } : { image };
}

export async function describeImage(
  source: ImageSource,
  o: ReadOptions & { platform?: Platform } = {},
): Promise<ImageDescription> {
  const { image, index } = await openImage(source, o);
  const c = image.config.config ?? {};
  const d: ImageDescription = {
    name: source.name,
    digest: image.descriptor.digest,
    mediaType: image.descriptor.mediaType,
    platform: platformString({
      os: image.config.os,
      architecture: image.config.architecture,
      ...(image.config.variant ? { variant: image.config.variant } : {}),
    }),
    config: {
      user: c.User ?? '',
      env: c.Env ?? [],
      entrypoint: c.Entrypoint ?? [],
      cmd: c.Cmd ?? [],
      workingDir: c.WorkingDir ?? '',
      exposedPorts: Object.keys(c.ExposedPorts ?? {}).sort(),
      volumes: Object.keys(c.Volumes ?? {}).sort(),
      stopSignal: c.StopSignal ?? '',
      labels: c.Labels ?? {},
    },
    layers: image.layers.map((l) => ({
      digest: l.descriptor.digest,
      diffId: l.diffId,
      mediaType: l.descriptor.mediaType,
      size: l.descriptor.size,
    })),
    size: image.manifest.config.size + image.layers.reduce((n, l) => n + l.descriptor.size, 0),
  };
  if (image.config.created) d.created = image.config.created;
  if (index) {
    d.index = {
      digest: index.descriptor.digest,
      mediaType: index.descriptor.mediaType,
      platforms: index.manifests.map((m) => ({
        platform: platformString(m.platform),
        digest: m.digest,
        mediaType: m.mediaType,
      })),
    };
  }
  return d;
}
