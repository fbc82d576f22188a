/**
 * Provenance inputs from the CI environment: GitHub Actions (the shape actions/attest-build-provenance
 * writes, via @actions/attest buildSLSAProvenancePredicate), GitLab CI (the GitLab runner's
 * buildType), and a generic mode from explicit values. Every missing or malformed variable is a
 * PROVENANCE_INVALID error that names it; nothing here reads secrets or the network.
 */
import { VouchError } from '../../errors.ts';
import type { ResourceDescriptor } from '../statement.ts';
import { isUri, type ProvenanceInput } from './build.ts';

/** actions/toolkit packages/attest/src/provenance.ts */
export const GITHUB_WORKFLOW_BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1';
/** gitlab-runner commands/helpers/artifact_metadata.go: `…/-/blob/<runner version>/PROVENANCE.md` */
export const GITLAB_RUNNER_BUILD_TYPE_PREFIX = 'https://gitlab.com/gitlab-org/gitlab-runner/-/blob/';

export interface GitHubActionsEnvironment {
  kind: 'github';
  serverUrl: string;
  /** `owner/repo` */
  repository: string;
  /** `refs/heads/main`, `refs/tags/v1.2.3`, … */
  ref: string;
  sha: string;
  /** `owner/repo/.github/workflows/release.yml@refs/tags/v1.2.3` */
  workflowRef: string;
  runId: string;
  runAttempt: string;
  eventName: string;
  repositoryId: string;
  repositoryOwnerId: string;
  /** `github-hosted` or `self-hosted` (absent on old runners). */
  runnerEnvironment?: string;
}

export interface GitLabCiEnvironment {
  kind: 'gitlab';
  /** `https://gitlab.example/group/project` */
  projectUrl: string;
  commitSha: string;
  /** Full ref: `refs/tags/v1`, `refs/heads/main` or `refs/merge-requests/7/head`. */
  ref: string;
  jobId: string;
  jobName: string;
  jobUrl?: string;
  runnerId: string;
  runnerVersion: string;
  runnerDescription?: string;
  /** `amd64`, from CI_RUNNER_EXECUTABLE_ARCH (`linux/amd64`). */
  architecture?: string;
  /** CI_JOB_STARTED_AT, RFC 3339. */
  jobStartedAt?: string;
}

export type CiEnvironment = GitHubActionsEnvironment | GitLabCiEnvironment;

type Env = Readonly<Record<string, string | undefined>>;

function missing(name: string, ci: string): VouchError {
  return new VouchError('PROVENANCE_INVALID', `${ci}: environment variable ${name} is not set`, {
    hint: 'run inside the CI job itself, or use generic mode with explicit --builder-id and --build-type',
  });
}

function malformed(name: string, value: string, expected: string): VouchError {
  const what = name === name.toUpperCase() ? `environment variable ${name}` : `token claim ${name}`;
  return new VouchError('PROVENANCE_INVALID', `${what} must be ${expected}, not ${JSON.stringify(value)}`);
}

function need(env: Env, name: string, ci: string, re?: RegExp, expected?: string): string {
  const v = env[name];
  if (v === undefined || v === '') throw missing(name, ci);
  if (re && !re.test(v)) throw malformed(name, v, expected ?? re.source);
  return v;
}

function optional(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const DIGITS = /^\d+$/;
const HTTP_URL = /^https?:\/\/[^\s/]+(?:\/[^\s]*)?$/;

function github(env: Env): GitHubActionsEnvironment {
  const ci = 'GitHub Actions';
  const repository = need(env, 'GITHUB_REPOSITORY', ci, /^[^/\s]+\/[^/\s]+$/, 'owner/repo');
  const workflowRef = need(env, 'GITHUB_WORKFLOW_REF', ci);
  if (!workflowRef.startsWith(`${repository}/`) || !workflowRef.includes('@')) {
    throw malformed('GITHUB_WORKFLOW_REF', workflowRef, `${repository}/<workflow path>@<ref>`);
  }
  const runnerEnvironment = optional(env, 'RUNNER_ENVIRONMENT');
  return {
    kind: 'github',
    serverUrl: need(env, 'GITHUB_SERVER_URL', ci, HTTP_URL, 'an https:// URL').replace(/\/+$/, ''),
    repository,
    ref: need(env, 'GITHUB_REF', ci, /^refs\/\S+$/, 'a full ref such as refs/heads/main'),
    sha: need(env, 'GITHUB_SHA', ci, COMMIT, 'a hex commit id'),
    workflowRef,
    runId: need(env, 'GITHUB_RUN_ID', ci, DIGITS, 'a number'),
    runAttempt: need(env, 'GITHUB_RUN_ATTEMPT', ci, DIGITS, 'a number'),
    eventName: need(env, 'GITHUB_EVENT_NAME', ci),
    repositoryId: need(env, 'GITHUB_REPOSITORY_ID', ci, DIGITS, 'a number'),
    repositoryOwnerId: need(env, 'GITHUB_REPOSITORY_OWNER_ID', ci, DIGITS, 'a number'),
    ...(runnerEnvironment ? { runnerEnvironment } : {}),
  };
}

/** The full ref of a GitLab pipeline: tag, branch, or merge request head. */
function gitlabRef(env: Env): string {
  const tag = optional(env, 'CI_COMMIT_TAG');
  if (tag) return `refs/tags/${tag}`;
  const branch = optional(env, 'CI_COMMIT_BRANCH');
  if (branch) return `refs/heads/${branch}`;
  const mr = optional(env, 'CI_MERGE_REQUEST_REF_PATH');
  if (mr) return mr;
  throw missing('CI_COMMIT_TAG, CI_COMMIT_BRANCH or CI_MERGE_REQUEST_REF_PATH (one of them)', 'GitLab CI');
}

function gitlab(env: Env): GitLabCiEnvironment {
  const ci = 'GitLab CI';
  const projectUrl = need(env, 'CI_PROJECT_URL', ci, HTTP_URL, 'an https:// URL').replace(/\/+$/, '');
  const arch = optional(env, 'CI_RUNNER_EXECUTABLE_ARCH');
  const jobUrl = optional(env, 'CI_JOB_URL');
  const runnerDescription = optional(env, 'CI_RUNNER_DESCRIPTION');
  const jobStartedAt = optional(env, 'CI_JOB_STARTED_AT');
  return {
    kind: 'gitlab',
    projectUrl,
    commitSha: need(env, 'CI_COMMIT_SHA', ci, COMMIT, 'a hex commit id'),
    ref: gitlabRef(env),
    jobId: need(env, 'CI_JOB_ID', ci, DIGITS, 'a number'),
    jobName: need(env, 'CI_JOB_NAME', ci),
    ...(jobUrl ? { jobUrl } : {}),
    runnerId: need(env, 'CI_RUNNER_ID', ci, DIGITS, 'a number'),
    runnerVersion: need(env, 'CI_RUNNER_VERSION', ci, /^v?\d+\.\d+\.\d+\S*$/, 'a version such as 17.5.0'),
    ...(runnerDescription ? { runnerDescription } : {}),
    ...(arch ? { architecture: arch.slice(arch.lastIndexOf('/') + 1) } : {}),
    ...(jobStartedAt ? { jobStartedAt } : {}),
  };
}

/**
 * The CI system this process runs in, read from `env`: GitHub Actions (GITHUB_ACTIONS=true) or
 * GitLab CI (GITLAB_CI=true); undefined elsewhere. Throws PROVENANCE_INVALID when a required
 * variable is missing or malformed.
 */
export function detectCiEnvironment(env: Env): CiEnvironment | undefined {
  if (env.GITHUB_ACTIONS === 'true') return github(env);
  if (env.GITLAB_CI === 'true') return gitlab(env);
  return undefined;
}

/** What only the workflow's OIDC token knows (the environment does not). */
export interface GitHubTokenClaims {
  /**
   * `job_workflow_ref`: the workflow the job runs, which differs from GITHUB_WORKFLOW_REF in a
   * reusable workflow; it is the Fulcio certificate's SAN, so the builder id must use it.
   */
  jobWorkflowRef?: string;
}

/** actions/attest-build-provenance's predicate fields, from the workflow's environment. */
export function githubProvenanceInput(
  ci: GitHubActionsEnvironment,
  token: GitHubTokenClaims = {},
): ProvenanceInput {
  // `owner/repo/.github/workflows/x.yml@ref` → path and ref; a tag may itself contain '@'.
  const [path = '', ...refParts] = ci.workflowRef.slice(ci.repository.length + 1).split('@');
  const repoUrl = `${ci.serverUrl}/${ci.repository}`;
  return {
    buildType: GITHUB_WORKFLOW_BUILD_TYPE,
    externalParameters: { workflow: { ref: refParts.join('@'), repository: repoUrl, path } },
    internalParameters: {
      github: {
        event_name: ci.eventName,
        repository_id: ci.repositoryId,
        repository_owner_id: ci.repositoryOwnerId,
        ...(ci.runnerEnvironment ? { runner_environment: ci.runnerEnvironment } : {}),
      },
    },
    resolvedDependencies: [{ uri: `git+${repoUrl}@${ci.ref}`, digest: { gitCommit: ci.sha } }],
    // @actions/attest uses the token's job_workflow_ref; without a token, the top-level workflow
    // (the same unless the job runs a reusable workflow).
    builder: { id: `${ci.serverUrl}/${jobWorkflowRef(token.jobWorkflowRef) ?? ci.workflowRef}` },
    invocationId: `${repoUrl}/actions/runs/${ci.runId}/attempts/${ci.runAttempt}`,
  };
}

/** The GitLab runner's v1 buildType (external: source, entryPoint; internal: name, architecture, job). */
export function gitlabProvenanceInput(ci: GitLabCiEnvironment): ProvenanceInput {
  const version = ci.runnerVersion.startsWith('v') ? ci.runnerVersion : `v${ci.runnerVersion}`;
  return {
    buildType: `${GITLAB_RUNNER_BUILD_TYPE_PREFIX}${version}/PROVENANCE.md`,
    externalParameters: { source: ci.projectUrl, entryPoint: ci.jobName },
    internalParameters: {
      ...(ci.runnerDescription ? { name: ci.runnerDescription } : {}),
      ...(ci.architecture ? { architecture: ci.architecture } : {}),
      job: ci.jobId,
    },
    // The runner writes the commit as `sha256` without a ref; vouch records the ref and the
    // commit under `gitCommit` (in-toto's digest name) so verifiers can check tag and branch.
    resolvedDependencies: [{ uri: `git+${ci.projectUrl}@${ci.ref}`, digest: { gitCommit: ci.commitSha } }],
    builder: { id: `${ci.projectUrl}/-/runners/${ci.runnerId}`, version: { 'gitlab-runner': version } },
    invocationId: ci.jobUrl ?? ci.jobId,
    ...(ci.jobStartedAt ? { startedOn: ci.jobStartedAt } : {}),
  };
}

function jobWorkflowRef(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^[^/\s]+\/[^/\s]+\/\S+@\S+$/.test(v)) throw malformed('job_workflow_ref', v, 'owner/repo/path@ref');
  return v;
}

export function ciProvenanceInput(ci: CiEnvironment, token: GitHubTokenClaims = {}): ProvenanceInput {
  switch (ci.kind) {
    case 'github':
      return githubProvenanceInput(ci, token);
    case 'gitlab':
      return gitlabProvenanceInput(ci);
  }
}

/** Explicit inputs for builds outside GitHub Actions and GitLab CI. */
export interface GenericProvenanceOptions {
  builderId: string;
  buildType: string;
  /** Where the source came from, e.g. `git+https://git.example/app@refs/tags/v1.0.0`. */
  sourceUri?: string;
  /** `sha1:<hex>` or `gitCommit:<hex>` of the source commit. */
  sourceDigest?: string;
  invocationId?: string;
  /** External parameters (e.g. the build command's inputs); default none. */
  parameters?: Record<string, unknown>;
  internalParameters?: Record<string, unknown>;
}

const DIGEST_NAMES = ['sha1', 'gitCommit', 'sha256', 'sha512'] as const;

/** `alg:hex` → `{ alg: hex }` for the source digest; PROVENANCE_INVALID when malformed. */
export function parseSourceDigest(s: string): Record<string, string> {
  const i = s.indexOf(':');
  const alg = s.slice(0, i);
  const hex = s.slice(i + 1).toLowerCase();
  if (i < 0 || !(DIGEST_NAMES as readonly string[]).includes(alg) || !/^[0-9a-f]+$/.test(hex)) {
    throw new VouchError(
      'PROVENANCE_INVALID',
      `source digest must be ALGORITHM:HEX with ALGORITHM one of ${DIGEST_NAMES.join(', ')}, not ${JSON.stringify(s)}`,
    );
  }
  const lengths: Record<string, number[]> = { sha1: [40], gitCommit: [40, 64], sha256: [64], sha512: [128] };
  if (!lengths[alg]?.includes(hex.length)) {
    throw new VouchError('PROVENANCE_INVALID', `source digest ${alg}:${hex} has ${hex.length} hex digits`);
  }
  return { [alg]: hex };
}

export function genericProvenanceInput(o: GenericProvenanceOptions): ProvenanceInput {
  if (!o.builderId) throw new VouchError('PROVENANCE_INVALID', 'generic provenance needs a builder id');
  if (!o.buildType) throw new VouchError('PROVENANCE_INVALID', 'generic provenance needs a build type');
  if (o.sourceDigest && !o.sourceUri) {
    throw new VouchError('PROVENANCE_INVALID', 'a source digest needs the source URI it belongs to');
  }
  let source: ResourceDescriptor | undefined;
  if (o.sourceUri) {
    if (!isUri(o.sourceUri)) {
      throw new VouchError(
        'PROVENANCE_INVALID',
        `source URI must be an absolute URI, not ${JSON.stringify(o.sourceUri)}`,
      );
    }
    source = { uri: o.sourceUri, ...(o.sourceDigest ? { digest: parseSourceDigest(o.sourceDigest) } : {}) };
  }
  return {
    buildType: o.buildType,
    externalParameters: o.parameters ?? {},
    ...(o.internalParameters ? { internalParameters: o.internalParameters } : {}),
    ...(source ? { resolvedDependencies: [source] } : {}),
    builder: { id: o.builderId },
    ...(o.invocationId ? { invocationId: o.invocationId } : {}),
  };
}
