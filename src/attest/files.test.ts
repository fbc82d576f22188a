import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { signingKeyFromKeyObject, verificationKeyFromKeyObject } from '../sign/keys/signing-key.ts';
import { envelopeToJson, signEnvelope, verifyEnvelope } from './dsse.ts';
import { type AttestationEntry, parseAttestationFile, readAttestationFile } from './files.ts';

const SGG_LINE = readFileSync(
  new URL('../../test/attest/fixtures/sgg-generic-v1.9.0-push-v14.intoto.jsonl', import.meta.url),
  'utf8',
).trim();

const bundle = (sig: string) => ({
  mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
  verificationMaterial: { publicKey: { hint: 'aGludA==' }, tlogEntries: [] },
  messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: 'ZGlnZXN0' }, signature: sig },
});

function envelopeOf(e: AttestationEntry | undefined) {
  assert.equal(e?.kind, 'envelope');
  return e as Extract<AttestationEntry, { kind: 'envelope' }>;
}

test('multiple.intoto.jsonl: one envelope per line, line numbers kept, certificates carried', async () => {
  const key = signingKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const mine = await signEnvelope('application/vnd.in-toto+json', Buffer.from('{}'), [key]);
  const text = `${SGG_LINE}\r\n\r\n${JSON.stringify(envelopeToJson(mine))}\n`;
  const entries = parseAttestationFile(text, '/tmp/multiple.intoto.jsonl');
  assert.deepEqual(
    entries.map((e) => [e.kind, e.line]),
    [
      ['envelope', 1],
      ['envelope', 3],
    ],
  );
  // the real slsa-github-generator envelope verifies with the key of the certificate next to it
  const sgg = envelopeOf(entries[0]);
  assert.match(sgg.certificates[0] ?? '', /BEGIN CERTIFICATE/);
  const cert = new X509Certificate(sgg.certificates[0]!);
  assert.doesNotThrow(() => verifyEnvelope(sgg.envelope, [verificationKeyFromKeyObject(cert.publicKey)]));
  const own = envelopeOf(entries[1]);
  assert.deepEqual(own.certificates, [undefined]);
  assert.deepEqual(verifyEnvelope(own.envelope, [key]).verifiedBy, [0]);
});

test('a malformed line is an error naming file and line', () => {
  const text = `${SGG_LINE}\n{"payloadType":"t","payload":"eA==","signatures":[{"sig":"eA=="}]}\n{"payloadType":"t",\n`;
  assert.throws(
    () => parseAttestationFile(text, 'dist/multiple.intoto.jsonl'),
    (e) => isVouchError(e, 'ENVELOPE_INVALID') && /^multiple\.intoto\.jsonl:3: not JSON/.test(e.message),
  );
  assert.throws(
    () => parseAttestationFile('{"payloadType":"t","payload":"eA==","signatures":[]}\n', 'x.intoto.jsonl'),
    (e) => isVouchError(e, 'ENVELOPE_INVALID') && /x\.intoto\.jsonl:1: no signatures/.test(e.message),
  );
  assert.throws(
    () => parseAttestationFile('\n\n', 'x.intoto.jsonl'),
    (e) => isVouchError(e, 'ENVELOPE_INVALID') && /no attestations/.test(e.message),
  );
});

test('a pretty-printed envelope is read whole', () => {
  const pretty = JSON.stringify(JSON.parse(SGG_LINE), null, 2);
  const entries = parseAttestationFile(pretty, 'provenance.intoto.jsonl');
  assert.equal(entries.length, 1);
  assert.equal(envelopeOf(entries[0]).envelope.payloadType, 'application/vnd.in-toto+json');
});

test('Sigstore bundles: .sigstore.json (one, pretty) and .sigstore.jsonl (one per line)', () => {
  const one = parseAttestationFile(JSON.stringify(bundle('c2ln'), null, 2), 'a.sigstore.json');
  assert.deepEqual(
    one.map((e) => [e.kind, e.line, e.kind === 'bundle' ? e.content : '']),
    [['bundle', 1, 'message-signature']],
  );
  const dsse = {
    ...bundle('x'),
    messageSignature: undefined,
    dsseEnvelope: {
      payload: 'e30=',
      payloadType: 'application/vnd.in-toto+json',
      signatures: [{ sig: 'c2ln', keyid: '' }],
    },
  };
  const many = parseAttestationFile(
    `${JSON.stringify(bundle('c2ln'))}\n${JSON.stringify(dsse)}\n`,
    'b.sigstore.jsonl',
  );
  assert.deepEqual(
    many.map((e) => (e.kind === 'bundle' ? [e.line, e.content] : [])),
    [
      [1, 'message-signature'],
      [2, 'dsse-envelope'],
    ],
  );
  const broken = { ...bundle('c2ln'), verificationMaterial: undefined };
  assert.throws(
    () =>
      parseAttestationFile(
        `${JSON.stringify(bundle('c2ln'))}\n${JSON.stringify(broken)}\n`,
        'b.sigstore.jsonl',
      ),
    (e) =>
      isVouchError(e, 'BUNDLE_INVALID') && /b\.sigstore\.jsonl:2: .*verificationMaterial/.test(e.message),
  );
  assert.throws(
    () =>
      parseAttestationFile(
        JSON.stringify({ ...bundle('c2ln'), mediaType: 'application/json' }),
        'a.sigstore.json',
      ),
    (e) => isVouchError(e, 'BUNDLE_INVALID') && /not a Sigstore bundle media type/.test(e.message),
  );
});

test('files with other names are recognised from their content', () => {
  assert.equal(
    parseAttestationFile(JSON.stringify(bundle('c2ln'), null, 1), 'attestation.json')[0]?.kind,
    'bundle',
  );
  assert.equal(parseAttestationFile(`${SGG_LINE}\n${SGG_LINE}\n`, 'provenance.txt').length, 2);
  assert.equal(
    parseAttestationFile(`${JSON.stringify(bundle('c2ln'))}\n${JSON.stringify(bundle('c2ln'))}\n`, 'x')
      .length,
    2,
  );
});

test('readAttestationFile reads from disk; a missing file is FILE_NOT_FOUND', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-attest-files-'));
  try {
    const p = join(dir, 'multiple.intoto.jsonl');
    await writeFile(p, `${SGG_LINE}\n`);
    assert.equal((await readAttestationFile(p)).length, 1);
    await assert.rejects(readAttestationFile(join(dir, 'nope.intoto.jsonl')), (e) =>
      isVouchError(e, 'FILE_NOT_FOUND'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
