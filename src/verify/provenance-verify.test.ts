import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ciProvenanceInput, detectCiEnvironment, provenanceStatement } from '../attest/provenance/index.ts';
import type { Statement } from '../attest/statement.ts';
import { isVouchError } from '../errors.ts';
import type { CertificateClaims } from '../sigstore/types.ts';
import type { Signer } from './image.ts';
import type { VerifiedProvenance } from './provenance-source.ts';
import { GITHUB_ACTIONS_ISSUER, signerClaims, verifyProvenanceFor } from './provenance-verify.ts';

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const APP = 'aa'.repeat(32);
const LIB = 'bb'.repeat(32);
const WORKFLOW = 'https://github.com/o/app/.github/workflows/release.yml@refs/tags/v1.0.0';

function githubStatement(repo = 'o/app', subjects = [APP]): Statement {
  const ci = detectCiEnvironment({
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: repo,
    GITHUB_REF: 'refs/tags/v1.0.0',
    GITHUB_SHA: SHA,
    GITHUB_WORKFLOW_REF: `${repo}/.github/workflows/release.yml@refs/tags/v1.0.0`,
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REPOSITORY_ID: '2',
    GITHUB_REPOSITORY_OWNER_ID: '3',
  })!;
  const s = provenanceStatement(
    subjects.map((hex, i) => ({ name: `file${i}`, digest: { sha256: hex } })),
    ciProvenanceInput(ci),
  );
  return JSON.parse(JSON.stringify(s)) as Statement;
}

const claims = (o: Partial<CertificateClaims> = {}): CertificateClaims => ({
  subjectAlternativeName: WORKFLOW,
  issuer: GITHUB_ACTIONS_ISSUER,
  buildSignerURI: WORKFLOW,
  sourceRepositoryURI: 'https://github.com/o/app',
  sourceRepositoryDigest: SHA,
  sourceRepositoryRef: 'refs/tags/v1.0.0',
  ...o,
});

function found(
  statement: Statement,
  signer: Signer = { kind: 'key', hint: 'k' },
  location = 'p:1',
): VerifiedProvenance {
  return { location, statement, signer, timestamps: [] };
}

const cert = (c: CertificateClaims): Signer => ({ kind: 'certificate', claims: c, certificatePem: '' });
const REQ = { sourceUri: 'github.com/o/app' };

describe('signerClaims', () => {
  test('GitHub Actions certificates (github.com and GHE tenants) take part; others and keys do not', () => {
    assert.ok(signerClaims(cert(claims())));
    assert.ok(signerClaims(cert(claims({ issuer: 'https://token.actions.acme.ghe.com' }))));
    assert.equal(signerClaims(cert(claims({ issuer: 'https://accounts.google.com' }))), undefined);
    assert.equal(
      signerClaims(cert(claims({ issuer: 'https://token.actions.evil.ghe.com.example' }))),
      undefined,
    );
    assert.equal(signerClaims({ kind: 'key', hint: undefined }), undefined);
  });
});

describe('verifyProvenanceFor', () => {
  test('a passing provenance: every check, the subject digest among them', () => {
    const [r] = verifyProvenanceFor([found(githubStatement())], [{ name: 'app', sha256: APP }], {
      ...REQ,
      sourceTag: 'v1.0.0',
    });
    assert.equal(r?.provenance.location, 'p:1');
    assert.deepEqual(
      r?.checks.map((c) => c.field),
      ['trigger repository', 'source repository', 'subject digest', 'source tag'],
    );
  });

  test('the provenance about the artifact is the one checked, whatever the order', () => {
    const other = found(githubStatement('o/other', [LIB]), undefined, 'other:1');
    const mine = found(githubStatement(), undefined, 'mine:1');
    const [r] = verifyProvenanceFor([other, mine], [{ name: 'app', sha256: APP }], REQ);
    assert.equal(r?.provenance.location, 'mine:1');
  });

  test('no provenance about the artifact: SUBJECT_MISMATCH with what was found', () => {
    assert.throws(
      () =>
        verifyProvenanceFor([found(githubStatement('o/app', [LIB]))], [{ name: 'app', sha256: APP }], REQ),
      (e) =>
        isVouchError(e, 'SUBJECT_MISMATCH') &&
        e.message === `app: provenance subject: expected sha256:${APP}, found sha256:${LIB}`,
    );
  });

  test('several artifacts: each needs a provenance that passes', () => {
    const both = found(githubStatement('o/app', [APP, LIB]));
    const r = verifyProvenanceFor(
      [both],
      [
        { name: 'app', sha256: APP },
        { name: 'lib', sha256: LIB },
      ],
      REQ,
    );
    assert.deepEqual(
      r.map((x) => x.subject.name),
      ['app', 'lib'],
    );
    assert.throws(
      () =>
        verifyProvenanceFor(
          [found(githubStatement())],
          [
            { name: 'app', sha256: APP },
            { name: 'lib', sha256: LIB },
          ],
          REQ,
        ),
      (e) => isVouchError(e, 'SUBJECT_MISMATCH') && e.message.startsWith('lib: '),
    );
  });

  test('a mismatch is reported before a malformed provenance, naming field, expected and found', () => {
    const broken = githubStatement();
    (broken.predicate as { runDetails: unknown }).runDetails = 'not an object';
    assert.throws(
      () =>
        verifyProvenanceFor(
          [found(broken, undefined, 'broken:1'), found(githubStatement('o/fork'), undefined, 'fork:1')],
          [{ name: 'app', sha256: APP }],
          REQ,
        ),
      (e) =>
        isVouchError(e, 'PROVENANCE_MISMATCH') &&
        /^app: no provenance passed: fork:1: \[PROVENANCE_MISMATCH\] provenance trigger repository: expected git\+https:\/\/github\.com\/o\/app, found git\+https:\/\/github\.com\/o\/fork; broken:1: \[PROVENANCE_INVALID\]/.test(
          e.message,
        ),
    );
  });

  test('a GitHub certificate must agree with the provenance; another issuer is not compared', () => {
    const st = githubStatement();
    const ok = verifyProvenanceFor([found(st, cert(claims()))], [{ name: 'app', sha256: APP }], REQ);
    assert.ok(ok[0]?.checks.some((c) => c.field === 'builder id (certificate)'));
    const fork = claims({ sourceRepositoryURI: 'https://github.com/evil/app' });
    assert.throws(
      () => verifyProvenanceFor([found(st, cert(fork))], [{ name: 'app', sha256: APP }], REQ),
      (e) => isVouchError(e, 'PROVENANCE_MISMATCH') && /certificate source repository/.test(e.message),
    );
    const google = claims({
      issuer: 'https://accounts.google.com',
      sourceRepositoryURI: 'https://github.com/evil/app',
    });
    const r = verifyProvenanceFor([found(st, cert(google))], [{ name: 'app', sha256: APP }], REQ);
    assert.ok(!r[0]?.checks.some((c) => c.field.endsWith('(certificate)')));
  });

  test('bad expectations are USAGE errors, not verification failures', () => {
    assert.throws(
      () =>
        verifyProvenanceFor([found(githubStatement())], [{ name: 'app', sha256: APP }], {
          ...REQ,
          builderId: 'a@b@c',
        }),
      (e) => isVouchError(e, 'USAGE'),
    );
    assert.throws(
      () => verifyProvenanceFor([found(githubStatement())], [], REQ),
      (e) => isVouchError(e, 'USAGE'),
    );
  });
});
