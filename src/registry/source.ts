/**
 * The registry backend: an ImageSource and an ImageDestination over RegistryClient.
 * The source resolves its reference once and pins the digest; the destination pushes
 * manifests by digest and moves the tag only in commit(), so a failed copy never leaves the
 * tag naming a partial image.
 */
import type { Digest } from '../digest/digest.ts';
import { verifyBytes } from '../digest/verify.ts';
import { VouchError } from '../errors.ts';
import { ALL_MANIFEST_MEDIA_TYPES } from '../oci/media-types.ts';
import { formatReference, type Reference } from '../oci/reference.ts';
import type { Descriptor } from '../oci/types.ts';
import type {
  DestinationCapabilities,
  ImageDestination,
  ImageSource,
  ReadOptions,
  WriteOptions,
} from '../source/types.ts';
import { type FetchedManifest, RegistryClient } from './client.ts';
import type { RegistryOptions } from './options.ts';

function byDigest(ref: Reference, digest: Digest): Reference {
  return { registry: ref.registry, repository: ref.repository, digest };
}

function acceptFor(mediaType: string): string[] {
  return [...new Set([mediaType, ...ALL_MANIFEST_MEDIA_TYPES])].filter(Boolean);
}

class RegistrySource implements ImageSource {
  readonly name: string;
  readonly registryLocation: { registry: string; repository: string };
  readonly #client: RegistryClient;
  readonly #ref: Reference;
  #root: Promise<FetchedManifest> | undefined;

  constructor(client: RegistryClient, ref: Reference) {
    this.#client = client;
    this.#ref = ref;
    this.name = `docker://${formatReference(ref)}`;
    this.registryLocation = { registry: ref.registry, repository: ref.repository };
  }

  async resolve(o: ReadOptions = {}): Promise<Descriptor> {
    if (!this.#root) {
      const p = this.#client.getManifest(this.#ref, ALL_MANIFEST_MEDIA_TYPES, o);
      this.#root = p;
      p.catch(() => {
        if (this.#root === p) this.#root = undefined;
      });
    }
    return (await this.#root).descriptor;
  }

  async getManifest(desc: Descriptor, o: ReadOptions = {}): Promise<Uint8Array> {
    const root = this.#root ? await this.#root.catch(() => undefined) : undefined;
    if (root?.descriptor.digest === desc.digest) return verifyBytes(root.bytes, desc, 'manifest');
    const m = await this.#client.getManifest(byDigest(this.#ref, desc.digest), acceptFor(desc.mediaType), o);
    return verifyBytes(m.bytes, desc, 'manifest');
  }

  openBlob(desc: Descriptor, o: ReadOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    return this.#client.getBlob(this.#ref, desc.digest, desc.size, o);
  }

  async listReferrers(
    subject: Descriptor,
    o: ReadOptions & { artifactType?: string } = {},
  ): Promise<Descriptor[]> {
    const { listReferrers } = await import('./referrers.ts');
    return listReferrers(this.#client, this.#ref, subject.digest, o);
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

class RegistryDestination implements ImageDestination {
  readonly name: string;
  readonly capabilities: DestinationCapabilities = { index: true };
  readonly #client: RegistryClient;
  readonly #ref: Reference;
  /** Manifests pushed by digest, kept (they are small) to tag the root in commit(). */
  readonly #manifests = new Map<Digest, { bytes: Uint8Array; mediaType: string }>();

  constructor(client: RegistryClient, ref: Reference) {
    this.#client = client;
    this.#ref = ref;
    this.name = `docker://${formatReference(ref)}`;
  }

  async hasBlob(desc: Descriptor, o: WriteOptions = {}): Promise<boolean> {
    const found = await this.#client.headBlob(this.#ref, desc.digest, o);
    return found !== undefined;
  }

  async putBlob(
    desc: Descriptor,
    open: () => Promise<AsyncIterable<Uint8Array>>,
    o: WriteOptions = {},
  ): Promise<void> {
    await this.#client.putBlob(this.#ref, desc, open, {
      mountFrom: o.mountFrom,
      signal: o.signal,
      sourceVerified: o.sourceVerified,
    });
  }

  async putManifest(desc: Descriptor, bytes: Uint8Array, o: WriteOptions = {}): Promise<void> {
    verifyBytes(bytes, desc, 'manifest');
    await this.#client.putManifest(byDigest(this.#ref, desc.digest), bytes, desc.mediaType, o);
    this.#manifests.set(desc.digest, { bytes, mediaType: desc.mediaType });
  }

  async commit(root: Descriptor, o: WriteOptions = {}): Promise<void> {
    const ref = this.#ref;
    if (ref.digest && ref.digest !== root.digest) {
      throw new VouchError(
        'DIGEST_MISMATCH',
        `${this.name}: the reference pins ${ref.digest} but the image written is ${root.digest}`,
      );
    }
    if (ref.tag === undefined) {
      // Nothing to point: only make sure the registry really has it.
      if (!(await this.#client.headManifest(byDigest(ref, root.digest), o))) {
        throw new VouchError('MANIFEST_UNKNOWN', `${this.name}: the registry does not have ${root.digest}`);
      }
      return;
    }
    let m = this.#manifests.get(root.digest);
    if (!m) {
      const got = await this.#client.getManifest(byDigest(ref, root.digest), acceptFor(root.mediaType), o);
      m = { bytes: verifyBytes(got.bytes, root, 'manifest'), mediaType: root.mediaType || got.mediaType };
    }
    const tagged: Reference = { registry: ref.registry, repository: ref.repository, tag: ref.tag };
    await this.#client.putManifest(tagged, m.bytes, m.mediaType, o);
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

export async function openRegistrySource(ref: Reference, opts: RegistryOptions = {}): Promise<ImageSource> {
  return new RegistrySource(new RegistryClient(opts), ref);
}

export async function openRegistryDestination(
  ref: Reference,
  opts: RegistryOptions = {},
): Promise<ImageDestination> {
  return new RegistryDestination(new RegistryClient(opts), ref);
}
