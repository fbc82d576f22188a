/**
 * Random access to a file that can only be streamed (an image's FileResolver opens files as
 * streams), for the binary formats the language catalogers read: ELF section tables, zip
 * central directories. A FileByteSource reads the ranges it is asked for in one streaming
 * pass each and stops as soon as the last wanted byte has gone by, so a header check costs
 * one small read and a section near the start never streams the rest of the file. Ranges
 * once loaded are kept (within a budget) for later reads.
 *
 * Shared by the golang, rust and java catalogers.
 */
import type { FileResolver } from '../../../fs/merged.ts';

/** Input a parser cannot make sense of: caught by the catalogers and reported as a problem. */
export class FormatError extends Error {
  override name = 'FormatError';
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /** Bytes [offset, offset + length); FormatError when that is outside the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Load these ranges together (one pass for a streamed file); a hint, never required. */
  prefetch(ranges: readonly ByteRange[]): Promise<void>;
  /**
   * Load `first`, then, in the same pass as far as the stream has not gone past them, the
   * ranges `then` works out from what is loaded (see peek). A hint, like prefetch.
   */
  prefetchThen(first: readonly ByteRange[], then: () => readonly ByteRange[]): Promise<void>;
  /** Bytes already loaded (or in memory), without reading; undefined when not loaded. */
  peek(offset: number, length: number): Uint8Array | undefined;
  /**
   * Hand each range to `fn` as soon as its bytes are in, in order of where the ranges end, in
   * one pass, without keeping them: memory is the largest range, not their sum. Ranges may
   * overlap; they are clamped to the file (fn gets the range object it was given, and the
   * bytes that exist).
   */
  visit(
    ranges: readonly ByteRange[],
    fn: (range: ByteRange, bytes: Uint8Array) => Promise<void>,
  ): Promise<void>;
}

/** A ByteSource over bytes already in memory (a nested jar, a test). */
export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    async read(offset, length) {
      checkRange(offset, length, bytes.byteLength);
      return bytes.subarray(offset, offset + length);
    },
    async prefetch() {},
    async prefetchThen() {},
    peek(offset, length) {
      return offset >= 0 && length >= 0 && offset + length <= bytes.byteLength
        ? bytes.subarray(offset, offset + length)
        : undefined;
    },
    async visit(ranges, fn) {
      for (const { r, c } of byEnd(ranges, bytes.byteLength)) {
        await fn(r, bytes.subarray(c.offset, c.offset + c.length));
      }
    },
  };
}

/** Ranges with their clamped extent, sorted by where they end. */
function byEnd(ranges: readonly ByteRange[], size: number): { r: ByteRange; c: ByteRange }[] {
  return ranges
    .map((r) => ({ r, c: clampRange(r, size) }))
    .sort((a, b) => a.c.offset + a.c.length - (b.c.offset + b.c.length) || a.c.offset - b.c.offset);
}

export interface FileByteSourceOptions {
  /** Most bytes held in memory at once (default 96 MiB). */
  maxHeldBytes?: number;
  /** Ranges closer than this are read as one (default 4 KiB). */
  mergeGap?: number;
}

/** A ByteSource over one regular file of a FileResolver, read by streaming passes. */
export class FileByteSource implements ByteSource {
  readonly size: number;
  /** Streaming passes made so far (for tests and tuning). */
  passes = 0;
  /** Bytes streamed so far, all passes together. */
  bytesStreamed = 0;
  readonly #files: FileResolver;
  readonly #path: string;
  readonly #maxHeld: number;
  readonly #gap: number;
  #held = 0;
  readonly #loaded: { offset: number; bytes: Uint8Array }[] = [];

  constructor(files: FileResolver, path: string, size: number, opts: FileByteSourceOptions = {}) {
    this.#files = files;
    this.#path = path;
    this.size = size;
    this.#maxHeld = opts.maxHeldBytes ?? 96 * 1024 ** 2;
    this.#gap = opts.mergeGap ?? 4096;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, this.size);
    const have = this.#get(offset, length);
    if (have) return have;
    await this.prefetch([{ offset, length }]);
    const got = this.#get(offset, length);
    if (!got) throw new FormatError(`could not read bytes ${offset}+${length}`);
    return got;
  }

  peek(offset: number, length: number): Uint8Array | undefined {
    return this.#get(offset, length);
  }

  async prefetchThen(first: readonly ByteRange[], then: () => readonly ByteRange[]): Promise<void> {
    const a = this.#plan(first);
    if (a.length === 0) return this.prefetch(then());
    let leftover: readonly ByteRange[] = [];
    await this.#pass(a, (pos) => {
      const now: ByteRange[] = [];
      const later: ByteRange[] = [];
      for (const r of this.#plan(then())) {
        const end = r.offset + r.length;
        // What went by already is either loaded (keep the rest of the range) or lost (later).
        if (r.offset >= pos) now.push(r);
        else if (end > pos && this.#get(r.offset, pos - r.offset))
          now.push({ offset: pos, length: end - pos });
        else if (end > pos || !this.#get(r.offset, r.length)) later.push(r);
      }
      leftover = later;
      return now;
    });
    if (leftover.length > 0) await this.prefetch(leftover);
  }

  /** Missing parts of `ranges`, clamped, sorted and merged when close; checked against the budget. */
  #plan(ranges: readonly ByteRange[]): ByteRange[] {
    const missing = ranges
      .map((r) => clampRange(r, this.size))
      .filter((r) => r.length > 0 && !this.#get(r.offset, r.length))
      .sort((a, b) => a.offset - b.offset);
    if (missing.length === 0) return [];
    const merged: ByteRange[] = [];
    for (const r of missing) {
      const last = merged.at(-1);
      if (last && r.offset <= last.offset + last.length + this.#gap) {
        last.length = Math.max(last.length, r.offset + r.length - last.offset);
      } else merged.push({ ...r });
    }
    const total = merged.reduce((n, r) => n + r.length, 0);
    if (this.#held + total > this.#maxHeld) {
      throw new FormatError(`needs more than ${this.#maxHeld} bytes of this file in memory`);
    }
    return merged;
  }

  async prefetch(ranges: readonly ByteRange[]): Promise<void> {
    const merged = this.#plan(ranges);
    if (merged.length > 0) await this.#pass(merged);
  }

  async visit(
    ranges: readonly ByteRange[],
    fn: (range: ByteRange, bytes: Uint8Array) => Promise<void>,
  ): Promise<void> {
    const todo = byEnd(ranges, this.size);
    if (todo.length === 0) return;
    this.passes++;
    const open = new Map<ByteRange, Uint8Array>();
    let next = 0;
    let pos = 0;
    const last = todo.at(-1)!.c;
    const end = last.offset + last.length;
    const iter = (await this.#files.open(this.#path))[Symbol.asyncIterator]();
    try {
      while (next < todo.length) {
        // Ranges complete (empty ones, or ending where the last chunk ended).
        while (next < todo.length && todo[next]!.c.offset + todo[next]!.c.length <= pos) {
          const { r } = todo[next++]!;
          const got = open.get(r) ?? new Uint8Array(0);
          open.delete(r);
          await fn(r, got);
        }
        if (next >= todo.length) break;
        const step = await iter.next();
        if (step.done) throw new FormatError(`file ends at byte ${pos}, expected at least ${end}`);
        const chunk = step.value;
        const cEnd = pos + chunk.byteLength;
        for (let i = next; i < todo.length; i++) {
          const { r, c } = todo[i]!;
          if (c.offset >= cEnd || c.offset + c.length <= pos) continue;
          let buf = open.get(r);
          if (!buf) {
            buf = new Uint8Array(c.length);
            open.set(r, buf);
          }
          const from = Math.max(pos, c.offset);
          const to = Math.min(cEnd, c.offset + c.length);
          buf.set(chunk.subarray(from - pos, to - pos), from - c.offset);
        }
        this.bytesStreamed += chunk.byteLength;
        pos = cEnd;
      }
    } finally {
      await iter.return?.();
    }
  }

  /**
   * One streaming pass capturing `want`; when they are all in, `more` (if given) may add
   * ranges at or after the current position, captured before the pass stops.
   */
  async #pass(want: ByteRange[], more?: (pos: number) => ByteRange[]): Promise<void> {
    this.passes++;
    let bufs = want.map((r) => ({ offset: r.offset, bytes: new Uint8Array(r.length) }));
    let end = Math.max(...want.map((r) => r.offset + r.length));
    let staged = more === undefined;
    const keep = () => {
      for (const b of bufs) {
        this.#loaded.push(b);
        this.#held += b.bytes.byteLength;
      }
      bufs = [];
    };
    const copy = (chunk: Uint8Array, at: number) => {
      const cEnd = at + chunk.byteLength;
      for (const b of bufs) {
        const from = Math.max(at, b.offset);
        const to = Math.min(cEnd, b.offset + b.bytes.byteLength);
        if (from < to) b.bytes.set(chunk.subarray(from - at, to - at), from - b.offset);
      }
    };
    let pos = 0;
    for await (const chunk of await this.#files.open(this.#path)) {
      const start = pos;
      copy(chunk, start);
      this.bytesStreamed += chunk.byteLength;
      pos = start + chunk.byteLength;
      if (pos < end) continue;
      keep();
      if (staged) break;
      staged = true;
      // The next stage may start inside the chunk just read: it is copied again.
      const next = more!(start);
      if (next.length === 0) break;
      bufs = next.map((r) => ({ offset: r.offset, bytes: new Uint8Array(r.length) }));
      end = Math.max(...next.map((r) => r.offset + r.length));
      copy(chunk, start);
      if (pos >= end) break;
    }
    if (pos < end) throw new FormatError(`file ends at byte ${pos}, expected at least ${end}`);
    keep();
  }

  #get(offset: number, length: number): Uint8Array | undefined {
    for (const l of this.#loaded) {
      if (offset >= l.offset && offset + length <= l.offset + l.bytes.byteLength) {
        return l.bytes.subarray(offset - l.offset, offset - l.offset + length);
      }
    }
    // Across loaded pieces that touch (a head read, then the rest of a range in the same pass).
    const parts: Uint8Array[] = [];
    let at = offset;
    const end = offset + length;
    while (at < end) {
      const l = this.#loaded.find((x) => at >= x.offset && at < x.offset + x.bytes.byteLength);
      if (!l) return undefined;
      const to = Math.min(end, l.offset + l.bytes.byteLength);
      parts.push(l.bytes.subarray(at - l.offset, to - l.offset));
      at = to;
    }
    return length === 0 ? new Uint8Array(0) : Buffer.concat(parts);
  }
}

function checkRange(offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new FormatError(`bad range ${offset}+${length}`);
  }
  if (offset + length > size) {
    throw new FormatError(`range ${offset}+${length} is past the end of the file (${size} bytes)`);
  }
}

function clampRange(r: ByteRange, size: number): ByteRange {
  const offset = Math.max(0, Math.min(r.offset, size));
  return { offset, length: Math.max(0, Math.min(r.offset + r.length, size) - offset) };
}
