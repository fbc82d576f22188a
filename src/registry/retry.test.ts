import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError, VouchError } from '../errors.ts';
import { RegistryError } from './errors.ts';
import {
  backoffDelay,
  DEFAULT_RETRY,
  isTransient,
  retryDelay,
  retryPolicy,
  sleep,
  withRetry,
} from './retry.ts';

const err = (status: number, retryable: RegistryError['retryable'], retryAfterMs?: number) =>
  new RegistryError('REGISTRY_ERROR', `status ${status}`, { status, url: 'u', retryable, retryAfterMs });

test('isTransient: 5xx/429/resets yes, 500 only when idempotent, 4xx and other errors never', () => {
  assert.equal(isTransient(err(503, 'always'), false), true);
  assert.equal(isTransient(err(500, 'idempotent'), true), true);
  assert.equal(isTransient(err(500, 'idempotent'), false), false);
  assert.equal(isTransient(err(401, 'never'), true), false);
  assert.equal(isTransient(new VouchError('DIGEST_MISMATCH', 'x'), true), false);
  assert.equal(isTransient(new Error('boom'), true), false);
});

test('backoffDelay grows exponentially, stays within bounds, is capped', () => {
  const p = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(
    backoffDelay(1, p, () => 0),
    50,
  );
  assert.equal(
    backoffDelay(1, p, () => 1),
    100,
  );
  assert.equal(
    backoffDelay(3, p, () => 1),
    400,
  );
  assert.equal(
    backoffDelay(10, p, () => 1),
    1000,
  );
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(2, p);
    assert.ok(d >= 50 && d <= 200, String(d));
  }
});

test('retryDelay honours Retry-After, refuses excessive waits and exhausted policies', () => {
  const p = retryPolicy({ attempts: 3, baseDelayMs: 10 });
  assert.equal(retryDelay(err(429, 'always', 1500), 1, p, false), 1500);
  assert.equal(retryDelay(err(429, 'always', 10 * 60_000), 1, p, false), undefined);
  assert.equal(retryDelay(err(503, 'always'), 3, p, false), undefined);
  assert.equal(retryDelay(err(400, 'never'), 1, p, false), undefined);
});

test('withRetry retries transient failures and stops on permanent ones', async () => {
  const p = retryPolicy({ attempts: 4, baseDelayMs: 1 });
  let n = 0;
  const v = await withRetry(
    p,
    async () => {
      n++;
      if (n < 3) throw err(503, 'always');
      return 'ok';
    },
    { idempotent: true },
  );
  assert.equal(v, 'ok');
  assert.equal(n, 3);
  n = 0;
  await assert.rejects(
    withRetry(
      p,
      async () => {
        n++;
        throw new RegistryError('DENIED', 'no', { status: 403, url: 'u' });
      },
      { idempotent: true },
    ),
    (e) => isVouchError(e, 'DENIED'),
  );
  assert.equal(n, 1);
  n = 0;
  await assert.rejects(
    withRetry(
      p,
      async () => {
        n++;
        throw err(502, 'always');
      },
      { idempotent: true },
    ),
    (e) => e instanceof RegistryError && e.status === 502,
  );
  assert.equal(n, 4);
});

test('sleep is cut short by an abort', async () => {
  const ac = new AbortController();
  const t = Date.now();
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(sleep(5000, ac.signal), (e) => isVouchError(e, 'ABORTED'));
  assert.ok(Date.now() - t < 2000);
});
