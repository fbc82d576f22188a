/**
 * What an image signature signs. Legacy (cosign ≤ v2, skopeo): the simple-signing payload, bytes
 * exactly as Go's json.Marshal writes them. cosign v3: an in-toto Statement v1 with predicate type
 * `https://sigstore.dev/cosign/sign/v1` in a DSSE envelope. Both name the image by digest; that
 * digest is what ties a signature to one image (a signature moved elsewhere is SUBJECT_MISMATCH).
 */

import { findSubject, makeStatement, type Statement } from '../../attest/statement.ts';
import { type Digest, digestAlgorithm, digestHex } from '../../digest/digest.ts';
import { VouchError } from '../../errors.ts';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';

/** The parsed simple-signing payload (what `cosign verify` prints, one per signature). */
export interface SimpleSigning {
  critical: {
    identity: { 'docker-reference': string };
    image: { 'docker-manifest-digest': string };
    type: string;
  };
  optional: Record<string, unknown> | null;
}

/**
 * Go's encoding/json string escaping: `<`, `>`, `&`, U+2028 and U+2029 as \u escapes (HTML-safe),
 * lone surrogates replaced by U+FFFD (Go encodes bytes, never half a character).
 */
function goString(s: string): string {
  return JSON.stringify(s.toWellFormed()).replace(/[<>&\u2028\u2029]/g, (c) => {
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** A Go map[string]interface{} of strings: keys sorted by their UTF-8 bytes, as json.Marshal does. */
function goStringMap(m: Record<string, string>): string {
  const keys = Object.keys(m).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${goString(k)}:${goString(m[k]!)}`).join(',')}}`;
}

/**
 * The payload bytes cosign signs for `image` in repository `repository` (docker-reference, no tag).
 * `optional` is null without annotations, as in cosign.
 */
export function simpleSigningPayload(
  repository: string,
  image: Digest,
  annotations?: Record<string, string>,
): Uint8Array {
  const optional = annotations && Object.keys(annotations).length > 0 ? goStringMap(annotations) : 'null';
  const text =
    `{"critical":{"identity":{"docker-reference":${goString(repository)}},` +
    `"image":{"docker-manifest-digest":${goString(image)}},` +
    `"type":${goString(COSIGN_SIGNATURE_TYPE)}},"optional":${optional}}`;
  return Buffer.from(text, 'utf8');
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parse the verified payload bytes and check that they sign `image`. A payload that is not a
 * cosign simple-signing payload is SIGNATURE_INVALID (the signature does not vouch for an image);
 * one for another digest is SUBJECT_MISMATCH.
 */
export function checkSimpleSigning(bytes: Uint8Array, image: Digest, what: string): SimpleSigning {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new VouchError('SIGNATURE_INVALID', `${what}: the signed payload is not JSON`, { cause: e });
  }
  const critical = isObject(v) ? v.critical : undefined;
  if (!isObject(v) || !isObject(critical)) {
    throw new VouchError('SIGNATURE_INVALID', `${what}: the signed payload has no "critical" object`);
  }
  if (critical.type !== COSIGN_SIGNATURE_TYPE) {
    throw new VouchError(
      'SIGNATURE_INVALID',
      `${what}: critical.type is ${JSON.stringify(critical.type)}, expected "${COSIGN_SIGNATURE_TYPE}"`,
    );
  }
  const img = critical.image;
  const signed = isObject(img) ? img['docker-manifest-digest'] : undefined;
  if (signed !== image) {
    throw new VouchError(
      'SUBJECT_MISMATCH',
      `${what}: the signature is for ${typeof signed === 'string' ? signed : '(no digest)'}, not ${image}`,
      { hint: 'the signature was made for another image (copied or moved from it)' },
    );
  }
  const identity = critical.identity;
  const ref = isObject(identity) ? identity['docker-reference'] : undefined;
  const optional = v.optional;
  return {
    critical: {
      identity: { 'docker-reference': typeof ref === 'string' ? ref : '' },
      image: { 'docker-manifest-digest': image },
      type: COSIGN_SIGNATURE_TYPE,
    },
    optional: isObject(optional) ? optional : null,
  };
}

/** cosign v3's image signature statement: one subject with only the digest (+ `-a` annotations). */
export function cosignSignStatement(image: Digest, annotations?: Record<string, string>): Statement {
  const subject = {
    digest: { [digestAlgorithm(image)]: digestHex(image) },
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
  return makeStatement([subject], COSIGN_SIGN_PREDICATE_TYPE, {});
}

/** The statement's subject for `image`, or SUBJECT_MISMATCH naming what it covers instead. */
export function checkStatementSubject(statement: Statement, image: Digest, what: string): void {
  if (findSubject(statement, digestAlgorithm(image), digestHex(image))) return;
  const named = statement.subject
    .flatMap((s) => Object.entries(s.digest ?? {}).map(([a, h]) => `${a}:${h}`))
    .join(', ');
  throw new VouchError(
    'SUBJECT_MISMATCH',
    `${what}: the statement covers ${named || '(nothing)'}, not ${image}`,
    {
      hint: 'the attestation was made for another image',
    },
  );
}

/**
 * The claims `vouch verify --output json` prints for a v3 statement signature, in the shape of a
 * simple-signing payload (as cosign v3 does) so one JSON reader handles both schemes.
 */
export function claimsFromStatement(statement: Statement, repository: string, image: Digest): SimpleSigning {
  const subject = findSubject(statement, digestAlgorithm(image), digestHex(image));
  const ann = subject?.annotations;
  return {
    critical: {
      identity: { 'docker-reference': repository },
      image: { 'docker-manifest-digest': image },
      type: statement.predicateType,
    },
    optional: ann && Object.keys(ann).length > 0 ? { ...ann } : {},
  };
}

/** JSON text of a statement as signed (compact, key order as built). */
export function encodeStatement(statement: Statement): Uint8Array {
  return Buffer.from(JSON.stringify(statement), 'utf8');
}
