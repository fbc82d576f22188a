/**
 * The generated GitHub workflows: they parse, pass actionlint-style structural checks (checked
 * here, and the checker is itself shown to catch each mistake), grant each job exactly the
 * permissions it needs, pin every action by commit SHA, keep expressions out of scripts, use only
 * flags vouch has, pass shellcheck, and their scripts do the right thing when run with bash
 * against stand-ins for `gh` and `vouch` (latest tag chosen, issue body built, no duplicate issue).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import { dbCommand } from '../cli/commands/db.ts';
import { scanCommand } from '../cli/commands/scan.ts';
import { verifyReleaseCommand } from '../cli/commands/verify-release.ts';
import type { Command } from '../cli/main.ts';
import { isVouchError } from '../errors.ts';
import {
  buildWorkflow,
  type GithubWorkflowOptions,
  githubWorkflows,
  PINNED_ACTIONS,
  rebuildWorkflow,
  rescanWorkflow,
  WORKFLOW_FILES,
  writeGithubWorkflows,
} from './github.ts';

const run = promisify(execFile);
const GHCR: GithubWorkflowOptions = { image: 'ghcr.io/o/app', architectures: ['amd64', 'arm64'] };
const OTHER: GithubWorkflowOptions = { image: 'registry.example.com/team/app', architectures: ['amd64'] };

type Json = Record<string, unknown>;
interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Json;
  env?: Record<string, string>;
}
interface Job {
  'runs-on'?: string;
  'timeout-minutes'?: number;
  permissions?: Record<string, string>;
  needs?: string | string[];
  if?: string;
  outputs?: Record<string, string>;
  env?: Record<string, string>;
  steps?: Step[];
}
interface Workflow {
  name?: string;
  on?: Json;
  permissions?: unknown;
  jobs?: Record<string, Job>;
}

function parse(text: string): Workflow {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  assert.deepEqual(
    doc.errors.map((e) => e.message),
    [],
  );
  return doc.toJS() as Workflow;
}

// actionlint's lists (rhysd/actionlint permissions and expression contexts).
const SCOPES = [
  'actions',
  'attestations',
  'checks',
  'contents',
  'deployments',
  'id-token',
  'issues',
  'discussions',
  'models',
  'packages',
  'pages',
  'pull-requests',
  'repository-projects',
  'security-events',
  'statuses',
];
const EVENTS = ['push', 'workflow_dispatch', 'schedule'];
const CONTEXTS = ['github', 'steps', 'needs', 'secrets', 'env', 'inputs', 'vars', 'runner', 'matrix', 'job'];
const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;
const PIN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(\/[^@\s]+)?@[0-9a-f]{40}$/;

function expressions(s: string): string[] {
  return [...s.matchAll(/\$\{\{(.*?)\}\}/g)].map((m) => m[1]!.trim());
}

/** actionlint-style checks a generated workflow must pass; returns every problem found. */
function lintWorkflow(text: string): string[] {
  const problems: string[] = [];
  const w = parse(text);
  if (!w.name) problems.push('no name');
  const events = Object.keys(w.on ?? {});
  if (events.length === 0) problems.push('no events');
  for (const e of events) if (!EVENTS.includes(e)) problems.push(`unknown event ${e}`);
  const schedule = (w.on?.schedule ?? []) as { cron?: string }[];
  for (const s of schedule) {
    const f = (s.cron ?? '').split(' ');
    if (f.length !== 5 || !f.every((x) => CRON_FIELD.test(x))) problems.push(`bad cron "${s.cron}"`);
  }
  if (!(typeof w.permissions === 'object' && w.permissions && Object.keys(w.permissions).length === 0)) {
    problems.push('top-level permissions must be {}');
  }
  const jobs = w.jobs ?? {};
  if (Object.keys(jobs).length === 0) problems.push('no jobs');
  for (const [name, job] of Object.entries(jobs)) {
    const at = `jobs.${name}`;
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) problems.push(`${at}: bad job id`);
    if (!job['runs-on']) problems.push(`${at}: no runs-on`);
    if (typeof job['timeout-minutes'] !== 'number') problems.push(`${at}: no timeout-minutes`);
    if (!job.permissions || typeof job.permissions !== 'object') problems.push(`${at}: no permissions`);
    for (const [scope, level] of Object.entries(job.permissions ?? {})) {
      if (!SCOPES.includes(scope)) problems.push(`${at}: unknown permission ${scope}`);
      if (!['read', 'write', 'none'].includes(level)) problems.push(`${at}: permission ${scope}: ${level}`);
    }
    const needs = job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
    for (const n of needs) if (!jobs[n]) problems.push(`${at}: needs unknown job ${n}`);
    const steps = job.steps ?? [];
    if (steps.length === 0) problems.push(`${at}: no steps`);
    const ids = new Set<string>();
    const seen = new Set<string>();
    const checkRefs = (s: string, where: string, available: Set<string>) => {
      for (const e of expressions(s)) {
        const ctx = /^!?\s*([a-z_]+)/.exec(e)?.[1] ?? '';
        if (!CONTEXTS.includes(ctx)) problems.push(`${where}: unknown context in "${e}"`);
        if (/github\.event\b/.test(e)) problems.push(`${where}: uses github.event`);
        for (const m of e.matchAll(/steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g)) {
          if (!available.has(m[1]!)) problems.push(`${where}: step ${m[1]} is not an earlier step`);
        }
        for (const m of e.matchAll(/needs\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g)) {
          if (!needs.includes(m[1]!)) problems.push(`${where}: job ${m[1]} is not needed`);
          else if (!jobs[m[1]!]?.outputs?.[m[2]!])
            problems.push(`${where}: job ${m[1]} has no output ${m[2]}`);
        }
      }
    };
    if (job.if) checkRefs(`\${{ ${job.if} }}`, `${at}.if`, new Set());
    for (const [k, v] of Object.entries(job.env ?? {})) checkRefs(String(v), `${at}.env.${k}`, new Set());
    for (const [i, step] of steps.entries()) {
      const sat = `${at}.steps[${i}]`;
      if (!step.name) problems.push(`${sat}: no name`);
      if ((step.uses === undefined) === (step.run === undefined))
        problems.push(`${sat}: needs exactly one of uses, run`);
      if (step.with && !step.uses) problems.push(`${sat}: with without uses`);
      if (step.uses !== undefined && !PIN.test(step.uses))
        problems.push(`${sat}: ${step.uses} is not pinned to a commit`);
      if (step.run !== undefined && expressions(step.run).length > 0) {
        problems.push(`${sat}: expression inside run: (pass it through env)`);
      }
      if (step.id) {
        if (ids.has(step.id)) problems.push(`${sat}: duplicate id ${step.id}`);
        ids.add(step.id);
      }
      if (step.if) checkRefs(`\${{ ${step.if} }}`, `${sat}.if`, seen);
      for (const [k, v] of Object.entries(step.env ?? {})) checkRefs(String(v), `${sat}.env.${k}`, seen);
      for (const [k, v] of Object.entries(step.with ?? {})) checkRefs(String(v), `${sat}.with.${k}`, seen);
      if (step.id) seen.add(step.id);
    }
    for (const [k, v] of Object.entries(job.outputs ?? {})) checkRefs(v, `${at}.outputs.${k}`, ids);
  }
  // Pins carry a readable version comment on the same line.
  for (const line of text.split('\n')) {
    const m = /^\s*(?:-\s*)?uses:\s*(\S+)(.*)$/.exec(line);
    if (m && !/^\s*#\s*v\d+\.\d+\.\d+\s*$/.test(m[2]!)) problems.push(`${m[1]}: no "# vX.Y.Z" comment`);
  }
  return problems;
}

function jobsOf(text: string): Record<string, Job> {
  return parse(text).jobs ?? {};
}

function permissionsOf(text: string): Record<string, Record<string, string> | undefined> {
  return Object.fromEntries(Object.entries(jobsOf(text)).map(([k, j]) => [k, j.permissions]));
}

function runScripts(text: string): { where: string; script: string }[] {
  return Object.entries(jobsOf(text)).flatMap(([job, j]) =>
    (j.steps ?? []).flatMap((s) => (s.run ? [{ where: `${job}: ${s.name}`, script: s.run }] : [])),
  );
}

const CONFIGS: [string, GithubWorkflowOptions][] = [
  ['ghcr.io', GHCR],
  ['ghcr.io with GitHub attestations', { ...GHCR, githubAttestations: true }],
  ['another registry', OTHER],
];

describe('generated workflows', () => {
  for (const [label, o] of CONFIGS) {
    test(`${label}: all three parse and pass the structural checks`, () => {
      const files = githubWorkflows(o);
      assert.deepEqual(
        files.map((f) => f.path),
        [WORKFLOW_FILES.build, WORKFLOW_FILES.rebuild, WORKFLOW_FILES.rescan],
      );
      for (const f of files) assert.deepEqual(lintWorkflow(f.content), [], f.path);
    });
  }

  test('the checker catches each mistake it looks for', () => {
    const bad = `name: bad
on:
  push:
    tags: ['v*']
  pull_request_target:
  schedule:
    - cron: '61 * * *'
permissions: write-all
jobs:
  one:
    runs-on: ubuntu-24.04
    needs: ghost
    permissions:
      contents: write
      secrets: read
    steps:
      - name: unpinned
        uses: actions/checkout@v4
      - name: injected
        run: echo "\${{ github.event.issue.title }}"
      - uses: actions/setup-node@1111111111111111111111111111111111111111
        run: echo both
      - name: forward
        if: steps.later.outputs.x == 'y'
        run: echo
      - name: later
        id: later
        run: echo
  two:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    steps: []
`;
    const problems = lintWorkflow(bad);
    for (const want of [
      /unknown event pull_request_target/,
      /bad cron "61 \* \* \*"/,
      /top-level permissions must be \{\}/,
      /jobs\.one: no timeout-minutes/,
      /jobs\.one: needs unknown job ghost/,
      /unknown permission secrets/,
      /actions\/checkout@v4 is not pinned/,
      /expression inside run:/,
      /jobs\.one\.steps\[2\]: no name/,
      /needs exactly one of uses, run/,
      /step later is not an earlier step/,
      /jobs\.two: no permissions/,
      /jobs\.two: no steps/,
      /actions\/checkout@v4: no "# vX\.Y\.Z" comment/,
    ]) {
      assert.ok(
        problems.some((p) => want.test(p)),
        `${want} not reported in:\n${problems.join('\n')}`,
      );
    }
  });

  test('build: tags v* and workflow_dispatch; each job has exactly the permissions it needs', () => {
    const w = parse(buildWorkflow(GHCR));
    assert.deepEqual(w.on, { push: { tags: ['v*'] }, workflow_dispatch: null });
    assert.deepEqual(w.permissions, {});
    assert.deepEqual(permissionsOf(buildWorkflow(GHCR)), {
      build: { contents: 'read', 'id-token': 'write', packages: 'write' },
    });
    assert.deepEqual(permissionsOf(buildWorkflow({ ...GHCR, githubAttestations: true })), {
      build: { contents: 'read', 'id-token': 'write', packages: 'write', attestations: 'write' },
    });
    // Not ghcr.io: no package permission; credentials from secrets.
    assert.deepEqual(permissionsOf(buildWorkflow(OTHER)), {
      build: { contents: 'read', 'id-token': 'write' },
    });
    assert.match(buildWorkflow(OTHER), /REGISTRY_PASSWORD: \$\{\{ secrets\.REGISTRY_PASSWORD \}\}/);
    assert.deepEqual(permissionsOf(rebuildWorkflow(GHCR)), {
      rebuild: { actions: 'write', contents: 'read' },
    });
    assert.deepEqual(permissionsOf(rescanWorkflow(GHCR)), {
      rescan: { contents: 'read', packages: 'read' },
      report: { issues: 'write' },
    });
    assert.deepEqual(permissionsOf(rescanWorkflow(OTHER)), {
      rescan: { contents: 'read' },
      report: { issues: 'write' },
    });
  });

  test('schedules: a weekly rebuild and a daily re-scan', () => {
    const rebuild = parse(rebuildWorkflow(GHCR)).on as { schedule: { cron: string }[] };
    const rescan = parse(rescanWorkflow(GHCR)).on as { schedule: { cron: string }[] };
    const [, , dom, mon, dow] = rebuild.schedule[0]!.cron.split(' ');
    assert.deepEqual([dom, mon], ['*', '*']);
    assert.match(dow!, /^[0-6]$/, 'one day a week');
    assert.deepEqual(rescan.schedule[0]!.cron.split(' ').slice(2), ['*', '*', '*'], 'every day');
  });

  test('every action is pinned to the recorded commit, with its version as a comment', () => {
    const all = githubWorkflows({ ...GHCR, githubAttestations: true }).map((f) => f.content);
    const used = new Set(all.flatMap((t) => [...t.matchAll(/uses: (\S+ # \S+)/g)].map((m) => m[1]!)));
    assert.deepEqual(
      [...used].sort(),
      Object.values(PINNED_ACTIONS)
        .map((a) => `${a.action}@${a.sha} # ${a.version}`)
        .sort(),
    );
    for (const a of Object.values(PINNED_ACTIONS)) assert.match(a.sha, /^[0-9a-f]{40}$/);
  });

  test('no expression reaches a script; github.event is never read', () => {
    for (const f of githubWorkflows({ ...GHCR, githubAttestations: true })) {
      assert.ok(!f.content.includes('github.event'), f.path);
      for (const { where, script } of runScripts(f.content)) {
        assert.equal(expressions(script).length, 0, `${f.path} ${where}`);
      }
    }
  });

  test('the vouch flags the workflows use exist', () => {
    const commands: Record<string, Command> = {
      'verify-release': verifyReleaseCommand,
      scan: scanCommand,
      db: dbCommand,
    };
    let checked = 0;
    for (const f of githubWorkflows(GHCR)) {
      for (const { script } of runScripts(f.content)) {
        // Join continued lines, then look at every `vouch <command> ...` invocation.
        for (const m of script.replaceAll('\\\n', ' ').matchAll(/\bvouch ([a-z-]+)([^\n|;]*)/g)) {
          const command = commands[m[1]!];
          if (!command) continue; // pipeline: another module's command
          for (const flag of m[2]!.matchAll(/(?:^|\s)--([a-z-]+)/g)) {
            assert.ok(flag[1]! in command.options, `vouch ${m[1]} has no --${flag[1]}`);
            checked++;
          }
        }
      }
    }
    assert.ok(checked >= 15, `only ${checked} flags checked`);
  });

  test('unsafe values are refused before they reach YAML or shell', () => {
    for (const o of [
      { ...GHCR, image: 'ghcr.io/o/app\nevil: 1' },
      { ...GHCR, image: 'ghcr.io/o/app:latest' },
      { ...GHCR, architectures: ['amd64; rm -rf /'] },
      { ...GHCR, architectures: [] },
      { ...GHCR, ecosystems: ['Debian $(id)'] },
      { ...GHCR, vouchPackage: 'vouch@1 && curl x' },
      { ...GHCR, config: 'vouch.yaml"' },
    ]) {
      assert.throws(
        () => buildWorkflow(o),
        (e) => isVouchError(e, 'USAGE'),
        JSON.stringify(o),
      );
    }
  });
});

const shellcheck = await findTool('shellcheck', 'shellcheck');
const jq = await findTool('jq', 'jq');

async function findTool(name: string, pkg: string): Promise<string | false> {
  try {
    await run(name, ['--version']);
    return false;
  } catch {
    if (process.env.CI) throw new Error(`${name} is required under CI (apt-get install ${pkg})`);
    return `${name} is not installed (apt-get install ${pkg})`;
  }
}

describe('the workflow scripts', () => {
  test('bash parses every script', async () => {
    for (const f of githubWorkflows({ ...GHCR, githubAttestations: true })) {
      for (const { where, script } of runScripts(f.content)) {
        await run('bash', ['-n', '-c', script]).catch((e: { stderr: string }) =>
          assert.fail(`${f.path} ${where}: ${e.stderr}`),
        );
      }
    }
  });

  test('shellcheck finds nothing', { skip: shellcheck }, async () => {
    for (const f of githubWorkflows({ ...GHCR, githubAttestations: true })) {
      for (const { where, script } of runScripts(f.content)) {
        const r = await new Promise<{ code: number; out: string }>((done) => {
          const child = execFile('shellcheck', ['-s', 'bash', '-'], (err, stdout) =>
            done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout }),
          );
          child.stdin?.end(script);
        });
        assert.equal(r.code, 0, `${f.path} ${where}:\n${r.out}`);
      }
    }
  });
});

/**
 * Run one step's script as the runner does (`bash --noprofile --norc -eo pipefail`), with the
 * job's and step's env (expressions resolved from `ctx`), GITHUB_OUTPUT and GITHUB_ENV files, and
 * stand-ins for gh and vouch first on PATH.
 */
interface Context {
  values: Record<string, string>;
  env: Record<string, string>;
}

function resolveExpressions(v: string, ctx: Context): string {
  return v.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_m, e: string) => ctx.values[e] ?? '');
}

async function runStep(
  job: Job,
  step: Step,
  ctx: Context,
  sandbox: string,
): Promise<{ code: number; stdout: string; stderr: string; outputs: Record<string, string> }> {
  const outFile = join(sandbox, `output-${Math.random().toString(16).slice(2)}`);
  const envFile = join(sandbox, `env-${Math.random().toString(16).slice(2)}`);
  await writeFile(outFile, '');
  await writeFile(envFile, '');
  const env: Record<string, string> = {
    PATH: `${join(sandbox, 'bin')}:${process.env.PATH}`,
    HOME: sandbox,
    RUNNER_TEMP: join(sandbox, 'tmp'),
    GITHUB_OUTPUT: outFile,
    GITHUB_ENV: envFile,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'o/app',
    GITHUB_RUN_ID: '777',
    ...ctx.env,
  };
  for (const [k, v] of Object.entries({ ...job.env, ...step.env }))
    env[k] = resolveExpressions(String(v), ctx);
  const r = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(
      'bash',
      ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run ?? ''],
      { env, cwd: sandbox },
      (err, stdout, stderr) =>
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
  const outputs = parseOutputs(await readFile(outFile, 'utf8'));
  for (const [k, v] of Object.entries(parseOutputs(await readFile(envFile, 'utf8')))) ctx.env[k] = v;
  return { ...r, outputs };
}

/** `k=v` lines and `k<<DELIM` … `DELIM` blocks, as the runner reads GITHUB_OUTPUT. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) body.push(lines[i]!);
      out[heredoc[1]!] = body.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

/** Stand-ins: each logs its arguments; behaviour is driven by FAKE_* variables. */
const FAKE_GH = `#!/bin/bash
echo "gh $*" >> "$FAKE_LOG"
case "$1 $2" in
  "api "*) cat "$FAKE_REFS" ;;
  "issue list") cat "$FAKE_ISSUES" ;;
  "issue create"|"issue edit") cat > "$FAKE_BODY" ;;
  "workflow run") ;;
  *) echo "unexpected gh $*" >&2; exit 9 ;;
esac
`;

const FAKE_VOUCH = `#!/bin/bash
echo "vouch $*" >> "$FAKE_LOG"
case "$1" in
  verify-release)
    out=""; while [ $# -gt 0 ]; do [ "$1" = --sbom-output ] && out="$2"; shift; done
    mkdir -p "$out"; echo '{"bomFormat":"CycloneDX"}' > "$out/sbom-linux-x-cyclonedx.json" ;;
  scan)
    out=""; while [ $# -gt 0 ]; do [ "$1" = --output ] && out="$2"; shift; done
    cp "$FAKE_REPORT" "$out"; exit "\${FAKE_SCAN_EXIT:-0}" ;;
  db) ;;
  *) echo "unexpected vouch $*" >&2; exit 9 ;;
esac
`;

describe('the workflow scripts, run', { skip: jq }, () => {
  let sandbox: string;
  before(async () => {
    sandbox = await mkdtemp(join(tmpdir(), 'vouch-gha-'));
    await mkdir(join(sandbox, 'bin'));
    await mkdir(join(sandbox, 'tmp'));
    for (const [name, body] of [
      ['gh', FAKE_GH],
      ['vouch', FAKE_VOUCH],
    ] as const) {
      await writeFile(join(sandbox, 'bin', name), body);
      await chmod(join(sandbox, 'bin', name), 0o755);
    }
  });
  after(async () => {
    await rm(sandbox, { recursive: true, force: true });
  });

  const fake = (extra: Record<string, string> = {}): Context => ({
    values: {
      'github.token': 'ghs_not-a-real-token',
      'github.repository': 'o/app',
      'github.actor': 'octocat',
    },
    env: {
      FAKE_LOG: join(sandbox, 'log'),
      FAKE_REFS: join(sandbox, 'refs'),
      FAKE_ISSUES: join(sandbox, 'issues.json'),
      FAKE_BODY: join(sandbox, 'body.md'),
      FAKE_REPORT: join(sandbox, 'report.json'),
      ...extra,
    },
  });
  const log = async () => (await readFile(join(sandbox, 'log'), 'utf8')).trim().split('\n');
  const refs = (tags: string[]) =>
    writeFile(
      join(sandbox, 'refs'),
      tags.map((t) => `refs/tags/${t}`).join('\n') + (tags.length ? '\n' : ''),
    );

  test('rebuild starts the build workflow on the highest vX.Y.Z tag (not a pre-release)', async () => {
    const job = jobsOf(rebuildWorkflow(GHCR)).rebuild!;
    await writeFile(join(sandbox, 'log'), '');
    await refs(['v1.2.0', 'v1.10.0', 'v1.9.3', 'v2.0.0-rc.1', 'vnext', 'v1.10.0-beta']);
    const r = await runStep(job, job.steps![0]!, fake(), sandbox);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await log(), [
      'gh api repos/o/app/git/matching-refs/tags/v --paginate --jq .[].ref',
      'gh workflow run vouch-build.yml --ref v1.10.0',
    ]);
    await writeFile(join(sandbox, 'log'), '');
    await refs([]);
    const none = await runStep(job, job.steps![0]!, fake(), sandbox);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /no vX\.Y\.Z release tag yet/);
    assert.ok(!(await log()).some((l) => l.includes('workflow run')));
  });

  test('re-scan: verify with the build identity, scan, and turn findings into an issue body', async () => {
    const jobs = jobsOf(rescanWorkflow(GHCR));
    const rescan = jobs.rescan!;
    const step = (id: string) => rescan.steps!.find((s) => s.id === id || s.name?.startsWith(id))!;
    await writeFile(join(sandbox, 'log'), '');
    await refs(['v1.0.0', 'v1.1.0']);
    const ctx = fake();
    const tag = await runStep(rescan, step('tag'), ctx, sandbox);
    assert.equal(tag.outputs.tag, 'v1.1.0');
    ctx.values['steps.tag.outputs.tag'] = 'v1.1.0';
    assert.equal((await runStep(rescan, step('Download'), ctx, sandbox)).code, 0);
    assert.equal(ctx.env.VOUCH_DB, join(sandbox, 'tmp', 'osv.db'), 'the database path reaches later steps');
    const verify = await runStep(rescan, step('Verify'), ctx, sandbox);
    assert.equal(verify.code, 0, verify.stderr);
    const calls = await log();
    assert.ok(
      calls.includes(
        `vouch db update --db ${join(sandbox, 'tmp', 'osv.db')} --ecosystem Debian --ecosystem Ubuntu --ecosystem Alpine --ecosystem Go --ecosystem npm --ecosystem PyPI --ecosystem Maven --ecosystem crates.io`,
      ),
      calls.join('\n'),
    );
    assert.ok(
      calls.includes(
        `vouch verify-release ghcr.io/o/app:1.1.0-arm64 --certificate-identity https://github.com/o/app/.github/workflows/vouch-build.yml@refs/tags/v1.1.0 --certificate-oidc-issuer https://token.actions.githubusercontent.com --source-uri github.com/o/app --source-tag v1.1.0 --sbom-output ${join(sandbox, 'tmp', 'sboms', 'arm64')}`,
      ),
      calls.join('\n'),
    );

    // Clean: found=false, no body.
    await writeFile(join(sandbox, 'report.json'), JSON.stringify({ SchemaVersion: 2, Results: [] }));
    const clean = await runStep(rescan, step('scan'), ctx, sandbox);
    assert.equal(clean.code, 0, clean.stderr);
    assert.deepEqual(clean.outputs, { found: 'false' });

    // Findings (exit 4): a Markdown table row per finding and architecture.
    await writeFile(
      join(sandbox, 'report.json'),
      JSON.stringify({
        SchemaVersion: 2,
        Results: [
          {
            Target: 'app (debian 12.5)',
            Vulnerabilities: [
              {
                VulnerabilityID: 'CVE-2024-0001',
                PkgName: 'libssl3',
                InstalledVersion: '3.0.11-1',
                FixedVersion: '3.0.13-1',
                Severity: 'CRITICAL',
                PrimaryURL: 'https://avd.example/CVE-2024-0001',
              },
            ],
          },
        ],
      }),
    );
    const found = await runStep(
      rescan,
      step('scan'),
      { values: ctx.values, env: { ...ctx.env, FAKE_SCAN_EXIT: '4' } },
      sandbox,
    );
    assert.equal(found.code, 0, found.stderr);
    assert.equal(found.outputs.found, 'true');
    const body = found.outputs.body!;
    assert.match(
      body,
      /found fixable HIGH or CRITICAL vulnerabilities in ghcr\.io\/o\/app v1\.1\.0 \(2 findings\)/,
    );
    assert.ok(
      body.includes(
        '| CVE-2024-0001 | CRITICAL | libssl3 | 3.0.11-1 | 3.0.13-1 | amd64 | https://avd.example/CVE-2024-0001 |',
      ),
      body,
    );
    assert.ok(body.includes('| CVE-2024-0001 | CRITICAL | libssl3 | 3.0.11-1 | 3.0.13-1 | arm64 |'), body);
    assert.match(body, /Found by https:\/\/github\.com\/o\/app\/actions\/runs\/777$/);

    // A scan error (not the gate) fails the job.
    const broken = await runStep(
      rescan,
      step('scan'),
      { values: ctx.values, env: { ...ctx.env, FAKE_SCAN_EXIT: '1' } },
      sandbox,
    );
    assert.notEqual(broken.code, 0);

    // The report job: a new issue, then the same title updates it instead of opening another.
    const report = jobs.report!;
    const rctx = fake();
    rctx.values['needs.rescan.outputs.tag'] = 'v1.1.0';
    rctx.values['needs.rescan.outputs.body'] = body;
    await writeFile(join(sandbox, 'log'), '');
    await writeFile(join(sandbox, 'issues.json'), JSON.stringify([{ number: 3, title: 'something else' }]));
    const created = await runStep(report, report.steps![0]!, rctx, sandbox);
    assert.equal(created.code, 0, created.stderr);
    const title = 'vouch: fixable HIGH/CRITICAL vulnerabilities in ghcr.io/o/app v1.1.0';
    assert.deepEqual((await log()).at(-1), `gh issue create --title ${title} --body-file -`);
    assert.equal(await readFile(join(sandbox, 'body.md'), 'utf8'), `${body}\n`);
    await writeFile(join(sandbox, 'issues.json'), JSON.stringify([{ number: 12, title }]));
    const edited = await runStep(report, report.steps![0]!, rctx, sandbox);
    assert.equal(edited.code, 0, edited.stderr);
    assert.deepEqual((await log()).at(-1), 'gh issue edit 12 --body-file -');
    assert.ok(
      (await log()).some((l) => l.startsWith(`gh issue list --state open --search "${title}" in:title`)),
    );
  });

  test('build refuses to publish from a branch', async () => {
    const job = jobsOf(buildWorkflow(GHCR)).build!;
    const guard = job.steps![0]!;
    const branch = await runStep(
      job,
      guard,
      fake({ GITHUB_REF_TYPE: 'branch', GITHUB_REF_NAME: 'main' }),
      sandbox,
    );
    assert.equal(branch.code, 1);
    assert.match(branch.stdout, /::error::run this workflow on a release tag/);
    const tag = await runStep(
      job,
      guard,
      fake({ GITHUB_REF_TYPE: 'tag', GITHUB_REF_NAME: 'v1.0.0' }),
      sandbox,
    );
    assert.equal(tag.code, 0);
  });
});

describe('writing the workflows', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vouch-gha-write-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('written once; an existing file is kept unless force, and nothing is half-written', async () => {
    const paths = await writeGithubWorkflows(dir, GHCR);
    assert.deepEqual(
      paths,
      Object.values(WORKFLOW_FILES).map((p) => join(dir, p)),
    );
    assert.equal(await readFile(paths[0]!, 'utf8'), buildWorkflow(GHCR));
    await writeFile(paths[2]!, 'mine\n');
    await assert.rejects(
      writeGithubWorkflows(dir, OTHER),
      (e) =>
        isVouchError(e, 'USAGE') &&
        /vouch-build\.yml, .*vouch-rescan\.yml already exist; refusing/.test(e.message),
    );
    assert.equal(await readFile(paths[2]!, 'utf8'), 'mine\n');
    assert.equal(await readFile(paths[0]!, 'utf8'), buildWorkflow(GHCR), 'untouched');
    await writeGithubWorkflows(dir, OTHER, { force: true });
    assert.equal(await readFile(paths[2]!, 'utf8'), rescanWorkflow(OTHER));
  });
});
