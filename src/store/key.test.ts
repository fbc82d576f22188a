import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { isValidKey, keySegments, normalisePrefix, validatePrefix } from './key.ts';

test('valid keys split into their segments', () => {
  assert.deepEqual(keySegments('sboms/amd64/sbom-app-1.2.3-spdx.json.sig'), [
    'sboms',
    'amd64',
    'sbom-app-1.2.3-spdx.json.sig',
  ]);
  for (const k of ['a', 'a.b', '.well-known/x', 'x+y=z@w,v', 'A_B-c/d']) assert.ok(isValidKey(k), k);
});

test('keys that could escape the root or are not portable are refused with the reason', () => {
  const cases: [string, RegExp][] = [
    ['', /is empty/],
    ['/abs', /absolute/],
    ['../x', /"\.\." segment/],
    ['a/..', /"\.\." segment/],
    ['a/.', /"\." segment/],
    ['a//b', /empty segment/],
    ['a/', /empty segment/],
    ['a..b', /contains "\.\."/],
    ['a\\b', /character "\\\\" \(U\+005C\)/],
    ['a\0', /U\+0000/],
    ['a b', /U\+0020/],
    ['é', /U\+00E9/],
    ['x.json.0123456789ab.tmp', /temporary/],
    ['k'.repeat(1025), /longer than 1024/],
  ];
  for (const [key, message] of cases) {
    assert.throws(
      () => keySegments(key),
      (e) => isVouchError(e, 'UNSAFE_PATH') && message.test(e.message),
      JSON.stringify(key),
    );
  }
});

test('prefixes may be empty, end with / or in a partial segment', () => {
  for (const p of ['', 'sboms/', 'sboms/amd', 'sboms/amd64/sbom-app-1.2.3-spdx.json.']) {
    assert.equal(validatePrefix(p), p);
  }
  for (const p of ['../', 'a/../b', '/x', 'a//']) {
    assert.throws(
      () => validatePrefix(p),
      (e) => isVouchError(e, 'UNSAFE_PATH'),
      p,
    );
  }
});

test('a configured bucket prefix is normalised to "" or "dir/"', () => {
  assert.equal(normalisePrefix(''), '');
  assert.equal(normalisePrefix('/'), '');
  assert.equal(normalisePrefix('releases/app'), 'releases/app/');
  assert.equal(normalisePrefix('/releases/app//'), 'releases/app/');
  assert.throws(
    () => normalisePrefix('a/../b'),
    (e) => isVouchError(e, 'UNSAFE_PATH') && /store prefix/.test(e.message),
  );
});
