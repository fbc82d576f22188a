import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { findIdentityToken, parseIdentityToken, requireIdentityToken } from './oidc.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const nowS = NOW.getTime() / 1000;
const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = (claims: Record<string, unknown>, header: unknown = { alg: 'RS256', typ: 'JWT' }) =>
  `${part(header)}.${part(claims)}.c2lnbmF0dXJl`;
const GOOD = {
  iss: 'https://issuer.example',
  sub: 'repo:o/r:ref:refs/heads/main',
  aud: 'sigstore',
  exp: nowS + 300,
};

/** The error, checked for its code and for not containing the token. */
function rejectsWith(code: string, token: string, pattern?: RegExp) {
  return (e: unknown) => {
    assert.ok(isVouchError(e), String(e));
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    assert.ok(!e.message.includes(token) && !(e.hint ?? '').includes(token), 'token leaked into the error');
    return true;
  };
}

describe('parseIdentityToken', () => {
  test('a well-formed token: claims, subject = sub', () => {
    const c = parseIdentityToken(jwt(GOOD), 'test', NOW);
    assert.equal(c.iss, GOOD.iss);
    assert.equal(c.subject, GOOD.sub);
    assert.equal(c.aud, 'sigstore');
    assert.equal(c.all.exp, GOOD.exp);
  });

  test('a verified email is the subject (what Fulcio binds and the proof signs)', () => {
    const c = parseIdentityToken(jwt({ ...GOOD, email: 'me@example.com', email_verified: true }), 't', NOW);
    assert.equal(c.subject, 'me@example.com');
  });

  const bad: [string, string, RegExp][] = [
    ['two parts', `${part({})}.${part(GOOD)}`, /3 dot-separated parts, found 2/],
    [
      'header not JSON',
      `${Buffer.from('nope').toString('base64url')}.${part(GOOD)}.c2ln`,
      /header is not JSON/,
    ],
    ['payload not base64url', `${part({})}.***.c2ln`, /payload is not base64url/],
    ['payload an array', `${part({})}.${part([1])}.c2ln`, /payload is not a JSON object/],
    ['no signature', `${part({})}.${part(GOOD)}.`, /signature part is missing/],
    ['no iss', jwt({ ...GOOD, iss: undefined }), /no "iss"/],
    ['no sub or email', jwt({ ...GOOD, sub: undefined }), /neither a "sub" nor an "email"/],
    ['unverified email', jwt({ ...GOOD, email: 'me@example.com' }), /not verified/],
    ['no exp', jwt({ ...GOOD, exp: undefined }), /no numeric "exp"/],
    ['expired', jwt({ ...GOOD, exp: nowS - 1 }), /expired at 2026-03-01T11:59:59\.000Z/],
    ['expiring now', jwt({ ...GOOD, exp: nowS }), /expired/],
  ];
  for (const [name, token, pattern] of bad) {
    test(`refused: ${name}`, () => {
      assert.throws(
        () => parseIdentityToken(token, 'test', NOW),
        rejectsWith('IDENTITY_TOKEN_INVALID', token, pattern),
      );
    });
  }
});

describe('findIdentityToken', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vouch-oidc-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('none anywhere: undefined; requireIdentityToken names every source', async () => {
    assert.equal(await findIdentityToken({ env: {}, now: NOW }), undefined);
    await assert.rejects(requireIdentityToken({ env: {}, now: NOW }), (e) => {
      assert.ok(isVouchError(e, 'IDENTITY_TOKEN_INVALID'));
      assert.match(e.hint ?? '', /--identity-token.*SIGSTORE_ID_TOKEN.*GitHub Actions/);
      return true;
    });
  });

  test('the flag beats SIGSTORE_ID_TOKEN, which beats GitHub Actions', async () => {
    const a = jwt({ ...GOOD, sub: 'flag' });
    const b = jwt({ ...GOOD, sub: 'env' });
    const gha = { ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/x', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' };
    const env = { SIGSTORE_ID_TOKEN: b, ...gha };
    const t1 = await findIdentityToken({ flag: a, env, now: NOW });
    assert.equal(t1?.source, 'flag');
    assert.equal(t1?.claims.subject, 'flag');
    const t2 = await findIdentityToken({ env, now: NOW });
    assert.equal(t2?.source, 'env');
    assert.equal(t2?.origin, 'SIGSTORE_ID_TOKEN');
    assert.equal(t2?.claims.subject, 'env');
  });

  test('@FILE reads the token (trimmed) relative to cwd', async () => {
    const token = jwt(GOOD);
    await writeFile(join(dir, 'token.jwt'), `${token}\n`);
    const t = await findIdentityToken({ flag: '@token.jwt', cwd: dir, env: {}, now: NOW });
    assert.equal(t?.token, token);
    assert.equal(t?.source, 'file');
    assert.equal(t?.origin, `file ${join(dir, 'token.jwt')}`);
  });

  test('@FILE missing: FILE_NOT_FOUND; empty: IDENTITY_TOKEN_INVALID', async () => {
    await assert.rejects(findIdentityToken({ flag: '@nope.jwt', cwd: dir, env: {} }), (e) =>
      isVouchError(e, 'FILE_NOT_FOUND'),
    );
    await writeFile(join(dir, 'empty.jwt'), '\n');
    await assert.rejects(findIdentityToken({ flag: '@empty.jwt', cwd: dir, env: {} }), (e) =>
      isVouchError(e, 'IDENTITY_TOKEN_INVALID'),
    );
  });

  test('an expired SIGSTORE_ID_TOKEN is refused, naming the variable', async () => {
    const token = jwt({ ...GOOD, exp: nowS - 60 });
    await assert.rejects(
      findIdentityToken({ env: { SIGSTORE_ID_TOKEN: token }, now: NOW }),
      rejectsWith('IDENTITY_TOKEN_INVALID', token, /^identity token from SIGSTORE_ID_TOKEN: expired/),
    );
  });
});
