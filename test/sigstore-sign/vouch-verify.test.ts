/**
 * The bundles vouch signs, checked by vouch's own verifyBundle (the @sigstore/verify checks are
 * in key-bundles and keyless): key-based offline and with Rekor, keyless with an email and a
 * GitHub Actions identity, DSSE statements naming the artifact.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { isVouchError } from '../../src/errors.ts';
import { signingKeyFromKeyObject } from '../../src/sign/keys/signing-key.ts';
import { signDsse, signMessage } from '../../src/sigstore/sign.ts';
import { verifyBundle } from '../../src/sigstore/verify.ts';
import {
  GITHUB_ACTIONS_ISSUER,
  githubActionsClaims,
  MOCK_ISSUER,
  type SigstoreMock,
  startSigstoreMock,
} from '../helpers/sigstore-mock.ts';

const DATA = Buffer.from('checked by vouch\n');
const SHA = createHash('sha256').update(DATA).digest('hex');
const STATEMENT = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'app', digest: { sha256: SHA } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {},
  }),
);
const IN_TOTO = 'application/vnd.in-toto+json';
const key = signingKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);

let mock: SigstoreMock;
before(async () => {
  mock = await startSigstoreMock({ tsa: true });
});
after(async () => {
  await mock.close();
});

describe('vouch verifyBundle on vouch-signed bundles', () => {
  test('key-based message bundle, offline (no tlog entry)', async () => {
    const b = await signMessage(DATA, { identity: { kind: 'key', key } });
    // vouch's verifier wants a non-empty trusted root even for key-only bundles.
    const v = await verifyBundle(b, { bytes: DATA }, { trustedRoot: mock.trustedRoot, key });
    assert.equal(v.content, 'message-signature');
    assert.equal(v.signer.kind, 'key');
    assert.equal(v.tlogEntries, 0);
    await assert.rejects(
      verifyBundle(b, { bytes: Buffer.from('other') }, { trustedRoot: mock.trustedRoot, key }),
      (e) => isVouchError(e, 'SUBJECT_MISMATCH') || isVouchError(e, 'SIGNATURE_INVALID'),
    );
  });

  test('key-based DSSE bundle with a Rekor entry', async () => {
    const b = await signDsse(STATEMENT, IN_TOTO, { identity: { kind: 'key', key }, rekorUrl: mock.rekorUrl });
    const v = await verifyBundle(
      b,
      { sha256: SHA },
      { trustedRoot: mock.trustedRoot, key, tlogThreshold: 1 },
    );
    assert.equal(v.content, 'dsse-envelope');
    assert.equal(v.tlogEntries, 1);
    assert.equal(Buffer.from(v.payload?.bytes ?? []).toString(), STATEMENT.toString());
  });

  test('keyless message bundle with an email identity and a TSA timestamp', async () => {
    const b = await signMessage(DATA, {
      identity: {
        kind: 'keyless',
        fulcioUrl: mock.fulcioUrl,
        identityToken: async () => mock.identityToken(),
      },
      rekorUrl: mock.rekorUrl,
      tsaUrl: mock.tsaUrl,
    });
    const v = await verifyBundle(
      b,
      { bytes: DATA },
      { trustedRoot: mock.trustedRoot, identity: { identity: 'signer@example.com', issuer: MOCK_ISSUER } },
    );
    assert.equal(v.signer.kind, 'certificate');
    assert.deepEqual(v.timestamps.map((t) => t.source).sort(), ['timestamp-authority', 'transparency-log']);
    await assert.rejects(
      verifyBundle(
        b,
        { bytes: DATA },
        { trustedRoot: mock.trustedRoot, identity: { identity: 'er@example.com', issuer: MOCK_ISSUER } },
      ),
      (e) => isVouchError(e, 'IDENTITY_MISMATCH'),
    );
  });

  test('keyless DSSE bundle with a GitHub Actions identity', async () => {
    const token = mock.identityToken(
      githubActionsClaims({ repository: 'octo-org/app', ref: 'refs/heads/main' }),
    );
    const b = await signDsse(STATEMENT, IN_TOTO, {
      identity: { kind: 'keyless', fulcioUrl: mock.fulcioUrl, identityToken: async () => token },
      rekorUrl: mock.rekorUrl,
    });
    const v = await verifyBundle(
      b,
      { bytes: DATA },
      {
        trustedRoot: mock.trustedRoot,
        identity: {
          identityRegexp: 'https://github\\.com/octo-org/app/\\.github/workflows/.*',
          issuer: GITHUB_ACTIONS_ISSUER,
          github: { repository: 'octo-org/app', ref: 'refs/heads/main' },
        },
      },
    );
    assert.equal(v.signer.kind, 'certificate');
    if (v.signer.kind === 'certificate') {
      assert.equal(v.signer.claims.issuer, GITHUB_ACTIONS_ISSUER);
      assert.equal(v.signer.claims.githubWorkflowRepository, 'octo-org/app');
      assert.equal(v.signer.claims.sourceRepositoryURI, 'https://github.com/octo-org/app');
    }
  });
});
