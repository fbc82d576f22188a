import { VouchError } from '../errors.ts';
import { type Digest, hasherFor } from './digest.ts';

export interface Expected {
  digest: Digest;
  size: number;
}

/**
 * Pass bytes through while hashing them; refuse more bytes than declared and fail at the end
 * when the size or digest differ. Consumers must treat the data as unconfirmed until the
 * iteration finishes without error (write to a temp file, rename after).
 */
export async function* verified(
  src: AsyncIterable<Uint8Array>,
  want: Expected,
  what = 'blob',
): AsyncGenerator<Uint8Array> {
  const h = hasherFor(want.digest);
  let n = 0;
  for await (const chunk of src) {
    n += chunk.byteLength;
    if (n > want.size) {
      throw new VouchError(
        'SIZE_MISMATCH',
        `${what} ${want.digest}: more than the declared ${want.size} bytes`,
      );
    }
    h.update(chunk);
    yield chunk;
  }
  checkEnd(h.digest('hex'), n, want, what);
}

/** Verify bytes held in memory (manifests, configs). Returns them unchanged. */
export function verifyBytes(bytes: Uint8Array, want: Expected, what = 'blob'): Uint8Array {
  if (bytes.byteLength !== want.size) {
    throw new VouchError(
      'SIZE_MISMATCH',
      `${what} ${want.digest}: expected ${want.size} bytes, found ${bytes.byteLength}`,
    );
  }
  checkEnd(hasherFor(want.digest).update(bytes).digest('hex'), bytes.byteLength, want, what);
  return bytes;
}

function checkEnd(hex: string, n: number, want: Expected, what: string): void {
  if (n !== want.size) {
    throw new VouchError('SIZE_MISMATCH', `${what} ${want.digest}: expected ${want.size} bytes, found ${n}`);
  }
  const alg = want.digest.slice(0, want.digest.indexOf(':'));
  const got = `${alg}:${hex}`;
  if (got !== want.digest) {
    throw new VouchError('DIGEST_MISMATCH', `${what} digest mismatch: expected ${want.digest}, found ${got}`);
  }
}
