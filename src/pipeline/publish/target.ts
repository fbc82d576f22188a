/**
 * Where a release is published, as the four moves the sign-before-push order is made of: store a
 * blob, store a manifest by digest, store signatures and attestations (an AttachmentStore), point
 * a tag. Two targets: a registry repository (distribution API), and an OCI layout standing in for
 * one (offline demos), where "by digest" is the blob file and "tag" an index.json entry.
 */
import type { Digest } from '../../digest/digest.ts';
import { parseReference, type Reference, referenceName } from '../../oci/reference.ts';
import { Annotation, type Descriptor } from '../../oci/types.ts';
import { RegistryClient } from '../../registry/client.ts';
import type { RegistryOptions } from '../../registry/options.ts';
import { LayoutStore } from '../../sign/image/layout-store.ts';
import { RegistryStore } from '../../sign/image/registry-store.ts';
import type { AttachmentStore } from '../../sign/image/store.ts';
import { openLayoutDestination } from '../../source/layout/layout.ts';
import type { ImageDestination } from '../../source/types.ts';

export type BlobOutcome = 'uploaded' | 'exists' | 'mounted';

export interface PublishTarget {
  /** For the log: `docker://host/repo` or `oci:DIR`. */
  readonly name: string;
  readonly attachments: AttachmentStore;
  /** The pinned reference of a published tag: `name:tag@sha256:…`. */
  pinned(tag: string, digest: Digest): string;
  putBlob(desc: Descriptor, open: () => Promise<AsyncIterable<Uint8Array>>): Promise<BlobOutcome>;
  /** Store manifest bytes under their digest only: no tag names them yet. */
  putManifest(desc: Descriptor, bytes: Uint8Array): Promise<void>;
  /** Point `tag` at the manifest (already stored by digest). */
  putTag(desc: Descriptor, bytes: Uint8Array, tag: string): Promise<void>;
  close(): Promise<void>;
}

export function registryTarget(name: string, options: RegistryOptions, signal?: AbortSignal): PublishTarget {
  const parsed = parseReference(name);
  const repo: Reference = { registry: parsed.registry, repository: parsed.repository };
  const client = new RegistryClient(options);
  const attachments = new RegistryStore(repo, { client });
  const o = signal ? { signal } : {};
  return {
    name: `docker://${referenceName(repo)}`,
    attachments,
    pinned: (tag, digest) => `${name}:${tag}@${digest}`,
    putBlob: (desc, open) => client.putBlob(repo, desc, open, { ...o, sourceVerified: true }),
    async putManifest(desc, bytes) {
      await client.putManifest({ ...repo, digest: desc.digest }, bytes, desc.mediaType, o);
    },
    async putTag(desc, bytes, tag) {
      await client.putManifest({ ...repo, tag }, bytes, desc.mediaType, o);
    },
    close: () => client.close(),
  };
}

/** An OCI layout as the registry stand-in; tags carry the image name (io.containerd.image.name). */
export async function layoutTarget(dir: string, imageName: string): Promise<PublishTarget> {
  const dst: ImageDestination = await openLayoutDestination(dir);
  return {
    name: `oci:${dir}`,
    attachments: new LayoutStore(dir),
    pinned: (tag, digest) => `${imageName}:${tag}@${digest} (oci:${dir}:${tag})`,
    async putBlob(desc, open) {
      if (await dst.hasBlob(desc)) return 'exists';
      await dst.putBlob(desc, open, { sourceVerified: true });
      return 'uploaded';
    },
    putManifest: (desc, bytes) => dst.putManifest(desc, bytes),
    async putTag(desc, _bytes, tag) {
      const tagged = await openLayoutDestination(dir, { tag });
      try {
        const { mediaType, digest, size, platform } = desc;
        await tagged.commit({
          mediaType,
          digest,
          size,
          ...(platform ? { platform } : {}),
          annotations: { [Annotation.ContainerdImageName]: `${imageName}:${tag}` },
        });
      } finally {
        await tagged.close();
      }
    },
    close: () => dst.close(),
  };
}
