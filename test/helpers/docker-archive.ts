/**
 * Test-only builders: docker archives assembled entry by entry with tar-stream (through
 * test/helpers), independently of this module's writer, in the layouts docker itself writes.
 * Tests tamper with the entry list before packing it.
 */
import { createHash } from 'node:crypto';
import { type Digest, digestHex } from '../../src/digest/digest.ts';
import { verified, verifyBytes } from '../../src/digest/verify.ts';
import { VouchError } from '../../src/errors.ts';
import { MediaType } from '../../src/oci/media-types.ts';
import type { Descriptor } from '../../src/oci/types.ts';
import type { ImageSource } from '../../src/source/types.ts';
import { type BuiltImage, makeTar, type TarEntry } from './random-image.ts';

export interface FixtureImage {
  image: BuiltImage;
  /** RepoTags as written; null is what docker writes for an untagged image. */
  tags: string[] | null;
}

function hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function blob(image: BuiltImage, d: Digest): Uint8Array {
  const b = image.blobs.get(d);
  if (!b) throw new Error(`fixture: no blob ${d}`);
  return b;
}

/**
 * `docker save` before Docker 25: `<config-hex>.json`, one `<layer-id>/` directory per layer
 * (`VERSION`, `json`, `layer.tar`), manifest.json, repositories. A layer shared with an earlier
 * image becomes a symlink to the first copy, as docker does.
 */
export function legacyArchiveEntries(images: FixtureImage[]): TarEntry[] {
  const entries: TarEntry[] = [];
  const manifest: unknown[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const firstPath = new Map<Digest, string>();
  for (const [n, { image, tags }] of images.entries()) {
    const configName = `${digestHex(image.configDescriptor.digest)}.json`;
    if (!entries.some((e) => e.name === configName))
      entries.push({ name: configName, content: image.config });
    const layers: string[] = [];
    let parent = '';
    for (const [i, l] of image.layers.entries()) {
      const id = hex(`${n}/${i}/${l.digest}`);
      const path = `${id}/layer.tar`;
      entries.push({ name: `${id}/`, type: 'directory' });
      entries.push({ name: `${id}/VERSION`, content: '1.0' });
      entries.push({ name: `${id}/json`, content: JSON.stringify({ id, ...(parent ? { parent } : {}) }) });
      const first = firstPath.get(l.digest);
      if (first) entries.push({ name: path, type: 'symlink', linkname: `../${first}` });
      else {
        entries.push({ name: path, content: blob(image, l.digest) });
        firstPath.set(l.digest, path);
      }
      layers.push(path);
      parent = id;
    }
    manifest.push({ Config: configName, RepoTags: tags, Layers: layers });
    for (const t of tags ?? []) {
      const colon = t.lastIndexOf(':');
      repositories[t.slice(0, colon)] = { ...repositories[t.slice(0, colon)], [t.slice(colon + 1)]: parent };
    }
  }
  entries.push({ name: 'manifest.json', content: JSON.stringify(manifest) });
  entries.push({ name: 'repositories', content: JSON.stringify(repositories) });
  return entries;
}

/**
 * `docker save` from Docker 25 on: an OCI image layout (blobs/sha256, index.json, oci-layout)
 * plus manifest.json and repositories pointing into blobs/sha256.
 */
export function ociArchiveEntries(images: FixtureImage[]): TarEntry[] {
  const blobs = new Map<Digest, Uint8Array>();
  const manifest: unknown[] = [];
  const index: Descriptor[] = [];
  for (const { image, tags } of images) {
    for (const [d, b] of image.blobs) blobs.set(d, b);
    manifest.push({
      Config: `blobs/sha256/${digestHex(image.configDescriptor.digest)}`,
      RepoTags: tags,
      Layers: image.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`),
    });
    const { platform: _p, ...d } = image.descriptor;
    for (const t of tags ?? [undefined]) {
      index.push(
        t === undefined
          ? d
          : {
              ...d,
              annotations: {
                'io.containerd.image.name': `docker.io/library/${t}`,
                'org.opencontainers.image.ref.name': t.slice(t.lastIndexOf(':') + 1),
              },
            },
      );
    }
  }
  const entries: TarEntry[] = [
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
  ];
  for (const [d, b] of blobs) entries.push({ name: `blobs/sha256/${digestHex(d)}`, content: b });
  entries.push({
    name: 'index.json',
    content: JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: index }),
  });
  entries.push({ name: 'manifest.json', content: JSON.stringify(manifest) });
  entries.push({ name: 'oci-layout', content: '{"imageLayoutVersion":"1.0.0"}' });
  entries.push({ name: 'repositories', content: '{}' });
  return entries;
}

export function packEntries(entries: TarEntry[]): Promise<Uint8Array> {
  return makeTar(entries);
}

/** Replace one entry's content (tampering) by name. */
export function withContent(entries: TarEntry[], name: string, content: string | Uint8Array): TarEntry[] {
  if (!entries.some((e) => e.name === name)) throw new Error(`fixture: no entry ${name}`);
  return entries.map((e) => (e.name === name ? { ...e, content } : e));
}

/** A minimal in-memory ImageSource over a built image's blobs, verifying like a real one. */
export function memorySource(blobs: Map<Digest, Uint8Array>, root: Descriptor, name = 'memory'): ImageSource {
  return {
    name,
    resolve: async () => root,
    getManifest: async (d) => {
      const b = blobs.get(d.digest);
      if (!b) throw new VouchError('MANIFEST_UNKNOWN', `${name}: no manifest ${d.digest}`);
      return verifyBytes(b, d);
    },
    openBlob: async (d) => {
      const b = blobs.get(d.digest);
      if (!b) throw new VouchError('BLOB_UNKNOWN', `${name}: no blob ${d.digest}`);
      return verified(
        (async function* () {
          yield b;
        })(),
        d,
      );
    },
    close: async () => undefined,
  };
}
