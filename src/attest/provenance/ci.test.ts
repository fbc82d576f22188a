import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../../errors.ts';
import { slsaProvenanceV1 } from './build.ts';
import {
  ciProvenanceInput,
  detectCiEnvironment,
  GITHUB_WORKFLOW_BUILD_TYPE,
  genericProvenanceInput,
  parseSourceDigest,
} from './ci.ts';

const SHA = '0f0e0d0c0b0a09080706050403020100ffeeddcc';

const GITHUB_ENV = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'octo-org/octo-app',
  GITHUB_REF: 'refs/tags/v1.2.3',
  GITHUB_SHA: SHA,
  GITHUB_WORKFLOW_REF: 'octo-org/octo-app/.github/workflows/release.yml@refs/tags/v1.2.3',
  GITHUB_RUN_ID: '1234567890',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_REPOSITORY_ID: '123456',
  GITHUB_REPOSITORY_OWNER_ID: '7890',
  RUNNER_ENVIRONMENT: 'github-hosted',
  // noise a real runner also sets
  GITHUB_TOKEN: 'ghs_secret',
  CI: 'true',
};

const GITLAB_ENV = {
  GITLAB_CI: 'true',
  CI_SERVER_URL: 'https://gitlab.example.com',
  CI_PROJECT_URL: 'https://gitlab.example.com/group/app',
  CI_PROJECT_PATH: 'group/app',
  CI_COMMIT_SHA: SHA,
  CI_COMMIT_TAG: 'v2.0.0',
  CI_COMMIT_REF_NAME: 'v2.0.0',
  CI_PIPELINE_ID: '99',
  CI_JOB_ID: '4242',
  CI_JOB_NAME: 'build image',
  CI_JOB_URL: 'https://gitlab.example.com/group/app/-/jobs/4242',
  CI_JOB_STARTED_AT: '2024-05-01T10:00:00Z',
  CI_CONFIG_PATH: '.gitlab-ci.yml',
  CI_RUNNER_ID: '17',
  CI_RUNNER_VERSION: '17.5.0',
  CI_RUNNER_DESCRIPTION: 'shared-runner-1',
  CI_RUNNER_EXECUTABLE_ARCH: 'linux/amd64',
  CI_JOB_TOKEN: 'glcbt-secret',
};

test('GitHub Actions: the exact predicate actions/attest-build-provenance writes, in its key order', () => {
  const ci = detectCiEnvironment(GITHUB_ENV);
  assert.equal(ci?.kind, 'github');
  const predicate = slsaProvenanceV1(ciProvenanceInput(ci!));
  const expected = {
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: {
        workflow: {
          ref: 'refs/tags/v1.2.3',
          repository: 'https://github.com/octo-org/octo-app',
          path: '.github/workflows/release.yml',
        },
      },
      internalParameters: {
        github: {
          event_name: 'push',
          repository_id: '123456',
          repository_owner_id: '7890',
          runner_environment: 'github-hosted',
        },
      },
      resolvedDependencies: [
        { uri: 'git+https://github.com/octo-org/octo-app@refs/tags/v1.2.3', digest: { gitCommit: SHA } },
      ],
    },
    runDetails: {
      builder: { id: 'https://github.com/octo-org/octo-app/.github/workflows/release.yml@refs/tags/v1.2.3' },
      metadata: { invocationId: 'https://github.com/octo-org/octo-app/actions/runs/1234567890/attempts/2' },
    },
  };
  // same bytes, so same key order as @actions/attest
  assert.equal(JSON.stringify(predicate), JSON.stringify(expected));
  assert.doesNotMatch(JSON.stringify(predicate), /secret/);
});

test('GitHub Actions: a tag containing @, GHES server URL, and no RUNNER_ENVIRONMENT', () => {
  const env = {
    ...GITHUB_ENV,
    GITHUB_SERVER_URL: 'https://ghe.example.com/',
    GITHUB_REF: 'refs/tags/@scope/pkg@1.0.0',
    GITHUB_WORKFLOW_REF: 'octo-org/octo-app/.github/workflows/release.yml@refs/tags/@scope/pkg@1.0.0',
    RUNNER_ENVIRONMENT: undefined,
  };
  const input = ciProvenanceInput(detectCiEnvironment(env)!);
  assert.deepEqual(input.externalParameters, {
    workflow: {
      ref: 'refs/tags/@scope/pkg@1.0.0',
      repository: 'https://ghe.example.com/octo-org/octo-app',
      path: '.github/workflows/release.yml',
    },
  });
  assert.deepEqual(input.internalParameters, {
    github: { event_name: 'push', repository_id: '123456', repository_owner_id: '7890' },
  });
  assert.equal(
    input.builder.id,
    'https://ghe.example.com/octo-org/octo-app/.github/workflows/release.yml@refs/tags/@scope/pkg@1.0.0',
  );
});

test('GitHub Actions: every missing or malformed required variable is named', () => {
  const required = [
    'GITHUB_SERVER_URL',
    'GITHUB_REPOSITORY',
    'GITHUB_REF',
    'GITHUB_SHA',
    'GITHUB_WORKFLOW_REF',
    'GITHUB_RUN_ID',
    'GITHUB_RUN_ATTEMPT',
    'GITHUB_EVENT_NAME',
    'GITHUB_REPOSITORY_ID',
    'GITHUB_REPOSITORY_OWNER_ID',
  ];
  for (const name of required) {
    assert.throws(
      () => detectCiEnvironment({ ...GITHUB_ENV, [name]: undefined }),
      (e) => isVouchError(e, 'PROVENANCE_INVALID') && e.message.includes(name) && /not set/.test(e.message),
      name,
    );
  }
  const malformed: Record<string, string> = {
    GITHUB_SHA: 'main',
    GITHUB_RUN_ID: 'abc',
    GITHUB_REF: 'main',
    GITHUB_WORKFLOW_REF: 'other/repo/.github/workflows/x.yml@main',
    GITHUB_SERVER_URL: 'github.com',
  };
  for (const [name, value] of Object.entries(malformed)) {
    assert.throws(
      () => detectCiEnvironment({ ...GITHUB_ENV, [name]: value }),
      (e) => isVouchError(e, 'PROVENANCE_INVALID') && e.message.includes(name) && e.message.includes(value),
      name,
    );
  }
});

test("GitLab CI: the GitLab runner's buildType and parameters, with ref and commit", () => {
  const ci = detectCiEnvironment(GITLAB_ENV);
  assert.equal(ci?.kind, 'gitlab');
  const predicate = slsaProvenanceV1(ciProvenanceInput(ci!));
  assert.deepEqual(predicate, {
    buildDefinition: {
      buildType: 'https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v17.5.0/PROVENANCE.md',
      externalParameters: { source: 'https://gitlab.example.com/group/app', entryPoint: 'build image' },
      internalParameters: { name: 'shared-runner-1', architecture: 'amd64', job: '4242' },
      resolvedDependencies: [
        { uri: 'git+https://gitlab.example.com/group/app@refs/tags/v2.0.0', digest: { gitCommit: SHA } },
      ],
    },
    runDetails: {
      builder: {
        id: 'https://gitlab.example.com/group/app/-/runners/17',
        version: { 'gitlab-runner': 'v17.5.0' },
      },
      metadata: {
        invocationId: 'https://gitlab.example.com/group/app/-/jobs/4242',
        startedOn: '2024-05-01T10:00:00Z',
      },
    },
  });
  assert.doesNotMatch(JSON.stringify(predicate), /secret/);
});

test('GitLab CI: branch and merge-request pipelines; the ref variables are required', () => {
  const { CI_COMMIT_TAG: _t, ...noTag } = GITLAB_ENV;
  const branch = ciProvenanceInput(detectCiEnvironment({ ...noTag, CI_COMMIT_BRANCH: 'main' })!);
  assert.equal(
    branch.resolvedDependencies?.[0]?.uri,
    'git+https://gitlab.example.com/group/app@refs/heads/main',
  );
  const mr = ciProvenanceInput(
    detectCiEnvironment({ ...noTag, CI_MERGE_REQUEST_REF_PATH: 'refs/merge-requests/7/head' })!,
  );
  assert.equal(
    mr.resolvedDependencies?.[0]?.uri,
    'git+https://gitlab.example.com/group/app@refs/merge-requests/7/head',
  );
  assert.throws(
    () => detectCiEnvironment(noTag),
    (e) => isVouchError(e, 'PROVENANCE_INVALID') && /CI_COMMIT_TAG, CI_COMMIT_BRANCH/.test(e.message),
  );
  for (const name of [
    'CI_PROJECT_URL',
    'CI_COMMIT_SHA',
    'CI_JOB_ID',
    'CI_JOB_NAME',
    'CI_RUNNER_ID',
    'CI_RUNNER_VERSION',
  ]) {
    assert.throws(
      () => detectCiEnvironment({ ...GITLAB_ENV, [name]: '' }),
      (e) => isVouchError(e, 'PROVENANCE_INVALID') && e.message.includes(name),
      name,
    );
  }
  // optional variables only drop their fields
  const min = ciProvenanceInput(
    detectCiEnvironment({
      ...GITLAB_ENV,
      CI_JOB_URL: undefined,
      CI_RUNNER_DESCRIPTION: undefined,
      CI_RUNNER_EXECUTABLE_ARCH: undefined,
      CI_JOB_STARTED_AT: undefined,
    })!,
  );
  assert.deepEqual(min.internalParameters, { job: '4242' });
  assert.equal(min.invocationId, '4242');
  assert.equal(min.startedOn, undefined);
});

test('no CI: undefined; GitHub wins when both are set', () => {
  assert.equal(detectCiEnvironment({ CI: 'true' }), undefined);
  assert.equal(detectCiEnvironment({ ...GITLAB_ENV, ...GITHUB_ENV })?.kind, 'github');
  assert.equal(GITHUB_WORKFLOW_BUILD_TYPE, 'https://actions.github.io/buildtypes/workflow/v1');
});

test('generic mode from explicit inputs', () => {
  const input = genericProvenanceInput({
    builderId: 'https://ci.example/runners/7',
    buildType: 'https://ci.example/buildtypes/make/v1',
    sourceUri: 'git+https://git.example/app@refs/tags/v1.0.0',
    sourceDigest: `sha1:${SHA.toUpperCase()}`,
    invocationId: 'https://ci.example/runs/55',
    parameters: { target: 'release' },
  });
  assert.deepEqual(slsaProvenanceV1(input), {
    buildDefinition: {
      buildType: 'https://ci.example/buildtypes/make/v1',
      externalParameters: { target: 'release' },
      resolvedDependencies: [{ uri: 'git+https://git.example/app@refs/tags/v1.0.0', digest: { sha1: SHA } }],
    },
    runDetails: {
      builder: { id: 'https://ci.example/runners/7' },
      metadata: { invocationId: 'https://ci.example/runs/55' },
    },
  });
  assert.deepEqual(parseSourceDigest(`gitCommit:${SHA}`), { gitCommit: SHA });
  for (const bad of ['sha1', `md5:${SHA}`, 'sha1:xyz', `sha1:${SHA}00`]) {
    assert.throws(
      () => parseSourceDigest(bad),
      (e) => isVouchError(e, 'PROVENANCE_INVALID'),
      bad,
    );
  }
  assert.throws(
    () =>
      genericProvenanceInput({ builderId: 'https://b', buildType: 'https://t', sourceDigest: `sha1:${SHA}` }),
    (e) => isVouchError(e, 'PROVENANCE_INVALID') && /source URI/.test(e.message),
  );
  assert.throws(
    () => genericProvenanceInput({ builderId: 'https://b', buildType: 'https://t', sourceUri: 'not a uri' }),
    (e) => isVouchError(e, 'PROVENANCE_INVALID'),
  );
});

test("GitHub Actions: a reusable workflow's job_workflow_ref (from the OIDC token) is the builder id", () => {
  const ci = detectCiEnvironment(GITHUB_ENV)!;
  const input = ciProvenanceInput(ci, {
    jobWorkflowRef: 'octo-org/shared/.github/workflows/build.yml@refs/tags/v3',
  });
  assert.equal(
    input.builder.id,
    'https://github.com/octo-org/shared/.github/workflows/build.yml@refs/tags/v3',
  );
  // the workflow that was triggered stays the caller's
  assert.deepEqual(
    (input.externalParameters.workflow as { path: string }).path,
    '.github/workflows/release.yml',
  );
  assert.throws(
    () => ciProvenanceInput(ci, { jobWorkflowRef: 'no-ref' }),
    (e) => isVouchError(e, 'PROVENANCE_INVALID') && /token claim job_workflow_ref/.test(e.message),
  );
});
