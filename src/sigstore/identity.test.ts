import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ErrorCode, isVouchError } from '../errors.ts';
import { anchoredRegExp, checkIdentity, compileIdentityPolicy, hasIdentityPolicy } from './identity.ts';
import type { CertificateClaims } from './types.ts';

function throwsCode(f: () => unknown, code: ErrorCode, message?: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(isVouchError(e, code), `expected ${code}, got ${String(e)}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test('regexps match whole values only, alternation included', () => {
  const re = anchoredRegExp('user@example\\.com');
  assert.ok(re.test('user@example.com'));
  for (const s of [
    'evil-user@example.com',
    'user@example.com.evil',
    'user@exampleXcom',
    'xuser@example.com',
  ]) {
    assert.equal(re.test(s), false, s);
  }
  // `^a|b$` would accept "ab..." and "...b"; the group keeps both branches anchored.
  const alt = anchoredRegExp('a@x\\.com|b@x\\.com');
  assert.ok(alt.test('a@x.com') && alt.test('b@x.com'));
  assert.equal(alt.test('a@x.com.evil'), false);
  assert.equal(alt.test('evil-b@x.com'), false);
});

test('RE2 spellings: a leading flag group, escaped punctuation; RE2-only syntax is refused', () => {
  assert.ok(anchoredRegExp('(?i)USER@example\\.COM').test('user@EXAMPLE.com'));
  assert.ok(anchoredRegExp('user\\@example\\.com').test('user@example.com'));
  assert.ok(anchoredRegExp('my\\-org/[a-z\\-]+').test('my-org/some-repo'));
  assert.ok(
    anchoredRegExp('https://github\\.com/o/r/\\.github/workflows/[^@]+@refs/tags/v\\d+').test(
      'https://github.com/o/r/.github/workflows/release.yml@refs/tags/v12',
    ),
  );
  throwsCode(() => anchoredRegExp('user@example\\.com\\z'), 'USAGE', /not valid/);
  throwsCode(() => anchoredRegExp('(?U)a+'), 'USAGE', /ungreedy/);
  throwsCode(() => anchoredRegExp('('), 'USAGE', /not valid/);
  throwsCode(() => anchoredRegExp(''), 'USAGE', /empty/);
});

test('a policy needs an identity and an issuer, each exact or regexp but not both', () => {
  throwsCode(() => compileIdentityPolicy({ identity: 'a@x.com' }), 'USAGE', /OIDC issuer/);
  throwsCode(() => compileIdentityPolicy({ issuer: 'https://x' }), 'USAGE', /an identity/);
  throwsCode(() => compileIdentityPolicy({}), 'USAGE', /an identity .* and an OIDC issuer/);
  throwsCode(
    () => compileIdentityPolicy({ identity: 'a@x.com', identityRegexp: 'a@x\\.com', issuer: 'https://x' }),
    'USAGE',
    /not both/,
  );
  throwsCode(() => compileIdentityPolicy({ identity: '', issuer: 'https://x' }), 'USAGE', /empty/);
  assert.equal(hasIdentityPolicy(undefined), false);
  assert.equal(hasIdentityPolicy({ github: {} }), false);
  assert.equal(hasIdentityPolicy({ github: { ref: 'refs/heads/main' } }), true);
});

const CLAIMS: CertificateClaims = {
  subjectAlternativeName: 'user@example.com',
  issuer: 'https://accounts.example.com',
  githubWorkflowRepository: 'o/r',
  githubWorkflowRef: 'refs/heads/main',
};

test('checkIdentity names what was expected and what was found', () => {
  const ok = compileIdentityPolicy({ identity: 'user@example.com', issuer: 'https://accounts.example.com' });
  checkIdentity(CLAIMS, ok);
  throwsCode(
    () => checkIdentity({ ...CLAIMS, subjectAlternativeName: 'evil-user@example.com' }, ok),
    'IDENTITY_MISMATCH',
    /"evil-user@example\.com" does not match the required "user@example\.com"/,
  );
  throwsCode(
    () => checkIdentity({ ...CLAIMS, issuer: 'https://accounts.example.com.evil' }, ok),
    'ISSUER_MISMATCH',
    /"https:\/\/accounts\.example\.com\.evil" does not match/,
  );
  const noIssuer: CertificateClaims = { subjectAlternativeName: 'user@example.com' };
  throwsCode(() => checkIdentity(noIssuer, ok), 'ISSUER_MISMATCH', /no OIDC issuer/);
  const gh = compileIdentityPolicy({
    identityRegexp: '.+@example\\.com',
    issuerRegexp: 'https://accounts\\.example\\.com',
    github: { repository: 'o/r', sha: 'abc' },
  });
  throwsCode(
    () => checkIdentity(CLAIMS, gh),
    'CERTIFICATE_CLAIM_MISMATCH',
    /sha \(1\.3\.6\.1\.4\.1\.57264\.1\.3\) is absent/,
  );
  checkIdentity({ ...CLAIMS, githubWorkflowSha: 'abc' }, gh);
  throwsCode(
    () => checkIdentity({ ...CLAIMS, githubWorkflowRepository: 'o/r2', githubWorkflowSha: 'abc' }, gh),
    'CERTIFICATE_CLAIM_MISMATCH',
    /is "o\/r2", required "o\/r"/,
  );
});
