import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { encodeEnvelope, IN_TOTO_PAYLOAD_TYPE, parseEnvelope, verifyEnvelope } from '../attest/dsse.ts';
import { signingKeyFromKeyObject } from '../sign/keys/signing-key.ts';
import { reusableEnvelope, signStatement } from './attestation.ts';
import type { PipelineSigner } from './signer.ts';

function signerWith(): PipelineSigner {
  const key = signingKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  return {
    identity: { kind: 'key', key },
    storage: 'tag',
    rekorUrl: undefined,
    tsaUrl: undefined,
    key,
    signBlob: async (b) => key.sign(b),
    verifyBlob: (b, s) => key.verify(b, s),
    description: 'k',
  };
}

const STATEMENT = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');

test('a statement is signed as a DSSE envelope; an envelope of the same statement by the same key is kept', async () => {
  const s = signerWith();
  const first = await signStatement(s, STATEMENT);
  assert.equal(first.reused, false);
  const env = parseEnvelope(first.bytes);
  assert.equal(env.payloadType, IN_TOTO_PAYLOAD_TYPE);
  verifyEnvelope(env, [s.key!]);
  const second = await signStatement(s, STATEMENT, first.bytes);
  assert.deepEqual([second.reused, Buffer.from(second.bytes).equals(Buffer.from(first.bytes))], [true, true]);
});

test('another statement, another key, or a damaged file is signed again', async () => {
  const s = signerWith();
  const { bytes } = await signStatement(s, STATEMENT);
  assert.equal(reusableEnvelope(s, Buffer.from('{"other":1}'), bytes), undefined);
  assert.equal(reusableEnvelope(signerWith(), STATEMENT, bytes), undefined);
  assert.equal(reusableEnvelope(s, STATEMENT, Buffer.from('not json')), undefined);
  const env = parseEnvelope(bytes);
  const forged = encodeEnvelope({ ...env, signatures: [{ keyid: '', sig: Buffer.alloc(64, 1) }] });
  assert.equal(reusableEnvelope(s, STATEMENT, forged), undefined);
});
