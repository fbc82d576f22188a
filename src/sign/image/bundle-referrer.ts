/**
 * Sigstore bundles attached as OCI referrers (cosign's new bundle format, default from v3, and
 * GitHub's actions/attest): a manifest with artifactType = the bundle media type, the empty
 * config, one layer holding the bundle JSON, `subject` = the image, and annotations saying what
 * the bundle holds. The referrers list (or the fallback tag index) is a hint only: every manifest
 * read back is checked to name the image as its subject.
 */
import { type Digest, digestAlgorithm, digestHex, digestOf } from '../../digest/digest.ts';
import { VouchError } from '../../errors.ts';
import { parseManifest } from '../../oci/manifest.ts';
import { MediaType } from '../../oci/media-types.ts';
import { Annotation, type Descriptor } from '../../oci/types.ts';
import { BUNDLE_V03_MEDIA_TYPE, type SerializedBundle } from '../../sigstore/types.ts';
import { type AttachmentStore, MAX_ATTACHMENT_BYTES, type StoreOptions } from './store.ts';

export const BUNDLE_ARTIFACT_TYPE = BUNDLE_V03_MEDIA_TYPE;

export const BundleAnnotation = {
  Content: 'dev.sigstore.bundle.content',
  PredicateType: 'dev.sigstore.bundle.predicateType',
  Title: 'org.opencontainers.image.title',
} as const;

export const BUNDLE_CONTENTS = ['message-signature', 'dsse-envelope'] as const;
export type BundleContent = (typeof BUNDLE_CONTENTS)[number];

const EMPTY_JSON = Buffer.from('{}');
export const EMPTY_DESCRIPTOR: Descriptor = {
  mediaType: MediaType.OciEmpty,
  digest: digestOf(EMPTY_JSON),
  size: EMPTY_JSON.byteLength,
};

/** Older and newer spellings of the bundle media type all mark a Sigstore bundle referrer. */
export function isBundleArtifactType(t: string | undefined): boolean {
  return t?.startsWith('application/vnd.dev.sigstore.bundle') ?? false;
}

export function bundleContent(bundle: SerializedBundle): BundleContent {
  return bundle.dsseEnvelope ? 'dsse-envelope' : 'message-signature';
}

/** The referrer manifest for `bundleBytes` about `subject`. */
export function bundleReferrerManifest(
  bundleBytes: Uint8Array,
  subject: Descriptor,
  o: { content: BundleContent; predicateType?: string | undefined; created: Date },
): { manifest: Uint8Array; layer: Descriptor } {
  const digest = digestOf(bundleBytes);
  const layer: Descriptor = {
    mediaType: BUNDLE_ARTIFACT_TYPE,
    digest,
    size: bundleBytes.byteLength,
    annotations: {
      [BundleAnnotation.Title]: `${digestAlgorithm(digest)}-${digestHex(digest)}.sigstore.json`,
    },
  };
  const annotations: Record<string, string> = { [BundleAnnotation.Content]: o.content };
  if (o.predicateType) annotations[BundleAnnotation.PredicateType] = o.predicateType;
  annotations[Annotation.Created] = o.created.toISOString();
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: BUNDLE_ARTIFACT_TYPE,
    config: EMPTY_DESCRIPTOR,
    layers: [layer],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  };
  return { manifest: Buffer.from(JSON.stringify(manifest), 'utf8'), layer };
}

/** Store `bundle` as a referrer of `subject`. Returns the referrer manifest's descriptor. */
export async function attachBundle(
  store: AttachmentStore,
  subject: Descriptor,
  bundle: SerializedBundle,
  o: StoreOptions & { predicateType?: string | undefined; now?: Date } = {},
): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(bundle), 'utf8');
  const { manifest, layer } = bundleReferrerManifest(bytes, subject, {
    content: bundleContent(bundle),
    predicateType: o.predicateType,
    created: o.now ?? new Date(),
  });
  await store.putBlob(EMPTY_DESCRIPTOR, EMPTY_JSON, o);
  await store.putBlob(layer, bytes, o);
  return store.pushReferrer(manifest, MediaType.OciManifest, o);
}

/** Referrers of `image` that are Sigstore bundles. */
export async function listBundleReferrers(
  store: AttachmentStore,
  image: Digest,
  o: StoreOptions = {},
): Promise<Descriptor[]> {
  const all = await store.listReferrers(image, undefined, o);
  return all.filter((d) => isBundleArtifactType(d.artifactType));
}

export interface BundleReferrer {
  descriptor: Descriptor;
  annotations: Record<string, string>;
  /** The bundle JSON, parsed but not yet verified. */
  bundle: unknown;
}

/** Read a bundle referrer and check that it is about `image`. */
export async function readBundleReferrer(
  store: AttachmentStore,
  desc: Descriptor,
  image: Digest,
  o: StoreOptions = {},
): Promise<BundleReferrer> {
  const what = `referrer ${desc.digest}`;
  const m = await store.getManifest(desc.digest, o);
  const parsed = parseManifest(m.bytes, m.descriptor.mediaType, what);
  if (parsed.kind !== 'manifest')
    throw new VouchError('MANIFEST_INVALID', `${what} is an index, not a bundle manifest`);
  const { manifest } = parsed;
  if (manifest.subject?.digest !== image) {
    throw new VouchError(
      'SUBJECT_MISMATCH',
      `${what} is attached to ${manifest.subject?.digest ?? '(no subject)'}, not ${image}`,
    );
  }
  const layer = manifest.layers.find((l) => isBundleArtifactType(l.mediaType)) ?? manifest.layers[0];
  if (!layer) throw new VouchError('BUNDLE_INVALID', `${what} has no layer`);
  const bytes = await store.readBlob(layer, MAX_ATTACHMENT_BYTES, o);
  let bundle: unknown;
  try {
    bundle = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new VouchError('BUNDLE_INVALID', `${what}: the bundle is not JSON`, { cause: e });
  }
  return { descriptor: m.descriptor, annotations: manifest.annotations ?? {}, bundle };
}
