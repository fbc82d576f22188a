/** `vouch harden` and `vouch test` as a user runs them: flags, output formats, exit codes. */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { hardenCommand } from '../../src/cli/commands/harden.ts';
import { parseFileFlag, testImageCommand } from '../../src/cli/commands/test-image.ts';
import { isVouchError } from '../../src/errors.ts';
import { runCommand } from '../helpers/cli.ts';
import { debianBase, type FixtureImage, fixtureImage } from './fixtures.ts';

let fx: FixtureImage;
let hard: string;

before(async () => {
  fx = await fixtureImage([debianBase()], {
    Env: ['PATH=/usr/local/bin:/usr/bin:/bin'],
    Cmd: ['/usr/bin/bash'],
    Labels: { 'org.opencontainers.image.title': 'fixture' },
  });
  hard = `oci:${join(fx.dir, 'hard')}:1`;
});
after(async () => {
  await fx?.cleanup();
});

test('vouch harden prints what it removed, per category and path', async () => {
  const r = await runCommand(hardenCommand, [fx.ref, hard]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Hardened oci:.*src:v1 to oci:.*hard:1\n/);
  assert.match(r.stdout, /\n {2}digest: {2}sha256:[0-9a-f]{64}\n/);
  assert.match(r.stdout, /\n {2}user: {4}65532:65532 \(was unset\): no User is set/);
  assert.match(r.stdout, /\n {2}removed: 28 paths, \d+ entries, [\d.]+ KiB \(dropped once flattened\)\n/);
  assert.match(r.stdout, /\n {4}package-managers +18 paths +\d+ entries/);
  assert.match(r.stdout, /\n {4}docs +6 paths/);
  assert.match(r.stdout, /\n {4}caches +4 paths/);
  assert.match(r.stdout, /\n {2}kept package databases: \/var\/lib\/dpkg\/status, \/var\/lib\/dpkg\/info\n/);
  assert.match(r.stdout, /\n {2}layers: {2}1 -> 2 \(whiteout layer sha256:/);
  assert.match(r.stdout, /\n {4}package-managers +\/usr\/bin\/apt-get \(file, 1 entry, \d+ B\)\n/);
  assert.match(r.stdout, /\n {4}caches +\/root\/\.cache \(dir, 3 entries, 1000 B\)\n/);
});

test('vouch harden --format json with categories, paths and a user', async () => {
  const out = `oci:${join(fx.dir, 'hard-json')}:1`;
  const r = await runCommand(hardenCommand, [
    fx.ref,
    out,
    '--format',
    'json',
    '--keep',
    'docs',
    '--keep',
    'caches',
    '--also',
    'pycache',
    '--remove',
    '/etc/os-release',
    '--remove',
    '/nope',
    '--user',
    'app',
    '--compress',
    'zstd',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.categories, ['package-managers', 'pycache']);
  assert.deepEqual(
    j.summary.map((s: { category: string }) => s.category),
    ['package-managers', 'pycache', 'extra'],
  );
  assert.deepEqual(j.notFound, ['/nope']);
  assert.equal(j.user.after, 'app');
  assert.ok(
    j.removed.some(
      (x: { path: string; category: string }) => x.path === '/etc/os-release' && x.category === 'extra',
    ),
  );
  assert.ok(!j.removed.some((x: { category: string }) => x.category === 'docs'));
  assert.match(j.destination, /hard-json/);
});

test('vouch harden refuses bad flags', async () => {
  for (const [args, re] of [
    [['--keep', 'pip'], /--keep pip: expected one of package-managers, docs, caches/],
    [['--also', 'docs'], /--also docs: expected one of pip, pycache/],
    [['--user', 'root'], /must not run as root/],
    [['--format', 'yaml'], /--format must be text or json/],
    [['--compress', 'lz4'], /--compress must be gzip, zstd or none/],
  ] as const) {
    const r = await runCommand(hardenCommand, [fx.ref, `oci:${join(fx.dir, 'x')}:1`, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const one = await runCommand(hardenCommand, [fx.ref]);
  assert.equal(one.code, 2);
  assert.match(one.stderr, /expected SRC and DST/);
});

test('vouch test: exit 1 with a FAIL list on the original, 0 on the hardened image', async () => {
  const before = await runCommand(testImageCommand, [fx.ref]);
  assert.equal(before.code, 1);
  assert.match(before.stdout, /\n {2}FAIL {2}user is not root: no User is set/);
  assert.match(before.stdout, /\n {2}FAIL {2}package managers are gone: 9 package manager programs left/);
  assert.match(before.stdout, /\n {2}PASS {2}no secrets in env or labels/);
  assert.match(before.stdout, /\n2 passed, 2 failed, 0 skipped: FAILED\n$/);

  const r = await runCommand(testImageCommand, [hard]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /\n4 passed, 0 failed, 0 skipped\n$/);
});

test('vouch test with cst files, declared files, JSON and JUnit output', async () => {
  const cst = join(fx.dir, 'structure.yaml');
  await writeFile(
    cst,
    [
      'schemaVersion: "2.0.0"',
      'metadataTest:',
      '  user: "65532:65532"',
      '  labels:',
      '    - key: org.opencontainers.image.title',
      '      value: fixture',
      'fileExistenceTests:',
      '  - name: no apt',
      '    path: /usr/bin/apt-get',
      '    shouldExist: false',
      '  - name: dpkg database',
      '    path: /var/lib/dpkg/status',
      '    permissions: "-rw-r--r--"',
      'licenseTests:',
      '  - debian: true',
      'commandTests:',
      '  - name: bash works',
      '    command: bash',
      '    args: ["-c", "true"]',
      '',
    ].join('\n'),
  );
  const json = await runCommand(
    testImageCommand,
    [
      hard,
      '--config',
      'structure.yaml',
      '--no-builtin',
      '--file',
      '/usr/bin/bash:0755:0:0',
      '--absent',
      '/usr/bin/dpkg',
      '--format',
      'json',
    ],
    { cwd: fx.dir },
  );
  assert.equal(json.code, 1, 'the command test fails');
  const j = JSON.parse(json.stdout);
  assert.deepEqual(
    j.results.map((r: { status: string; name: string }) => `${r.status} ${r.name}`),
    [
      'pass present: /usr/bin/bash',
      'pass absent: /usr/bin/dpkg',
      'fail Command Test: bash works',
      'pass File Existence Test: no apt',
      'pass File Existence Test: dpkg database',
      'pass License Test',
      'pass Metadata Test: label org.opencontainers.image.title',
      'pass Metadata Test: user',
    ],
  );
  const skip = await runCommand(
    testImageCommand,
    [
      hard,
      '--config',
      cst,
      '--skip-command-tests',
      '--format',
      'junit',
      '--output',
      'report.xml',
      '--check',
      'user',
    ],
    { cwd: fx.dir },
  );
  assert.equal(skip.code, 0, skip.stderr);
  assert.equal(skip.stdout, '');
  assert.match(skip.stderr, /all checks passed; report written to report\.xml/);
  const xml = await readFile(join(fx.dir, 'report.xml'), 'utf8');
  assert.match(xml, /<testsuites name="vouch test oci:[^"]*hard:1" tests="7" failures="0" skipped="1">/);
  assert.match(xml, /<testcase classname="builtin" name="user is not root"\/>/);
  assert.match(xml, /<skipped message=".*container-structure-test --driver docker"\/>/);
});

test('vouch test refuses bad flags and bad test files', async () => {
  for (const [args, re] of [
    [['--no-builtin', '--check', 'user'], /--no-builtin and --check cannot be used together/],
    [['--check', 'nope'], /unknown built-in check "nope"/],
    [['--file', 'usr/bin/bash'], /the path must be absolute/],
    [['--file', '/x:999'], /expected PATH\[:MODE\[:UID:GID\]\]/],
    [['--format', 'xml'], /--format must be text, json, junit/],
  ] as const) {
    const r = await runCommand(testImageCommand, [hard, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const bad = join(fx.dir, 'bad.yaml');
  await writeFile(
    bad,
    'schemaVersion: 2.0.0\nfileExistenceTests:\n  - name: x\n    path: /x\n    shouldexist: false\n',
  );
  const r = await runCommand(testImageCommand, [hard, '--config', bad]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.yaml:5:5: unknown key "shouldexist"/);
  const missing = await runCommand(testImageCommand, [hard, '--config', join(fx.dir, 'missing.yaml')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /\[FILE_NOT_FOUND\]/);
});

test('--file flags parse as PATH[:MODE[:UID:GID]]', () => {
  assert.deepEqual(parseFileFlag('/app'), { path: '/app' });
  assert.deepEqual(parseFileFlag('/app/x:0750'), { path: '/app/x', mode: 0o750 });
  assert.deepEqual(parseFileFlag('/app/x:644:10:20'), { path: '/app/x', mode: 0o644, uid: 10, gid: 20 });
  assert.throws(
    () => parseFileFlag('/app/x:0750:10'),
    (e) => isVouchError(e, 'USAGE'),
  );
});
