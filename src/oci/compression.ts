import { Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { VouchError } from '../errors.ts';
import { type Compression, sniffCompression } from './media-types.ts';

/**
 * Decompress a stream. With `compression: 'auto'` the first bytes decide (archives and some
 * registries label layers wrongly). Corrupt input becomes a LAYER_INVALID error.
 */
export async function* decompress(
  src: AsyncIterable<Uint8Array>,
  compression: Compression | 'auto',
  what = 'layer',
): AsyncGenerator<Uint8Array> {
  const it = src[Symbol.asyncIterator]();
  let first = await it.next();
  while (!first.done && first.value.byteLength === 0) first = await it.next();
  if (first.done) return;
  const head = first.value;
  const kind = compression === 'auto' ? sniffCompression(head) : compression;
  const rest: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: () => it.next(),
      return: async (v?: unknown) => (it.return ? it.return(v) : { done: true as const, value: undefined }),
    }),
  };
  async function* all(): AsyncGenerator<Uint8Array> {
    yield head;
    yield* rest;
  }
  if (kind === 'none') {
    yield* all();
    return;
  }
  const z = kind === 'gzip' ? createGunzip() : createZstdDecompress();
  const out = Readable.from(all()).pipe(z);
  try {
    for await (const chunk of out) yield chunk as Uint8Array;
  } catch (e) {
    if (
      (e as { code?: string }).code?.startsWith('Z_') ||
      (e as { code?: string }).code?.startsWith('ERR_')
    ) {
      throw new VouchError('LAYER_INVALID', `${what}: corrupt ${kind} data (${(e as Error).message})`, {
        cause: e,
      });
    }
    throw e;
  } finally {
    z.destroy();
  }
}
