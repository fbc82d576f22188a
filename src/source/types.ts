import type { Descriptor } from '../oci/types.ts';

export interface ReadOptions {
  signal?: AbortSignal;
}

/**
 * Where an image is read from. A backend (OCI layout, archive, registry) implements only this;
 * everything else (image model, copy, fs view) is built on it. Every byte a backend returns is
 * checked against the descriptor it was asked for: manifests via verifyBytes, blobs via verified().
 */
export interface ImageSource {
  /** Human-readable, e.g. `oci:./out:v1`; used in messages. */
  readonly name: string;
  /** For registry sources: where blobs live, so a destination on the same registry can mount them. */
  readonly registryLocation?: { registry: string; repository: string };
  /** The manifest or index the reference names, resolved to a digest once. */
  resolve(opts?: ReadOptions): Promise<Descriptor>;
  /** Exact, verified bytes of a manifest or index. */
  getManifest(desc: Descriptor, opts?: ReadOptions): Promise<Uint8Array>;
  /** A verified stream of a blob's stored bytes (compressed as stored). */
  openBlob(desc: Descriptor, opts?: ReadOptions): Promise<AsyncIterable<Uint8Array>>;
  /** Referrers of a digest (manifests whose `subject` is it), when the backend knows them. */
  listReferrers?(subject: Descriptor, opts?: ReadOptions & { artifactType?: string }): Promise<Descriptor[]>;
  close(): Promise<void>;
}

export interface WriteOptions {
  signal?: AbortSignal;
  /** Where the blob came from, so a registry can mount it instead of uploading. */
  mountFrom?: { registry: string; repository: string };
  /**
   * The stream comes straight from an ImageSource, which verifies it against this descriptor
   * and throws at its end on a mismatch; the destination may skip hashing it a second time
   * (it must still only keep the blob once the stream ended cleanly).
   */
  sourceVerified?: boolean;
}

/** What a destination can store; the copy engine converts to fit. */
export interface DestinationCapabilities {
  /** Can store an index (multi-platform). docker-archive cannot. */
  index: boolean;
  /** Layer compression the destination needs; undefined = keeps what it is given. */
  layerCompression?: 'none';
  /** Manifest flavour the destination needs; undefined = keeps what it is given. */
  manifestFlavour?: 'docker' | 'oci';
}

/**
 * Where an image is written. The copy engine writes blobs, then manifests children first,
 * then calls commit() with the root: only commit() makes the reference (tag) point at it, so
 * a failed copy never leaves a tag naming a partial image.
 */
export interface ImageDestination {
  readonly name: string;
  readonly capabilities: DestinationCapabilities;
  hasBlob(desc: Descriptor, opts?: WriteOptions): Promise<boolean>;
  /** Store a blob; `open` may be called more than once (retries). Verifies while writing. */
  putBlob(
    desc: Descriptor,
    open: () => Promise<AsyncIterable<Uint8Array>>,
    opts?: WriteOptions,
  ): Promise<void>;
  /** Store manifest bytes by digest (no tag). */
  putManifest(desc: Descriptor, bytes: Uint8Array, opts?: WriteOptions): Promise<void>;
  /** Point the destination's reference at `root` and make everything durable. */
  commit(root: Descriptor, opts?: WriteOptions): Promise<void>;
  close(): Promise<void>;
}
