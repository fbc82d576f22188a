/**
 * What refers to an image travels with it: for every manifest a copy writes unchanged, the
 * source's referrers (manifests whose `subject` is it: Sigstore bundles, SBOMs, attestations)
 * and cosign's tag-scheme attachments (`sha256-<hex>.sig`, `.att`, `.sbom` next to the image)
 * are copied byte for byte, recursively (a signature on an SBOM that refers to the image).
 *
 * Copying is pure OCI: blobs and child manifests go through the ImageDestination; placement
 * (a tag, a referrer) through an AttachmentWriter, because ImageDestination only writes by
 * digest and tags the root. On a registry a referrer is pushed with pushReferrer, which keeps
 * the tag-schema fallback index when the registry has no Referrers API; everything is pushed
 * serially, as concurrent writers of that index could lose entries. In an OCI layout a
 * referrer is an untagged index.json entry and a cosign attachment an entry with its tag.
 *
 * Signatures sign a digest: when the copy rewrote a manifest (format or compression change),
 * its attachments would not apply and are left behind with a note.
 */

import { join } from 'node:path';
import type { Digest } from '../digest/digest.ts';
import { digestOf } from '../digest/digest.ts';
import { verifyBytes } from '../digest/verify.ts';
import { isVouchError, VouchError } from '../errors.ts';
import { encodeJson, MAX_JSON_BYTES, parseManifest } from '../oci/manifest.ts';
import {
  ALL_MANIFEST_MEDIA_TYPES,
  isIndexMediaType,
  isManifestMediaType,
  MediaType,
} from '../oci/media-types.ts';
import type { Reference } from '../oci/reference.ts';
import type { Descriptor, ImageIndex } from '../oci/types.ts';
import { RegistryClient } from '../registry/client.ts';
import { pushReferrer, referrersTag } from '../registry/referrers.ts';
import { directoryFiles, type LayoutFiles, tarIndexFiles } from '../source/layout/files.ts';
import {
  emptyIndex,
  entryTag,
  INDEX_FILE,
  parseIndexFile,
  readLayout,
  withIndexEntry,
  writeLayoutIndex,
} from '../source/layout/index-json.ts';
import { blobPath } from '../source/layout/source.ts';
import type { ImageDestination, ImageSource } from '../source/types.ts';
import { type ImageName, parseImageName } from '../transport/name.ts';
import type { OpenOptions } from '../transport/open.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { indexTar } from '../util/tar-index.ts';

/** cosign's tag scheme: `<alg>-<hex>.<suffix>` in the image's repository. */
export const TAG_SCHEME = [
  { suffix: 'sig', kind: 'signature' },
  { suffix: 'att', kind: 'attestation' },
  { suffix: 'sbom', kind: 'sbom' },
] as const;

export type AttachmentKind = 'referrer' | (typeof TAG_SCHEME)[number]['kind'];

/** Referrers of referrers are followed this deep (a signature on an SBOM on an image is 2). */
export const MAX_ATTACHMENT_DEPTH = 8;

/** The cosign tag of `subject`'s attachment of one kind, e.g. `sha256-<hex>.sig`. */
export function attachmentTag(subject: Digest, suffix: (typeof TAG_SCHEME)[number]['suffix']): string {
  return `${referrersTag(subject)}.${suffix}`;
}

export interface Attachment {
  kind: AttachmentKind;
  digest: Digest;
  mediaType: string;
  artifactType?: string;
  /** The manifest it is attached to (same digest in source and destination). */
  subject: Digest;
  /** Its tag at the destination: the cosign tag, or for a referrer the fallback index tag a registry without the Referrers API keeps. */
  tag?: string;
}

export interface AttachmentReport {
  /** Attachments now at the destination. */
  carried: Attachment[];
  /** Attachments found in the source but not copied; `notes` says why. */
  skipped: Attachment[];
  notes: string[];
  /** Blob bytes transferred for attachments (not skipped as present). */
  bytes: number;
}

/** Looks up a tag next to the image in the source (registry repository or layout). */
export interface TagReader {
  /** The manifest `tag` names, verified, or undefined when there is no such tag. */
  tagged(
    tag: string,
    o?: { signal?: AbortSignal },
  ): Promise<{ descriptor: Descriptor; bytes: Uint8Array } | undefined>;
  close(): Promise<void>;
}

/** Stores attachment manifests at the destination (their blobs and children are already there). */
export interface AttachmentWriter {
  /** Store a manifest with a `subject` so the destination lists it; returns the fallback tag if one was kept. */
  putReferrer(desc: Descriptor, bytes: Uint8Array, o?: { signal?: AbortSignal }): Promise<string | undefined>;
  /** Store a manifest under `tag`. */
  putTagged(tag: string, desc: Descriptor, bytes: Uint8Array, o?: { signal?: AbortSignal }): Promise<void>;
  close(): Promise<void>;
}

export type AttachmentTarget =
  | { kind: 'writer'; writer: AttachmentWriter }
  | { kind: 'unsupported'; reason: string };

export interface AttachmentEndpoints {
  tags: TagReader;
  target: AttachmentTarget;
  close(): Promise<void>;
}

/** A manifest the copy wrote, with what it was in the source. */
export interface CopiedManifest {
  source: Descriptor;
  copied: Descriptor;
}

/**
 * Tag lookup in the source and placement at the destination for two image names, with the
 * same registry settings the copy uses. Destinations that cannot hold attachments
 * (docker-archive; oci-archive, whose staging layout is private; a layout without a tag for
 * the image) get a reason instead.
 */
export async function openAttachmentEndpoints(
  source: string | ImageName,
  destination: string | ImageName,
  o: OpenOptions = {},
): Promise<AttachmentEndpoints> {
  const src = typeof source === 'string' ? parseImageName(source) : source;
  const dst = typeof destination === 'string' ? parseImageName(destination) : destination;
  const tags = await tagReaderFor(src, o);
  let target: AttachmentTarget;
  switch (dst.transport) {
    case 'docker':
      target = { kind: 'writer', writer: registryWriter(new RegistryClient(o.registry ?? {}), dst.ref) };
      break;
    case 'oci':
      // Untagged, the image would be one untagged entry among its referrers, and the layout
      // could no longer be read without naming one.
      target =
        dst.tag === undefined
          ? {
              kind: 'unsupported',
              reason: `name the image (oci:${dst.path}:TAG) to carry them into a layout`,
            }
          : { kind: 'writer', writer: layoutWriter(dst.path) };
      break;
    case 'oci-archive':
      target = { kind: 'unsupported', reason: 'vouch does not write attachments into oci-archive files yet' };
      break;
    case 'docker-archive':
      target = {
        kind: 'unsupported',
        reason: 'a docker-archive cannot hold signatures, attestations or referrers',
      };
      break;
  }
  return {
    tags,
    target,
    async close() {
      await tags.close();
      if (target.kind === 'writer') await target.writer.close();
    },
  };
}

async function tagReaderFor(n: ImageName, o: OpenOptions): Promise<TagReader> {
  switch (n.transport) {
    case 'docker':
      return registryTagReader(new RegistryClient(o.registry ?? {}), n.ref);
    case 'oci':
      return layoutTagReader(directoryFiles(n.path));
    case 'oci-archive':
      return layoutTagReader(await tarFiles(n.path));
    case 'docker-archive':
      return { tagged: async () => undefined, close: async () => {} };
  }
}

async function tarFiles(path: string): Promise<LayoutFiles> {
  return tarIndexFiles(await indexTar(path));
}

/** Tags in a registry repository: GET the manifest, a 404 means no such attachment. */
export function registryTagReader(client: RegistryClient, image: Reference): TagReader {
  return {
    async tagged(tag, o = {}) {
      const ref: Reference = { registry: image.registry, repository: image.repository, tag };
      try {
        const m = await client.getManifest(ref, ALL_MANIFEST_MEDIA_TYPES, o);
        return { descriptor: m.descriptor, bytes: m.bytes };
      } catch (e) {
        if (isVouchError(e, 'MANIFEST_UNKNOWN')) return undefined;
        throw e;
      }
    },
    close: () => client.close(),
  };
}

/** Tags in an OCI layout: index.json entries by ref.name; bytes are checked against the entry. */
export function layoutTagReader(files: LayoutFiles): TagReader {
  let index: Promise<ImageIndex> | undefined;
  return {
    async tagged(tag) {
      index ??= readLayout(files);
      const entry = (await index).manifests.find((d) => entryTag(d) === tag);
      if (entry === undefined) return undefined;
      if (entry.size > MAX_JSON_BYTES) {
        throw new VouchError(
          'BLOB_TOO_LARGE',
          `${files.location}: "${tag}" names a manifest of ${entry.size} bytes`,
        );
      }
      const bytes = await files.read(blobPath(entry.digest), entry.size);
      if (bytes === undefined) {
        throw new VouchError(
          'BLOB_UNKNOWN',
          `${files.location}: "${tag}" names ${entry.digest}, which is missing`,
        );
      }
      const descriptor: Descriptor = { mediaType: entry.mediaType, digest: entry.digest, size: entry.size };
      return { descriptor, bytes: verifyBytes(bytes, descriptor, `manifest tagged ${tag}`) };
    },
    close: () => files.close(),
  };
}

/** Registry placement: pushReferrer (Referrers API or fallback index) and plain tag pushes. */
export function registryWriter(client: RegistryClient, image: Reference): AttachmentWriter {
  const repo: Reference = { registry: image.registry, repository: image.repository };
  return {
    async putReferrer(desc, bytes, o = {}) {
      const pushed = await pushReferrer(client, repo, bytes, desc.mediaType, o);
      return pushed.fallbackTag;
    },
    async putTagged(tag, desc, bytes, o = {}) {
      await client.putManifest({ ...repo, tag }, bytes, desc.mediaType, o);
    },
    close: () => client.close(),
  };
}

/**
 * Layout placement: the manifest goes to blobs/, and index.json gains an untagged entry per
 * referrer (with its artifactType, as oras writes them) and a tagged entry per cosign
 * attachment. index.json is re-read for every change so the destination's own commit, which
 * also re-reads it, keeps them.
 */
export function layoutWriter(dir: string): AttachmentWriter {
  const files = directoryFiles(dir);
  async function addEntry(desc: Descriptor, bytes: Uint8Array, tag?: string): Promise<void> {
    verifyBytes(bytes, desc, 'manifest');
    if ((await files.size(blobPath(desc.digest))) !== desc.size) {
      await writeFileAtomic(join(dir, blobPath(desc.digest)), bytes);
    }
    const current = await files.read(INDEX_FILE, MAX_JSON_BYTES);
    const index = current === undefined ? emptyIndex() : parseIndexFile(current, dir);
    const next = withIndexEntry(index, desc, tag);
    const same = current !== undefined && Buffer.from(encodeJson(index)).equals(encodeJson(next));
    if (!same) await writeLayoutIndex(dir, next);
  }
  return {
    async putReferrer(desc, bytes) {
      await addEntry(desc, bytes);
      return undefined;
    },
    async putTagged(tag, desc, bytes) {
      await addEntry({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size }, bytes, tag);
    },
    close: () => files.close(),
  };
}

interface Found {
  kind: AttachmentKind;
  descriptor: Descriptor;
  bytes: Uint8Array;
  subject: Digest;
  tag?: string;
}

export interface CopyAttachmentsOptions {
  signal?: AbortSignal;
}

/**
 * Copy what refers to each manifest in `manifests` from `src` to `dst`. Call after the
 * manifests are written and before the destination's commit, so a tag never names an image
 * whose signatures have not arrived yet.
 */
export async function copyAttachments(
  src: ImageSource,
  dst: ImageDestination,
  endpoints: AttachmentEndpoints,
  manifests: readonly CopiedManifest[],
  o: CopyAttachmentsOptions = {},
): Promise<AttachmentReport> {
  const report: AttachmentReport = { carried: [], skipped: [], notes: [], bytes: 0 };
  const signal = o.signal;
  const subjects = new Set<string>();
  const placed = new Set<string>();
  const queue: { subject: Descriptor; depth: number }[] = [];
  for (const m of manifests) {
    if (subjects.has(m.source.digest)) continue;
    subjects.add(m.source.digest);
    if (m.source.digest === m.copied.digest) {
      queue.push({ subject: m.source, depth: 1 });
      continue;
    }
    // Left behind, but said so: a user who expects signatures at the destination must know.
    const found = await findAttachments(src, endpoints.tags, m.source, report, signal);
    if (found.length === 0) continue;
    report.skipped.push(...found.map(toAttachment));
    report.notes.push(
      `${count(found.length)} of ${m.source.digest} not copied: the copy rewrote it as ${m.copied.digest}, which they do not sign`,
    );
  }
  let unsupported = 0;
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
    const found = await findAttachments(src, endpoints.tags, item.subject, report, signal);
    for (const f of found) {
      const key = `${f.descriptor.digest} ${f.tag ?? ''}`;
      if (placed.has(key)) continue;
      placed.add(key);
      const a = toAttachment(f);
      if (endpoints.target.kind === 'unsupported') {
        report.skipped.push(a);
        unsupported++;
      } else {
        report.bytes += await copyTree(src, dst, f.descriptor, f.bytes, o);
        const fallback = await place(endpoints.target.writer, f, signal);
        if (fallback) a.tag = fallback;
        report.carried.push(a);
      }
      if (subjects.has(f.descriptor.digest)) continue;
      subjects.add(f.descriptor.digest);
      if (item.depth >= MAX_ATTACHMENT_DEPTH) {
        report.notes.push(
          `attachments of ${f.descriptor.digest} not looked for: more than ${MAX_ATTACHMENT_DEPTH} levels deep`,
        );
        continue;
      }
      queue.push({ subject: f.descriptor, depth: item.depth + 1 });
    }
  }
  if (endpoints.target.kind === 'unsupported' && unsupported > 0) {
    report.notes.push(`${count(unsupported)} not copied to ${dst.name}: ${endpoints.target.reason}`);
  }
  return report;
}

/** Store one attachment's manifest where it belongs; the fallback tag for a referrer, if any. */
async function place(
  w: AttachmentWriter,
  f: Found,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  if (f.tag === undefined) return w.putReferrer(f.descriptor, f.bytes, { signal });
  await w.putTagged(f.tag, f.descriptor, f.bytes, { signal });
  return undefined;
}

function count(n: number): string {
  return `${n} attachment${n === 1 ? '' : 's'}`;
}

function toAttachment(f: Found): Attachment {
  const artifactType = artifactTypeOf(f);
  return {
    kind: f.kind,
    digest: f.descriptor.digest,
    mediaType: f.descriptor.mediaType,
    ...(artifactType ? { artifactType } : {}),
    subject: f.subject,
    ...(f.tag ? { tag: f.tag } : {}),
  };
}

const IMAGE_CONFIGS: readonly string[] = [MediaType.OciConfig, MediaType.DockerConfig, MediaType.OciEmpty];

/** What the manifest says it is: artifactType, else a config type that is not an image's. */
function artifactTypeOf(f: Found): string | undefined {
  if (f.descriptor.artifactType) return f.descriptor.artifactType;
  const p = parseManifest(f.bytes, f.descriptor.mediaType);
  const m = p.kind === 'index' ? p.index : p.manifest;
  if (m.artifactType) return m.artifactType;
  const config = p.kind === 'manifest' ? p.manifest.config.mediaType : undefined;
  return config !== undefined && !IMAGE_CONFIGS.includes(config) ? config : undefined;
}

/**
 * Referrers (verified to name `subject`) and cosign tags of one manifest in the source. The
 * lookups are reads, so they run together; results keep a fixed order (referrers, then tags).
 */
async function findAttachments(
  src: ImageSource,
  tags: TagReader,
  subject: Descriptor,
  report: AttachmentReport,
  signal: AbortSignal | undefined,
): Promise<Found[]> {
  const [referrers, ...tagged] = await Promise.all([
    src.listReferrers ? src.listReferrers(subject, { signal }) : Promise.resolve([]),
    ...TAG_SCHEME.map(async ({ suffix, kind }) => {
      const tag = attachmentTag(subject.digest, suffix);
      const t = await tags.tagged(tag, { signal });
      return t && { kind, descriptor: t.descriptor, bytes: t.bytes, subject: subject.digest, tag };
    }),
  ]);
  const out: Found[] = [];
  for (const r of referrers) {
    if (!isManifestMediaType(r.mediaType) && !isIndexMediaType(r.mediaType)) {
      report.notes.push(
        `referrer ${r.digest} of ${subject.digest} skipped: ${r.mediaType} is not a manifest type`,
      );
      continue;
    }
    const bytes = await src.getManifest(r, { signal });
    const p = parseManifest(bytes, r.mediaType, `referrer ${r.digest}`);
    const named = (p.kind === 'index' ? p.index : p.manifest).subject?.digest;
    if (named !== subject.digest) {
      // A stale or forged fallback index entry: do not spread it.
      report.notes.push(
        `referrer ${r.digest} of ${subject.digest} skipped: its subject is ${named ?? 'missing'}`,
      );
      continue;
    }
    const descriptor: Descriptor = { mediaType: p.mediaType, digest: r.digest, size: r.size };
    if (r.artifactType) descriptor.artifactType = r.artifactType;
    out.push({ kind: 'referrer', descriptor, bytes, subject: subject.digest });
  }
  for (const t of tagged) if (t) out.push(t);
  return out;
}

/** Copy an attachment's blobs and, for an index, its child manifests; returns bytes transferred. */
async function copyTree(
  src: ImageSource,
  dst: ImageDestination,
  desc: Descriptor,
  bytes: Uint8Array,
  o: CopyAttachmentsOptions,
  depth = 0,
): Promise<number> {
  const signal = o.signal;
  if (depth > MAX_ATTACHMENT_DEPTH) {
    throw new VouchError('MANIFEST_INVALID', `attachment ${desc.digest}: indexes nested too deep`);
  }
  const p = parseManifest(bytes, desc.mediaType, `attachment ${desc.digest}`);
  if (p.kind === 'index') {
    let n = 0;
    for (const child of p.index.manifests) {
      const childBytes = await src.getManifest(child, { signal });
      n += await copyTree(src, dst, child, childBytes, o, depth + 1);
      await dst.putManifest(child, childBytes, { signal });
    }
    return n;
  }
  let n = 0;
  for (const b of [p.manifest.config, ...p.manifest.layers]) n += await copyBlob(src, dst, b, signal);
  return n;
}

const EMPTY_JSON = new TextEncoder().encode('{}');

async function copyBlob(
  src: ImageSource,
  dst: ImageDestination,
  d: Descriptor,
  signal: AbortSignal | undefined,
): Promise<number> {
  if (await dst.hasBlob(d, { signal })) return 0;
  const inline = inlineBytes(d);
  if (inline) {
    // Producers often leave the empty config (or a `data` blob) out of the repository.
    await dst.putBlob(d, async () => once(inline), { signal });
    return d.size;
  }
  await dst.putBlob(d, () => src.openBlob(d, { signal }), {
    signal,
    sourceVerified: true,
    ...(src.registryLocation ? { mountFrom: src.registryLocation } : {}),
  });
  return d.size;
}

/** Bytes a descriptor carries itself (`data`, or the well-known empty JSON), when they match it. */
function inlineBytes(d: Descriptor): Uint8Array | undefined {
  const candidate =
    d.data !== undefined
      ? Buffer.from(d.data, 'base64')
      : d.size === EMPTY_JSON.byteLength
        ? EMPTY_JSON
        : undefined;
  if (candidate === undefined || candidate.byteLength !== d.size) return undefined;
  return digestOf(candidate) === d.digest ? candidate : undefined;
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
