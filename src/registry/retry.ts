import { VouchError } from '../errors.ts';
import { RegistryError } from './errors.ts';

export interface RetryPolicy {
  /** Total tries, the first included. */
  attempts: number;
  baseDelayMs: number;
  /** Cap of one backoff step. */
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the error goes to the caller. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 4,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 60_000,
};

export function retryPolicy(o?: { attempts: number; baseDelayMs: number }): RetryPolicy {
  if (!o) return DEFAULT_RETRY;
  return { ...DEFAULT_RETRY, attempts: Math.max(1, Math.floor(o.attempts)), baseDelayMs: o.baseDelayMs };
}

/**
 * Worth another try? Rate limits, gateway errors and dropped connections are; 4xx answers
 * (auth, validation) never are; a 500 only when repeating the request cannot do harm.
 */
export function isTransient(e: unknown, idempotent: boolean): boolean {
  if (!(e instanceof RegistryError)) return false;
  return e.retryable === 'always' || (e.retryable === 'idempotent' && idempotent);
}

/** Exponential backoff with jitter: uniform in [base/2, base * 2^(n-1)], capped at maxDelayMs. */
export function backoffDelay(retry: number, p: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(p.baseDelayMs / 2 + random() * Math.max(0, ceiling - p.baseDelayMs / 2));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new VouchError('ABORTED', 'aborted', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new VouchError('ABORTED', 'aborted', { cause: signal?.reason }));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * How long to wait before retry number `retry` (1-based) after `e`, or undefined to give up.
 * A Retry-After the registry sent wins over backoff.
 */
export function retryDelay(
  e: unknown,
  retry: number,
  p: RetryPolicy,
  idempotent: boolean,
): number | undefined {
  if (retry >= p.attempts || !isTransient(e, idempotent)) return undefined;
  const after = e instanceof RegistryError ? e.retryAfterMs : undefined;
  if (after !== undefined) return after > p.maxRetryAfterMs ? undefined : after;
  return backoffDelay(retry, p);
}

/** Run `op` until it succeeds, fails for good, or the policy runs out of attempts. */
export async function withRetry<T>(
  p: RetryPolicy,
  op: (attempt: number) => Promise<T>,
  o: { idempotent: boolean; signal?: AbortSignal | undefined },
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (e) {
      const delay = retryDelay(e, attempt, p, o.idempotent);
      if (delay === undefined) throw e;
      await sleep(delay, o.signal);
    }
  }
}
