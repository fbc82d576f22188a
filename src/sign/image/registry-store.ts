/**
 * Attachments in one registry repository: tags and manifests through RegistryClient, referrers
 * through the Referrers API or, where the registry lacks it (distribution 2.8), the tag schema.
 */
import { Buffer } from 'node:buffer';
import { type Digest, digestOf } from '../../digest/digest.ts';
import { isVouchError, VouchError } from '../../errors.ts';
import { formatReference, type Reference } from '../../oci/reference.ts';
import type { Descriptor } from '../../oci/types.ts';
import { RegistryClient, type RegistryOptions } from '../../registry/client.ts';
import { listReferrers, pushReferrer } from '../../registry/referrers.ts';
import type { AttachmentStore, ImageSelector, StoredManifest, StoreOptions } from './store.ts';

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

export class RegistryStore implements AttachmentStore {
  readonly name: string;
  readonly client: RegistryClient;
  readonly #repo: Reference;
  readonly #owned: boolean;

  /** `client` is shared (and not closed by close()) when given; otherwise one is made from `options`. */
  constructor(repo: Reference, o: { client?: RegistryClient; options?: RegistryOptions } = {}) {
    this.#repo = { registry: repo.registry, repository: repo.repository };
    this.client = o.client ?? new RegistryClient(o.options ?? {});
    this.#owned = o.client === undefined;
    this.name = `docker://${formatReference(this.#repo)}`;
  }

  #ref(at: { tag?: string; digest?: Digest }): Reference {
    return { ...this.#repo, ...at };
  }

  async resolve(selector: ImageSelector, o: StoreOptions = {}): Promise<StoredManifest> {
    const ref = selector.digest
      ? this.#ref({ digest: selector.digest })
      : this.#ref({ tag: selector.tag ?? 'latest' });
    const m = await this.client.getManifest(ref, undefined, o);
    return { descriptor: m.descriptor, bytes: m.bytes };
  }

  async getTagged(tag: string, o: StoreOptions = {}): Promise<StoredManifest | undefined> {
    try {
      const m = await this.client.getManifest(this.#ref({ tag }), undefined, o);
      return { descriptor: m.descriptor, bytes: m.bytes };
    } catch (e) {
      if (isVouchError(e, 'MANIFEST_UNKNOWN')) return undefined;
      throw e;
    }
  }

  async getManifest(digest: Digest, o: StoreOptions = {}): Promise<StoredManifest> {
    const m = await this.client.getManifest(this.#ref({ digest }), undefined, o);
    return { descriptor: m.descriptor, bytes: m.bytes };
  }

  async readBlob(desc: Descriptor, max: number, o: StoreOptions = {}): Promise<Uint8Array> {
    if (desc.size > max) {
      throw new VouchError(
        'BLOB_TOO_LARGE',
        `blob ${desc.digest} in ${this.name}: ${desc.size} bytes is over ${max}`,
      );
    }
    const chunks: Uint8Array[] = [];
    for await (const c of await this.client.getBlob(this.#repo, desc.digest, desc.size, o)) chunks.push(c);
    return Buffer.concat(chunks);
  }

  async putBlob(desc: Descriptor, bytes: Uint8Array, o: StoreOptions = {}): Promise<void> {
    await this.client.putBlob(this.#repo, desc, async () => once(bytes), { signal: o.signal });
  }

  async putManifest(
    bytes: Uint8Array,
    mediaType: string,
    tag?: string,
    o: StoreOptions = {},
  ): Promise<Descriptor> {
    // Without a tag the manifest goes by digest (a reference with neither would mean `latest`).
    const at = tag === undefined ? { digest: digestOf(bytes) } : { tag };
    const { digest } = await this.client.putManifest(this.#ref(at), bytes, mediaType, o);
    return { mediaType, digest, size: bytes.byteLength };
  }

  listReferrers(subject: Digest, artifactType?: string, o: StoreOptions = {}): Promise<Descriptor[]> {
    return listReferrers(this.client, this.#repo, subject, { artifactType, signal: o.signal });
  }

  async pushReferrer(bytes: Uint8Array, mediaType: string, o: StoreOptions = {}): Promise<Descriptor> {
    const pushed = await pushReferrer(this.client, this.#repo, bytes, mediaType, o);
    return { mediaType, digest: pushed.digest, size: bytes.byteLength };
  }

  async close(): Promise<void> {
    if (this.#owned) await this.client.close();
  }
}
