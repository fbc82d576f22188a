/**
 * Small real images built in memory for tests: real tar layers (tar-stream), real gzip/zstd,
 * manifests and configs as the specs define them. Independent of vouch's own writers so that
 * tests of readers do not trust the code under test.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import tar from 'tar-stream';
import { type Digest, digestHex, digestOf } from '../../src/digest/digest.ts';
import { layerMediaType, MediaType } from '../../src/oci/media-types.ts';
import type { Descriptor, ImageConfig, Platform } from '../../src/oci/types.ts';

export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  content?: string | Uint8Array;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
}

export async function makeTar(entries: TarEntry[]): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => chunks.push(c as Buffer));
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = e.content === undefined ? undefined : Buffer.from(e.content);
    await new Promise<void>((resolve, reject) => {
      pack.entry(
        {
          name: e.name,
          type,
          mode: e.mode ?? (type === 'directory' ? 0o755 : 0o644),
          uid: e.uid ?? 0,
          gid: e.gid ?? 0,
          mtime: e.mtime ?? new Date(0),
          ...(e.linkname === undefined ? {} : { linkname: e.linkname }),
          ...(body === undefined ? {} : { size: body.length }),
        },
        body ?? '',
        (err) => (err ? reject(err) : resolve()),
      );
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface BuiltImage {
  manifest: Uint8Array;
  descriptor: Descriptor;
  config: Uint8Array;
  configDescriptor: Descriptor;
  layers: Descriptor[];
  diffIds: Digest[];
  /** every blob by digest, manifests included */
  blobs: Map<Digest, Uint8Array>;
}

export interface ImageOptions {
  layers?: TarEntry[][];
  /** random layers when `layers` is not given */
  layerCount?: number;
  compression?: 'gzip' | 'zstd' | 'none';
  flavour?: 'oci' | 'docker';
  platform?: Platform;
  containerConfig?: ImageConfig['config'];
  annotations?: Record<string, string>;
}

function desc(mediaType: string, bytes: Uint8Array, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: digestOf(bytes), size: bytes.byteLength, ...extra };
}

export async function randomImage(o: ImageOptions = {}): Promise<BuiltImage> {
  const flavour = o.flavour ?? 'oci';
  const compression = o.compression ?? 'gzip';
  const layerEntries =
    o.layers ??
    Array.from({ length: o.layerCount ?? 2 }, (_, i) => [
      { name: `layer${i}/`, type: 'directory' as const },
      { name: `layer${i}/random.bin`, content: randomBytes(1024 + i) },
    ]);
  const blobs = new Map<Digest, Uint8Array>();
  const layers: Descriptor[] = [];
  const diffIds: Digest[] = [];
  for (const entries of layerEntries) {
    const raw = await makeTar(entries);
    diffIds.push(digestOf(raw));
    const stored =
      compression === 'gzip' ? gzipSync(raw) : compression === 'zstd' ? zstdCompressSync(raw) : raw;
    const d = desc(layerMediaType(flavour, compression), stored);
    blobs.set(d.digest, stored);
    layers.push(d);
  }
  const platform = o.platform ?? { os: 'linux', architecture: 'amd64' };
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created: '2024-01-01T00:00:00Z',
    config: o.containerConfig ?? { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
  };
  const configBytes = new TextEncoder().encode(JSON.stringify(config));
  const configDescriptor = desc(
    flavour === 'oci' ? MediaType.OciConfig : MediaType.DockerConfig,
    configBytes,
  );
  blobs.set(configDescriptor.digest, configBytes);
  const mediaType = flavour === 'oci' ? MediaType.OciManifest : MediaType.DockerManifest;
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: configDescriptor,
      layers,
      ...(o.annotations ? { annotations: o.annotations } : {}),
    }),
  );
  const descriptor = desc(mediaType, manifest, { platform });
  blobs.set(descriptor.digest, manifest);
  return { manifest, descriptor, config: configBytes, configDescriptor, layers, diffIds, blobs };
}

export interface BuiltIndex {
  index: Uint8Array;
  descriptor: Descriptor;
  images: BuiltImage[];
  blobs: Map<Digest, Uint8Array>;
}

export async function randomIndex(
  platforms: Platform[] = [
    { os: 'linux', architecture: 'amd64' },
    { os: 'linux', architecture: 'arm64', variant: 'v8' },
  ],
  o: Omit<ImageOptions, 'platform'> = {},
): Promise<BuiltIndex> {
  const images = await Promise.all(platforms.map((platform) => randomImage({ ...o, platform })));
  const flavour = o.flavour ?? 'oci';
  const mediaType = flavour === 'oci' ? MediaType.OciIndex : MediaType.DockerManifestList;
  const index = new TextEncoder().encode(
    JSON.stringify({ schemaVersion: 2, mediaType, manifests: images.map((i) => i.descriptor) }),
  );
  const blobs = new Map<Digest, Uint8Array>();
  for (const i of images) for (const [k, v] of i.blobs) blobs.set(k, v);
  const descriptor = desc(mediaType, index);
  blobs.set(descriptor.digest, index);
  return { index, descriptor, images, blobs };
}

/** Write an OCI image layout directly (not through vouch's writer). */
export async function writeLayout(
  dir: string,
  roots: { descriptor: Descriptor; tag?: string }[],
  blobs: Map<Digest, Uint8Array>,
): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  for (const [d, bytes] of blobs) await writeFile(join(dir, 'blobs', 'sha256', digestHex(d)), bytes);
  const manifests = roots.map(({ descriptor, tag }) => {
    const { platform: _platform, ...rest } = descriptor;
    return tag ? { ...rest, annotations: { 'org.opencontainers.image.ref.name': tag } } : rest;
  });
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }),
  );
}
