/**
 * Ordered parallel decoding: tasks go to worker threads (two in flight each, so a worker never
 * waits for the importer), results come back in task order so the import is deterministic
 * whatever the scheduling. With size 0 the tasks run in this thread, one at a time.
 */
import { Worker } from 'node:worker_threads';
import { type ErrorCode, VouchError } from '../../errors.ts';
import { type DecodeBatch, type DecodeTask, runDecodeTask } from './decode.ts';

type Reply =
  | { seq: number; batch: DecodeBatch }
  | { seq: number; error: { code: ErrorCode; message: string; hint?: string } };

const IN_FLIGHT_PER_WORKER = 2;

export class DecodePool {
  readonly size: number;
  #workers: Worker[] = [];
  #failure: Error | undefined;
  #wake: (() => void) | undefined;
  #results = new Map<number, DecodeBatch | Error>();
  /** Sequence numbers never repeat, so a late reply from an abandoned run cannot pose as a new one. */
  #nextSeq = 0;

  constructor(size: number) {
    this.size = size;
  }

  /** Start the workers now (run() would otherwise start them on first use). */
  start(): void {
    if (this.#workers.length > 0 || this.size === 0) return;
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(new URL('./decode-worker.ts', import.meta.url));
      w.on('message', (r: Reply) => {
        this.#results.set(
          r.seq,
          'error' in r
            ? new VouchError(r.error.code, r.error.message, r.error.hint ? { hint: r.error.hint } : {})
            : r.batch,
        );
        this.#wake?.();
      });
      w.on('error', (e) => {
        this.#failure = new VouchError('INTERNAL', `decode worker failed: ${e.message}`, { cause: e });
        this.#wake?.();
      });
      w.on('exit', (code) => {
        if (code !== 0 && !this.#failure) {
          this.#failure = new VouchError('INTERNAL', `decode worker exited with code ${code}`);
          this.#wake?.();
        }
      });
      this.#workers.push(w);
    }
  }

  /** Decode `tasks`, yielding one batch per task in task order. */
  async *run(tasks: DecodeTask[], signal?: AbortSignal): AsyncGenerator<DecodeBatch> {
    if (this.size === 0) {
      for (const t of tasks) {
        signal?.throwIfAborted();
        yield runDecodeTask(t);
        // Let timers, progress and abort handlers run between tasks.
        await new Promise((r) => setImmediate(r));
      }
      return;
    }
    this.start();
    this.#results.clear();
    const base = this.#nextSeq;
    this.#nextSeq += tasks.length;
    const busy = new Map<Worker, number>(this.#workers.map((w) => [w, 0]));
    const owner = new Map<number, Worker>();
    let next = 0;
    const dispatch = () => {
      for (const w of this.#workers) {
        while (next < tasks.length && busy.get(w)! < IN_FLIGHT_PER_WORKER) {
          owner.set(base + next, w);
          busy.set(w, busy.get(w)! + 1);
          w.postMessage({ seq: base + next, task: tasks[next] });
          next++;
        }
      }
    };
    dispatch();
    for (let want = base; want < base + tasks.length; want++) {
      while (!this.#results.has(want)) {
        if (this.#failure) throw this.#failure;
        signal?.throwIfAborted();
        await new Promise<void>((r) => {
          this.#wake = r;
        });
        this.#wake = undefined;
      }
      const r = this.#results.get(want)!;
      this.#results.delete(want);
      const w = owner.get(want)!;
      owner.delete(want);
      busy.set(w, busy.get(w)! - 1);
      if (r instanceof Error) throw r;
      dispatch();
      yield r;
    }
  }

  async close(): Promise<void> {
    const ws = this.#workers;
    this.#workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
