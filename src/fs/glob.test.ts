import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { globMatcher, matchGlob } from './glob.ts';

const CASES: [pattern: string, path: string, match: boolean][] = [
  ['**/package.json', '/package.json', true],
  ['**/package.json', '/app/node_modules/x/package.json', true],
  ['**/package.json', '/app/package.json.bak', false],
  ['/lib/apk/db/installed', 'lib/apk/db/installed', true],
  ['**/lib/apk/db/installed', '/lib/apk/db/installed', true],
  ['/usr/lib/*.so', '/usr/lib/libc.so', true],
  ['/usr/lib/*.so', '/usr/lib/x86_64/libc.so', false],
  ['/usr/**/*.so', '/usr/lib/x86_64/libc.so', true],
  ['/usr/**', '/usr/lib/x', true],
  ['/usr/**', '/usr', false],
  ['**', '/anything/at/all', true],
  ['/etc/?s-release', '/etc/os-release', true],
  ['/etc/?s-release', '/etc/xos-release', false],
  ['/var/lib/dpkg/status.d/[a-c]*', '/var/lib/dpkg/status.d/base', true],
  ['/var/lib/dpkg/status.d/[!a-c]*', '/var/lib/dpkg/status.d/base', false],
  ['/var/lib/dpkg/status.d/[!a-c]*', '/var/lib/dpkg/status.d/zlib', true],
  ['**/*.{jar,war}', '/opt/app.war', true],
  ['**/*.{jar,war}', '/opt/app.ear', false],
  ['/a.b', '/aXb', false],
  ['/a+b(c)', '/a+b(c)', true],
  ['/x}y', '/x}y', true],
  ['**/var/lib/dpkg/status', '/var/lib/dpkg/status', true],
  ['**/var/lib/dpkg/status', '/chroot/var/lib/dpkg/status', true],
  ['**/var/lib/dpkg/status', '/var/lib/dpkg/xstatus', false],
  ['**/*.dist-info/METADATA', '/usr/lib/python3/dist-packages/a-1.dist-info/METADATA', true],
  ['**/*.egg-info', '/usr/lib/python3/x.egg-info', true],
  ['**/node_modules/@*/*/package.json', '/srv/node_modules/@babel/code-frame/package.json', true],
  ['**/node_modules/@*/*/package.json', '/srv/node_modules/babel/package.json', false],
];

test('glob patterns match the way catalogers expect', () => {
  for (const [pattern, path, want] of CASES) {
    assert.equal(matchGlob(pattern, path), want, `${pattern} vs ${path}`);
    assert.equal(globMatcher(pattern)(path), want, `globMatcher: ${pattern} vs ${path}`);
    assert.equal(
      globMatcher(pattern)(path.replace(/^\/+/, '')),
      want,
      `globMatcher: ${pattern} vs relative ${path}`,
    );
  }
});

test('bad patterns are USAGE errors', () => {
  for (const p of ['/a**', '/[abc', '/{a,b']) {
    assert.throws(
      () => matchGlob(p, '/a'),
      (e) => isVouchError(e, 'USAGE'),
      p,
    );
  }
});
