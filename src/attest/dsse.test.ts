import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { signingKeyFromKeyObject } from '../sign/keys/signing-key.ts';
import { envelopeToJson, pae, parseEnvelope, signEnvelope, verifyEnvelope } from './dsse.ts';

const ecKey = () => signingKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
const edKey = () => signingKeyFromKeyObject(generateKeyPairSync('ed25519').privateKey);

test('PAE matches the DSSE spec vector', () => {
  const got = pae('http://example.com/HelloWorld', Buffer.from('hello world'));
  assert.equal(got.toString('utf8'), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  // lengths are bytes, not characters
  assert.equal(pae('t', Buffer.from('é')).toString('utf8'), 'DSSEv1 1 t 2 é');
});

test('signEnvelope + verifyEnvelope round-trip for ECDSA P-256 and Ed25519, through JSON', async () => {
  for (const key of [ecKey(), edKey()]) {
    const env = await signEnvelope('application/vnd.in-toto+json', Buffer.from('{"a":1}'), [key]);
    const parsed = parseEnvelope(JSON.stringify(envelopeToJson(env)));
    const v = verifyEnvelope(parsed, [key]);
    assert.equal(Buffer.from(v.payload).toString(), '{"a":1}');
    assert.deepEqual(v.verifiedBy, [0]);
  }
});

test('a tampered payload, payload type or signature is SIGNATURE_INVALID', async () => {
  const key = ecKey();
  const env = await signEnvelope('application/vnd.in-toto+json', Buffer.from('{"a":1}'), [key]);
  const cases = [
    { ...env, payload: Buffer.from('{"a":2}') },
    { ...env, payloadType: 'application/json' },
    { ...env, signatures: [{ keyid: '', sig: Buffer.from(env.signatures[0]!.sig).fill(1, 10, 12) }] },
  ];
  for (const c of cases) {
    assert.throws(
      () => verifyEnvelope(c, [key]),
      (e) => isVouchError(e, 'SIGNATURE_INVALID'),
    );
  }
  assert.throws(
    () => verifyEnvelope(env, [edKey()]),
    (e) => isVouchError(e, 'SIGNATURE_INVALID') && /0 of 1 key/.test(e.message),
  );
});

test('thresholds count distinct keys, never one key twice', async () => {
  const a = ecKey();
  const b = edKey();
  const both = await signEnvelope('t', Buffer.from('x'), [a, b]);
  assert.deepEqual(verifyEnvelope(both, [a, b], 2).verifiedBy, [0, 1]);
  const twice = await signEnvelope('t', Buffer.from('x'), [a, a]);
  assert.throws(
    () => verifyEnvelope(twice, [a, b], 2),
    (e) => isVouchError(e, 'SIGNATURE_INVALID'),
  );
  assert.throws(
    () => verifyEnvelope(twice, [a], 2),
    (e) => isVouchError(e, 'USAGE'),
  );
});

test('URL-safe base64 and unpadded values are accepted; unknown fields ignored; keyid optional', async () => {
  const key = ecKey();
  const payload = Buffer.from([0xfb, 0xff, 0xfe, 0x3e, 0x3f]); // encodes with + and / in std base64
  const env = await signEnvelope('application/octet-stream', payload, [key]);
  const std = envelopeToJson(env);
  assert.match(std.payload, /[+/]/);
  const urlSafe = (s: string) => s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const json = JSON.stringify({
    payload: urlSafe(std.payload),
    payloadType: std.payloadType,
    signatures: [{ sig: urlSafe(std.signatures[0]!.sig), extra: 'ignored' }],
    somethingElse: { nested: true },
  });
  const parsed = parseEnvelope(json);
  assert.equal(parsed.signatures[0]!.keyid, '');
  assert.deepEqual(Buffer.from(parsed.payload), payload);
  assert.deepEqual(Buffer.from(verifyEnvelope(parsed, [key]).payload), payload);
});

test('malformed envelopes are ENVELOPE_INVALID naming the field', () => {
  const bad: [string, RegExp][] = [
    ['not json', /not JSON/],
    ['[]', /not a JSON object/],
    ['{"payload":"eA==","signatures":[{"sig":"eA=="}]}', /payloadType/],
    ['{"payloadType":"t","signatures":[{"sig":"eA=="}]}', /payload is missing/],
    ['{"payloadType":"t","payload":"eA==","signatures":[]}', /no signatures/],
    ['{"payloadType":"t","payload":"e$A==","signatures":[{"sig":"eA=="}]}', /payload is not base64/],
    ['{"payloadType":"t","payload":"eA==","signatures":[{"sig":""}]}', /signatures\[0\]\.sig is empty/],
  ];
  for (const [text, re] of bad) {
    assert.throws(
      () => parseEnvelope(text),
      (e) => isVouchError(e, 'ENVELOPE_INVALID') && re.test(e.message),
      text,
    );
  }
});
