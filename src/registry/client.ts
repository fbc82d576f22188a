/**
 * Distribution API v2 client. One instance serves any number of registries: endpoints
 * (scheme, auth challenge), credentials and tokens are cached per registry. Every manifest
 * returned is checked against its digest, every blob stream is verified while it streams.
 */
import { type Digest, digestAlgorithm, digestOf, parseDigest } from '../digest/digest.ts';
import { verified } from '../digest/verify.ts';
import { VouchError } from '../errors.ts';
import { MAX_JSON_BYTES } from '../oci/manifest.ts';
import { ALL_MANIFEST_MEDIA_TYPES, MediaType } from '../oci/media-types.ts';
import { formatReference, type Reference } from '../oci/reference.ts';
import type { Descriptor } from '../oci/types.ts';
import { Authenticator } from './auth.ts';
import { openBlobStream } from './blob-reader.ts';
import { pickChallenge, repositoryScope } from './challenge.ts';
import { errorFromResponse, readCapped, redactUrl, release, type Subject } from './errors.ts';
import type { RegistryOptions } from './options.ts';
import { withRetry } from './retry.ts';
import { discard, type HttpRequest, type HttpResponse, header, Transport } from './transport.ts';
import type { UploadOptions, UploadResult } from './upload.ts';

export type { RegistryOptions } from './options.ts';

export interface CallSpec {
  method: HttpRequest['method'];
  /** A path under the registry's API base (`/v2/...`) or an absolute URL (an upload Location). */
  target: string | URL;
  scopes: readonly string[];
  what: Subject;
  /** Statuses that are success for this call; anything else throws. */
  expect: readonly number[];
  headers?: Record<string, string>;
  /** A streamed body is sent once: no automatic retry or re-authentication. */
  body?: Uint8Array | AsyncIterable<Uint8Array>;
  /** Follow redirects (GET/HEAD), sending Authorization only to the registry's own origin. */
  redirects?: boolean;
  /** One attempt only (best-effort cleanup calls). */
  noRetry?: boolean;
  signal?: AbortSignal | undefined;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface FetchedManifest {
  bytes: Uint8Array;
  mediaType: string;
  descriptor: Descriptor;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
/** Content types that say nothing about which manifest kind this is. */
const GENERIC_TYPES = new Set(['', 'application/json', 'text/plain', 'application/octet-stream']);

export const pullScope = (repository: string): string => repositoryScope(repository, 'pull');
export const pushScope = (repository: string): string => repositoryScope(repository, 'pull,push');

/** The tag or digest a request names; a digest wins when both are set. */
export function referenceTarget(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

export class RegistryClient {
  readonly transport: Transport;
  readonly auth: Authenticator;
  readonly options: RegistryOptions;

  constructor(options: RegistryOptions = {}) {
    this.options = options;
    this.transport = new Transport(options);
    this.auth = new Authenticator(this.transport, options);
  }

  /** Check the registry answers the v2 API (and learn its scheme and auth challenge). */
  async ping(registry: string, o: CallOptions = {}): Promise<void> {
    await this.transport.endpoint(registry, o.signal);
  }

  /**
   * One logical request: auth, redirects, one re-authentication on 401 and retries of transient
   * failures (replayable bodies only). Returns the response when its status is in `expect`.
   */
  async call(registry: string, spec: CallSpec): Promise<HttpResponse> {
    const signal = this.transport.signalFor(spec.signal);
    const ep = await this.transport.endpoint(registry, signal);
    const url = typeof spec.target === 'string' ? new URL(spec.target, ep.base) : spec.target;
    const replayable = spec.body === undefined || spec.body instanceof Uint8Array;
    const once = async (): Promise<HttpResponse> => {
      let scopes = spec.scopes;
      for (let reauthed = false; ; reauthed = true) {
        const res = await this.#exchange(registry, url, spec, scopes, signal);
        if (spec.expect.includes(res.status)) return res;
        let wider: readonly string[] | undefined;
        if (res.status === 401 && !reauthed) {
          wider = await this.#reauthenticate(registry, header(res.headers, 'www-authenticate'), scopes);
          if (wider && replayable) {
            await discard(res);
            scopes = wider;
            continue;
          }
        }
        const secrets = await this.#secrets(registry, res);
        const err = await errorFromResponse(res, spec.method, res.url, spec.what, secrets);
        // A streamed body cannot be re-sent here; the uploader may start over with the new token.
        throw wider ? err.withRetryable('always') : err;
      }
    };
    if (!replayable || spec.noRetry) return once();
    return withRetry(this.transport.retry, once, { idempotent: IDEMPOTENT.has(spec.method), signal });
  }

  /** Credentials we may have sent, to scrub from error text. */
  async #secrets(registry: string, res: HttpResponse): Promise<string[]> {
    const sent = res.authorization?.replace(/^\w+ /, '');
    return [...(sent ? [sent] : []), ...(await this.auth.secrets(registry))];
  }

  async #exchange(
    registry: string,
    url: URL,
    spec: CallSpec,
    scopes: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    const ep = await this.transport.endpoint(registry, signal);
    const authorization = await this.auth.authorization(registry, ep.challenge, scopes, signal);
    let target = url;
    for (let hop = 0; ; hop++) {
      // Credentials go only to the registry itself, never to storage a redirect points at.
      const own = target.origin === ep.base.origin;
      const headers = { ...spec.headers, ...(authorization && own ? { authorization } : {}) };
      const res = await this.transport.send({
        method: spec.method,
        url: target,
        headers,
        ...(spec.body === undefined ? {} : { body: spec.body }),
        signal,
      });
      if (own && authorization) res.authorization = authorization;
      const location = header(res.headers, 'location');
      if (!spec.redirects || !REDIRECTS.has(res.status) || !location) return res;
      await discard(res);
      if (hop >= MAX_REDIRECTS) {
        throw new VouchError('REGISTRY_ERROR', `${spec.method} ${redactUrl(url)}: too many redirects`);
      }
      target = new URL(location, target);
    }
  }

  /** After a 401: the scopes to retry with, or undefined when asking again cannot help. */
  async #reauthenticate(
    registry: string,
    challenge: string | undefined,
    scopes: readonly string[],
  ): Promise<readonly string[] | undefined> {
    if (!challenge) return undefined;
    const ep = await this.transport.endpoint(registry);
    const learned = challenge !== ep.challenge;
    if (learned) this.transport.setChallenge(registry, challenge);
    const wider = this.auth.forget(registry, challenge, scopes);
    if (wider) return wider;
    // Basic: worth one more try only if we had not known the registry wanted it.
    const basic = pickChallenge(challenge)?.scheme === 'basic';
    return learned && basic && (await this.auth.credential(registry)) ? scopes : undefined;
  }

  /**
   * Descriptor of a manifest as the registry reports it (a HEAD has no body to hash: use
   * getManifest for verified bytes), or undefined when the registry does not have it.
   */
  async headManifest(ref: Reference, o: CallOptions = {}): Promise<Descriptor | undefined> {
    const res = await this.call(ref.registry, {
      method: 'HEAD',
      target: `/v2/${ref.repository}/manifests/${referenceTarget(ref)}`,
      scopes: [pullScope(ref.repository)],
      what: 'manifest',
      expect: [200, 404],
      headers: { accept: ALL_MANIFEST_MEDIA_TYPES.join(', ') },
      signal: o.signal,
    });
    await discard(res);
    if (res.status === 404) return undefined;
    const said = header(res.headers, 'docker-content-digest');
    const size = Number(header(res.headers, 'content-length'));
    const mediaType = contentType(res);
    if (!said || !Number.isSafeInteger(size) || GENERIC_TYPES.has(mediaType)) {
      // Not enough to build a descriptor we can trust: fetch and hash.
      return (await this.getManifest(ref, undefined, o)).descriptor;
    }
    const digest = parseDigest(said);
    if (ref.digest && digest !== ref.digest) {
      throw new VouchError(
        'DIGEST_MISMATCH',
        `${formatReference(ref)}: registry reports digest ${digest} for manifest ${ref.digest}`,
      );
    }
    return { mediaType, digest, size };
  }

  /**
   * Exact manifest bytes, verified: by-digest fetches against the digest; by-tag fetches are
   * hashed here and compared with Docker-Content-Digest when the registry sends one.
   */
  async getManifest(
    ref: Reference,
    accept: readonly string[] = ALL_MANIFEST_MEDIA_TYPES,
    o: CallOptions = {},
  ): Promise<FetchedManifest> {
    const res = await this.call(ref.registry, {
      method: 'GET',
      target: `/v2/${ref.repository}/manifests/${referenceTarget(ref)}`,
      scopes: [pullScope(ref.repository)],
      what: 'manifest',
      expect: [200],
      headers: { accept: accept.join(', ') },
      redirects: true,
      signal: o.signal,
    });
    const length = Number(header(res.headers, 'content-length'));
    if (length > MAX_JSON_BYTES) {
      release(res.body);
      throw new VouchError(
        'MANIFEST_INVALID',
        `${formatReference(ref)}: manifest of ${length} bytes is over 4 MiB`,
      );
    }
    const { bytes, truncated } = await readCapped(res.body, MAX_JSON_BYTES + 1);
    if (truncated || bytes.byteLength > MAX_JSON_BYTES) {
      throw new VouchError('MANIFEST_INVALID', `${formatReference(ref)}: manifest is over 4 MiB`);
    }
    const said = header(res.headers, 'docker-content-digest');
    const expected = ref.digest ?? (said ? parseDigest(said) : undefined);
    const digest = digestOf(bytes, expected ? digestAlgorithm(expected) : 'sha256');
    if (expected && digest !== expected) {
      const source = ref.digest ? 'requested' : 'Docker-Content-Digest';
      throw new VouchError(
        'DIGEST_MISMATCH',
        `manifest ${formatReference(ref)}: expected ${expected} (${source}), found ${digest}`,
      );
    }
    const mediaType = manifestMediaType(contentType(res), bytes);
    return { bytes, mediaType, descriptor: { mediaType, digest, size: bytes.byteLength } };
  }

  /** Upload manifest bytes unchanged. Returns their digest and the OCI-Subject header, if any. */
  async putManifest(
    ref: Reference,
    bytes: Uint8Array,
    mediaType: string,
    o: CallOptions = {},
  ): Promise<{ digest: Digest; subject: string | undefined }> {
    const digest = digestOf(bytes, ref.digest ? digestAlgorithm(ref.digest) : 'sha256');
    if (ref.digest && digest !== ref.digest) {
      throw new VouchError(
        'DIGEST_MISMATCH',
        `cannot push to ${formatReference(ref)}: the manifest bytes hash to ${digest}`,
      );
    }
    const res = await this.call(ref.registry, {
      method: 'PUT',
      target: `/v2/${ref.repository}/manifests/${referenceTarget(ref)}`,
      scopes: [pushScope(ref.repository)],
      what: 'manifest',
      expect: [200, 201, 202, 204],
      headers: { 'content-type': mediaType },
      body: bytes,
      signal: o.signal,
    });
    await discard(res);
    const said = header(res.headers, 'docker-content-digest');
    if (said?.startsWith(`${digestAlgorithm(digest)}:`) && said !== digest) {
      throw new VouchError(
        'DIGEST_MISMATCH',
        `${formatReference(ref)}: pushed manifest ${digest} but the registry stored ${said}`,
      );
    }
    return { digest, subject: header(res.headers, 'oci-subject') };
  }

  async deleteManifest(ref: Reference, o: CallOptions = {}): Promise<void> {
    const res = await this.call(ref.registry, {
      method: 'DELETE',
      target: `/v2/${ref.repository}/manifests/${referenceTarget(ref)}`,
      scopes: [repositoryScope(ref.repository, 'delete')],
      what: 'manifest',
      expect: [200, 202, 204],
      signal: o.signal,
    });
    await discard(res);
  }

  /** Size of a blob in the repository, or undefined when it is not there. */
  async headBlob(ref: Reference, digest: Digest, o: CallOptions = {}): Promise<{ size: number } | undefined> {
    const res = await this.call(ref.registry, {
      method: 'HEAD',
      target: `/v2/${ref.repository}/blobs/${digest}`,
      scopes: [pullScope(ref.repository)],
      what: 'blob',
      expect: [200, 404],
      redirects: true,
      signal: o.signal,
    });
    await discard(res);
    if (res.status === 404) return undefined;
    const size = Number(header(res.headers, 'content-length'));
    return { size: Number.isSafeInteger(size) ? size : -1 };
  }

  /**
   * A verified stream of a blob. The request is made now (errors such as BLOB_UNKNOWN throw
   * here); a connection dropped mid-stream resumes with a Range request. Iterate it to the end
   * or break out of the loop, which releases the connection.
   */
  async getBlob(
    ref: Reference,
    digest: Digest,
    size: number,
    o: CallOptions = {},
  ): Promise<AsyncIterable<Uint8Array>> {
    const fetch = (offset: number): Promise<HttpResponse> =>
      this.call(ref.registry, {
        method: 'GET',
        target: `/v2/${ref.repository}/blobs/${digest}`,
        scopes: [pullScope(ref.repository)],
        what: 'blob',
        expect: offset > 0 ? [200, 206] : [200],
        headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
        redirects: true,
        signal: o.signal,
      });
    const stream = await openBlobStream(
      fetch,
      { digest, size },
      this.transport.retry,
      this.transport.signalFor(o.signal),
    );
    return verified(stream, { digest, size }, `blob ${digest} of ${formatReference(ref)}`);
  }

  /** Upload a blob unless the repository has it; mount it from another repository when possible. */
  async putBlob(
    ref: Reference,
    desc: Descriptor,
    open: () => Promise<AsyncIterable<Uint8Array>>,
    o: UploadOptions = {},
  ): Promise<UploadResult> {
    // Loaded on first use, so pulls do not pay for the upload code at start-up.
    const { uploadBlob } = await import('./upload.ts');
    return uploadBlob(this, ref, desc, open, o);
  }

  /** Every tag of the repository, following Link pagination. */
  async listTags(ref: Reference, o: CallOptions & { pageSize?: number } = {}): Promise<string[]> {
    const tags: string[] = [];
    let target: string | URL = `/v2/${ref.repository}/tags/list${o.pageSize ? `?n=${o.pageSize}` : ''}`;
    for (let page = 0; page < 10_000; page++) {
      const res = await this.call(ref.registry, {
        method: 'GET',
        target,
        scopes: [pullScope(ref.repository)],
        what: 'tags',
        expect: [200],
        signal: o.signal,
      });
      const { bytes } = await readCapped(res.body, MAX_JSON_BYTES);
      let v: { tags?: unknown };
      try {
        v = JSON.parse(new TextDecoder().decode(bytes)) as typeof v;
      } catch {
        throw new VouchError('REGISTRY_ERROR', `tag list of ${formatReference(ref)} is not JSON`);
      }
      if (Array.isArray(v.tags)) tags.push(...v.tags.filter((t): t is string => typeof t === 'string'));
      const next = nextLink(res);
      if (!next) return tags;
      target = next;
    }
    throw new VouchError('REGISTRY_ERROR', `tag list of ${formatReference(ref)}: too many pages`);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

function contentType(res: HttpResponse): string {
  return (header(res.headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Content-Type unless it is generic; then the manifest's own mediaType; then its shape. */
function manifestMediaType(ct: string, bytes: Uint8Array): string {
  if (!GENERIC_TYPES.has(ct)) return ct;
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: unknown; manifests?: unknown };
    if (typeof v.mediaType === 'string' && v.mediaType) return v.mediaType;
    return Array.isArray(v.manifests) ? MediaType.OciIndex : MediaType.OciManifest;
  } catch {
    return ct || 'application/octet-stream';
  }
}

/** The `rel="next"` target of an RFC 5988 Link header, resolved against the request URL. */
export function nextLink(res: Pick<HttpResponse, 'headers' | 'url'>): URL | undefined {
  const raw = res.headers.link;
  for (const value of Array.isArray(raw) ? raw : raw ? [raw] : []) {
    for (const part of value.split(/,(?=\s*<)/)) {
      const m = /^\s*<([^>]*)>(.*)$/.exec(part);
      if (m && /;\s*rel="?next"?/i.test(m[2] ?? '')) return new URL(m[1] ?? '', res.url);
    }
  }
  return undefined;
}
