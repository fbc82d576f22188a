/**
 * The mock Sigstore services refuse what the real ones refuse, so the signing tests that pass
 * against them mean something: Fulcio checks audience and proof of possession, Rekor checks DSSE
 * signatures, and the trusted root dates every key.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { after, before, test } from 'node:test';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { isVouchError } from '../../src/errors.ts';
import { signMessage } from '../../src/sigstore/sign.ts';
import { type SigstoreMock, startSigstoreMock } from '../helpers/sigstore-mock.ts';

let mock: SigstoreMock;
before(async () => {
  mock = await startSigstoreMock({ tsa: true });
});
after(async () => {
  await mock.close();
});

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('the trusted root parses and dates every authority before the signing time', () => {
  const root = TrustedRoot.fromJSON(mock.trustedRoot);
  const starts = [
    ...root.tlogs.map((t) => t.publicKey?.validFor?.start),
    ...root.ctlogs.map((t) => t.publicKey?.validFor?.start),
    ...root.certificateAuthorities.map((c) => c.validFor?.start),
    ...root.timestampAuthorities.map((c) => c.validFor?.start),
  ];
  assert.equal(starts.length, 4);
  for (const s of starts) assert.ok(s && s.getTime() < mock.time.getTime());
  assert.equal(mock.time.getMilliseconds(), 0, 'whole second');
});

test('Fulcio refuses a token for another audience (HTTP 401)', async () => {
  const token = mock.identityToken({ sub: 'a@example.com', aud: 'not-sigstore' });
  await assert.rejects(
    signMessage(Buffer.from('x'), {
      identity: { kind: 'keyless', fulcioUrl: mock.fulcioUrl, identityToken: async () => token },
      rekorUrl: mock.rekorUrl,
      retries: 0,
    }),
    (e) => isVouchError(e, 'SIGNING_FAILED') && /HTTP 401: .*audience/.test(e.message),
  );
});

test('Fulcio refuses a proof of possession over another subject', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const res = await post(`${mock.fulcioUrl}/api/v2/signingCert`, {
    credentials: { oidcIdentityToken: mock.identityToken() },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }) },
      proofOfPossession: sign('sha256', Buffer.from('someone-else@example.com'), privateKey).toString(
        'base64',
      ),
    },
  });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /could not be verified/);
});

test('Rekor refuses a DSSE entry whose signature its verifier does not verify', async () => {
  const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const payload = Buffer.from('{}');
  const paeBytes = Buffer.concat([Buffer.from(`DSSEv1 4 type ${payload.length} `), payload]);
  const envelope = JSON.stringify({
    payloadType: 'type',
    payload: payload.toString('base64'),
    signatures: [{ sig: sign('sha256', paeBytes, signer.privateKey).toString('base64'), keyid: '' }],
  });
  const entry = (key: typeof signer.publicKey) => ({
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      proposedContent: {
        envelope,
        verifiers: [Buffer.from(key.export({ type: 'spki', format: 'pem' })).toString('base64')],
      },
    },
  });
  const bad = await post(`${mock.rekorUrl}/api/v1/log/entries`, entry(other.publicKey));
  assert.equal(bad.status, 400);
  const good = await post(`${mock.rekorUrl}/api/v1/log/entries`, entry(signer.publicKey));
  assert.equal(good.status, 201);
  const logged = Object.values((await good.json()) as Record<string, { body: string }>)[0];
  const body = JSON.parse(Buffer.from(logged?.body ?? '', 'base64').toString());
  assert.deepEqual(Object.keys(body.spec).sort(), ['envelopeHash', 'payloadHash', 'signatures']);
});
