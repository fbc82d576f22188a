/**
 * Where each artifact of a release lives in the store (issue #6, stage 7):
 *
 *   sboms/{arch}/sbom-{image}-cyclonedx.json
 *   sboms/{arch}/sbom-{image}-spdx.json
 *   attestations/{arch}/attestation-{image}.json
 *   scans/{arch}/scan-{image}.json
 *
 * each with `<key>.sig` beside it (base64 of the raw signature, as `cosign sign-blob` writes).
 *
 * `{image}` is `<last repository component>-<version>`: `127.0.0.1:5000/team/app` at version
 * `1.2.3` gives `app-1.2.3`. The registry and the namespace are left out so the names stay short
 * and stable when an image moves between registries; one store (or bucket prefix) therefore
 * holds one project's images, and two repositories ending in the same name would share names.
 */
import { VouchError } from '../errors.ts';
import { parseReference } from '../oci/reference.ts';
import { ARCHITECTURES } from '../pipeline/schema.ts';
import { validateKey } from './key.ts';

export type Architecture = (typeof ARCHITECTURES)[number];

export const ARTIFACT_KINDS = ['sbom-cyclonedx', 'sbom-spdx', 'attestation', 'scan'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** An image release: the repository name (no tag, no digest) and the version it is built as. */
export interface ImageId {
  name: string;
  version: string;
}

/** What each kind is, as an HTTP Content-Type (S3 stores it; a directory store does not). */
export const CONTENT_TYPES: { readonly [K in ArtifactKind]: string } = {
  'sbom-cyclonedx': 'application/vnd.cyclonedx+json',
  'sbom-spdx': 'application/spdx+json',
  attestation: 'application/json',
  scan: 'application/json',
};

/** The `.sig` files: base64 text. */
export const SIGNATURE_CONTENT_TYPE = 'text/plain';
export const SIGNATURE_SUFFIX = '.sig';

/** The version grammar of vouch.yaml (a tag), without `..` so it can be part of a file name. */
const VERSION = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function isArchitecture(s: string): s is Architecture {
  return (ARCHITECTURES as readonly string[]).includes(s);
}

export function isArtifactKind(s: string): s is ArtifactKind {
  return (ARTIFACT_KINDS as readonly string[]).includes(s);
}

/** `app-1.2.3` for `127.0.0.1:5000/team/app` version `1.2.3`. Throws naming the bad field. */
export function imageSlug(image: ImageId): string {
  const { name, version } = image;
  if (name.includes('\0') || version.includes('\0')) {
    throw new VouchError('UNSAFE_PATH', 'image name or version contains a NUL character');
  }
  const ref = parseReference(name);
  if (ref.digest !== undefined || ref.tag !== undefined) {
    throw new VouchError(
      'REFERENCE_INVALID',
      `image name "${name}" must be a repository without tag or digest (the version is separate)`,
    );
  }
  if (!VERSION.test(version) || version.includes('..')) {
    throw new VouchError(
      'UNSAFE_PATH',
      `image version ${JSON.stringify(version)} is not a tag-like version ` +
        '([A-Za-z0-9_][A-Za-z0-9_.-]*, at most 128 characters, no "..")',
    );
  }
  const last = ref.repository.split('/').at(-1) ?? '';
  return `${last}-${version}`;
}

function checkArch(arch: string): Architecture {
  if (!isArchitecture(arch)) {
    throw new VouchError(
      'PLATFORM_INVALID',
      `architecture "${arch}" is not one of ${ARCHITECTURES.join(', ')}`,
    );
  }
  return arch;
}

/** The key of one artifact of `image` built for `arch`. */
export function artifactKey(kind: ArtifactKind, image: ImageId, arch: string): string {
  const a = checkArch(arch);
  const slug = imageSlug(image);
  const key = ((): string => {
    switch (kind) {
      case 'sbom-cyclonedx':
        return `sboms/${a}/sbom-${slug}-cyclonedx.json`;
      case 'sbom-spdx':
        return `sboms/${a}/sbom-${slug}-spdx.json`;
      case 'attestation':
        return `attestations/${a}/attestation-${slug}.json`;
      case 'scan':
        return `scans/${a}/scan-${slug}.json`;
      default:
        throw new VouchError('USAGE', `unknown artifact kind "${String(kind satisfies never)}"`);
    }
  })();
  return validateKey(key);
}

/** The key of the detached signature of `key`. */
export function signatureKey(key: string): string {
  return validateKey(`${key}${SIGNATURE_SUFFIX}`);
}

export interface ReleaseEntry {
  kind: ArtifactKind;
  key: string;
  signatureKey: string;
}

/** Every artifact key of one release and architecture, in ARTIFACT_KINDS order. */
export function releaseKeys(image: ImageId, arch: string): ReleaseEntry[] {
  return ARTIFACT_KINDS.map((kind) => {
    const key = artifactKey(kind, image, arch);
    return { kind, key, signatureKey: signatureKey(key) };
  });
}
