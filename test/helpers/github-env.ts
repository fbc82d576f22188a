/**
 * A GitHub Actions runner's environment, as `vouch provenance generate` reads it: the release
 * workflow of o/app run for tag v1.4.0 at commit APP_SHA. Shared so the CLI tests that make
 * provenance and those that verify it describe the same build.
 */
export const APP_SHA = '0f0e0d0c0b0a09080706050403020100ffeeddcc';

export const GITHUB_ACTIONS_ENV: Readonly<Record<string, string>> = {
  GITHUB_ACTIONS: 'true',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'o/app',
  GITHUB_REF: 'refs/tags/v1.4.0',
  GITHUB_SHA: APP_SHA,
  GITHUB_WORKFLOW_REF: 'o/app/.github/workflows/release.yml@refs/tags/v1.4.0',
  GITHUB_RUN_ID: '11',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_REPOSITORY_ID: '21',
  GITHUB_REPOSITORY_OWNER_ID: '31',
  RUNNER_ENVIRONMENT: 'github-hosted',
};
