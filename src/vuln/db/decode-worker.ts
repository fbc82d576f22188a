/**
 * Worker thread entry: decode tasks from the pool, answer with packed batches or an error.
 * The pool starts it with NODE_COMPILE_CACHE set (see pool.ts), so its modules load from the
 * compile cache, already type-stripped.
 */
import { parentPort } from 'node:worker_threads';
import { isVouchError } from '../../errors.ts';
import { type DecodeTask, runDecodeTask, transferList } from './decode.ts';

const port = parentPort;
if (!port) throw new Error('decode-worker.ts must run as a worker thread');

port.on('message', (msg: { seq: number; task: DecodeTask }) => {
  try {
    const batch = runDecodeTask(msg.task);
    port.postMessage({ seq: msg.seq, batch }, transferList(batch));
  } catch (e) {
    const error = isVouchError(e)
      ? { code: e.code, message: e.message, hint: e.hint }
      : { code: 'INTERNAL', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    port.postMessage({ seq: msg.seq, error });
  }
});
