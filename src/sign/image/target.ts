/**
 * From an image name to what signing and verification work on: the store holding the image and
 * its attachments, the image resolved to a digest once (a tag can move; the digest is what gets
 * signed or checked), and the repository name that payloads and statements use.
 */
import { resolve as resolvePath } from 'node:path';
import { isDigest, parseDigest } from '../../digest/digest.ts';
import { VouchError } from '../../errors.ts';
import { DOCKER_HUB, parseReference, type Reference, referenceName } from '../../oci/reference.ts';
import { Annotation, type Descriptor } from '../../oci/types.ts';
import type { RegistryOptions } from '../../registry/options.ts';
import { type ImageName, parseImageName } from '../../transport/name.ts';
import { LayoutStore } from './layout-store.ts';
import { RegistryStore } from './registry-store.ts';
import type { AttachmentStore, StoreOptions } from './store.ts';

export interface ImageTarget {
  store: AttachmentStore;
  /** The image's manifest or index, as resolved. */
  image: Descriptor;
  /** `docker-reference` of payloads and the statement subject's name (a repository, no tag). */
  repository: string;
  /** The image by digest, for messages: `registry/repo@sha256:…` or `oci:DIR@sha256:…`. */
  display: string;
  /** The tag that was resolved when the name gave no digest (`latest` when it gave neither). */
  tag: string | undefined;
}

/**
 * cosign's docker-reference: the repository as go-containerregistry names it (Docker Hub as
 * `index.docker.io`, `library/` made explicit). cosign ignores it on verify; skopeo may compare it.
 */
export function dockerReference(ref: Reference): string {
  const registry = ref.registry === DOCKER_HUB ? 'index.docker.io' : ref.registry;
  return `${registry}/${ref.repository}`;
}

/** The repository a layout entry names through io.containerd.image.name, if it names one. */
function layoutRepository(entry: Descriptor, dir: string): string {
  const named = entry.annotations?.[Annotation.ContainerdImageName];
  if (named) {
    try {
      return dockerReference(parseReference(named));
    } catch {
      // not a docker reference: fall back to the directory
    }
  }
  return resolvePath(dir);
}

export interface TargetOptions extends StoreOptions {
  registry?: RegistryOptions;
}

export async function openImageTarget(name: string | ImageName, o: TargetOptions = {}): Promise<ImageTarget> {
  const n = typeof name === 'string' ? parseImageName(name) : name;
  switch (n.transport) {
    case 'docker': {
      const store = new RegistryStore(n.ref, { options: o.registry ?? {} });
      try {
        const tag = n.ref.digest ? undefined : (n.ref.tag ?? 'latest');
        const { descriptor } = await store.resolve({ tag, digest: n.ref.digest }, o);
        const repository = dockerReference(n.ref);
        return {
          store,
          image: descriptor,
          repository,
          display: `${referenceName(n.ref)}@${descriptor.digest}`,
          tag,
        };
      } catch (e) {
        await store.close();
        throw e;
      }
    }
    case 'oci': {
      const store = new LayoutStore(n.path);
      // `oci:DIR:sha256:<hex>` names an image by digest (a ref.name may not look like one anyway).
      const digest = n.tag !== undefined && isDigest(n.tag) ? parseDigest(n.tag) : undefined;
      const tag = digest ? undefined : n.tag;
      const { descriptor } = await store.resolve({ tag, digest });
      return {
        store,
        image: descriptor,
        repository: layoutRepository(descriptor, n.path),
        display: `oci:${n.path}@${descriptor.digest}`,
        tag,
      };
    }
    case 'oci-archive':
    case 'docker-archive':
      throw new VouchError(
        'USAGE',
        `${n.transport}: images cannot carry signatures; sign them in a registry or an OCI layout directory (oci:DIR)`,
        { hint: `copy it first: vouch copy ${n.transport}:${n.path} oci:DIR:TAG` },
      );
  }
}
