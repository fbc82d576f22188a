/**
 * DSSE (Dead Simple Signing Envelope, secure-systems-lab/dsse v1): the pre-authentication
 * encoding that is signed, and the JSON envelope that carries payload and signatures.
 * Verification always works on the decoded payload bytes it checked, never on a re-parse.
 */
import { VouchError } from '../errors.ts';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const DSSE_ENVELOPE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';

export interface EnvelopeSignature {
  /** Unset in the JSON is the empty string. */
  keyid: string;
  sig: Uint8Array;
}

export interface Envelope {
  payloadType: string;
  payload: Uint8Array;
  signatures: EnvelopeSignature[];
}

/** Largest envelope vouch parses (statements with inline SBOMs can be large). */
export const MAX_ENVELOPE_BYTES = 64 * 1024 * 1024;

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in decimal bytes. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  const head = Buffer.from(`DSSEv1 ${type.byteLength} `, 'utf8');
  const mid = Buffer.from(` ${payload.byteLength} `, 'utf8');
  return Buffer.concat([head, type, mid, payload]);
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Decode standard or URL-safe base64, padded or not; anything else is an error. */
export function decodeBase64(s: unknown, what: string): Buffer {
  if (typeof s !== 'string' || !BASE64.test(s) || s.replace(/=+$/, '').length % 4 === 1) {
    throw new VouchError('ENVELOPE_INVALID', `${what} is not base64`);
  }
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** Parse an envelope from its JSON text or bytes; unknown fields are ignored, as the spec asks. */
export function parseEnvelope(input: Uint8Array | string, what = 'DSSE envelope'): Envelope {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size > MAX_ENVELOPE_BYTES) throw new VouchError('ENVELOPE_INVALID', `${what} is over 64 MiB`);
  let json: unknown;
  try {
    json = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
  } catch (e) {
    throw new VouchError('ENVELOPE_INVALID', `${what} is not JSON: ${(e as Error).message}`);
  }
  return envelopeFromJson(json, what);
}

export function envelopeFromJson(json: unknown, what = 'DSSE envelope'): Envelope {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new VouchError('ENVELOPE_INVALID', `${what} is not a JSON object`);
  }
  const o = json as Record<string, unknown>;
  if (typeof o.payloadType !== 'string' || o.payloadType === '') {
    throw new VouchError('ENVELOPE_INVALID', `${what}: payloadType is missing`);
  }
  if (typeof o.payload !== 'string') throw new VouchError('ENVELOPE_INVALID', `${what}: payload is missing`);
  if (!Array.isArray(o.signatures) || o.signatures.length === 0) {
    throw new VouchError('ENVELOPE_INVALID', `${what}: no signatures`);
  }
  const signatures = o.signatures.map((s: unknown, i: number) => {
    if (typeof s !== 'object' || s === null) {
      throw new VouchError('ENVELOPE_INVALID', `${what}: signatures[${i}] is not an object`);
    }
    const r = s as Record<string, unknown>;
    if (r.keyid !== undefined && r.keyid !== null && typeof r.keyid !== 'string') {
      throw new VouchError('ENVELOPE_INVALID', `${what}: signatures[${i}].keyid is not a string`);
    }
    const sig = decodeBase64(r.sig, `${what}: signatures[${i}].sig`);
    if (sig.byteLength === 0)
      throw new VouchError('ENVELOPE_INVALID', `${what}: signatures[${i}].sig is empty`);
    return { keyid: typeof r.keyid === 'string' ? r.keyid : '', sig };
  });
  return {
    payloadType: o.payloadType,
    payload: decodeBase64(o.payload, `${what}: payload`),
    signatures,
  };
}

/** The envelope's JSON object (standard base64, keyid always present as cosign writes it). */
export function envelopeToJson(e: Envelope): {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
} {
  return {
    payloadType: e.payloadType,
    payload: Buffer.from(e.payload).toString('base64'),
    signatures: e.signatures.map((s) => ({ keyid: s.keyid, sig: Buffer.from(s.sig).toString('base64') })),
  };
}

export function encodeEnvelope(e: Envelope): Buffer {
  return Buffer.from(JSON.stringify(envelopeToJson(e)), 'utf8');
}

/** Sign `payload` with each signer (bytes in, raw signature out) and wrap it in an envelope. */
export async function signEnvelope(
  payloadType: string,
  payload: Uint8Array,
  signers: { keyid?: string; sign(data: Uint8Array): Promise<Uint8Array> | Uint8Array }[],
): Promise<Envelope> {
  const bytes = pae(payloadType, payload);
  const signatures: EnvelopeSignature[] = [];
  for (const s of signers) signatures.push({ keyid: s.keyid ?? '', sig: await s.sign(bytes) });
  return { payloadType, payload, signatures };
}

/** Anything that checks a raw signature over bytes (a VerificationKey is one). */
export interface EnvelopeVerifier {
  /** Only a hint (DSSE keyids are unauthenticated); used to name the key in messages. */
  keyid?: string;
  verify(data: Uint8Array, signature: Uint8Array): boolean;
}

export interface VerifiedEnvelope {
  payloadType: string;
  /** The payload bytes the accepted signatures cover: parse these, never a re-encoding. */
  payload: Uint8Array;
  /** Indexes into `verifiers` of the keys that signed. */
  verifiedBy: number[];
}

/**
 * Check the envelope's signatures over PAE(payloadType, payload). Every signature is tried
 * against every verifier, keyids are ignored (the spec makes them unauthenticated hints), and
 * at least `threshold` distinct verifiers must have signed; else SIGNATURE_INVALID.
 */
export function verifyEnvelope(
  envelope: Envelope,
  verifiers: readonly EnvelopeVerifier[],
  threshold = 1,
): VerifiedEnvelope {
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new VouchError('USAGE', `a DSSE threshold must be a whole number of at least 1, not ${threshold}`);
  }
  if (verifiers.length < threshold) {
    throw new VouchError(
      'USAGE',
      `a DSSE threshold of ${threshold} needs at least ${threshold} keys, got ${verifiers.length}`,
    );
  }
  const bytes = pae(envelope.payloadType, envelope.payload);
  const verifiedBy: number[] = [];
  verifiers.forEach((v, i) => {
    if (envelope.signatures.some((s) => v.verify(bytes, s.sig))) verifiedBy.push(i);
  });
  if (verifiedBy.length < threshold) {
    throw new VouchError(
      'SIGNATURE_INVALID',
      `DSSE envelope (${envelope.payloadType}): ${verifiedBy.length} of ${verifiers.length} key(s) signed it, ` +
        `${threshold} required (${envelope.signatures.length} signature(s) checked)`,
      { hint: 'the payload or signature was changed, or it was signed with another key' },
    );
  }
  return { payloadType: envelope.payloadType, payload: envelope.payload, verifiedBy };
}
