import { VouchError } from '../errors.ts';

/**
 * Cut a byte stream into exact-length pieces (upload chunks) without copying: source chunks are
 * split with subarray and the remainder kept for the next piece.
 */
export class ByteCursor {
  readonly #it: AsyncIterator<Uint8Array>;
  readonly #what: string;
  #left: Uint8Array | undefined;
  #ended = false;
  /** Bytes handed out or skipped so far. */
  position = 0;

  constructor(src: AsyncIterable<Uint8Array>, what = 'blob') {
    this.#it = src[Symbol.asyncIterator]();
    this.#what = what;
  }

  async #next(): Promise<Uint8Array | undefined> {
    if (this.#left) {
      const c = this.#left;
      this.#left = undefined;
      return c;
    }
    if (this.#ended) return undefined;
    const r = await this.#it.next();
    if (r.done) {
      this.#ended = true;
      return undefined;
    }
    return r.value;
  }

  async #piece(need: number): Promise<Uint8Array> {
    const c = await this.#next();
    if (!c) {
      throw new VouchError('SIZE_MISMATCH', `${this.#what}: the source ended after ${this.position} bytes`);
    }
    if (c.byteLength > need) this.#left = c.subarray(need);
    const piece = c.byteLength > need ? c.subarray(0, need) : c;
    this.position += piece.byteLength;
    return piece;
  }

  /**
   * The next `n` bytes. With `last`, the end of the source is reached (so a verifying source
   * has checked its digest) before the final piece is released: a receiver never gets a
   * complete body whose check failed.
   */
  async *take(n: number, last = false): AsyncGenerator<Uint8Array> {
    let need = n;
    let held: Uint8Array | undefined;
    while (need > 0) {
      const piece = await this.#piece(need);
      need -= piece.byteLength;
      if (held && held.byteLength > 0) yield held;
      held = piece;
    }
    if (last) await this.finish();
    if (held && held.byteLength > 0) yield held;
  }

  async skip(n: number): Promise<void> {
    for (let need = n; need > 0; ) need -= (await this.#piece(need)).byteLength;
  }

  /** Read to the end of the source; any byte left over is an error. */
  async finish(): Promise<void> {
    for (let c = await this.#next(); c; c = await this.#next()) {
      if (c.byteLength > 0) {
        throw new VouchError(
          'SIZE_MISMATCH',
          `${this.#what}: the source has more than ${this.position} bytes`,
        );
      }
    }
  }

  async close(): Promise<void> {
    this.#left = undefined;
    if (!this.#ended) {
      this.#ended = true;
      await this.#it.return?.();
    }
  }
}
