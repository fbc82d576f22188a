/**
 * Keyless signing end to end against the mock Sigstore services on 127.0.0.1: Fulcio
 * certificate (with an SCT and, for GitHub tokens, the workflow extensions), Rekor entry with
 * inclusion proof and promise, optional TSA timestamp; checked with @sigstore/verify against the
 * mock's trusted root. Then every way it can fail, and that the token never leaks.
 */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { isVouchError } from '../../src/errors.ts';
import { type BundleSigningOptions, signDsse, signMessage } from '../../src/sigstore/sign.ts';
import { BUNDLE_V03_MEDIA_TYPE } from '../../src/sigstore/types.ts';
import {
  GITHUB_ACTIONS_ISSUER,
  githubActionsClaims,
  MOCK_ISSUER,
  type SigstoreMock,
  startSigstoreMock,
} from '../helpers/sigstore-mock.ts';
import { closedPortUrl, oidValue, sigstoreVerify } from './helpers.ts';

const DATA = Buffer.from('keyless artifact\n');
const IN_TOTO = 'application/vnd.in-toto+json';
const STATEMENT = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'a', digest: { sha256: createHash('sha256').update(DATA).digest('hex') } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {},
  }),
);

let mock: SigstoreMock;
before(async () => {
  mock = await startSigstoreMock({ tsa: true });
});
after(async () => {
  await mock.close();
});

function keyless(token: string, extra: Partial<BundleSigningOptions> = {}): BundleSigningOptions {
  return {
    identity: { kind: 'keyless', fulcioUrl: mock.fulcioUrl, identityToken: async () => token },
    rekorUrl: mock.rekorUrl,
    retries: 0,
    ...extra,
  };
}

function certOf(bundle: { verificationMaterial: { certificate?: { rawBytes: string } } }): X509Certificate {
  const raw = bundle.verificationMaterial.certificate?.rawBytes;
  assert.ok(raw, 'bundle carries a leaf certificate');
  return new X509Certificate(Buffer.from(raw, 'base64'));
}

describe('keyless message bundles', () => {
  test('Fulcio certificate, Rekor entry and TSA timestamp; verifies with @sigstore/verify', async () => {
    const token = mock.identityToken();
    const b = await signMessage(DATA, keyless(token, { tsaUrl: mock.tsaUrl }));
    assert.equal(b.mediaType, BUNDLE_V03_MEDIA_TYPE);
    assert.equal(b.verificationMaterial.x509CertificateChain, undefined, 'v0.3: the leaf alone');
    const cert = certOf(b);
    assert.equal(cert.subjectAltName, 'URI:signer@example.com');
    const entry = b.verificationMaterial.tlogEntries[0];
    assert.ok(entry);
    assert.deepEqual(entry.kindVersion, { kind: 'hashedrekord', version: '0.0.1' });
    assert.ok(entry.inclusionProof?.checkpoint.envelope.includes('\u2014 '));
    assert.ok(entry.inclusionPromise?.signedEntryTimestamp);
    assert.equal(entry.integratedTime, String(mock.time.getTime() / 1000));
    assert.equal(b.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length, 1);

    const signer = sigstoreVerify(b, {
      trustedRoot: mock.trustedRoot,
      artifact: DATA,
      tlogThreshold: 1,
      ctlogThreshold: 1,
      timestampThreshold: 2, // the SET and the TSA
      policy: { subjectAlternativeName: 'signer@example.com', extensions: { issuer: MOCK_ISSUER } },
    });
    assert.equal(signer.identity?.subjectAlternativeName, 'signer@example.com');
    assert.equal(signer.identity?.extensions?.issuer, MOCK_ISSUER);
    assert.throws(
      () =>
        sigstoreVerify(b, {
          trustedRoot: mock.trustedRoot,
          artifact: DATA,
          policy: { subjectAlternativeName: 'someone-else@example.com' },
        }),
      /subject alternative name|identity/i,
    );
    assert.throws(() => sigstoreVerify(b, { trustedRoot: mock.trustedRoot, artifact: Buffer.from('x') }));
  });

  test('a GitHub Actions token gives the workflow SAN and GitHub extensions', async () => {
    const claims = githubActionsClaims({ repository: 'octo-org/app', ref: 'refs/tags/v1.2.3' });
    const b = await signMessage(DATA, keyless(mock.identityToken(claims)));
    const workflow = 'https://github.com/octo-org/app/.github/workflows/release.yml@refs/tags/v1.2.3';
    assert.equal(certOf(b).subjectAltName, `URI:${workflow}`);
    const signer = sigstoreVerify(b, {
      trustedRoot: mock.trustedRoot,
      artifact: DATA,
      tlogThreshold: 1,
      ctlogThreshold: 1,
      timestampThreshold: 1,
    });
    assert.equal(signer.identity?.subjectAlternativeName, workflow);
    assert.equal(signer.identity?.extensions?.issuer, GITHUB_ACTIONS_ISSUER);
    const ext = (n: number) => oidValue(signer, `1.3.6.1.4.1.57264.1.${n}`);
    assert.equal(ext(1), GITHUB_ACTIONS_ISSUER);
    assert.equal(ext(2), 'push');
    assert.equal(ext(3), claims.sha);
    assert.equal(ext(5), 'octo-org/app');
    assert.equal(ext(6), 'refs/tags/v1.2.3');
    assert.equal(ext(8), GITHUB_ACTIONS_ISSUER);
    assert.equal(ext(9), workflow);
    assert.equal(ext(11), 'github-hosted');
    assert.equal(ext(12), 'https://github.com/octo-org/app');
    assert.equal(ext(16), 'https://github.com/octo-org');
    assert.equal(ext(21), 'https://github.com/octo-org/app/actions/runs/4242/attempts/1');
  });

  test('without a TSA URL there is no timestamp and no TSA request', async () => {
    const before = mock.requests.filter((r) => r.service === 'tsa').length;
    const b = await signMessage(DATA, keyless(mock.identityToken()));
    assert.deepEqual(b.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? [], []);
    assert.equal(mock.requests.filter((r) => r.service === 'tsa').length, before);
  });
});

describe('keyless DSSE bundles', () => {
  test('dsse Rekor entry, certificate, TSA; verifies with @sigstore/verify', async () => {
    const b = await signDsse(
      STATEMENT,
      IN_TOTO,
      keyless(mock.identityToken(githubActionsClaims()), { tsaUrl: mock.tsaUrl }),
    );
    assert.equal(b.mediaType, BUNDLE_V03_MEDIA_TYPE);
    assert.deepEqual(b.verificationMaterial.tlogEntries[0]?.kindVersion, { kind: 'dsse', version: '0.0.1' });
    const body = JSON.parse(
      Buffer.from(b.verificationMaterial.tlogEntries[0]?.canonicalizedBody ?? '', 'base64').toString(),
    );
    assert.equal(body.spec.payloadHash.value, createHash('sha256').update(STATEMENT).digest('hex'));
    const signer = sigstoreVerify(b, {
      trustedRoot: mock.trustedRoot,
      tlogThreshold: 1,
      ctlogThreshold: 1,
      timestampThreshold: 2,
    });
    assert.match(signer.identity?.subjectAlternativeName ?? '', /^https:\/\/github\.com\/octo-org\/app\//);
  });
});

describe('keyless failures', () => {
  const noLeak = (token: string) => (e: unknown) => {
    const err = e as Error & { hint?: string; cause?: unknown };
    const text = `${err.message} ${err.hint ?? ''} ${String((err.cause as Error | undefined)?.message ?? '')}`;
    assert.ok(!text.includes(token), 'the token must not appear in the error');
    assert.ok(!text.includes(token.split('.')[1] ?? '-'), 'nor its payload');
    return true;
  };

  test('unreachable Fulcio (closed port): SIGNING_FAILED naming Fulcio and its URL', async () => {
    const url = await closedPortUrl();
    const token = mock.identityToken();
    const o = keyless(token);
    await assert.rejects(
      signMessage(DATA, {
        ...o,
        identity: { kind: 'keyless', fulcioUrl: url, identityToken: async () => token },
      }),
      (e) => {
        assert.ok(isVouchError(e, 'SIGNING_FAILED'), String(e));
        assert.match(e.message, new RegExp(`^Fulcio at ${url} failed: .*ECONNREFUSED`));
        return noLeak(token)(e);
      },
    );
  });

  test('Fulcio refusing the token: SIGNING_FAILED with the status, echoed token scrubbed', async () => {
    const token = mock.identityToken();
    mock.fail('fulcio', { status: 401, message: `invalid token ${token}` });
    try {
      await assert.rejects(signMessage(DATA, keyless(token)), (e) => {
        assert.ok(isVouchError(e, 'SIGNING_FAILED'));
        assert.match(
          e.message,
          new RegExp(
            `^Fulcio at ${mock.fulcioUrl} refused the request \\(HTTP 401: invalid token \\[token\\]\\)$`,
          ),
        );
        assert.match(e.hint ?? '', /identity token/);
        return noLeak(token)(e);
      });
    } finally {
      mock.fail('fulcio', undefined);
    }
  });

  test('Rekor refusing the entry: SIGNING_FAILED naming Rekor', async () => {
    mock.fail('rekor', { status: 400, message: 'entry rejected' });
    try {
      await assert.rejects(signMessage(DATA, keyless(mock.identityToken())), (e) => {
        assert.ok(isVouchError(e, 'SIGNING_FAILED'));
        assert.match(e.message, new RegExp(`^Rekor at ${mock.rekorUrl} refused .*entry rejected`));
        return true;
      });
    } finally {
      mock.fail('rekor', undefined);
    }
  });

  test('TSA failing with 5xx (after the retries): SIGNING_FAILED naming the TSA', async () => {
    mock.fail('tsa', { status: 503, message: 'down for maintenance' });
    const before = mock.requests.filter((r) => r.service === 'tsa').length;
    try {
      await assert.rejects(
        signMessage(DATA, keyless(mock.identityToken(), { tsaUrl: mock.tsaUrl, retries: 1 })),
        (e) => {
          assert.ok(isVouchError(e, 'SIGNING_FAILED'));
          assert.match(e.message, new RegExp(`^TSA at ${mock.tsaUrl} refused .*503`));
          return true;
        },
      );
      assert.equal(mock.requests.filter((r) => r.service === 'tsa').length - before, 2, 'one retry');
    } finally {
      mock.fail('tsa', undefined);
    }
  });

  test('an expired token: IDENTITY_TOKEN_INVALID before Fulcio is asked', async () => {
    const token = mock.identityToken({
      sub: 'a@example.com',
      email: 'a@example.com',
      email_verified: true,
      exp: 1000,
    });
    const before = mock.requests.length;
    await assert.rejects(signMessage(DATA, keyless(token)), (e) => {
      assert.ok(isVouchError(e, 'IDENTITY_TOKEN_INVALID'));
      assert.match(e.message, /expired/);
      return noLeak(token)(e);
    });
    assert.equal(mock.requests.length, before);
  });

  test('a malformed token: IDENTITY_TOKEN_INVALID, token not shown', async () => {
    const token = 'eyJhbGciOiJub25lIn0.not-json-payload.sig';
    await assert.rejects(signMessage(DATA, keyless(token)), (e) => {
      assert.ok(isVouchError(e, 'IDENTITY_TOKEN_INVALID'));
      return noLeak(token)(e);
    });
  });

  test('a provider that fails passes its VouchError through', async () => {
    const o = keyless('');
    const identity = {
      kind: 'keyless' as const,
      fulcioUrl: mock.fulcioUrl,
      identityToken: async () => {
        const { VouchError } = await import('../../src/errors.ts');
        throw new VouchError('IDENTITY_TOKEN_INVALID', 'no token here');
      },
    };
    await assert.rejects(
      signMessage(DATA, { ...o, identity }),
      (e) => isVouchError(e, 'IDENTITY_TOKEN_INVALID') && e.message === 'no token here',
    );
  });

  test('keyless without Rekor or TSA is refused (nothing would witness the signing time)', async () => {
    await assert.rejects(signMessage(DATA, keyless(mock.identityToken(), { rekorUrl: undefined })), (e) =>
      isVouchError(e, 'USAGE'),
    );
  });

  test('keyless with a TSA only: no tlog entry, a timestamp, verifies with @sigstore/verify', async () => {
    const b = await signMessage(
      DATA,
      keyless(mock.identityToken(), { rekorUrl: undefined, tsaUrl: mock.tsaUrl }),
    );
    assert.deepEqual(b.verificationMaterial.tlogEntries, []);
    sigstoreVerify(b, {
      trustedRoot: mock.trustedRoot,
      artifact: DATA,
      ctlogThreshold: 1,
      timestampThreshold: 1,
    });
  });

  test('a bad service URL is a USAGE error', async () => {
    await assert.rejects(signMessage(DATA, keyless(mock.identityToken(), { rekorUrl: 'ftp://x' })), (e) =>
      isVouchError(e, 'USAGE'),
    );
  });
});
