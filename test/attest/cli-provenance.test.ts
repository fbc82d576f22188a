/** `vouch provenance generate`, run as main.ts runs a command (parseArgs over its options). */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readProvenance } from '../../src/attest/provenance/read.ts';
import { parseStatement } from '../../src/attest/statement.ts';
import { provenanceCommand } from '../../src/cli/commands/provenance.ts';
import { isVouchError } from '../../src/errors.ts';
import { checkProvenance } from '../../src/verify/provenance.ts';
import { type CliResult, runCommand } from '../helpers/cli.ts';
import { GITHUB_ACTIONS_ENV as GITHUB, APP_SHA as SHA } from '../helpers/github-env.ts';

const GITLAB = {
  GITLAB_CI: 'true',
  CI_PROJECT_URL: 'https://gitlab.example.com/g/app',
  CI_COMMIT_SHA: SHA,
  CI_COMMIT_BRANCH: 'main',
  CI_JOB_ID: '5',
  CI_JOB_NAME: 'build',
  CI_JOB_URL: 'https://gitlab.example.com/g/app/-/jobs/5',
  CI_JOB_STARTED_AT: '2024-05-01T10:00:00Z',
  CI_RUNNER_ID: '9',
  CI_RUNNER_VERSION: '17.5.0',
};

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-cli-provenance-'));
  await writeFile(join(dir, 'app.tar.gz'), 'artifact bytes');
  await writeFile(join(dir, 'sbom.cdx.json'), JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6' }));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Parse like cli/main.ts and run; VouchErrors propagate so tests can check their codes. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return runCommand(provenanceCommand, args, { env, cwd: dir, rethrow: true });
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

test('GitHub Actions: subjects from files and flags, byproducts, written atomically', async () => {
  const image = `sha256:${'ab'.repeat(32)}`;
  const r = await run(
    [
      'generate',
      '--subject-file',
      'app.tar.gz',
      '--subject',
      `ghcr.io/o/app=${image}`,
      '--byproduct',
      'sbom.cdx.json',
      '--output',
      'out/../app.intoto.json',
    ],
    GITHUB,
  );
  assert.equal(r.code, 0);
  assert.match(
    r.stderr,
    /2 subject\(s\), builder https:\/\/github\.com\/o\/app\/\.github\/workflows\/release\.yml@refs\/tags\/v1\.4\.0/,
  );
  const text = await readFile(join(dir, 'app.intoto.json'), 'utf8');
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.endsWith('.tmp')),
    [],
  );
  const statement = parseStatement(Buffer.from(text));
  assert.deepEqual(statement.subject, [
    { name: 'ghcr.io/o/app', digest: { sha256: 'ab'.repeat(32) } },
    { name: 'app.tar.gz', digest: { sha256: sha256('artifact bytes') } },
  ]);
  const json = JSON.parse(text);
  assert.equal(json.predicate.buildDefinition.buildType, 'https://actions.github.io/buildtypes/workflow/v1');
  assert.deepEqual(json.predicate.runDetails.byproducts, [
    {
      name: 'sbom.cdx.json',
      digest: { sha256: sha256(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6' })) },
      mediaType: 'application/vnd.cyclonedx+json',
    },
  ]);
  assert.equal(json.predicate.runDetails.metadata.finishedOn, undefined); // as actions/attest writes it
  // what generate writes, the provenance checks accept
  const checks = checkProvenance(readProvenance(statement), {
    subjectSha256: sha256('artifact bytes'),
    sourceUri: 'github.com/o/app',
    sourceVersionedTag: 'v1.4',
  });
  assert.ok(checks.some((c) => c.field === 'source versioned tag'));
});

test('GitLab CI: start from CI_JOB_STARTED_AT, finish when written; output to stdout', async () => {
  const before = Date.now();
  const r = await run(['generate', '--subject', `app=sha256:${'cd'.repeat(32)}`, '-o', '-'], GITLAB);
  assert.equal(r.code, 0);
  const p = JSON.parse(r.stdout).predicate;
  assert.equal(
    p.buildDefinition.buildType,
    'https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v17.5.0/PROVENANCE.md',
  );
  assert.equal(
    p.buildDefinition.resolvedDependencies[0].uri,
    'git+https://gitlab.example.com/g/app@refs/heads/main',
  );
  assert.equal(p.runDetails.metadata.startedOn, '2024-05-01T10:00:00Z');
  assert.ok(Date.parse(p.runDetails.metadata.finishedOn) >= before - 1000);
  const explicit = await run(
    [
      'generate',
      '--subject',
      `app=sha256:${'cd'.repeat(32)}`,
      '-o',
      '-',
      '--finished-on',
      '2024-05-01T11:00:00+01:00',
    ],
    GITLAB,
  );
  assert.equal(JSON.parse(explicit.stdout).predicate.runDetails.metadata.finishedOn, '2024-05-01T10:00:00Z');
});

test('--generic describes a build outside CI', async () => {
  const r = await run(
    [
      'generate',
      '--generic',
      '--builder-id',
      'https://ci.example/runner',
      '--build-type',
      'https://ci.example/make/v1',
      '--source-uri',
      'git+https://git.example/app@refs/heads/main',
      '--source-digest',
      `sha1:${SHA}`,
      '--invocation-id',
      'run-7',
      '--parameter',
      'target=release',
      '--parameter',
      'flags=a=b',
      '--started-on',
      '2024-05-01T10:00:00Z',
      '--finished-on',
      '2024-05-01T10:05:00Z',
      '--subject',
      `app=sha256:${'ef'.repeat(32)}`,
      '--output',
      '-',
    ],
    { ...GITHUB }, // --generic wins over the environment
  );
  assert.equal(r.code, 0);
  assert.deepEqual(JSON.parse(r.stdout).predicate, {
    buildDefinition: {
      buildType: 'https://ci.example/make/v1',
      externalParameters: { target: 'release', flags: 'a=b' },
      resolvedDependencies: [{ uri: 'git+https://git.example/app@refs/heads/main', digest: { sha1: SHA } }],
    },
    runDetails: {
      builder: { id: 'https://ci.example/runner' },
      metadata: {
        invocationId: 'run-7',
        startedOn: '2024-05-01T10:00:00Z',
        finishedOn: '2024-05-01T10:05:00Z',
      },
    },
  });
});

test('mistakes are usage errors; a missing CI variable is named', async () => {
  const subject = ['--subject', `app=sha256:${'ab'.repeat(32)}`];
  const usage: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['generate', ...subject, '-o', '-'], {}, /no CI environment found/],
    [['generate', '-o', '-'], GITHUB, /at least one --subject/],
    [['generate', ...subject], GITHUB, /--output FILE is required/],
    [['generate', '--subject', 'app=sha256:abc', '-o', '-'], GITHUB, /--subject must be NAME=sha256/],
    [
      ['generate', '--subject', `=sha256:${'ab'.repeat(32)}`, '-o', '-'],
      GITHUB,
      /--subject must be NAME=sha256/,
    ],
    [
      ['generate', ...subject, '--builder-id', 'https://b', '-o', '-'],
      GITHUB,
      /--builder-id .* add --generic/,
    ],
    [
      ['generate', ...subject, '--generic', '--builder-id', 'https://b', '-o', '-'],
      {},
      /--generic needs --builder-id and --build-type/,
    ],
    [['generate', ...subject, ...subject, '-o', '-'], GITHUB, /subject app is given twice/],
    [[...subject, '-o', '-'], GITHUB, /expected a subcommand: generate/],
    [['verify', ...subject, '-o', '-'], GITHUB, /unknown subcommand/],
  ];
  for (const [args, env, re] of usage) {
    await assert.rejects(
      run(args, env),
      (e) => isVouchError(e, 'USAGE') && re.test((e as Error).message),
      re.source,
    );
  }
  await assert.rejects(
    run(['generate', ...subject, '-o', '-'], { ...GITHUB, GITHUB_RUN_ID: undefined }),
    (e) => isVouchError(e, 'PROVENANCE_INVALID') && /GITHUB_RUN_ID is not set/.test((e as Error).message),
  );
  await assert.rejects(run(['generate', '--subject-file', 'missing.bin', '-o', '-'], GITHUB), (e) =>
    isVouchError(e, 'FILE_NOT_FOUND'),
  );
  await assert.rejects(
    run(['generate', ...subject, '--started-on', 'yesterday', '-o', '-'], GITHUB),
    (e) => isVouchError(e, 'PROVENANCE_INVALID') && /startedOn/.test((e as Error).message),
  );
  assert.equal(provenanceCommand.name, 'provenance');
});
