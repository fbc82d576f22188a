/**
 * Blob upload (distribution spec "Pushing blobs"): skip when present, cross-repository mount,
 * one streamed PUT for blobs up to the chunk size, PATCH chunks above it. A failed chunk is
 * resumed from the offset the registry reports (`GET <location>` → Range), re-opening the
 * source and skipping what is stored; when the session is lost the upload restarts cleanly.
 */
import { digestAlgorithm } from '../digest/digest.ts';
import { verified } from '../digest/verify.ts';
import { isVouchError, VouchError } from '../errors.ts';
import { formatReference, type Reference } from '../oci/reference.ts';
import type { Descriptor } from '../oci/types.ts';
import { ByteCursor } from './byte-cursor.ts';
import type { RegistryClient } from './client.ts';
import { pullScope, pushScope } from './client.ts';
import { RegistryError, redactUrl } from './errors.ts';
import { DEFAULT_CHUNK_SIZE } from './options.ts';
import { backoffDelay, retryDelay, sleep } from './retry.ts';
import { discard, type HttpResponse, header } from './transport.ts';

export interface UploadOptions {
  /** Where the blob already is; mounted when it is another repository of the same registry. */
  mountFrom?: { registry: string; repository: string } | undefined;
  signal?: AbortSignal | undefined;
  /** Overrides the client's chunkSize. */
  chunkSize?: number;
  /** The stream verifies itself (see WriteOptions.sourceVerified): do not hash it again. */
  sourceVerified?: boolean | undefined;
}

export type UploadResult = 'exists' | 'mounted' | 'uploaded';

type Open = () => Promise<AsyncIterable<Uint8Array>>;

interface Session {
  location: URL;
  /** OCI-Chunk-Min-Length: chunks (but the last) must be at least this long. */
  minChunk: number;
}

interface Ctx {
  client: RegistryClient;
  ref: Reference;
  desc: Descriptor;
  open: Open;
  scopes: string[];
  signal: AbortSignal | undefined;
  what: string;
  sourceVerified: boolean;
}

export async function uploadBlob(
  client: RegistryClient,
  ref: Reference,
  desc: Descriptor,
  open: Open,
  o: UploadOptions = {},
): Promise<UploadResult> {
  const signal = o.signal;
  if (await client.headBlob(ref, desc.digest, { signal })) return 'exists';
  const m = o.mountFrom;
  const from = m && m.registry === ref.registry && m.repository !== ref.repository ? m.repository : undefined;
  const ctx: Ctx = {
    client,
    ref,
    desc,
    open,
    scopes: [pushScope(ref.repository), ...(from ? [pullScope(from)] : [])],
    signal,
    what: `blob ${desc.digest} for ${formatReference(ref)}`,
    sourceVerified: o.sourceVerified === true,
  };
  let session: Session | undefined;
  if (from) {
    const q = new URLSearchParams({ mount: desc.digest, from });
    try {
      const res = await post(ctx, `/v2/${ref.repository}/blobs/uploads/?${q}`, [201, 202]);
      if (res.status === 201) return 'mounted';
      session = sessionOf(res); // 202: the mount did not happen, upload in this session
    } catch (e) {
      // No right to read the source repository: upload the bytes instead.
      if (!isVouchError(e, 'UNAUTHORIZED') && !isVouchError(e, 'DENIED')) throw e;
      ctx.scopes = [pushScope(ref.repository)];
    }
  }
  const chunkSize = o.chunkSize ?? client.options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const policy = client.transport.retry;
  for (let attempt = 1; ; attempt++) {
    try {
      session ??= sessionOf(await post(ctx, `/v2/${ref.repository}/blobs/uploads/`, [202]));
      if (desc.size <= chunkSize) await putWhole(ctx, session);
      else await putChunks(ctx, session, Math.max(chunkSize, session.minChunk));
      return 'uploaded';
    } catch (e) {
      if (session) await cancel(ctx, session.location);
      session = undefined;
      // A 500 does not restart: starting sessions (POST) is not idempotent.
      const delay = retryDelay(e, attempt, policy, false);
      if (delay === undefined) throw e;
      await sleep(delay, client.transport.signalFor(signal));
    }
  }
}

async function post(ctx: Ctx, target: string, expect: number[]): Promise<HttpResponse> {
  const res = await ctx.client.call(ctx.ref.registry, {
    method: 'POST',
    target,
    scopes: ctx.scopes,
    what: 'upload',
    expect,
    headers: { 'content-length': '0' },
    signal: ctx.signal,
  });
  await discard(res);
  return res;
}

function sessionOf(res: HttpResponse): Session {
  const min = Number(header(res.headers, 'oci-chunk-min-length'));
  return { location: locationOf(res), minChunk: Number.isSafeInteger(min) && min > 0 ? min : 0 };
}

/** Each upload response names where to send the next request; it may carry state in its query. */
function locationOf(res: HttpResponse): URL {
  const loc = header(res.headers, 'location');
  if (!loc) {
    throw new VouchError('UPLOAD_FAILED', `${redactUrl(res.url)} answered ${res.status} without a Location`);
  }
  return new URL(loc, res.url);
}

function source(ctx: Ctx, stream: AsyncIterable<Uint8Array>): ByteCursor {
  return new ByteCursor(ctx.sourceVerified ? stream : verified(stream, ctx.desc, ctx.what), ctx.what);
}

/** One streamed PUT with the whole blob. */
async function putWhole(ctx: Ctx, session: Session): Promise<void> {
  const cursor = source(ctx, await ctx.open());
  try {
    await commit(ctx, session.location, cursor.take(ctx.desc.size, true), ctx.desc.size);
  } finally {
    await cursor.close();
  }
}

/** PATCH chunks in order, resuming after failures, then PUT with the digest. */
async function putChunks(ctx: Ctx, session: Session, chunk: number): Promise<void> {
  const { size } = ctx.desc;
  const policy = ctx.client.transport.retry;
  let location = session.location;
  let cursor = source(ctx, await ctx.open());
  try {
    for (let failures = 0; cursor.position < size; ) {
      const start = cursor.position;
      const end = Math.min(start + chunk, size);
      try {
        const res = await ctx.client.call(ctx.ref.registry, {
          method: 'PATCH',
          target: location,
          scopes: ctx.scopes,
          what: 'upload',
          expect: [202, 204],
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${start}-${end - 1}`,
            'content-length': String(end - start),
          },
          body: cursor.take(end - start, end === size),
          signal: ctx.signal,
        });
        await discard(res);
        location = locationOf(res);
        const stored = storedBytes(res);
        if (stored !== undefined && stored !== end) {
          throw outOfSync(ctx, `the registry holds ${stored} bytes after a chunk ending at ${end}`);
        }
      } catch (e) {
        // 416: the registry holds a different amount than we thought; ask it, like after a reset.
        const resync = e instanceof RegistryError && e.status === 416;
        failures++;
        const delay = resync ? backoffDelay(failures, policy) : retryDelay(e, failures, policy, true);
        if (delay === undefined || failures >= policy.attempts) throw e;
        await sleep(delay, ctx.client.transport.signalFor(ctx.signal));
        const status = await uploadStatus(ctx, location);
        location = status.location;
        await cursor.close();
        cursor = source(ctx, await ctx.open());
        await cursor.skip(status.stored);
      }
    }
    await cursor.finish();
    await commit(ctx, location, undefined, 0);
  } finally {
    await cursor.close();
  }
}

/** PUT <location>?digest=, optionally with the (last) bytes as body. */
async function commit(
  ctx: Ctx,
  location: URL,
  body: AsyncIterable<Uint8Array> | undefined,
  length: number,
): Promise<void> {
  const url = new URL(location);
  url.searchParams.set('digest', ctx.desc.digest);
  const res = await ctx.client.call(ctx.ref.registry, {
    method: 'PUT',
    target: url,
    scopes: ctx.scopes,
    what: 'upload',
    expect: [201, 204],
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(length) },
    ...(body ? { body } : {}),
    signal: ctx.signal,
  });
  await discard(res);
  const said = header(res.headers, 'docker-content-digest');
  const alg = digestAlgorithm(ctx.desc.digest);
  if (said?.startsWith(`${alg}:`) && said !== ctx.desc.digest) {
    throw new VouchError('DIGEST_MISMATCH', `${ctx.what}: the registry stored it as ${said}`);
  }
}

/** Bytes the registry holds for an upload, from `Range: 0-<last>`. */
function storedBytes(res: HttpResponse): number | undefined {
  const m = /^(?:bytes=)?0-(\d+)$/.exec(header(res.headers, 'range')?.trim() ?? '');
  return m ? Number(m[1]) + 1 : undefined;
}

function outOfSync(ctx: Ctx, why: string): RegistryError {
  return new RegistryError('UPLOAD_FAILED', `${ctx.what}: ${why}`, {
    status: 0,
    url: '',
    retryable: 'always',
  });
}

/** Ask the registry how far the upload got; a lost session restarts the whole upload. */
async function uploadStatus(ctx: Ctx, location: URL): Promise<{ location: URL; stored: number }> {
  let res: HttpResponse;
  try {
    res = await ctx.client.call(ctx.ref.registry, {
      method: 'GET',
      target: location,
      scopes: ctx.scopes,
      what: 'upload',
      expect: [200, 204],
      signal: ctx.signal,
    });
  } catch (e) {
    throw new RegistryError(
      'UPLOAD_FAILED',
      `${ctx.what}: the upload session was lost (${(e as Error).message})`,
      {
        status: e instanceof RegistryError ? e.status : 0,
        url: redactUrl(location),
        retryable: 'always',
        cause: e,
      },
    );
  }
  await discard(res);
  // "0-0" may mean zero or one byte (distribution 2.8): take zero, the registry corrects us.
  const last = storedBytes(res);
  return {
    location: header(res.headers, 'location') ? locationOf(res) : location,
    stored: last === 1 ? 0 : (last ?? 0),
  };
}

/** Best effort: free the registry's upload state; failures do not matter. */
async function cancel(ctx: Ctx, location: URL): Promise<void> {
  try {
    const res = await ctx.client.call(ctx.ref.registry, {
      method: 'DELETE',
      target: location,
      scopes: ctx.scopes,
      what: 'upload',
      expect: [200, 202, 204, 404],
      noRetry: true,
    });
    await discard(res);
  } catch {
    // the session expires on its own
  }
}
