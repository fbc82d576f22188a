/**
 * Where signatures and attestations of an image live: one repository of a registry, or one OCI
 * image layout directory. Both schemes (cosign's `sha256-<hex>.sig|.att` tags and OCI referrers)
 * are written once against this interface; verification reads through it too and so never
 * imports registry code.
 */
import type { Digest } from '../../digest/digest.ts';
import type { Descriptor } from '../../oci/types.ts';

export interface StoredManifest {
  descriptor: Descriptor;
  /** Exact bytes, checked against descriptor.digest. */
  bytes: Uint8Array;
}

/** Which image of the store: a tag, a digest, or (layouts only) the one image it holds. */
export interface ImageSelector {
  tag?: string | undefined;
  digest?: Digest | undefined;
}

export interface StoreOptions {
  signal?: AbortSignal | undefined;
}

export interface AttachmentStore {
  /** For messages: `docker://registry/repo` or `oci:DIR`. */
  readonly name: string;
  /** The image's manifest or index; a digest wins over a tag. */
  resolve(selector: ImageSelector, o?: StoreOptions): Promise<StoredManifest>;
  /** The manifest a tag names, or undefined when the tag does not exist. */
  getTagged(tag: string, o?: StoreOptions): Promise<StoredManifest | undefined>;
  /** A manifest by digest, verified. */
  getManifest(digest: Digest, o?: StoreOptions): Promise<StoredManifest>;
  /** A whole blob, verified; BLOB_TOO_LARGE when its descriptor says more than `max` bytes. */
  readBlob(desc: Descriptor, max: number, o?: StoreOptions): Promise<Uint8Array>;
  /** Store a blob unless the store has it. */
  putBlob(desc: Descriptor, bytes: Uint8Array, o?: StoreOptions): Promise<void>;
  /** Store manifest bytes and, with `tag`, point the tag at them. Returns their descriptor. */
  putManifest(bytes: Uint8Array, mediaType: string, tag?: string, o?: StoreOptions): Promise<Descriptor>;
  /** Descriptors (artifactType, annotations) of the manifests whose subject is `subject`. */
  listReferrers(subject: Digest, artifactType?: string, o?: StoreOptions): Promise<Descriptor[]>;
  /** Store a manifest that has a `subject` so that listReferrers finds it. */
  pushReferrer(bytes: Uint8Array, mediaType: string, o?: StoreOptions): Promise<Descriptor>;
  close(): Promise<void>;
}

/** Blobs vouch reads whole from a store: signature payloads are small, attestations may hold an SBOM. */
export const MAX_ATTACHMENT_BYTES = 64 * 1024 * 1024;
