import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import {
  familiarReference,
  formatReference,
  parseReference,
  type Reference,
  referenceName,
  referenceTagOrDefault,
  registryApiHost,
  tryParseReference,
  withDigest,
  withTag,
} from './reference.ts';

const D = `sha256:${'a'.repeat(64)}`;
const D512 = `sha512:${'b'.repeat(128)}`;

// input → expected struct (formatted full form is checked too)
const valid: [string, Reference][] = [
  ['debian', { registry: 'docker.io', repository: 'library/debian' }],
  ['debian:12', { registry: 'docker.io', repository: 'library/debian', tag: '12' }],
  ['docker.io/debian', { registry: 'docker.io', repository: 'library/debian' }],
  ['docker.io/library/debian:12', { registry: 'docker.io', repository: 'library/debian', tag: '12' }],
  ['index.docker.io/library/debian', { registry: 'docker.io', repository: 'library/debian' }],
  ['index.docker.io/debian', { registry: 'docker.io', repository: 'library/debian' }],
  ['user/app', { registry: 'docker.io', repository: 'user/app' }],
  ['user/app/sub:v1', { registry: 'docker.io', repository: 'user/app/sub', tag: 'v1' }],
  ['localhost/a', { registry: 'localhost', repository: 'a' }],
  ['localhost:5000/a', { registry: 'localhost:5000', repository: 'a' }],
  ['localhost:5000/a:b', { registry: 'localhost:5000', repository: 'a', tag: 'b' }],
  ['a:5000', { registry: 'docker.io', repository: 'library/a', tag: '5000' }],
  ['a.b:5000', { registry: 'docker.io', repository: 'library/a.b', tag: '5000' }],
  ['127.0.0.1:5000/x/y:t', { registry: '127.0.0.1:5000', repository: 'x/y', tag: 't' }],
  ['[::1]:5000/foo', { registry: '[::1]:5000', repository: 'foo' }],
  ['[::1]/foo:bar', { registry: '[::1]', repository: 'foo', tag: 'bar' }],
  ['[2001:db8::1]:443/a/b', { registry: '[2001:db8::1]:443', repository: 'a/b' }],
  ['ghcr.io/o/x', { registry: 'ghcr.io', repository: 'o/x' }],
  ['Registry.Example.COM/a', { registry: 'Registry.Example.COM', repository: 'a' }],
  ['quay.io/a-b/c__d/e.f/g---h', { registry: 'quay.io', repository: 'a-b/c__d/e.f/g---h' }],
  [`debian@${D}`, { registry: 'docker.io', repository: 'library/debian', digest: D as never }],
  [`ghcr.io/o/x:v1@${D}`, { registry: 'ghcr.io', repository: 'o/x', tag: 'v1', digest: D as never }],
  [`x@${D512}`, { registry: 'docker.io', repository: 'library/x', digest: D512 as never }],
  ['x:_UPPER.ok-1', { registry: 'docker.io', repository: 'library/x', tag: '_UPPER.ok-1' }],
  [`x:${'t'.repeat(128)}`, { registry: 'docker.io', repository: 'library/x', tag: 't'.repeat(128) }],
  ['my-reg:5000/a', { registry: 'my-reg:5000', repository: 'a' }],
];

for (const [input, want] of valid) {
  test(`parseReference(${JSON.stringify(input)})`, () => {
    const got = parseReference(input);
    assert.deepEqual(got, want);
    // the full form parses back to the same value
    assert.deepEqual(parseReference(formatReference(got)), got);
  });
}

// input → a fragment the message must contain
const invalid: [string, string][] = [
  ['', 'empty reference'],
  ['Debian', 'repository name must be lowercase'],
  ['docker.io/Library/debian', 'repository name must be lowercase'],
  ['ghcr.io/o/X:v1', 'repository name must be lowercase'],
  ['a//b', 'empty path component'],
  ['ghcr.io/a/', 'empty path component'],
  ['/a', 'empty path component'],
  ['ghcr.io/', 'missing repository name'],
  [':tag', 'missing repository name'],
  ['a:', 'empty tag'],
  [`x:${'t'.repeat(129)}`, 'longer than 128 characters'],
  ['x:-bad', 'invalid tag "-bad"'],
  ['x:.bad', 'invalid tag ".bad"'],
  ['x:a+b', 'invalid tag "a+b"'],
  ['x@sha256:short', 'invalid digest "sha256:short"'],
  [`x@md5:${'a'.repeat(32)}`, 'invalid digest'],
  [`x@sha256:${'A'.repeat(64)}`, 'invalid digest'],
  ['x@', 'invalid digest ""'],
  ['a/b_/c', 'invalid repository path component "b_"'],
  ['a/-b', 'invalid repository path component "-b"'],
  ['a/b..c', 'invalid repository path component "b..c"'],
  ['a/b___c', 'invalid repository path component "b___c"'],
  ['a b', 'invalid repository path component "a b"'],
  ['host:port/a', 'invalid port "port"'],
  ['host:/a', 'invalid port ""'],
  ['-bad.io/a', 'invalid registry host "-bad.io"'],
  ['bad_.io/a', 'invalid registry host "bad_.io"'],
  ['[::1/a', 'invalid registry host'],
  ['a'.repeat(64), 'image ID'],
  [`ghcr.io/${'a'.repeat(250)}`, 'must not be more than 255 characters'],
  [`${'a'.repeat(240)}`, 'must not be more than 255 characters'],
];

for (const [input, fragment] of invalid) {
  test(`parseReference rejects ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () => {
    assert.throws(
      () => parseReference(input),
      (e) => isVouchError(e, 'REFERENCE_INVALID') && e.message.includes(fragment),
    );
    assert.equal(tryParseReference(input), undefined);
  });
}

test('a name of exactly 255 characters is accepted', () => {
  const repo = 'a'.repeat(255 - 'ghcr.io/'.length);
  assert.equal(referenceName(parseReference(`ghcr.io/${repo}`)).length, 255);
});

test('familiarReference gives docker short names', () => {
  const cases: [string, string][] = [
    ['debian:12', 'debian:12'],
    ['docker.io/library/debian', 'debian'],
    ['index.docker.io/user/app:v1', 'user/app:v1'],
    ['docker.io/library/a/b', 'library/a/b'],
    ['localhost:5000/a:b', 'localhost:5000/a:b'],
    [`ghcr.io/o/x@${D}`, `ghcr.io/o/x@${D}`],
  ];
  for (const [input, want] of cases) assert.equal(familiarReference(parseReference(input)), want, input);
});

test('formatReference gives the full form', () => {
  assert.equal(formatReference(parseReference('debian:12')), 'docker.io/library/debian:12');
  assert.equal(formatReference(parseReference(`a:t@${D}`)), `docker.io/library/a:t@${D}`);
  assert.equal(formatReference(parseReference('localhost:5000/a')), 'localhost:5000/a');
});

test('withTag replaces the tag and drops the digest; validates', () => {
  const r = parseReference(`ghcr.io/o/x:v1@${D}`);
  assert.deepEqual(withTag(r, 'sha256-abc.sig'), {
    registry: 'ghcr.io',
    repository: 'o/x',
    tag: 'sha256-abc.sig',
  });
  assert.throws(
    () => withTag(r, 'bad tag'),
    (e) => isVouchError(e, 'REFERENCE_INVALID') && /invalid tag/.test(e.message),
  );
});

test('withDigest pins and keeps the tag; validates', () => {
  const r = parseReference('debian:12');
  assert.equal(formatReference(withDigest(r, D)), `docker.io/library/debian:12@${D}`);
  assert.throws(
    () => withDigest(r, 'sha256:nope'),
    (e) => isVouchError(e, 'REFERENCE_INVALID') && e.message.includes('invalid digest "sha256:nope"'),
  );
});

test('referenceTagOrDefault supplies docker default latest only when no tag', () => {
  assert.equal(referenceTagOrDefault(parseReference('debian')), 'latest');
  assert.equal(referenceTagOrDefault(parseReference('debian:12')), '12');
  assert.equal(parseReference('debian').tag, undefined);
});

test('registryApiHost maps Docker Hub to registry-1.docker.io', () => {
  assert.equal(registryApiHost(parseReference('debian')), 'registry-1.docker.io');
  assert.equal(registryApiHost(parseReference('index.docker.io/x/y')), 'registry-1.docker.io');
  assert.equal(registryApiHost(parseReference('127.0.0.1:5000/a')), '127.0.0.1:5000');
  assert.equal(registryApiHost('ghcr.io'), 'ghcr.io');
});
