/** The `RepoTags` strings of a docker archive and how references match them. */
import { VouchError } from '../../errors.ts';
import {
  familiarReference,
  parseReference,
  type Reference,
  referenceTagOrDefault,
} from '../../oci/reference.ts';

/** The tag a reference gives an archive image; a digest alone cannot name one. */
export function archiveTagOf(ref: Reference): string {
  if (ref.tag === undefined && ref.digest !== undefined) {
    throw new VouchError(
      'USAGE',
      `docker-archive images are named by tag, not digest ("${familiarReference(ref)}")`,
      { hint: 'give a tag, e.g. name:latest' },
    );
  }
  return referenceTagOrDefault(ref);
}

/**
 * What `docker save` writes in RepoTags: `debian:12` for Docker Hub, `127.0.0.1:5000/foo:bar`
 * elsewhere. (skopeo writes `docker.io/library/debian:12`; readers normalise both the same way.)
 */
export function repoTagOf(ref: Reference): string {
  return familiarReference({ registry: ref.registry, repository: ref.repository, tag: archiveTagOf(ref) });
}

/** The repository key of the legacy `repositories` file, in the same familiar form. */
export function repoNameOf(ref: Reference): string {
  return familiarReference({ registry: ref.registry, repository: ref.repository });
}

/** Parse one RepoTags entry; `at` names it in the error (e.g. `manifest.json[0].RepoTags[1]`). */
export function parseRepoTag(s: string, file: string, at: string): Reference {
  try {
    return parseReference(s);
  } catch (e) {
    throw new VouchError('ARCHIVE_INVALID', `${file}: ${at} "${s}" is not a valid image name`, { cause: e });
  }
}

/** Does a RepoTags entry name what `wanted` asks for? Registry, repository and tag (default `latest`). */
export function sameRepoTag(entry: Reference, wanted: Reference): boolean {
  return (
    entry.registry === wanted.registry &&
    entry.repository === wanted.repository &&
    referenceTagOrDefault(entry) === archiveTagOf(wanted)
  );
}
