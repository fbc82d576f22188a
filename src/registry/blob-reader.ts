import type { Readable } from 'node:stream';
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
        for await (const c of bodyChunks(res.body)) {
          let chunk = c;
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

/** Chunks buffered before the socket is paused (the parser delivers up to 64 KiB at a time). */
const QUEUED_CHUNKS = 16;

/**
 * The body's chunks as the HTTP parser hands them over. Cheaper than the stream's own async
 * iterator for large blobs: that one keeps the stream at its 64 KiB mark, so the socket is
 * stopped and restarted for every chunk, and read() may concatenate (copy) what is buffered.
 */
export async function* bodyChunks(body: Readable): AsyncGenerator<Uint8Array> {
  const queue: Uint8Array[] = [];
  let ended = false;
  let failed: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  body.on('data', (c: Uint8Array) => {
    queue.push(c);
    if (queue.length >= QUEUED_CHUNKS) body.pause();
    notify();
  });
  body.on('end', () => {
    ended = true;
    notify();
  });
  body.on('error', (e) => {
    failed ??= e;
    notify();
  });
  body.on('close', () => {
    // A body cut short must fail (and be resumed), never pass for a complete one.
    if (!ended) failed ??= Object.assign(new Error('the connection closed mid-body'), { code: 'ECONNRESET' });
    notify();
  });
  for (;;) {
    const c = queue.shift();
    if (c) {
      yield c;
      continue;
    }
    if (failed !== undefined) throw failed;
    if (ended) return;
    body.resume();
    await new Promise<void>((r) => {
      wake = r;
    });
  }
}
