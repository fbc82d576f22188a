/**
 * The signed form of a provenance statement kept in the artifact store: a DSSE envelope
 * (`.intoto.jsonl` style, one JSON object) signed with the pipeline's key, or, keyless, the
 * Sigstore bundle holding the envelope and its certificate. ECDSA signatures differ on every
 * signing, so an envelope already stored over the same statement and verifying with the same key
 * is kept as it is: a re-run leaves the store unchanged.
 */
import {
  encodeEnvelope,
  IN_TOTO_PAYLOAD_TYPE,
  parseEnvelope,
  signEnvelope,
  verifyEnvelope,
} from '../attest/dsse.ts';
import { signDsse } from '../sigstore/sign.ts';
import type { PipelineSigner } from './signer.ts';

/** The existing envelope when it covers `statement` and verifies with `signer`'s key. */
export function reusableEnvelope(
  signer: PipelineSigner,
  statement: Uint8Array,
  existing: Uint8Array | undefined,
): Uint8Array | undefined {
  if (!signer.key || existing === undefined) return undefined;
  try {
    const env = parseEnvelope(existing, 'stored attestation');
    if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE || !Buffer.from(env.payload).equals(Buffer.from(statement)))
      return undefined;
    verifyEnvelope(env, [signer.key]);
    return existing;
  } catch {
    return undefined; // not ours, or damaged: sign again
  }
}

/** Sign `statement` (in-toto JSON bytes), reusing `existing` when it is the same signed statement. */
export async function signStatement(
  signer: PipelineSigner,
  statement: Uint8Array,
  existing?: Uint8Array,
): Promise<{ bytes: Uint8Array; reused: boolean }> {
  const kept = reusableEnvelope(signer, statement, existing);
  if (kept) return { bytes: kept, reused: true };
  if (signer.key) {
    const key = signer.key;
    const env = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, statement, [{ sign: (d) => key.sign(d) }]);
    return { bytes: encodeEnvelope(env), reused: false };
  }
  const bundle = await signDsse(statement, IN_TOTO_PAYLOAD_TYPE, {
    identity: signer.identity,
    rekorUrl: signer.rekorUrl,
    tsaUrl: signer.tsaUrl,
  });
  return { bytes: Buffer.from(JSON.stringify(bundle), 'utf8'), reused: false };
}
