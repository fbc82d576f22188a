import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseEnvelope } from '../attest/dsse.ts';
import { type ProvenanceSummary, readProvenance } from '../attest/provenance/read.ts';
import { parseStatement } from '../attest/statement.ts';
import { isVouchError } from '../errors.ts';
import type { CertificateClaims } from '../sigstore/types.ts';
import {
  checkProvenance,
  normalizeGitUri,
  type ProvenanceExpectations,
  versionedTagMatches,
} from './provenance.ts';

const DIGEST = 'ab'.repeat(32);
const SHA = '0f0e0d0c0b0a09080706050403020100ffeeddcc';
const BUILDER = 'https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1.2.3';

/** A GitHub attest provenance of a tag build of github.com/o/r. */
function summary(o: Partial<ProvenanceSummary> = {}): ProvenanceSummary {
  return {
    predicateType: 'https://slsa.dev/provenance/v1',
    builderId: BUILDER,
    buildType: 'https://actions.github.io/buildtypes/workflow/v1',
    sourceUri: 'git+https://github.com/o/r',
    sourceRef: 'refs/tags/v1.2.3',
    sourceDigest: { algorithm: 'gitCommit', value: SHA },
    triggerUri: 'git+https://github.com/o/r@refs/tags/v1.2.3',
    refType: 'tag',
    tagRef: 'refs/tags/v1.2.3',
    byproducts: [],
    subjects: [{ name: 'app', digest: { sha256: DIGEST } }],
    ...o,
  };
}

const EXPECT: ProvenanceExpectations = { subjectSha256: `sha256:${DIGEST}`, sourceUri: 'github.com/o/r' };

const CLAIMS: CertificateClaims = {
  subjectAlternativeName: BUILDER,
  issuer: 'https://token.actions.githubusercontent.com',
  buildSignerURI: BUILDER,
  sourceRepositoryURI: 'https://github.com/o/r',
  sourceRepositoryDigest: SHA,
  sourceRepositoryRef: 'refs/tags/v1.2.3',
};

function mismatch(re: RegExp) {
  return (e: unknown) => isVouchError(e, 'PROVENANCE_MISMATCH') && re.test((e as Error).message);
}

test('a matching provenance passes and lists every check with expected and found values', () => {
  const checks = checkProvenance(
    summary(),
    {
      ...EXPECT,
      sourceTag: 'v1.2.3',
      sourceVersionedTag: 'v1.2',
      builderId: 'https://github.com/o/r/.github/workflows/release.yml@v1.2.3',
    },
    CLAIMS,
  );
  assert.deepEqual(
    checks.map((c) => c.field),
    [
      'builder id',
      'builder id (certificate)',
      'source repository (certificate)',
      'source commit (certificate)',
      'source ref (certificate)',
      'trigger repository',
      'source repository',
      'subject digest',
      'source tag',
      'source versioned tag',
    ],
  );
  assert.deepEqual(
    checks.find((c) => c.field === 'source repository'),
    {
      field: 'source repository',
      expected: 'git+https://github.com/o/r',
      found: 'git+https://github.com/o/r',
    },
  );
  assert.deepEqual(checks.find((c) => c.field === 'subject digest')?.found, `sha256:${DIGEST}`);
});

test('the real slsa-github-generator provenance passes against its own certificate claims', () => {
  const line = readFileSync(
    new URL('../../test/attest/fixtures/sgg-generic-v1.9.0-push-v14.intoto.jsonl', import.meta.url),
    'utf8',
  );
  const s = readProvenance(parseStatement(parseEnvelope(line).payload));
  const signer =
    'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.9.0';
  // values from the Fulcio certificate in the fixture (SAN and OIDs 1.9, 1.12, 1.13, 1.14)
  const claims: CertificateClaims = {
    subjectAlternativeName: signer,
    buildSignerURI: signer,
    sourceRepositoryURI: 'https://github.com/slsa-framework/example-package',
    sourceRepositoryDigest: '2bcaa7495e1cbd11fbd4f598d857b3a6f18df933',
    sourceRepositoryRef: 'refs/tags/v14',
  };
  const checks = checkProvenance(
    s,
    {
      subjectSha256: '25d35b781bef1fcf8c2d863fa21dcebda08748955b3aff71d4f5fccbbdefe41a',
      sourceUri: 'github.com/slsa-framework/example-package',
      sourceTag: 'v14',
      sourceVersionedTag: 'v14',
      sourceBranch: 'main',
      builderId:
        'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@v1.9.0',
    },
    claims,
  );
  assert.equal(checks.length, 11);
  assert.throws(
    () =>
      checkProvenance(s, { subjectSha256: DIGEST, sourceUri: 'github.com/slsa-framework/example-package' }),
    (e) => isVouchError(e, 'SUBJECT_MISMATCH'),
  );
});

test('another repository: source, trigger and certificate each fail with expected and found', () => {
  assert.throws(
    () => checkProvenance(summary(), { ...EXPECT, sourceUri: 'github.com/o/other' }),
    mismatch(
      /trigger repository: expected git\+https:\/\/github\.com\/o\/other, found git\+https:\/\/github\.com\/o\/r/,
    ),
  );
  assert.throws(
    () =>
      checkProvenance(summary({ triggerUri: undefined }), {
        ...EXPECT,
        sourceUri: 'https://github.com/o/other',
      }),
    mismatch(
      /source repository: expected git\+https:\/\/github\.com\/o\/other, found git\+https:\/\/github\.com\/o\/r/,
    ),
  );
  assert.throws(
    () => checkProvenance(summary({ sourceUri: 'git+https://github.com/evil/r' }), EXPECT),
    mismatch(
      /source repository: expected git\+https:\/\/github\.com\/o\/r, found git\+https:\/\/github\.com\/evil\/r/,
    ),
  );
  assert.throws(
    () => checkProvenance(summary(), EXPECT, { ...CLAIMS, sourceRepositoryURI: 'https://github.com/fork/r' }),
    mismatch(
      /certificate source repository: expected git\+https:\/\/github\.com\/o\/r, found https:\/\/github\.com\/fork\/r/,
    ),
  );
  assert.throws(
    () => checkProvenance(summary({ sourceUri: undefined }), EXPECT),
    mismatch(/source repository: expected .*, found \(none\)/),
  );
  // prefix matches are not matches
  assert.throws(
    () =>
      checkProvenance(
        summary({ sourceUri: 'git+https://github.com/o/r-evil', triggerUri: undefined }),
        EXPECT,
      ),
    mismatch(/found git\+https:\/\/github\.com\/o\/r-evil/),
  );
});

test('refs: the source needs one, and trigger and source must name the same', () => {
  assert.throws(
    () => checkProvenance(summary({ sourceRef: undefined }), EXPECT),
    mismatch(/source ref: expected a ref, found \(none\)/),
  );
  assert.throws(
    () => checkProvenance(summary({ triggerUri: 'git+https://github.com/o/r' }), EXPECT),
    mismatch(/trigger ref/),
  );
  assert.throws(
    () => checkProvenance(summary({ sourceRef: 'refs/heads/main' }), EXPECT),
    mismatch(/source ref: expected the trigger's refs\/tags\/v1\.2\.3, found refs\/heads\/main/),
  );
  // BYOB builders may build another commit and record no ref
  const byob = summary({
    buildType: 'https://github.com/slsa-framework/slsa-github-generator/delegator-generic@v0',
    sourceRef: undefined,
  });
  assert.ok(checkProvenance(byob, EXPECT).length > 0);
});

test('another builder: loose match for --builder-id, exact match against the certificate', () => {
  const ok = [
    'https://github.com/o/r/.github/workflows/release.yml',
    'https://github.com/o/r/.github/workflows/release.yml@v1.2.3',
    'https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1.2.3',
  ];
  for (const builderId of ok)
    assert.ok(checkProvenance(summary(), { ...EXPECT, builderId }).length > 0, builderId);
  const bad: [string, RegExp][] = [
    [
      'https://github.com/o/r/.github/workflows/other.yml',
      /builder id: expected .*other\.yml, found .*release\.yml@refs\/tags\/v1\.2\.3/,
    ],
    ['https://github.com/o/r/.github/workflows/release.yml@v1.2.4', /builder id: expected .*@v1\.2\.4/],
    ['https://github.com/o/r/.github/workflows/release.yml@refs/heads/main', /builder id/],
  ];
  for (const [builderId, re] of bad) {
    assert.throws(() => checkProvenance(summary(), { ...EXPECT, builderId }), mismatch(re), builderId);
  }
  assert.throws(
    () => checkProvenance(summary(), { ...EXPECT, builderId: 'a@b@c' }),
    (e) => isVouchError(e, 'USAGE'),
  );
  // the certificate's signer must be the provenance builder, version included
  assert.throws(
    () =>
      checkProvenance(summary(), EXPECT, {
        ...CLAIMS,
        buildSignerURI: 'https://github.com/o/r/.github/workflows/release.yml@refs/heads/main',
      }),
    mismatch(
      /builder id: expected the certificate's signer .*refs\/heads\/main, found .*refs\/tags\/v1\.2\.3/,
    ),
  );
  // without OID 1.9 the SAN names the signer
  const { buildSignerURI: _b, ...noSigner } = CLAIMS;
  assert.throws(
    () =>
      checkProvenance(summary(), EXPECT, {
        ...noSigner,
        subjectAlternativeName: 'https://github.com/evil/x/.github/workflows/a.yml@refs/tags/v1',
      }),
    mismatch(/certificate's signer https:\/\/github\.com\/evil/),
  );
  assert.throws(
    () => checkProvenance(summary(), EXPECT, { ...CLAIMS, sourceRepositoryDigest: 'ff'.repeat(20) }),
    mismatch(/source commit: expected the certificate's f+, found 0f0e/),
  );
  assert.throws(
    () => checkProvenance(summary(), EXPECT, { ...CLAIMS, sourceRepositoryRef: 'refs/tags/v9' }),
    mismatch(/source ref: expected the certificate's refs\/tags\/v9/),
  );
  // older certificates: the repository from OID 1.5 (owner/repo on github.com)
  const { sourceRepositoryURI: _s, ...old } = CLAIMS;
  assert.ok(checkProvenance(summary(), EXPECT, { ...old, githubWorkflowRepository: 'o/r' }).length > 0);
});

test('tag versus branch', () => {
  assert.ok(checkProvenance(summary(), { ...EXPECT, sourceTag: 'refs/tags/v1.2.3' }).length > 0);
  assert.throws(
    () => checkProvenance(summary(), { ...EXPECT, sourceTag: 'v1.2.4' }),
    mismatch(/source tag: expected v1\.2\.4, found refs\/tags\/v1\.2\.3/),
  );
  assert.throws(
    () => checkProvenance(summary(), { ...EXPECT, sourceBranch: 'main' }),
    mismatch(
      /source branch: expected main, found refs\/tags\/v1\.2\.3 \(a tag was built and its branch is not recorded\)/,
    ),
  );
  const branch = summary({
    sourceRef: 'refs/heads/main',
    triggerUri: 'git+https://github.com/o/r@refs/heads/main',
    refType: 'branch',
    tagRef: undefined,
    branchRef: 'refs/heads/main',
  });
  assert.ok(checkProvenance(branch, { ...EXPECT, sourceBranch: 'main' }).length > 0);
  assert.throws(
    () => checkProvenance(branch, { ...EXPECT, sourceBranch: 'release' }),
    mismatch(/source branch: expected release, found refs\/heads\/main/),
  );
  assert.throws(
    () => checkProvenance(branch, { ...EXPECT, sourceTag: 'v1.2.3' }),
    mismatch(/source tag: expected v1\.2\.3, found refs\/heads\/main/),
  );
  assert.throws(
    () => checkProvenance(branch, { ...EXPECT, sourceVersionedTag: 'v1' }),
    mismatch(/source versioned tag: expected v1, found refs\/heads\/main/),
  );
  // a tag built from a recorded branch satisfies both
  assert.ok(
    checkProvenance(summary({ branchRef: 'refs/heads/main' }), {
      ...EXPECT,
      sourceTag: 'v1.2.3',
      sourceBranch: 'main',
    }).length > 0,
  );
});

test('versioned tags: major must match; minor and patch only when given', () => {
  const table: [string, string, boolean][] = [
    ['v1.2.3', 'v1', true],
    ['v1.2.3', 'v1.2', true],
    ['v1.2.3', 'v1.2.3', true],
    ['v1.2.3', 'v2', false],
    ['v10.0.0', 'v1', false],
    ['v1.2.3', 'v1.3', false],
    ['v1.2.3', 'v1.2.4', false],
    ['v1.2.3', 'v1.2.3+build.7', true], // build metadata ignored
    ['v1.2.3+meta', 'v1.2.3', true],
    ['v1.2.3-rc.1', 'v1.2.3', false], // the prerelease is part of the patch
    ['v1.2.3-rc.1', 'v1.2.3-rc.1', true],
    ['v1.2.3-rc.1', 'v1.2.3-rc.2', false],
    ['v1.2.3-rc.1', 'v1.2', true],
    ['v1.2', 'v1.2.0', true], // shorthand made canonical
    ['v1', 'v1.0.0', true],
    ['v1', 'v1.1', false],
    ['1.2.3', 'v1', false], // not semver without the v
    ['v1.2.3.4', 'v1', false],
    ['latest', 'v1', false],
  ];
  for (const [tag, want, ok] of table) {
    assert.equal(versionedTagMatches(tag, want).ok, ok, `${tag} vs ${want}`);
    const s = summary({ tagRef: `refs/tags/${tag}` });
    if (ok) assert.ok(checkProvenance(s, { ...EXPECT, sourceVersionedTag: want }).length > 0);
    else {
      assert.throws(
        () => checkProvenance(s, { ...EXPECT, sourceVersionedTag: want }),
        mismatch(
          new RegExp(`source versioned tag: expected ${want.replace(/[.+]/g, '\\$&')}, found refs/tags/`),
        ),
        `${tag} vs ${want}`,
      );
    }
  }
  assert.match(versionedTagMatches('v2.0.0', 'v1').why ?? '', /major version 2 is not 1/);
  for (const bad of ['1.2.3', 'v1.2-rc', 'v01', 'main']) {
    assert.throws(
      () => versionedTagMatches('v1.2.3', bad),
      (e) => isVouchError(e, 'USAGE'),
      bad,
    );
  }
});

test('subject digest mismatch is SUBJECT_MISMATCH listing what the provenance covers', () => {
  assert.throws(
    () => checkProvenance(summary(), { ...EXPECT, subjectSha256: 'cd'.repeat(32) }),
    (e) =>
      isVouchError(e, 'SUBJECT_MISMATCH') &&
      e.message.includes(`expected sha256:${'cd'.repeat(32)}`) &&
      e.message.includes(`found sha256:${DIGEST}`),
  );
  assert.ok(checkProvenance(summary(), { ...EXPECT, subjectSha256: DIGEST.toUpperCase() }).length > 0);
  assert.throws(
    () => checkProvenance(summary({ subjects: [{ name: 'x', digest: { sha512: 'aa' } }] }), EXPECT),
    (e) => isVouchError(e, 'SUBJECT_MISMATCH') && /no sha256 subject/.test(e.message),
  );
  assert.throws(
    () => checkProvenance(summary(), { ...EXPECT, subjectSha256: 'sha256:abc' }),
    (e) => isVouchError(e, 'USAGE'),
  );
});

test('source URI forms normalise as slsa-verifier does; a ref in it is a usage error', () => {
  assert.equal(normalizeGitUri('github.com/o/r'), 'git+https://github.com/o/r');
  assert.equal(normalizeGitUri('https://github.com/o/r'), 'git+https://github.com/o/r');
  assert.equal(normalizeGitUri('git+https://github.com/o/r'), 'git+https://github.com/o/r');
  assert.throws(
    () => checkProvenance(summary(), { ...EXPECT, sourceUri: 'github.com/o/r@refs/tags/v1' }),
    (e) => isVouchError(e, 'USAGE'),
  );
  assert.throws(
    () => checkProvenance(summary(), { ...EXPECT, sourceUri: '' }),
    (e) => isVouchError(e, 'USAGE'),
  );
});
