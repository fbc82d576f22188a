import assert from 'node:assert/strict';
import { test } from 'node:test';
import { vouchErrorWith } from '../../../test/helpers/errors.ts';
import { publicGoodTrustedRoot } from '../../sigstore/trust-root.ts';
import {
  checkTrustFlags,
  IDENTITY_FLAGS,
  identityFlagsGiven,
  identityOptions,
  identityPolicy,
  thresholdsFrom,
  trustFrom,
  trustOptions,
} from './trust-options.ts';

test('the identity flags become an anchored-match policy, GitHub claims grouped', () => {
  const values = {
    'certificate-identity-regexp': 'https://github\\.com/o/.+',
    'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
    'certificate-github-workflow-repository': 'o/app',
    'certificate-github-workflow-trigger': 'push',
    key: undefined,
  };
  assert.deepEqual(identityPolicy(values), {
    identityRegexp: 'https://github\\.com/o/.+',
    issuer: 'https://token.actions.githubusercontent.com',
    github: { repository: 'o/app', trigger: 'push' },
  });
  assert.deepEqual(identityFlagsGiven(values), [
    'certificate-identity-regexp',
    'certificate-oidc-issuer',
    'certificate-github-workflow-repository',
    'certificate-github-workflow-trigger',
  ]);
});

test('flag combinations: a key excludes identities; keyless needs identity and issuer, exact or regexp', () => {
  checkTrustFlags({ key: 'k.pub' }, 'verify');
  checkTrustFlags({ 'certificate-identity': 'a@b.c', 'certificate-oidc-issuer-regexp': '.*' }, 'verify');
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /say who must have signed/],
    [{ 'certificate-identity': 'a@b.c' }, /say who must have signed/],
    [
      { key: 'k', 'certificate-github-workflow-sha': 'x' },
      /--certificate-github-workflow-sha is for keyless/,
    ],
    [
      { 'certificate-identity': 'a', 'certificate-identity-regexp': 'b', 'certificate-oidc-issuer': 'i' },
      /--certificate-identity and --certificate-identity-regexp exclude each other/,
    ],
  ];
  for (const [values, message] of cases) {
    assert.throws(() => checkTrustFlags(values, 'verify-release'), vouchErrorWith('USAGE', message));
  }
  assert.throws(
    () => checkTrustFlags({}, 'verify-release'),
    (e: unknown) => (e as { hint?: string }).hint === 'see vouch verify-release --help',
  );
});

test('thresholds only for the flags given; keyless trust defaults to the public-good root', async () => {
  assert.deepEqual(thresholdsFrom({}), {});
  assert.deepEqual(
    thresholdsFrom({
      'insecure-ignore-tlog': true,
      'insecure-ignore-sct': true,
      'use-signed-timestamps': true,
    }),
    { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 1 },
  );
  const o = await trustFrom(
    { 'certificate-identity': 'a@b.c', 'certificate-oidc-issuer': 'https://i', 'insecure-ignore-tlog': true },
    { stdout: process.stdout, stderr: process.stderr, env: {}, cwd: '/' },
  );
  assert.equal(o.trust.kind, 'keyless');
  assert.equal(o.tlogThreshold, 0);
  if (o.trust.kind === 'keyless') {
    assert.deepEqual(o.trust.identity, { identity: 'a@b.c', issuer: 'https://i' });
    assert.equal(o.trust.trustedRoot, await publicGoodTrustedRoot(), 'the embedded public-good root');
  }
});

test('every identity flag has a spec; the image commands say "keyless:" where verify-blob does not', () => {
  for (const f of IDENTITY_FLAGS) assert.ok(f in trustOptions, f);
  assert.equal(
    trustOptions['certificate-identity'].description,
    'keyless: required signer identity (SAN), exact',
  );
  assert.equal(
    identityOptions('blob')['certificate-identity'].description,
    'required signer identity (SAN), exact',
  );
});
