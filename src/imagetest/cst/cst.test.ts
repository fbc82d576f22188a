import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TarEntry } from '../../../test/helpers/random-image.ts';
import { dir, exe, file, link, viewOfLayers } from '../../../test/imagetest/fixtures.ts';
import { isVouchError } from '../../errors.ts';
import type { ContainerConfig } from '../../oci/types.ts';
import type { CheckResult } from '../types.ts';
import { loadStructureTest, parseStructureTest } from './parse.ts';
import { runStructureTest } from './run.ts';

/** In the style of the cst README and distroless's tests. */
const EXAMPLE = `schemaVersion: '2.0.0'
globalEnvVars:
  - key: VIRTUAL_ENV
    value: /env
metadataTest:
  envVars:
    - key: PATH
      value: '/usr/.*'
      isRegex: true
    - key: LANG
      value: C.UTF-8
  unboundEnvVars:
    - key: DEBUG
  labels:
    - key: 'org.opencontainers.image.source'
      value: 'https://github.com/example/app'
    - key: 'build-date'
      value: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$'
      isRegex: true
  entrypoint: ["/app/server"]
  cmd: ["--port", "8080"]
  exposedPorts: ["8080", "9090/udp"]
  unexposedPorts: ["22"]
  volumes: ["/data"]
  unmountedVolumes: ["/tmp"]
  workdir: /app
  user: 65532
fileExistenceTests:
  - name: 'server'
    path: '/app/server'
    shouldExist: true
    permissions: '-rwxr-xr-x'
    uid: 0
    gid: 0
    isExecutableBy: 'any'
  - name: 'no shell'
    path: '/bin/sh'
    shouldExist: false
  - name: 'tmp is sticky'
    path: '/tmp'
    permissions: 'dtrwxrwxrwx'
  - name: 'config through env'
    path: '\${APP_HOME}/config.yaml'
  - name: 'link itself'
    path: '/app/current'
    permissions: 'Lrwxrwxrwx'
fileContentTests:
  - name: 'passwd has nonroot'
    path: '/etc/passwd'
    expectedContents: ['nonroot:x:65532']
    excludedContents: ['^toor:', '(?m)^evil:']
  - name: 'config via symlink'
    path: '/app/current/config.yaml'
    expectedContents: ['port: 8080']
licenseTests:
  - debian: true
    files: ['/app/LICENSE']
`;

const CONFIG: ContainerConfig = {
  Env: ['PATH=/usr/local/bin:/usr/bin', 'LANG=C.UTF-8', 'APP_HOME=/app'],
  Labels: {
    'org.opencontainers.image.source': 'https://github.com/example/app',
    'build-date': '2024-05-06T07:08:09Z',
  },
  Entrypoint: ['/app/server'],
  Cmd: ['--port', '8080'],
  ExposedPorts: { '8080/tcp': {}, '9090/udp': {} },
  Volumes: { '/data': {} },
  WorkingDir: '/app',
  User: '65532',
};

function image(): TarEntry[] {
  return [
    dir('app'),
    exe('app/server', 'server-binary'),
    file('app/config.yaml', 'port: 8080\n'),
    link('app/current', '.'),
    file('app/LICENSE', 'Apache License 2.0'),
    dir('etc'),
    file(
      'etc/passwd',
      'root:x:0:0::/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n',
    ),
    dir('tmp', { mode: 0o1777 }),
    dir('usr'),
    dir('usr/share'),
    dir('usr/share/doc'),
    dir('usr/share/doc/libc6'),
    file('usr/share/doc/libc6/copyright', 'GPL-2+ and LGPL-2.1+'),
    dir('usr/share/doc/libgnutls30'),
    link('usr/share/doc/libssl3', 'libc6'),
  ];
}

async function runOn(
  yaml: string,
  entries: TarEntry[],
  config: ContainerConfig,
  o = {},
): Promise<CheckResult[]> {
  const st = parseStructureTest(yaml, 'structure.yaml');
  const v = await viewOfLayers([entries]);
  try {
    return await runStructureTest({ config, files: v }, st, o);
  } finally {
    await v.close();
  }
}

const line = (r: CheckResult) => `${r.status} ${r.name}`;

test('a full cst file passes on the image it describes', async () => {
  const results = await runOn(EXAMPLE, image(), CONFIG);
  assert.deepEqual(
    results.filter((r) => r.status !== 'pass').map((r) => `${line(r)}: ${r.message}`),
    [],
  );
  assert.deepEqual(results.map(line), [
    'pass File Existence Test: server',
    'pass File Existence Test: no shell',
    'pass File Existence Test: tmp is sticky',
    'pass File Existence Test: config through env',
    'pass File Existence Test: link itself',
    'pass File Content Test: passwd has nonroot',
    'pass File Content Test: config via symlink',
    'pass License Test',
    'pass Metadata Test: env PATH',
    'pass Metadata Test: env LANG',
    'pass Metadata Test: unbound env DEBUG',
    'pass Metadata Test: label org.opencontainers.image.source',
    'pass Metadata Test: label build-date',
    'pass Metadata Test: entrypoint',
    'pass Metadata Test: cmd',
    'pass Metadata Test: workdir',
    'pass Metadata Test: user',
    'pass Metadata Test: exposed port 8080',
    'pass Metadata Test: exposed port 9090/udp',
    'pass Metadata Test: unexposed port 22',
    'pass Metadata Test: volume /data',
    'pass Metadata Test: unmounted volume /tmp',
  ]);
  assert.ok(results.every((r) => r.source === 'structure.yaml'));
  assert.match(results.find((r) => r.name === 'License Test')!.message, /1 Debian package and 1 file/);
});

test('the same file fails on an image that differs, one result per difference', async () => {
  const entries = [
    dir('app'),
    exe('app/server', 'x'),
    file('app/LICENSE', 'GNU AFFERO GENERAL PUBLIC LICENSE (AGPL-3.0)'),
    dir('bin'),
    exe('bin/sh'),
    dir('tmp', { mode: 0o755 }),
    dir('etc'),
    file('etc/passwd', 'toor:x:0:0::/:/bin/sh\nsecret-line hunter2\n'),
    dir('usr'),
    dir('usr/share'),
    dir('usr/share/doc'),
    dir('usr/share/doc/bash'),
  ];
  const config: ContainerConfig = {
    Env: ['PATH=/bin', 'DEBUG=1', 'APP_HOME=/app'],
    Labels: { 'build-date': 'yesterday' },
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [],
    ExposedPorts: { '22/tcp': {} },
    Volumes: { '/tmp': {} },
    User: 'root',
  };
  const results = await runOn(EXAMPLE, entries, config);
  // everything but the server binary's existence test fails
  assert.deepEqual(
    results.filter((r) => r.status === 'pass').map((r) => r.name),
    ['File Existence Test: server'],
  );
  const byName = new Map(results.map((r) => [r.name, r]));
  const msg = (n: string) => byName.get(n)!.message;
  assert.equal(byName.get('File Existence Test: server')!.status, 'pass');
  assert.equal(msg('File Existence Test: no shell'), '/bin/sh should not exist but does (-rwxr-xr-x)');
  assert.equal(
    msg('File Existence Test: tmp is sticky'),
    '/tmp has incorrect permissions. Expected: dtrwxrwxrwx, Actual: drwxr-xr-x',
  );
  assert.equal(msg('File Existence Test: config through env'), '/app/config.yaml should exist but does not');
  assert.equal(
    msg('File Content Test: passwd has nonroot'),
    'expected /nonroot:x:65532/ not found in /etc/passwd; excluded /^toor:/ found in /etc/passwd',
  );
  assert.ok(!JSON.stringify(results).includes('hunter2'), 'file contents are never printed');
  assert.match(msg('License Test'), /2 license problems/);
  assert.deepEqual(byName.get('License Test')!.details, [
    'cannot read license file /usr/share/doc/bash/copyright: /usr/share/doc/bash/copyright does not exist',
    '/app/LICENSE names a refused license (AGPL)',
  ]);
  assert.equal(msg('Metadata Test: env PATH'), 'PATH does not match //usr/.*/');
  assert.equal(msg('Metadata Test: env LANG'), 'variable LANG not found in the image');
  assert.equal(msg('Metadata Test: unbound env DEBUG'), 'DEBUG should not be set but is');
  assert.equal(
    msg('Metadata Test: label org.opencontainers.image.source'),
    'label org.opencontainers.image.source not found in the image',
  );
  assert.match(msg('Metadata Test: label build-date'), /^build-date does not match/);
  assert.equal(msg('Metadata Test: entrypoint'), 'entrypoint is ["/bin/sh","-c"], expected ["/app/server"]');
  assert.equal(msg('Metadata Test: cmd'), 'cmd is [], expected ["--port","8080"]');
  assert.equal(msg('Metadata Test: workdir'), 'workdir is "", expected "/app"');
  assert.equal(msg('Metadata Test: user'), 'user is "root", expected "65532"');
  assert.equal(msg('Metadata Test: exposed port 8080'), 'port 8080 is not exposed (exposed: 22/tcp)');
  assert.equal(msg('Metadata Test: unexposed port 22'), 'port 22 should not be exposed but is');
  assert.equal(msg('Metadata Test: volume /data'), 'volume /data is not declared (declared: /tmp)');
  assert.equal(msg('Metadata Test: unmounted volume /tmp'), 'volume /tmp should not be declared but is');
  assert.equal(byName.get('File Existence Test: link itself')!.status, 'fail');
});

test('empty arrays must match exactly; omitted fields are not checked; old `env` spelling', async () => {
  const yaml = `schemaVersion: 2.0.0
metadataTest:
  env:
    - {key: A, value: "1"}
  entrypoint: []
`;
  const ok = await runOn(yaml, [], { Env: ['A=1'], Cmd: ['x'] });
  assert.deepEqual(ok.map(line), ['pass Metadata Test: env A', 'pass Metadata Test: entrypoint']);
  const bad = await runOn(yaml, [], { Env: ['A=2'], Entrypoint: ['/x'] });
  assert.deepEqual(bad.map(line), ['fail Metadata Test: env A', 'fail Metadata Test: entrypoint']);
});

test('command tests are refused (static driver), or skipped on request', async () => {
  const yaml = `schemaVersion: 2.0.0
commandTests:
  - name: version
    command: /app/server
    args: [--version]
    expectedOutput: ['v1\\..*']
    exitCode: 0
`;
  const [refused] = await runOn(yaml, [], {});
  assert.equal(refused!.status, 'fail');
  assert.equal(refused!.name, 'Command Test: version');
  assert.match(
    refused!.message,
    /^structure\.yaml:3:5: command tests run the image.*container-structure-test --driver docker/,
  );
  const [skipped] = await runOn(yaml, [], {}, { commandTests: 'skip' });
  assert.equal(skipped!.status, 'skip');
});

test('license test is skipped when docs are gone', async () => {
  const [r] = await runOn('schemaVersion: 2.0.0\nlicenseTests:\n  - debian: true\n', [dir('etc')], {});
  assert.equal(r!.status, 'skip');
  assert.match(r!.message, /no \/usr\/share\/doc in the image/);
});

test('bad files are refused with every problem, located', () => {
  const yaml = `schemaVersion: 2.0.0
fileExistenceTests:
  - name: typo
    path: /x
    shouldexist: false
  - path: /y
    permissions: rwxr-xr-x
    isExecutableBy: everyone
    uid: root
fileContentTests:
  - name: lookahead
    path: /etc/passwd
    expectedContents: ['(?=x)']
metadataTest:
  envVars: [{key: A, value: "(", isRegex: true}]
  exposedPorts: ""
`;
  assert.throws(
    () => parseStructureTest(yaml, 'bad.yaml'),
    (e) => {
      assert.ok(isVouchError(e, 'USAGE'));
      const lines = e.message
        .split('\n')
        .slice(1)
        .map((l) => l.trim());
      assert.deepEqual(lines, [
        'bad.yaml:5:5: unknown key "shouldexist" in fileExistenceTests[0] (did you mean "shouldExist"?)',
        'bad.yaml:6:5: fileExistenceTests[1]: every test needs a name',
        'bad.yaml:7:18: fileExistenceTests[1].permissions "rwxr-xr-x" is not in Go\'s FileMode form (like "-rwxr-xr-x" or "drwxr-xr-x")',
        'bad.yaml:8:21: fileExistenceTests[1].isExecutableBy "everyone": expected one of owner, group, other, any',
        'bad.yaml:9:10: fileExistenceTests[1].uid must be a whole number',
        'bad.yaml:13:24: fileContentTests[0].expectedContents[0]: regular expression "(?=x)": Go regular expressions have no lookahead',
        'bad.yaml:15:29: metadataTest.envVars[0].value: regular expression "(": missing closing )',
        'bad.yaml:16:17: metadataTest.exposedPorts must be a list of strings',
      ]);
      return true;
    },
  );
  for (const [text, re] of [
    ['schemaVersion: 2.0\n', /schemaVersion "2.0" is not supported/],
    ['fileExistenceTests: []\n', /schemaVersion is missing/],
    ['schemaVersion: 2.0.0\nfoo: 1\n', /bad\.yaml:2:1: unknown key "foo" in \(document\)/],
    ['schemaVersion: 2.0.0\nmetadataTest: [1]\n', /metadataTest must be a mapping/],
    ['schemaVersion: 2.0.0\n  bad: [\n', /^bad\.yaml:\d+:\d+: /],
    ['schemaVersion: 2.0.0\nschemaVersion: 1.0.0\n', /bad\.yaml:2:1: .*[Mm]ap keys must be unique/],
  ] as const) {
    assert.throws(
      () => parseStructureTest(text, 'bad.yaml'),
      (e) => isVouchError(e, 'USAGE') && re.test(e.message),
      text,
    );
  }
});

test('loadStructureTest reads a file; a missing one is FILE_NOT_FOUND', async () => {
  const d = await mkdtemp(join(tmpdir(), 'vouch-cst-'));
  try {
    await writeFile(join(d, 'cst.yaml'), EXAMPLE);
    const st = await loadStructureTest(join(d, 'cst.yaml'));
    assert.equal(st.file, join(d, 'cst.yaml'));
    assert.equal(st.fileExistence.length, 5);
    assert.equal(st.metadata?.user, '65532');
    assert.deepEqual(st.metadata?.exposedPorts, ['8080', '9090/udp']);
    await assert.rejects(loadStructureTest(join(d, 'nope.yaml')), (e) => isVouchError(e, 'FILE_NOT_FOUND'));
  } finally {
    await rm(d, { recursive: true, force: true });
  }
});
