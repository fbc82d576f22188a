import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { isVouchError } from '../../errors.ts';
import { parseEnvelope } from '../dsse.ts';
import { makeStatement, parseStatement, type Statement } from '../statement.ts';
import { slsaProvenanceV1 } from './build.ts';
import { ciProvenanceInput, detectCiEnvironment } from './ci.ts';
import { readProvenance, splitGitUri } from './read.ts';

const SHA = '0f0e0d0c0b0a09080706050403020100ffeeddcc';
const DIGEST = 'ab'.repeat(32);
const subject = [{ name: 'app', digest: { sha256: DIGEST } }];

function v02(predicate: Record<string, unknown>): Statement {
  return {
    _type: 'https://in-toto.io/Statement/v0.1',
    subject,
    predicateType: 'https://slsa.dev/provenance/v0.2',
    predicate,
  };
}

test('v1 from actions/attest-build-provenance (vouch GitHub mode)', () => {
  const ci = detectCiEnvironment({
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'octo-org/octo-app',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_SHA: SHA,
    GITHUB_WORKFLOW_REF: 'octo-org/octo-app/.github/workflows/ci.yml@refs/heads/main',
    GITHUB_RUN_ID: '1',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REPOSITORY_ID: '2',
    GITHUB_REPOSITORY_OWNER_ID: '3',
  })!;
  const s = makeStatement(subject, 'https://slsa.dev/provenance/v1', slsaProvenanceV1(ciProvenanceInput(ci)));
  assert.deepEqual(readProvenance(s), {
    predicateType: 'https://slsa.dev/provenance/v1',
    builderId: 'https://github.com/octo-org/octo-app/.github/workflows/ci.yml@refs/heads/main',
    buildType: 'https://actions.github.io/buildtypes/workflow/v1',
    sourceUri: 'git+https://github.com/octo-org/octo-app',
    sourceRef: 'refs/heads/main',
    sourceDigest: { algorithm: 'gitCommit', value: SHA },
    triggerUri: 'git+https://github.com/octo-org/octo-app@refs/heads/main',
    refType: 'branch',
    branchRef: 'refs/heads/main',
    invocationId: 'https://github.com/octo-org/octo-app/actions/runs/1/attempts/1',
    byproducts: [],
    subjects: subject,
  });
});

test('v0.2 from slsa-github-generator (a real signed provenance, buildInvocationID spelling)', () => {
  const line = readFileSync(
    new URL('../../../test/attest/fixtures/sgg-generic-v1.9.0-push-v14.intoto.jsonl', import.meta.url),
    'utf8',
  );
  const statement = parseStatement(parseEnvelope(line).payload);
  const s = readProvenance(statement);
  assert.equal(s.predicateType, 'https://slsa.dev/provenance/v0.2');
  assert.equal(
    s.builderId,
    'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.9.0',
  );
  assert.equal(s.buildType, 'https://github.com/slsa-framework/slsa-github-generator/generic@v1');
  assert.equal(s.sourceUri, 'git+https://github.com/slsa-framework/example-package');
  assert.equal(s.sourceRef, 'refs/tags/v14');
  assert.deepEqual(s.sourceDigest, { algorithm: 'sha1', value: '2bcaa7495e1cbd11fbd4f598d857b3a6f18df933' });
  assert.equal(s.triggerUri, 'git+https://github.com/slsa-framework/example-package@refs/tags/v14');
  assert.equal(s.refType, 'tag');
  assert.equal(s.tagRef, 'refs/tags/v14');
  assert.equal(s.branchRef, 'refs/heads/main'); // the push event's base_ref
  assert.equal(s.invocationId, '5947345503-1');
  assert.deepEqual(
    s.subjects.map((x) => x.digest?.sha256),
    ['25d35b781bef1fcf8c2d863fa21dcebda08748955b3aff71d4f5fccbbdefe41a'],
  );
});

test('v0.2: buildInvocationId (spec spelling), times, release branch; both spellings read the same', () => {
  const predicate = (meta: Record<string, unknown>) => ({
    builder: {
      id: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0',
    },
    buildType: 'https://github.com/slsa-framework/slsa-github-generator/container@v1',
    invocation: {
      configSource: {
        uri: 'git+https://github.com/o/r@refs/tags/v1.0.0',
        digest: { sha1: SHA },
        entryPoint: '.github/workflows/release.yml',
      },
      environment: {
        github_ref: 'refs/tags/v1.0.0',
        github_ref_type: 'tag',
        github_base_ref: '',
        github_event_name: 'release',
        github_event_payload: { release: { target_commitish: 'release/1.x' } },
      },
    },
    metadata: { ...meta, buildStartedOn: '2024-01-01T00:00:00Z', buildFinishedOn: '2024-01-01T00:05:00Z' },
    materials: [{ uri: 'git+https://github.com/o/r@refs/tags/v1.0.0', digest: { sha1: SHA } }],
  });
  const a = readProvenance(v02(predicate({ buildInvocationId: '77-1' })));
  const b = readProvenance(v02(predicate({ buildInvocationID: '77-1' })));
  assert.deepEqual(a, b);
  assert.equal(a.invocationId, '77-1');
  assert.equal(a.startedOn, '2024-01-01T00:00:00Z');
  assert.equal(a.finishedOn, '2024-01-01T00:05:00Z');
  assert.equal(a.branchRef, 'refs/heads/release/1.x');
  assert.equal(a.tagRef, 'refs/tags/v1.0.0');
  assert.deepEqual(a.byproducts, []);
});

test('v1 from slsa-github-generator builders: trigger from GITHUB_WORKFLOW_REF, ref type from GITHUB_REF_TYPE', () => {
  const s = readProvenance(
    makeStatement(subject, 'https://slsa.dev/provenance/v1', {
      buildDefinition: {
        buildType: 'https://github.com/slsa-framework/slsa-github-generator/delegator-generic@v0',
        externalParameters: { inputs: {} },
        internalParameters: {
          GITHUB_REF: 'refs/heads/main',
          GITHUB_REF_TYPE: 'branch',
          GITHUB_WORKFLOW_REF: 'o/r/.github/workflows/build.yml@refs/heads/main',
        },
        resolvedDependencies: [{ uri: 'git+https://github.com/o/r', digest: { gitCommit: SHA } }],
      },
      runDetails: {
        builder: {
          id: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml@refs/tags/v1.9.0',
        },
        metadata: { invocationId: 'https://github.com/o/r/actions/runs/1/attempts/1' },
        byproducts: [{ name: 'sbom.cdx.json', digest: { sha256: DIGEST } }],
      },
    }),
  );
  assert.equal(s.triggerUri, 'git+https://github.com/o/r@refs/heads/main');
  assert.equal(s.sourceUri, 'git+https://github.com/o/r');
  assert.equal(s.sourceRef, undefined);
  assert.equal(s.refType, 'branch');
  assert.equal(s.branchRef, 'refs/heads/main');
  assert.deepEqual(s.byproducts, [{ name: 'sbom.cdx.json', digest: { sha256: DIGEST } }]);
});

test('GitLab runner statements (v1 and v0.2): project URL source, commit recorded as sha256', () => {
  const bt = 'https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v16.7.0/PROVENANCE.md';
  const v1 = readProvenance(
    makeStatement(subject, 'https://slsa.dev/provenance/v1', {
      buildDefinition: {
        buildType: bt,
        externalParameters: { entryPoint: 'build', source: 'https://gitlab.com/g/p' },
        internalParameters: { architecture: 'amd64', executor: 'docker', job: '10', name: 'r1' },
        resolvedDependencies: [{ uri: 'https://gitlab.com/g/p', digest: { sha256: SHA } }],
      },
      runDetails: {
        builder: { id: 'https://gitlab.com/g/p/-/runners/5', version: { 'gitlab-runner': 'v16.7.0' } },
        metadata: {
          invocationId: '10',
          startedOn: '2024-01-01T00:00:00Z',
          finishedOn: '2024-01-01T00:01:00Z',
        },
      },
    }),
  );
  assert.equal(v1.sourceUri, 'https://gitlab.com/g/p');
  assert.deepEqual(v1.sourceDigest, { algorithm: 'gitCommit', value: SHA });
  assert.equal(v1.sourceRef, undefined);
  assert.equal(v1.builderId, 'https://gitlab.com/g/p/-/runners/5');
  const old = readProvenance(
    v02({
      buildType: bt,
      builder: { id: 'https://gitlab.com/g/p/-/runners/5' },
      invocation: {
        configSource: { uri: 'https://gitlab.com/g/p', digest: { sha256: SHA }, entryPoint: 'build' },
      },
      metadata: { buildStartedOn: '2024-01-01T00:00:00Z', buildFinishedOn: '2024-01-01T00:01:00Z' },
      materials: [],
    }),
  );
  assert.equal(old.sourceUri, 'https://gitlab.com/g/p');
  assert.deepEqual(old.sourceDigest, { algorithm: 'gitCommit', value: SHA });
  // a 64-hex sha256 elsewhere is not a commit
  const other = readProvenance(
    makeStatement(subject, 'https://slsa.dev/provenance/v1', {
      buildDefinition: {
        buildType: 'https://example.com/bt',
        externalParameters: {},
        resolvedDependencies: [{ uri: 'https://x/y', digest: { sha256: SHA } }],
      },
      runDetails: { builder: { id: 'https://b' } },
    }),
  );
  assert.equal(other.sourceDigest, undefined);
});

test('malformed provenance is PROVENANCE_INVALID naming the field', () => {
  const ok = {
    buildDefinition: { buildType: 'https://bt', externalParameters: {} },
    runDetails: { builder: { id: 'https://b' } },
  };
  const v1 = (p: unknown) => makeStatement(subject, 'https://slsa.dev/provenance/v1', p);
  const cases: [Statement, RegExp][] = [
    [
      makeStatement(subject, 'https://cyclonedx.org/bom', {}),
      /predicateType .* not https:\/\/slsa\.dev\/provenance\/v1/,
    ],
    [v1(undefined), /predicate is missing/],
    [v1({ runDetails: ok.runDetails }), /predicate\.buildDefinition is missing/],
    [v1({ ...ok, runDetails: { builder: { id: 7 } } }), /predicate\.runDetails\.builder\.id is not a string/],
    [
      v1({ ...ok, buildDefinition: { ...ok.buildDefinition, buildType: '' } }),
      /buildDefinition\.buildType is empty/,
    ],
    [v1({ ...ok, buildDefinition: { buildType: 'https://bt' } }), /externalParameters is missing/],
    [
      v1({ ...ok, buildDefinition: { ...ok.buildDefinition, resolvedDependencies: {} } }),
      /resolvedDependencies is not a list/,
    ],
    [
      v1({ ...ok, buildDefinition: { ...ok.buildDefinition, resolvedDependencies: [{ digest: {} }] } }),
      /resolvedDependencies\[0\]\.uri is missing/,
    ],
    [
      v1({
        ...ok,
        buildDefinition: {
          ...ok.buildDefinition,
          buildType: 'https://actions.github.io/buildtypes/workflow/v1',
          externalParameters: { workflow: { ref: 'refs/heads/main' } },
        },
      }),
      /externalParameters\.workflow\.repository is missing/,
    ],
    [v02({ buildType: 'https://bt' }), /predicate\.builder is missing/],
    [
      v02({ builder: { id: 'https://b' }, buildType: 'https://bt', metadata: { buildInvocationID: 5 } }),
      /buildInvocationID is not a string/,
    ],
    [
      v02({
        builder: { id: 'https://b' },
        buildType: 'https://bt',
        invocation: { environment: { github_ref: 'refs/x', github_ref_type: 'note' } },
        materials: [{ uri: 'git+https://x/y@refs/x' }],
      }),
      /github_ref_type .* not branch or tag/,
    ],
  ];
  for (const [s, re] of cases) {
    assert.throws(
      () => readProvenance(s),
      (e) => isVouchError(e, 'PROVENANCE_INVALID') && re.test(e.message),
      re.source,
    );
  }
});

test('splitGitUri: ref after the host; user names and @ in tags survive', () => {
  assert.deepEqual(splitGitUri('git+https://github.com/o/r@refs/tags/v1'), {
    uri: 'git+https://github.com/o/r',
    ref: 'refs/tags/v1',
  });
  assert.deepEqual(splitGitUri('git+https://github.com/o/r@refs/tags/@s/p@1.0.0'), {
    uri: 'git+https://github.com/o/r',
    ref: 'refs/tags/@s/p@1.0.0',
  });
  assert.deepEqual(splitGitUri('git+ssh://git@host/o/r.git@refs/heads/x'), {
    uri: 'git+ssh://git@host/o/r.git',
    ref: 'refs/heads/x',
  });
  assert.deepEqual(splitGitUri('git+https://github.com/o/r'), { uri: 'git+https://github.com/o/r' });
  assert.deepEqual(splitGitUri('git+https://github.com/o/r@'), { uri: 'git+https://github.com/o/r' });
});
