import { pipeline, Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { isVouchError, VouchError } from '../errors.ts';
import { type Compression, sniffCompression } from './media-types.ts';

/**
 * Decompress a stream. With `compression: 'auto'` the first bytes decide (archives and some
 * registries label layers wrongly). Corrupt input becomes LAYER_INVALID; an error of the input
 * itself (a failed digest check, a read error) comes out unchanged.
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
  async function* all(): AsyncGenerator<Uint8Array> {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  if (kind === 'none') {
    yield* all();
    return;
  }
  const z =
    kind === 'gzip'
      ? createGunzip({ chunkSize: 256 * 1024 })
      : createZstdDecompress({ chunkSize: 256 * 1024 });
  // pipeline() destroys every stream with the first error, so an input failure ends the output too.
  let inputError: unknown;
  const input = Readable.from(all());
  input.on('error', (e) => {
    inputError ??= e;
  });
  const out = pipeline(input, z, () => {});
  try {
    for await (const chunk of out) yield chunk as Uint8Array;
  } catch (e) {
    if (inputError !== undefined) throw inputError;
    if (isVouchError(e)) throw e;
    const code = String((e as { code?: unknown }).code ?? '');
    if (code.startsWith('Z_') || code.startsWith('ZSTD_') || code.startsWith('ERR_')) {
      throw new VouchError('LAYER_INVALID', `${what}: corrupt ${kind} data (${(e as Error).message})`, {
        cause: e,
      });
    }
    throw e;
  } finally {
    input.destroy();
    z.destroy();
    await it.return?.();
  }
}
