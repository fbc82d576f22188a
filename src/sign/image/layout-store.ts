/**
 * Attachments in an OCI image layout directory: a tag is an `org.opencontainers.image.ref.name`
 * entry of index.json, a referrer is an (untagged) index.json entry whose manifest has a
 * `subject`, as cosign and oras leave them. index.json is re-read before every change and
 * replaced atomically; two processes changing it at once can still lose one entry (as skopeo).
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Digest, digestOf } from '../../digest/digest.ts';
import { verifyBytes } from '../../digest/verify.ts';
import { VouchError } from '../../errors.ts';
import { MAX_JSON_BYTES, parseManifest } from '../../oci/manifest.ts';
import type { Descriptor, ImageIndex } from '../../oci/types.ts';
import { directoryFiles, type LayoutFiles } from '../../source/layout/files.ts';
import { entryTag, readLayout, withIndexEntry, writeLayoutIndex } from '../../source/layout/index-json.ts';
import { blobPath, findReferrers, selectEntry } from '../../source/layout/source.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import type { AttachmentStore, ImageSelector, StoredManifest } from './store.ts';

/** Tags of attachments (cosign's `sha256-<hex>.sig`, the referrers tag schema): never "the image". */
const ATTACHMENT_TAG = /^sha(256|512)-[0-9a-f]{64,128}(\.[a-z]+)?$/;

function isAttachmentEntry(d: Descriptor): boolean {
  const tag = entryTag(d);
  return d.artifactType !== undefined || (tag !== undefined && ATTACHMENT_TAG.test(tag));
}

export class LayoutStore implements AttachmentStore {
  readonly name: string;
  readonly dir: string;
  readonly #files: LayoutFiles;

  constructor(dir: string) {
    this.dir = dir;
    this.name = `oci:${dir}`;
    this.#files = directoryFiles(dir);
  }

  #index(): Promise<ImageIndex> {
    return readLayout(this.#files);
  }

  async resolve(selector: ImageSelector): Promise<StoredManifest> {
    if (selector.digest) return this.getManifest(selector.digest);
    const index = await this.#index();
    // Signatures and referrers added to the layout must not make "the only image" ambiguous.
    const images =
      selector.tag === undefined
        ? { ...index, manifests: index.manifests.filter((d) => !isAttachmentEntry(d)) }
        : index;
    const entry = selectEntry(images, selector.tag, this.name);
    const bytes = verifyBytes(await this.#readManifest(entry.digest), entry, `manifest of ${this.name}`);
    // The entry as index.json has it: its annotations may name the image (io.containerd.image.name).
    return { descriptor: { ...entry }, bytes };
  }

  async getTagged(tag: string): Promise<StoredManifest | undefined> {
    const entry = (await this.#index()).manifests.find((d) => entryTag(d) === tag);
    if (entry === undefined) return undefined;
    const bytes = verifyBytes(await this.#readManifest(entry.digest), entry, `manifest tagged ${tag}`);
    return { descriptor: { mediaType: entry.mediaType, digest: entry.digest, size: entry.size }, bytes };
  }

  async getManifest(digest: Digest): Promise<StoredManifest> {
    const bytes = await this.#readManifest(digest);
    if (digestOf(bytes) !== digest) {
      throw new VouchError('DIGEST_MISMATCH', `${this.name}: ${blobPath(digest)} does not hash to ${digest}`);
    }
    const mediaType = parseManifest(bytes, undefined, `manifest ${digest} in ${this.name}`).mediaType;
    return { descriptor: { mediaType, digest, size: bytes.byteLength }, bytes };
  }

  async #readManifest(digest: Digest): Promise<Uint8Array> {
    const bytes = await this.#files.read(blobPath(digest), MAX_JSON_BYTES);
    if (bytes === undefined) {
      throw new VouchError(
        'MANIFEST_UNKNOWN',
        `${this.name}: no manifest ${digest} (no ${blobPath(digest)})`,
      );
    }
    if (bytes.byteLength > MAX_JSON_BYTES) {
      throw new VouchError('MANIFEST_INVALID', `${this.name}: manifest ${digest} is over 4 MiB`);
    }
    return bytes;
  }

  async readBlob(desc: Descriptor, max: number): Promise<Uint8Array> {
    if (desc.size > max) {
      throw new VouchError(
        'BLOB_TOO_LARGE',
        `blob ${desc.digest} in ${this.name}: ${desc.size} bytes is over ${max}`,
      );
    }
    const bytes = await this.#files.read(blobPath(desc.digest), desc.size);
    if (bytes === undefined) {
      throw new VouchError(
        'BLOB_UNKNOWN',
        `${this.name}: no blob ${desc.digest} (no ${blobPath(desc.digest)})`,
      );
    }
    return verifyBytes(bytes, desc, `blob in ${this.name}`);
  }

  async putBlob(desc: Descriptor, bytes: Uint8Array): Promise<void> {
    verifyBytes(bytes, desc, 'blob');
    if ((await this.#files.size(blobPath(desc.digest))) === desc.size) return;
    const path = join(this.dir, blobPath(desc.digest));
    await mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, bytes);
  }

  async putManifest(bytes: Uint8Array, mediaType: string, tag?: string): Promise<Descriptor> {
    const desc: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
    await this.putBlob(desc, bytes);
    if (tag !== undefined) await writeLayoutIndex(this.dir, withIndexEntry(await this.#index(), desc, tag));
    return desc;
  }

  async listReferrers(subject: Digest, artifactType?: string): Promise<Descriptor[]> {
    const index = await this.#index();
    return findReferrers(
      index,
      subject,
      async (d) => verifyBytes(await this.#readManifest(d.digest), d, 'manifest'),
      artifactType,
    );
  }

  async pushReferrer(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const parsed = parseManifest(bytes, mediaType, 'referrer manifest');
    const m = parsed.kind === 'index' ? parsed.index : parsed.manifest;
    if (!m.subject) throw new VouchError('MANIFEST_INVALID', 'referrer manifest has no subject');
    const desc: Descriptor = { mediaType, digest: digestOf(bytes), size: bytes.byteLength };
    await this.putBlob(desc, bytes);
    const entry: Descriptor = {
      ...desc,
      ...(m.artifactType ? { artifactType: m.artifactType } : {}),
      ...(m.annotations ? { annotations: m.annotations } : {}),
    };
    await writeLayoutIndex(this.dir, withIndexEntry(await this.#index(), entry));
    return desc;
  }

  async close(): Promise<void> {}
}
