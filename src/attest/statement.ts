/**
 * in-toto Statement v1 (and v0.1, which slsa-github-generator and cosign's legacy attestations
 * still write): subjects by digest, a predicate type URI and a predicate.
 */
import { VouchError } from '../errors.ts';

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  content?: string;
  downloadLocation?: string;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

export interface Statement<P = unknown> {
  _type: typeof STATEMENT_V1 | typeof STATEMENT_V01;
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate?: P;
}

/** A v1 statement; subjects are copied as given (callers pass digests, e.g. `{ sha256: hex }`). */
export function makeStatement<P>(
  subject: ResourceDescriptor[],
  predicateType: string,
  predicate: P,
): Statement<P> {
  if (subject.length === 0)
    throw new VouchError('STATEMENT_INVALID', 'a statement needs at least one subject');
  return { _type: STATEMENT_V1, subject, predicateType, predicate };
}

/** Parse and check a statement from the verified payload bytes of an envelope. */
export function parseStatement(bytes: Uint8Array, what = 'in-toto statement'): Statement {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new VouchError('STATEMENT_INVALID', `${what} is not JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new VouchError('STATEMENT_INVALID', `${what} is not a JSON object`);
  }
  const o = json as Record<string, unknown>;
  if (o._type !== STATEMENT_V1 && o._type !== STATEMENT_V01) {
    throw new VouchError(
      'STATEMENT_INVALID',
      `${what}: _type ${JSON.stringify(o._type)} is not an in-toto statement`,
    );
  }
  if (typeof o.predicateType !== 'string' || o.predicateType === '') {
    throw new VouchError('STATEMENT_INVALID', `${what}: predicateType is missing`);
  }
  if (!Array.isArray(o.subject) || o.subject.length === 0) {
    throw new VouchError('STATEMENT_INVALID', `${what}: no subject`);
  }
  o.subject.forEach((s: unknown, i: number) => {
    const d = (s as ResourceDescriptor | null)?.digest;
    if (typeof s !== 'object' || s === null || typeof d !== 'object' || d === null) {
      throw new VouchError('STATEMENT_INVALID', `${what}: subject[${i}] has no digest`);
    }
    for (const [alg, v] of Object.entries(d)) {
      if (typeof v !== 'string')
        throw new VouchError('STATEMENT_INVALID', `${what}: subject[${i}].digest.${alg}`);
    }
  });
  return o as unknown as Statement;
}

/** The subject whose digest has `algorithm` = `hex` (lower-case compare), if any. */
export function findSubject(
  statement: Statement,
  algorithm: string,
  hex: string,
): ResourceDescriptor | undefined {
  const want = hex.toLowerCase();
  return statement.subject.find((s) => s.digest?.[algorithm]?.toLowerCase() === want);
}
