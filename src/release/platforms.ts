/**
 * The images a release is made of: one image, or an index and the platform images it lists
 * (BuildKit's attestation entries, platform unknown/unknown, are not images and are left out).
 * Each platform image's config must say the platform its index entry declares: an index that
 * calls an arm64 image amd64 would send consumers the wrong binary.
 */
import type { Digest } from '../digest/digest.ts';
import { VouchError } from '../errors.ts';
import { MAX_JSON_BYTES, parseConfig, parseManifest, platformOf } from '../oci/manifest.ts';
import { formatPlatform, platformMatches } from '../oci/platform.ts';
import type { Descriptor, Platform } from '../oci/types.ts';
import type { AttachmentStore, StoreOptions } from '../sign/image/store.ts';

export type ReleaseShape =
  | { kind: 'image'; image: Digest }
  | { kind: 'index'; index: Digest; entries: Descriptor[] };

function isAttestationEntry(d: Descriptor): boolean {
  return (
    (d.platform?.os === 'unknown' && d.platform.architecture === 'unknown') ||
    d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest'
  );
}

/** Whether `root` is an image or an index, and the index's platform entries. */
export async function readReleaseShape(
  store: AttachmentStore,
  root: Descriptor,
  o: StoreOptions = {},
): Promise<ReleaseShape> {
  const m = await store.getManifest(root.digest, o);
  const parsed = parseManifest(m.bytes, m.descriptor.mediaType, `${store.name}@${root.digest}`);
  if (parsed.kind === 'manifest') return { kind: 'image', image: root.digest };
  return {
    kind: 'index',
    index: root.digest,
    entries: parsed.index.manifests.filter((d) => !isAttestationEntry(d)),
  };
}

/**
 * The platform of image `digest`, read from its config; with `declared` (the index entry's
 * platform) the two must agree, and the declared one (which may name a variant) is returned.
 */
export async function imagePlatform(
  store: AttachmentStore,
  digest: Digest,
  declared: Platform | undefined,
  o: StoreOptions = {},
): Promise<Platform> {
  const what = `${store.name}@${digest}`;
  const m = await store.getManifest(digest, o);
  const parsed = parseManifest(m.bytes, m.descriptor.mediaType, what);
  if (parsed.kind !== 'manifest') {
    throw new VouchError('MANIFEST_INVALID', `${what} is an index inside the index; a release lists images`);
  }
  const config = parseConfig(
    await store.readBlob(parsed.manifest.config, MAX_JSON_BYTES, o),
    `config of ${what}`,
  );
  const found = platformOf(config);
  if (declared && !platformMatches(declared, found)) {
    throw new VouchError(
      'MANIFEST_INVALID',
      `the index declares ${digest} as ${formatPlatform(declared)}, but its config says ${formatPlatform(found)}`,
    );
  }
  return declared ?? found;
}

/** `linux/arm64/v8` → `linux-arm64-v8`: a platform as a file name part. */
export function platformSlug(p: string): string {
  return p.replace(/[^A-Za-z0-9._]+/g, '-').replace(/^-+|-+$/g, '');
}
