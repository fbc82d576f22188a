import type { Expected } from '../digest/verify.ts';
import { VouchError } from '../errors.ts';
import { release, transportError } from './errors.ts';
import { type RetryPolicy, retryDelay, sleep } from './retry.ts';
import { type HttpResponse, header } from './transport.ts';

/**
 * Stream a blob body; when the connection drops mid-way, ask again from the byte we stopped at
 * (`Range`), or skip what we already have if the registry ignores ranges. Not verified here:
 * the caller wraps the result in verified().
 */
export async function openBlobStream(
  fetch: (offset: number) => Promise<HttpResponse>,
  want: Expected,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
): Promise<AsyncIterable<Uint8Array>> {
  const first = await fetch(0);
  const announced = header(first.headers, 'content-length');
  if (announced !== undefined && Number(announced) !== want.size) {
    release(first.body);
    throw new VouchError(
      'SIZE_MISMATCH',
      `blob ${want.digest}: the registry announces ${announced} bytes, expected ${want.size}`,
    );
  }
  return resume(first, fetch, want, policy, signal);
}

async function* resume(
  first: HttpResponse,
  fetch: (offset: number) => Promise<HttpResponse>,
  want: Expected,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  let res = first;
  let offset = 0;
  let skip = 0;
  try {
    for (let retry = 1; ; retry++) {
      try {
        for await (const c of res.body) {
          let chunk = c as Uint8Array;
          if (skip > 0) {
            if (chunk.byteLength <= skip) {
              skip -= chunk.byteLength;
              continue;
            }
            chunk = chunk.subarray(skip);
            skip = 0;
          }
          offset += chunk.byteLength;
          yield chunk;
        }
        return;
      } catch (e) {
        const err = transportError(e, 'GET', res.url);
        const delay = retryDelay(err, retry, policy, true);
        if (delay === undefined || offset >= want.size) throw err;
        await sleep(delay, signal);
        release(res.body);
        res = await fetch(offset);
        skip = res.status === 206 ? rangeSkip(res, offset, want) : offset;
      }
    }
  } finally {
    release(res.body);
  }
}

/** A 206 must start where we asked. */
function rangeSkip(res: HttpResponse, offset: number, want: Expected): number {
  const m = /^bytes (\d+)-/.exec(header(res.headers, 'content-range') ?? '');
  if (!m || Number(m[1]) !== offset) {
    release(res.body);
    throw new VouchError(
      'REGISTRY_ERROR',
      `blob ${want.digest}: asked to resume at byte ${offset}, the registry sent ${header(res.headers, 'content-range') ?? 'no Content-Range'}`,
    );
  }
  return 0;
}
