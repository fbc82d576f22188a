/**
 * A read-through cache over an AttachmentStore for one verification run. verify-release asks the
 * same store the same questions several times per image (signatures, then each attestation type,
 * each listing referrers and reading the `.att` tag): the answers are fetched once. Manifests and
 * blobs are content-addressed, so caching them is exact; tags and referrer lists are read once,
 * which also gives every check of one run the same snapshot of a repository that may be changing.
 * Writes go straight through (verification never writes).
 */
import type { Digest } from '../digest/digest.ts';
import type { Descriptor } from '../oci/types.ts';
import type { AttachmentStore, ImageSelector, StoredManifest, StoreOptions } from '../sign/image/store.ts';

export class CachedStore implements AttachmentStore {
  readonly name: string;
  readonly #inner: AttachmentStore;
  readonly #memo = new Map<string, Promise<unknown>>();

  constructor(inner: AttachmentStore) {
    this.#inner = inner;
    this.name = inner.name;
  }

  /** The promise for `key`, made once; a failure is forgotten so that a later call may retry. */
  #once<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.#memo.get(key);
    if (hit) return hit as Promise<T>;
    const p = load();
    this.#memo.set(key, p);
    p.catch(() => this.#memo.delete(key));
    return p;
  }

  resolve(selector: ImageSelector, o?: StoreOptions): Promise<StoredManifest> {
    return this.#inner.resolve(selector, o);
  }

  getTagged(tag: string, o?: StoreOptions): Promise<StoredManifest | undefined> {
    return this.#once(`tag:${tag}`, () => this.#inner.getTagged(tag, o));
  }

  getManifest(digest: Digest, o?: StoreOptions): Promise<StoredManifest> {
    return this.#once(`manifest:${digest}`, () => this.#inner.getManifest(digest, o));
  }

  readBlob(desc: Descriptor, max: number, o?: StoreOptions): Promise<Uint8Array> {
    return this.#once(`blob:${desc.digest}:${desc.size}:${max}`, () => this.#inner.readBlob(desc, max, o));
  }

  listReferrers(subject: Digest, artifactType?: string, o?: StoreOptions): Promise<Descriptor[]> {
    return this.#once(`referrers:${subject}:${artifactType ?? ''}`, () =>
      this.#inner.listReferrers(subject, artifactType, o),
    );
  }

  putBlob(desc: Descriptor, bytes: Uint8Array, o?: StoreOptions): Promise<void> {
    return this.#inner.putBlob(desc, bytes, o);
  }

  putManifest(bytes: Uint8Array, mediaType: string, tag?: string, o?: StoreOptions): Promise<Descriptor> {
    return this.#inner.putManifest(bytes, mediaType, tag, o);
  }

  pushReferrer(bytes: Uint8Array, mediaType: string, o?: StoreOptions): Promise<Descriptor> {
    return this.#inner.pushReferrer(bytes, mediaType, o);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
