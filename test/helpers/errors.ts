/** Assertions on vouch's errors, for assert.rejects / assert.throws. */
import assert from 'node:assert/strict';
import { type ErrorCode, isVouchError } from '../../src/errors.ts';

/**
 * A validator that accepts only a VouchError with `code` (and, when given, a message matching
 * `message`); anything else fails the test naming what came instead.
 */
export function vouchErrorWith(code: ErrorCode, message?: RegExp): (e: unknown) => true {
  return (e: unknown) => {
    assert.ok(
      isVouchError(e, code),
      `expected ${code}, got ${isVouchError(e) ? `${e.code}: ${e.message}` : String(e)}`,
    );
    if (message) assert.match(e.message, message);
    return true;
  };
}
