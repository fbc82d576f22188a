/**
 * GitHub Actions ambient OIDC credentials, fetched from a local stand-in for the runner's token
 * endpoint (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isVouchError } from '../../src/errors.ts';
import {
  fetchGithubActionsToken,
  findIdentityToken,
  identityTokenProvider,
} from '../../src/sigstore/oidc.ts';
import { type GithubTokenServer, makeJwt, startGithubTokenServer } from '../helpers/sigstore-mock.ts';

describe('GitHub Actions ambient token (local stand-in)', () => {
  let gh: GithubTokenServer;
  const issued = makeJwt({
    iss: 'https://token.actions.githubusercontent.com',
    sub: 'repo:octo-org/app:ref:refs/heads/main',
    aud: 'sigstore',
    exp: Math.floor(Date.now() / 1000) + 300,
  });
  before(async () => {
    gh = await startGithubTokenServer((aud) => (aud === 'sigstore' ? issued : 'wrong-audience'));
  });
  after(async () => {
    await gh.close();
  });

  test('fetched with audience=sigstore and the bearer request token, then checked', async () => {
    const t = await findIdentityToken({ env: gh.env });
    assert.equal(t?.source, 'github-actions');
    assert.equal(t?.token, issued);
    assert.equal(t?.claims.iss, 'https://token.actions.githubusercontent.com');
    assert.equal(gh.audiences.at(-1), 'sigstore');
  });

  test('another audience can be asked for', async () => {
    assert.equal(await fetchGithubActionsToken(gh.env, { audience: 'other' }), 'wrong-audience');
    assert.equal(gh.audiences.at(-1), 'other');
  });

  test('a wrong request token: SIGNING_FAILED with the status, not the URL path or token', async () => {
    const env = { ...gh.env, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong' };
    await assert.rejects(fetchGithubActionsToken(env), (e) => {
      assert.ok(isVouchError(e, 'SIGNING_FAILED'));
      assert.match(e.message, /^GitHub Actions OIDC endpoint http:\/\/127\.0\.0\.1:\d+ answered HTTP 401$/);
      assert.ok(!e.message.includes('idtoken') && !e.message.includes('wrong'));
      return true;
    });
  });

  test('unreachable endpoint: SIGNING_FAILED', async () => {
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/idtoken',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x',
    };
    await assert.rejects(
      fetchGithubActionsToken(env),
      (e) => isVouchError(e, 'SIGNING_FAILED') && /unreachable/.test(e.message),
    );
  });

  test('a token the endpoint returns is still shape-checked', async () => {
    const broken = await startGithubTokenServer(() => 'not-a-jwt');
    try {
      await assert.rejects(
        findIdentityToken({ env: broken.env }),
        (e) =>
          isVouchError(e, 'IDENTITY_TOKEN_INVALID') &&
          /^identity token from GitHub Actions: not a JWT/.test(e.message),
      );
    } finally {
      await broken.close();
    }
  });

  test('identityTokenProvider fetches once while the token is valid', async () => {
    const before = gh.audiences.length;
    const get = identityTokenProvider({ env: gh.env });
    assert.equal(await get(), issued);
    assert.equal(await get(), issued);
    assert.equal(gh.audiences.length - before, 1);
  });
});
