import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { debianBase, dir, exe, file, link, viewOfLayers } from '../../test/imagetest/fixtures.ts';
import { isVouchError } from '../errors.ts';
import type { ContainerConfig } from '../oci/types.ts';
import { parseStructureTest } from './cst/parse.ts';
import { formatReport } from './report.ts';
import { runChecks, selectBuiltins, summariseChecks } from './run.ts';
import type { CheckResult, ImageTestSpec } from './types.ts';

async function check(
  layers: Parameters<typeof viewOfLayers>[0],
  config: ContainerConfig,
  spec: ImageTestSpec = {},
) {
  const v = await viewOfLayers(layers);
  try {
    return await runChecks({ config, files: v }, spec);
  } finally {
    await v.close();
  }
}

test('built-in checks on a Debian-like base: root user and package managers fail', async () => {
  const results = await check([debianBase()], {
    Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'API_TOKEN=abc123'],
  });
  assert.deepEqual(
    results.map((r) => `${r.status} ${r.name}`),
    [
      'fail user is not root',
      'fail package managers are gone',
      'fail no secrets in env or labels',
      'pass needed shared libraries are present',
    ],
  );
  const pm = results[1]!;
  assert.deepEqual(pm.details, [
    '/usr/bin/apt',
    '/usr/bin/apt-cache',
    '/usr/bin/apt-config',
    '/usr/bin/apt-get',
    '/usr/bin/apt-key',
    '/usr/bin/dpkg',
    '/usr/bin/dpkg-deb',
    '/usr/bin/dpkg-query',
    '/usr/sbin/dpkg-reconfigure',
  ]);
  assert.match(pm.message, /^9 package manager programs left: \/usr\/bin\/apt, .*, …$/);
  assert.equal(results[2]!.message, '1 secret-looking value: env API_TOKEN');
  assert.ok(!JSON.stringify(results).includes('abc123'));
});

test('package managers: found through PATH and symlinks; not executable or dangling ones do not count', async () => {
  const results = await check(
    [
      [
        dir('opt'),
        dir('opt/tools'),
        exe('opt/tools/apk'),
        dir('usr'),
        dir('usr/bin'),
        file('usr/bin/rpm', 'not executable'),
        link('usr/bin/yum', '../libexec/yum-real'),
        link('usr/bin/dnf', '../libexec/missing'),
        dir('usr/libexec'),
        exe('usr/libexec/yum-real'),
        exe('usr/bin/apt-like'),
        link('bin', 'usr/bin'),
      ],
    ],
    { Env: ['PATH=/opt/tools:/bin'], User: '1000' },
    { builtin: ['package-managers'] },
  );
  assert.equal(results.length, 1);
  assert.deepEqual(results[0]!.details, [
    '/opt/tools/apk',
    // apt-like matches apt-*: Debian ships apt-cache, apt-get, ... that way
    '/usr/bin/apt-like',
    '/usr/bin/yum -> /usr/libexec/yum-real',
  ]);
});

test('declared files: presence, absence, type, mode and owner', async () => {
  const results = await check(
    [
      [
        dir('app'),
        { ...exe('app/server'), uid: 1000, gid: 1000 },
        link('app/sh', '/bin/sh'),
        file('app/conf', 'x'),
      ],
    ],
    {},
    {
      builtin: false,
      files: [
        { path: '/app/server', mode: 0o755, uid: 1000, gid: 1000, type: 'file' },
        { path: '/app/conf', mode: 0o600, uid: 0 },
        { path: '/app/sh', type: 'symlink' },
        { path: '/bin/sh', absent: true },
        { path: '/app/conf', absent: true },
        { path: '/app/missing' },
      ],
    },
  );
  assert.deepEqual(
    results.map((r) => `${r.status} ${r.name}: ${r.message}`),
    [
      'pass present: /app/server: /app/server is -rwxr-xr-x 1000:1000',
      'fail present: /app/conf: /app/conf: mode 0644, expected 0600',
      'pass present: /app/sh: /app/sh is Lrwxrwxrwx 0:0',
      'pass absent: /bin/sh: /bin/sh is absent',
      'fail absent: /app/conf: /app/conf exists (file) but must be absent',
      'fail present: /app/missing: /app/missing does not exist',
    ],
  );
  assert.ok(results.every((r) => r.source === 'files'));
});

test('selection of built-in checks, summary and cst files together', async () => {
  assert.deepEqual(selectBuiltins(undefined), ['user', 'package-managers', 'secrets', 'libraries']);
  assert.deepEqual(selectBuiltins(['libraries', 'user']), ['user', 'libraries']);
  assert.deepEqual(selectBuiltins(false), []);
  assert.throws(
    () => selectBuiltins(['nope' as 'user']),
    (e) => isVouchError(e, 'USAGE') && /unknown built-in check "nope"/.test(e.message),
  );
  const st = parseStructureTest('schemaVersion: 2.0.0\nmetadataTest:\n  user: "65532"\n', 'cst.yaml');
  const results = await check([[dir('etc')]], { User: '65532' }, { builtin: ['user'], structureTests: [st] });
  assert.deepEqual(
    results.map((r) => `${r.source} ${r.status} ${r.name}`),
    ['builtin pass user is not root', 'cst.yaml pass Metadata Test: user'],
  );
  assert.deepEqual(summariseChecks(results), { passed: 2, failed: 0, skipped: 0, ok: true });
});

const RESULTS: CheckResult[] = [
  { name: 'user is not root', source: 'builtin', status: 'pass', message: 'User "65532" is uid 65532' },
  {
    name: 'package managers are gone',
    source: 'builtin',
    status: 'fail',
    message: '1 package manager program left: /usr/bin/apt',
    details: ['/usr/bin/apt'],
  },
  {
    name: 'Command Test: <weird> & "quoted"',
    source: 'cst.yaml',
    status: 'skip',
    message: 'needs a runtime\u0001',
  },
];

test('reports: text, JSON and JUnit XML (well-formed, checked by Python)', async () => {
  const subject = { name: 'oci:/x:1', digest: 'sha256:abc' };
  const text = formatReport('text', subject, RESULTS);
  assert.match(text, /^Testing oci:\/x:1 \(sha256:abc\)\n/);
  assert.match(text, /\n {2}PASS {2}user is not root: User "65532" is uid 65532\n/);
  assert.match(
    text,
    /\n {2}FAIL {2}package managers are gone: 1 package manager program left: \/usr\/bin\/apt\n {10}\/usr\/bin\/apt\n/,
  );
  assert.match(text, /\n1 passed, 1 failed, 1 skipped: FAILED\n$/);
  const json = JSON.parse(formatReport('json', subject, RESULTS));
  assert.deepEqual(
    { ...json, results: json.results.length },
    { image: 'oci:/x:1', digest: 'sha256:abc', passed: 1, failed: 1, skipped: 1, ok: false, results: 3 },
  );
  const xml = formatReport('junit', subject, RESULTS);
  const parsed = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      'python3',
      [
        '-c',
        [
          'import sys, json, xml.etree.ElementTree as ET',
          'r = ET.fromstring(sys.stdin.read())',
          'print(json.dumps({"tests": r.get("tests"), "failures": r.get("failures"), "suites": [[s.get("name"), s.get("tests"), [[c.get("name"), [x.tag for x in c]] for c in s]] for s in r]}))',
        ].join('\n'),
      ],
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
    child.stdin!.end(xml);
  }).catch((e: unknown) => {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw e;
  });
  if (parsed !== undefined) {
    assert.deepEqual(JSON.parse(parsed), {
      tests: '3',
      failures: '1',
      suites: [
        [
          'builtin',
          '2',
          [
            ['user is not root', []],
            ['package managers are gone', ['failure']],
          ],
        ],
        ['cst.yaml', '1', [['Command Test: <weird> & "quoted"', ['skipped']]]],
      ],
    });
  }
});
