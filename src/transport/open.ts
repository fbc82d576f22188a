import type { RegistryOptions } from '../registry/client.ts';
import type { ImageDestination, ImageSource } from '../source/types.ts';
import { type ImageName, parseImageName } from './name.ts';

export interface OpenOptions {
  /** Settings for registry transports (auth, TLS, retries). */
  registry?: RegistryOptions;
}

/** Open any image name (`oci:`, `oci-archive:`, `docker-archive:`, `docker://`, bare ref) for reading. */
export async function openSource(name: string | ImageName, o: OpenOptions = {}): Promise<ImageSource> {
  const n = typeof name === 'string' ? parseImageName(name) : name;
  switch (n.transport) {
    case 'oci':
      return (await import('../source/layout/layout.ts')).openLayoutSource(n.path, tagOpt(n.tag));
    case 'oci-archive':
      return (await import('../source/layout/archive.ts')).openOciArchiveSource(n.path, tagOpt(n.tag));
    case 'docker-archive':
      return (await import('../source/archive/docker-archive.ts')).openDockerArchiveSource(n.path, {
        ...(n.ref ? { ref: n.ref } : {}),
        ...(n.index === undefined ? {} : { index: n.index }),
      });
    case 'docker':
      return (await import('../registry/source.ts')).openRegistrySource(n.ref, o.registry ?? {});
  }
}

/** Open any image name for writing. */
export async function openDestination(
  name: string | ImageName,
  o: OpenOptions = {},
): Promise<ImageDestination> {
  const n = typeof name === 'string' ? parseImageName(name) : name;
  switch (n.transport) {
    case 'oci':
      return (await import('../source/layout/layout.ts')).openLayoutDestination(n.path, tagOpt(n.tag));
    case 'oci-archive':
      return (await import('../source/layout/archive.ts')).openOciArchiveDestination(n.path, tagOpt(n.tag));
    case 'docker-archive':
      return (await import('../source/archive/docker-archive.ts')).openDockerArchiveDestination(
        n.path,
        n.ref ? { ref: n.ref } : {},
      );
    case 'docker':
      return (await import('../registry/source.ts')).openRegistryDestination(n.ref, o.registry ?? {});
  }
}

function tagOpt(tag: string | undefined): { tag?: string } {
  return tag === undefined ? {} : { tag };
}
