/**
 * cosign's legacy storage: one OCI manifest per image and kind at tag `sha256-<hex>.sig` (or
 * `.att`, `.sbom`), one layer per signature or attestation, new ones appended. The config is what
 * go-containerregistry's mutate.Append makes of an empty image: one `diff_ids` entry and one
 * zero-time history entry per layer (the layers are stored uncompressed, so diff ID = digest).
 */
import { type Digest, digestAlgorithm, digestHex, digestOf } from '../../digest/digest.ts';
import { VouchError } from '../../errors.ts';
import { parseManifest } from '../../oci/manifest.ts';
import { MediaType } from '../../oci/media-types.ts';
import type { Descriptor } from '../../oci/types.ts';
import {
  type AttachmentStore,
  MAX_ATTACHMENT_BYTES,
  type StoredManifest,
  type StoreOptions,
} from './store.ts';

export const ATTACHMENT_KINDS = ['sig', 'att', 'sbom'] as const;
export type AttachmentKind = (typeof ATTACHMENT_KINDS)[number];

/** Layer annotations cosign writes (pkg/oci/static). */
export const CosignAnnotation = {
  Signature: 'dev.cosignproject.cosign/signature',
  Certificate: 'dev.sigstore.cosign/certificate',
  Chain: 'dev.sigstore.cosign/chain',
  Bundle: 'dev.sigstore.cosign/bundle',
  Timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
  PredicateType: 'predicateType',
} as const;

/** `sha256-<hex>.sig` for the image `sha256:<hex>`. */
export function cosignTag(image: Digest, kind: AttachmentKind): string {
  return `${digestAlgorithm(image)}-${digestHex(image)}.${kind}`;
}

export interface AttachmentManifest {
  tag: string;
  manifest: StoredManifest;
  layers: Descriptor[];
}

/** The manifest at the image's `kind` tag and its layers, or undefined when there is none. */
export async function readAttachments(
  store: AttachmentStore,
  image: Digest,
  kind: AttachmentKind,
  o: StoreOptions = {},
): Promise<AttachmentManifest | undefined> {
  const tag = cosignTag(image, kind);
  const manifest = await store.getTagged(tag, o);
  if (manifest === undefined) return undefined;
  const parsed = parseManifest(manifest.bytes, manifest.descriptor.mediaType, `${store.name}:${tag}`);
  if (parsed.kind !== 'manifest') {
    throw new VouchError(
      'MANIFEST_INVALID',
      `${store.name}:${tag} is an image index, not a cosign ${kind} manifest`,
    );
  }
  return { tag, manifest, layers: parsed.manifest.layers };
}

export interface NewAttachment {
  mediaType: string;
  payload: Uint8Array;
  annotations: Record<string, string>;
}

export interface AppendOptions extends StoreOptions {
  /**
   * Whether an existing layer already holds this signature (cosign's dupe detector). The default
   * compares layer digest and annotations; signers pass a check that knows their key.
   */
  isDuplicate?: (existing: Descriptor, read: () => Promise<Uint8Array>) => Promise<boolean>;
  /** The config's `created` (default now). */
  now?: Date;
}

export interface Appended {
  tag: string;
  manifest: Descriptor;
  /** The layer holding this signature (the existing one when it was a duplicate). */
  layer: Descriptor;
  /** False when an identical signature was already there and nothing was written. */
  added: boolean;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Go's RFC3339Nano: fraction without trailing zeros, none at all for whole seconds. */
export function goTime(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, f: string) => (f ? `.${f}Z` : 'Z'));
}

/** The config blob for these layers, field order as go-containerregistry writes v1.ConfigFile. */
export function signaturesConfig(layers: readonly Descriptor[], created: string): Uint8Array {
  const config = {
    architecture: '',
    created,
    history: layers.map(() => ({ created: ZERO_TIME })),
    os: '',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    config: {},
  };
  return Buffer.from(JSON.stringify(config), 'utf8');
}

/** A descriptor in go-containerregistry's field order (mediaType, size, digest, annotations). */
function ggcrDescriptor(d: Descriptor): Descriptor {
  const { mediaType, size, digest, ...rest } = d;
  return { mediaType, size, digest, ...rest } as Descriptor;
}

function sameAnnotations(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a?.[k] === b[k]);
}

/** Add one layer to the image's `kind` manifest (created when absent) unless it is already there. */
export async function appendAttachment(
  store: AttachmentStore,
  image: Digest,
  kind: AttachmentKind,
  add: NewAttachment,
  o: AppendOptions = {},
): Promise<Appended> {
  const layer: Descriptor = {
    mediaType: add.mediaType,
    size: add.payload.byteLength,
    digest: digestOf(add.payload),
    annotations: add.annotations,
  };
  const current = await readAttachments(store, image, kind, o);
  const tag = cosignTag(image, kind);
  const existing = current?.layers ?? [];
  for (const e of existing) {
    const read = () => store.readBlob(e, MAX_ATTACHMENT_BYTES, o);
    const dup = o.isDuplicate
      ? await o.isDuplicate(e, read)
      : e.digest === layer.digest && sameAnnotations(e.annotations, add.annotations);
    if (dup && current) return { tag, manifest: current.manifest.descriptor, layer: e, added: false };
  }

  // Keep the flavour of a manifest someone else started (cosign with DOCKER_MEDIA_TYPES).
  let manifestType: string = MediaType.OciManifest;
  let configType: string = MediaType.OciConfig;
  if (current) {
    const p = parseManifest(current.manifest.bytes, current.manifest.descriptor.mediaType);
    if (p.kind === 'manifest') {
      manifestType = p.mediaType;
      configType = p.manifest.config.mediaType;
    }
  }
  const layers = [...existing, layer].map(ggcrDescriptor);
  const config = signaturesConfig(layers, goTime(o.now ?? new Date()));
  const configDesc: Descriptor = { mediaType: configType, size: config.byteLength, digest: digestOf(config) };
  await store.putBlob(layer, add.payload, o);
  await store.putBlob(configDesc, config, o);
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: manifestType, config: configDesc, layers }),
    'utf8',
  );
  const written = await store.putManifest(manifest, manifestType, tag, o);
  return { tag, manifest: written, layer, added: true };
}
