/**
 * `vouch init` and `vouch init github` as users run them: the written vouch.yaml loads with
 * loadPipelineConfig, nothing is overwritten without --force, bad values are refused before
 * anything is written, and the workflows are made for the image vouch.yaml names.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { initCommand } from '../../src/cli/commands/init.ts';
import { isVouchError } from '../../src/errors.ts';
import { loadPipelineConfig } from '../../src/pipeline/config.ts';
import { buildWorkflow, WORKFLOW_FILES } from '../../src/pipeline/github.ts';
import { starterConfig } from '../../src/pipeline/init.ts';
import { runCommand } from '../helpers/cli.ts';

const DIGEST = `sha256:${'b'.repeat(64)}`;
let dir: string;
let n = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-init-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const init = (cwd: string, ...args: string[]) => runCommand(initCommand, args, { cwd, rethrow: true });
const fresh = () => join(dir, `p${n++}`);

test('vouch init writes a vouch.yaml that loads, filled in from the flags, and says what is next', async () => {
  const cwd = dir;
  const project = fresh();
  const r = await init(
    cwd,
    project,
    '--name',
    'ghcr.io/o/app',
    '--version',
    '2.3.4',
    '--base',
    `debian@${DIGEST}`,
  );
  assert.equal(r.code, 0);
  const file = join(project, 'vouch.yaml');
  assert.match(r.stdout, new RegExp(`^Wrote ${project.slice(dir.length + 1)}/vouch\\.yaml\\nNext steps:`));
  assert.match(r.stdout, /vouch pipeline run -c .*vouch\.yaml/);
  assert.equal(
    await readFile(file, 'utf8'),
    starterConfig({ name: 'ghcr.io/o/app', version: '2.3.4', base: `debian@${DIGEST}` }),
  );
  const c = await loadPipelineConfig(file);
  assert.deepEqual(c.image, { name: 'ghcr.io/o/app', version: '2.3.4', architectures: ['amd64'] });
  assert.deepEqual(c.base, { image: `debian@${DIGEST}`, digest: DIGEST });
});

test('vouch init with no DIR writes into the current directory; defaults load', async () => {
  const cwd = fresh();
  await mkdir(cwd);
  const r = await init(cwd);
  assert.equal(r.code, 0);
  assert.deepEqual(await readdir(cwd), ['vouch.yaml']);
  const c = await loadPipelineConfig(join(cwd, 'vouch.yaml'));
  assert.equal(c.base.image, 'scratch');
});

test('an existing vouch.yaml is kept unless --force', async () => {
  const project = fresh();
  await init(dir, project);
  const file = join(project, 'vouch.yaml');
  await writeFile(file, '# mine\n');
  await assert.rejects(
    init(dir, project, '--version', '9.9.9'),
    (e) => isVouchError(e, 'USAGE') && /vouch\.yaml already exists; refusing to overwrite/.test(e.message),
  );
  assert.equal(await readFile(file, 'utf8'), '# mine\n');
  assert.equal((await init(dir, project, '--version', '9.9.9', '--force')).code, 0);
  assert.equal((await loadPipelineConfig(file)).image.version, '9.9.9');
  assert.deepEqual(
    (await readdir(project)).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp files left behind',
  );
});

test('bad values are refused before anything is written', async () => {
  const project = fresh();
  for (const [args, message] of [
    [['--base', 'debian:12'], /--base "debian:12" must be scratch or pinned by digest/],
    [['--base', 'debian:latest'], /pinned by digest/],
    [['--version', 'latest'], /--version "latest"/],
    [['--version', '1.0\nevil: true'], /tag-safe version/],
    [['--name', 'ghcr.io/o/app:v1'], /no tag/],
    [['--name', 'Bad Name'], /not a repository name/],
    [['--ecosystem', 'Debian'], /--ecosystem does not apply to vouch init$/],
  ] as const) {
    await assert.rejects(
      init(dir, project, ...args),
      (e) => isVouchError(e, 'USAGE') && message.test(e.message),
      args.join(' '),
    );
  }
  await assert.rejects(readdir(project), { code: 'ENOENT' });
  await assert.rejects(
    init(dir, 'github', project, '--name', 'x/y'),
    (e) => isVouchError(e, 'USAGE') && /--name does not apply to vouch init github/.test(e.message),
  );
  await assert.rejects(init(dir, 'a', 'b'), (e) => isVouchError(e, 'USAGE'));
});

test('vouch init github writes the three workflows for the image in vouch.yaml', async () => {
  const project = fresh();
  await init(dir, project, '--name', 'ghcr.io/o/app');
  const yaml = join(project, 'vouch.yaml');
  // Multi-arch and keyless, as a release on GitHub would be configured.
  const text = (await readFile(yaml, 'utf8'))
    .replace('architectures: [amd64]', 'architectures: [amd64, arm64]')
    .replace(/^ {2}key: .*\n/m, '')
    .replace(/^ {2}# keyless: (.*)$/m, '  keyless: $1');
  await writeFile(yaml, text);
  assert.equal((await loadPipelineConfig(yaml)).signing.kind, 'keyless');

  const r = await init(dir, 'github', project, '--ecosystem', 'Debian', '--github-attestations');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'keyless on ghcr.io: no warnings');
  for (const f of Object.values(WORKFLOW_FILES))
    assert.match(r.stdout, new RegExp(`Wrote .*${f.replaceAll('.', '\\.')}`));
  assert.match(
    r.stdout,
    /--certificate-identity https:\/\/github\.com\/<owner>\/<repo>\/\.github\/workflows\/vouch-build\.yml@refs\/tags\/v<version>/,
  );
  const build = await readFile(join(project, WORKFLOW_FILES.build), 'utf8');
  assert.equal(
    build,
    buildWorkflow({ image: 'ghcr.io/o/app', architectures: ['amd64', 'arm64'], githubAttestations: true }),
  );
  const rescan = parse(await readFile(join(project, WORKFLOW_FILES.rescan), 'utf8')) as {
    jobs: { rescan: { env: Record<string, string> } };
  };
  assert.deepEqual(rescan.jobs.rescan.env.ECOSYSTEMS, 'Debian');
  assert.deepEqual(rescan.jobs.rescan.env.ARCHITECTURES, 'amd64 arm64');

  await assert.rejects(
    init(dir, 'github', project),
    (e) => isVouchError(e, 'USAGE') && /already exist; refusing to overwrite/.test(e.message),
  );
  assert.equal(await readFile(join(project, WORKFLOW_FILES.build), 'utf8'), build, 'kept');
  assert.equal((await init(dir, 'github', project, '--force')).code, 0);
  assert.notEqual(
    await readFile(join(project, WORKFLOW_FILES.build), 'utf8'),
    build,
    'replaced with --force',
  );
});

test('vouch init github warns about key signing and a local registry, and needs a vouch.yaml', async () => {
  const project = fresh();
  await init(dir, project); // the starter: 127.0.0.1:5000 and a key file
  const r = await init(dir, 'github', project);
  assert.equal(r.code, 0);
  assert.match(
    r.stderr,
    /warning: vouch\.yaml signs with a key file; the workflows sign and verify keylessly/,
  );
  assert.match(r.stderr, /warning: image\.name 127\.0\.0\.1:5000\/example\/app is a local registry/);
  assert.match(
    r.stdout,
    /Add repository secrets REGISTRY_USERNAME and REGISTRY_PASSWORD for 127\.0\.0\.1:5000/,
  );

  const empty = fresh();
  await assert.rejects(
    init(dir, 'github', empty),
    (e) => isVouchError(e, 'FILE_NOT_FOUND') && /vouch init/.test(e.hint ?? ''),
  );
});
