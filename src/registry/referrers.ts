/**
 * OCI referrers: the Referrers API where the registry has it, else the tag schema fallback
 * (an index at tag `<alg>-<hex>` that clients maintain themselves).
 */
import { type Digest, digestAlgorithm, digestHex, digestOf } from '../digest/digest.ts';
import { isVouchError, VouchError } from '../errors.ts';
import { encodeJson, MAX_JSON_BYTES, parseManifest } from '../oci/manifest.ts';
import { MediaType } from '../oci/media-types.ts';
import { formatReference, type Reference } from '../oci/reference.ts';
import type { Descriptor, ImageIndex } from '../oci/types.ts';
import { type CallOptions, nextLink, pullScope, type RegistryClient } from './client.ts';
import { readCapped } from './errors.ts';
import { discard, header } from './transport.ts';

/** The fallback tag for a subject: `<alg>-<hex>`, algorithm cut at 32 and hex at 64 characters. */
export function referrersTag(subject: Digest): string {
  const tag = `${digestAlgorithm(subject).slice(0, 32)}-${digestHex(subject).slice(0, 64)}`;
  return tag.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

export interface ReferrersOptions extends CallOptions {
  artifactType?: string | undefined;
}

/** Descriptors of the manifests whose `subject` is `subject`, in the repository of `repo`. */
export async function listReferrers(
  client: RegistryClient,
  repo: Reference,
  subject: Digest,
  o: ReferrersOptions = {},
): Promise<Descriptor[]> {
  const q = o.artifactType ? `?${new URLSearchParams({ artifactType: o.artifactType })}` : '';
  let target: string | URL = `/v2/${repo.repository}/referrers/${subject}${q}`;
  const found: Descriptor[] = [];
  let filtered = true;
  for (let page = 0; page < 1000; page++) {
    const res = await client.call(repo.registry, {
      method: 'GET',
      target,
      scopes: [pullScope(repo.repository)],
      what: 'referrers',
      expect: [200, 404],
      headers: { accept: MediaType.OciIndex },
      signal: o.signal,
    });
    if (res.status === 404) {
      await discard(res);
      if (page > 0) throw new VouchError('REGISTRY_ERROR', `referrers of ${subject}: a later page vanished`);
      return fromTagSchema(client, repo, subject, o);
    }
    const { bytes, truncated } = await readCapped(res.body, MAX_JSON_BYTES);
    if (truncated) throw new VouchError('MANIFEST_INVALID', `referrers of ${subject}: response over 4 MiB`);
    const what = `referrers of ${subject} in ${formatReference(repo)}`;
    found.push(...indexOf(bytes, MediaType.OciIndex, what).manifests);
    filtered &&= /\bartifactType\b/.test(header(res.headers, 'oci-filters-applied') ?? '');
    const next = nextLink(res);
    if (!next) return o.artifactType && !filtered ? byType(found, o.artifactType) : found;
    target = next;
  }
  throw new VouchError('REGISTRY_ERROR', `referrers of ${subject}: too many pages`);
}

async function fromTagSchema(
  client: RegistryClient,
  repo: Reference,
  subject: Digest,
  o: ReferrersOptions,
): Promise<Descriptor[]> {
  const index = await fallbackIndex(client, repo, subject, o);
  const all = index?.manifests ?? [];
  return o.artifactType ? byType(all, o.artifactType) : all;
}

function byType(ds: Descriptor[], artifactType: string): Descriptor[] {
  return ds.filter((d) => d.artifactType === artifactType);
}

function indexOf(bytes: Uint8Array, mediaType: string, what: string): ImageIndex {
  const parsed = parseManifest(bytes, mediaType, what);
  if (parsed.kind !== 'index') throw new VouchError('MANIFEST_INVALID', `${what}: not an image index`);
  return parsed.index;
}

/** The tag-schema index for `subject`, or undefined when the tag does not exist. */
async function fallbackIndex(
  client: RegistryClient,
  repo: Reference,
  subject: Digest,
  o: CallOptions,
): Promise<ImageIndex | undefined> {
  const tagRef: Reference = {
    registry: repo.registry,
    repository: repo.repository,
    tag: referrersTag(subject),
  };
  try {
    const m = await client.getManifest(tagRef, [MediaType.OciIndex], o);
    return indexOf(m.bytes, m.mediaType, `referrers tag ${formatReference(tagRef)}`);
  } catch (e) {
    if (isVouchError(e, 'MANIFEST_UNKNOWN')) return undefined;
    throw e;
  }
}

export interface PushedReferrer {
  digest: Digest;
  /** The manifest's subject. */
  subject: Digest;
  /** Set when the registry lacks the Referrers API and the tag-schema index was updated. */
  fallbackTag: string | undefined;
}

/**
 * Push a manifest that has a `subject` (by digest). When the registry does not confirm with
 * OCI-Subject, add it to the tag-schema index of the subject. Concurrent writers of the same
 * index can lose an entry (no ETag support in registry 2.8); callers push referrers serially.
 */
export async function pushReferrer(
  client: RegistryClient,
  repo: Reference,
  bytes: Uint8Array,
  mediaType: string,
  o: CallOptions = {},
): Promise<PushedReferrer> {
  const parsed = parseManifest(bytes, mediaType, 'referrer manifest');
  const m = parsed.kind === 'index' ? parsed.index : parsed.manifest;
  if (!m.subject) throw new VouchError('MANIFEST_INVALID', 'referrer manifest has no subject');
  const digest = digestOf(bytes);
  const at: Reference = { registry: repo.registry, repository: repo.repository, digest };
  const pushed = await client.putManifest(at, bytes, mediaType, o);
  if (pushed.subject) return { digest, subject: m.subject.digest, fallbackTag: undefined };

  const artifactType =
    m.artifactType ?? (parsed.kind === 'manifest' ? parsed.manifest.config.mediaType : undefined);
  const entry: Descriptor = {
    mediaType,
    digest,
    size: bytes.byteLength,
    ...(artifactType ? { artifactType } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
  };
  const tag = referrersTag(m.subject.digest);
  const current = await fallbackIndex(client, repo, m.subject.digest, o);
  if (current?.manifests.some((d) => d.digest === digest)) {
    return { digest, subject: m.subject.digest, fallbackTag: tag };
  }
  const next: ImageIndex = {
    ...(current ?? {}),
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [...(current?.manifests ?? []), entry],
  };
  const tagRef: Reference = { registry: repo.registry, repository: repo.repository, tag };
  await client.putManifest(tagRef, encodeJson(next), MediaType.OciIndex, o);
  return { digest, subject: m.subject.digest, fallbackTag: tag };
}
