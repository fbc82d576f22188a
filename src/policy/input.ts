/**
 * A decoded in-toto statement as CEL variables. Objects become Maps so that a key is found only
 * when the statement has it (no prototype lookups), and anything that is not plain JSON is
 * refused rather than guessed at.
 */
import type { CelInput } from '@bufbuild/cel';
import { VouchError } from '../errors.ts';
import type { PolicyBindings } from './expression.ts';

const MAX_DEPTH = 512;

export function statementBindings(statement: unknown): PolicyBindings {
  if (typeof statement !== 'object' || statement === null || Array.isArray(statement)) {
    throw new VouchError(
      'STATEMENT_INVALID',
      `a policy is evaluated over a statement object, not ${statement === null ? 'null' : Array.isArray(statement) ? 'an array' : typeof statement}`,
    );
  }
  const converted = toCel(statement, 'statement', 0) as Map<string, CelInput>;
  return {
    statement: converted,
    predicateType: converted.get('predicateType') ?? null,
    predicate: converted.get('predicate') ?? null,
    subject: converted.get('subject') ?? null,
  };
}

function toCel(v: unknown, path: string, depth: number): CelInput {
  if (depth > MAX_DEPTH) throw invalid(path, `nested more than ${MAX_DEPTH} levels deep`);
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw invalid(path, `${v} is not a JSON number`);
    return v;
  }
  // undefined reads as JSON.stringify writes it: a missing key, or null inside a list.
  if (Array.isArray(v))
    return v.map((x, i) => (x === undefined ? null : toCel(x, `${path}[${i}]`, depth + 1)));
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) throw invalid(path, 'is not a plain JSON object');
    const out = new Map<string, CelInput>();
    for (const [k, x] of Object.entries(v))
      if (x !== undefined) out.set(k, toCel(x, `${path}.${k}`, depth + 1));
    return out;
  }
  throw invalid(path, `a ${typeof v} is not JSON`);
}

function invalid(path: string, problem: string): VouchError {
  return new VouchError('STATEMENT_INVALID', `statement for policy evaluation: ${path} ${problem}`);
}
