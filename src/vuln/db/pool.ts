/**
 * Ordered parallel decoding: tasks go to worker threads (a few in flight each, so a worker never
 * waits for the importer), results come back in task order so the import is deterministic
 * whatever the scheduling. With size 0 the tasks run in this thread, one at a time.
 *
 * The importing thread helps: while the result it needs next is not back yet, it decodes the
 * next task nobody has taken. So N workers give N + 1 decoders, and a machine with two cores
 * needs only one worker (a worker costs ~40 ms of CPU to start, and its code runs unoptimised
 * at first). While the workers start, this thread is already decoding.
 */
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type ErrorCode, VouchError } from '../../errors.ts';
import { type DecodeBatch, type DecodeTask, runDecodeTask } from './decode.ts';

type Reply =
  | { seq: number; batch: DecodeBatch }
  | { seq: number; error: { code: ErrorCode; message: string; hint?: string } };

/** Tasks queued per worker: enough to cover the time this thread spends on a task of its own. */
const IN_FLIGHT_PER_WORKER = 3;

/** Run one task here, its failure kept as the result (a worker's failure is reported the same way). */
function decodeHere(task: DecodeTask): DecodeBatch | Error {
  try {
    return runDecodeTask(task);
  } catch (e) {
    return e instanceof Error ? e : new VouchError('INTERNAL', String(e));
  }
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/**
 * The worker's environment: this process's, plus the compile cache directory. A worker only
 * reads its compiled (type-stripped) modules from the cache when the cache is on before its
 * entry module loads, which only NODE_COMPILE_CACHE does; then it starts in ~30 ms of CPU
 * instead of ~75 (no TypeScript loader). The directory is this process's cache, else the one
 * decode-worker.ts would turn on anyway. NODE_DISABLE_COMPILE_CACHE still wins.
 */
function workerEnv(): NodeJS.ProcessEnv {
  const dir = module.getCompileCacheDir?.() ?? join(tmpdir(), 'node-compile-cache');
  return { ...process.env, NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? dir };
}

/**
 * A worker inherits this process's flags, but not the code of `-e`: an inherited --input-type
 * then makes it refuse its own file (ERR_INPUT_TYPE_NOT_ALLOWED), as when vouch is loaded from
 * `node --input-type=module -e ...`. Only then are the flags passed, without those.
 */
function workerExecArgv(argv: readonly string[] = process.execArgv): string[] | undefined {
  if (!argv.some((a) => a.startsWith('--input-type'))) return undefined;
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--input-type' || ['-e', '--eval', '-p', '--print'].includes(a)) i++;
    else if (!a.startsWith('--input-type=') && !/^--(eval|print)=/.test(a)) out.push(a);
  }
  return out;
}

export class DecodePool {
  readonly size: number;
  /** Tasks this thread decoded itself while waiting for a worker (for tests and tuning). */
  decodedHere = 0;
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
    const env = workerEnv();
    const execArgv = workerExecArgv();
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(new URL('./decode-worker.ts', import.meta.url), {
        env,
        ...(execArgv ? { execArgv } : {}),
      });
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
        await nextTurn();
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
    for (let want = base; want < base + tasks.length; want++) {
      dispatch();
      while (!this.#results.has(want)) {
        if (this.#failure) throw this.#failure;
        signal?.throwIfAborted();
        if (next < tasks.length) {
          // Nothing to store yet: decode the next untaken task here, then let replies in.
          const seq = base + next;
          this.#results.set(seq, decodeHere(tasks[next++]!));
          this.decodedHere++;
          await nextTurn();
          continue;
        }
        await new Promise<void>((r) => {
          this.#wake = r;
        });
        this.#wake = undefined;
      }
      const r = this.#results.get(want)!;
      this.#results.delete(want);
      const w = owner.get(want);
      if (w) {
        owner.delete(want);
        busy.set(w, busy.get(w)! - 1);
      }
      if (r instanceof Error) throw r;
      yield r;
    }
  }

  async close(): Promise<void> {
    const ws = this.#workers;
    this.#workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
