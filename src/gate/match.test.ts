import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finding } from '../../test/fixtures/gate/findings.ts';
import { exceptionMatches, pathMatches, purlMatches, tryParsePurl } from './match.ts';
import type { Exception } from './types.ts';

test('purl constraints: trivy pkg/purl TestPackageURL_Match cases, and more', () => {
  const table: [constraint: string, target: string, want: boolean][] = [
    // transcribed from aquasecurity/trivy pkg/purl/purl_test.go (TestPackageURL_Match)
    [
      'pkg:golang/github.com/aquasecurity/trivy@v0.49.0',
      'pkg:golang/github.com/aquasecurity/trivy@v0.49.0',
      true,
    ],
    [
      'pkg:golang/github.com/aquasecurity/trivy@v0.49.0',
      'pkg:maven/github.com/aquasecurity/trivy@0.49.0',
      false,
    ],
    [
      'pkg:golang/github.com/aquasecurity/trivy@v0.49.0',
      'pkg:golang/github.com/aquasecurity2/trivy@v0.49.0',
      false,
    ], // trivy's target has v.49.0, which packageurl-js 2.0.1 cannot parse,
    [
      'pkg:golang/github.com/aquasecurity/trivy@v0.49.0',
      'pkg:golang/github.com/aquasecurity/tracee@v0.49.0',
      false,
    ],
    [
      'pkg:golang/github.com/aquasecurity/trivy@v0.49.0',
      'pkg:golang/github.com/aquasecurity/trivy@v0.49.1',
      false,
    ],
    ['pkg:golang/github.com/aquasecurity/trivy', 'pkg:golang/github.com/aquasecurity/trivy@v0.50.0', true],
    [
      'pkg:bitnami/wordpress@6.2.0?arch=arm64&distro=debian-12',
      'pkg:bitnami/wordpress@6.2.0?arch=arm64&distro=debian-13',
      false,
    ],
    [
      'pkg:bitnami/wordpress@6.2.0?arch=arm64',
      'pkg:bitnami/wordpress@6.2.0?arch=arm64&distro=debian-13',
      true,
    ],
    // vouch's own
    ['pkg:deb/debian/libssl3', 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12', true],
    ['pkg:deb/debian/libssl3@3.0.11-1~deb12u2', 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64', true],
    ['pkg:deb/debian/libssl3@3.0.11-1%7Edeb12u2', 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2', true],
    ['pkg:deb/debian/attr@1:2.4.47-2%2Bb1', 'pkg:deb/debian/attr@1:2.4.47-2+b1', true],
    ['pkg:deb/debian/libssl3?arch=arm64', 'pkg:deb/debian/libssl3@3.0.11?arch=amd64', false],
    ['pkg:deb/debian/libssl3?arch=amd64', 'pkg:deb/debian/libssl3@3.0.11', false],
    ['pkg:deb/ubuntu/libssl3', 'pkg:deb/debian/libssl3@3.0.11', false],
    ['pkg:deb/libssl3', 'pkg:deb/debian/libssl3@3.0.11', false],
    ['pkg:pypi/Django_Rest', 'pkg:pypi/django-rest@1.0', true],
    ['pkg:npm/%40babel/core', 'pkg:npm/%40babel/core@7.0.0', true],
    ['pkg:npm/core', 'pkg:npm/%40babel/core@7.0.0', false],
    ['pkg:maven/org.apache/commons#sub', 'pkg:maven/org.apache/commons@1#other', false],
    ['pkg:maven/org.apache/commons#sub', 'pkg:maven/org.apache/commons@1#sub', true],
    ['pkg:maven/org.apache/commons@1', 'pkg:maven/org.apache/commons', false],
  ];
  for (const [c, t, want] of table) {
    const cp = tryParsePurl(c);
    const tp = tryParsePurl(t);
    assert.ok(cp && tp, `${c} / ${t} parse`);
    assert.equal(purlMatches(cp, tp), want, `${c} ⊇ ${t}`);
  }
});

test('tryParsePurl: undefined for empty or invalid strings, never throws', () => {
  for (const s of [undefined, '', 'not a purl', 'pkg:', 'pkg:/x'])
    assert.equal(tryParsePurl(s), undefined, String(s));
});

test('path globs (doublestar syntax), leading slashes ignored', () => {
  const table: [pattern: string, path: string, want: boolean][] = [
    ['**/*-lock.json', 'foo/package-lock.json', true],
    ['**/*-lock.json', 'package-lock.json', true],
    ['**/*-lock.json', '/app/deep/yarn-lock.json', true],
    ['**/*-lock.json', 'foo/package.json', false],
    ['bar/package.json', 'bar/package.json', true],
    ['bar/package.json', 'foo/bar/package.json', false],
    ['usr/lib/**', '/usr/lib/python3/dist-packages/x/METADATA', true],
    ['usr/lib/**', '/usr/local/lib/x', false],
    ['usr/lib/python3*/**', '/usr/lib/python3.11/site-packages/a/METADATA', true],
    ['/usr/bin/app', 'usr/bin/app', true],
    ['usr/bin/?pp', '/usr/bin/app', true],
    ['usr/bin/{app,tool}', '/usr/bin/tool', true],
    ['usr/bin/[a-c]pp', '/usr/bin/dpp', false],
    ['*', 'usr/bin/app', false],
  ];
  for (const [p, path, want] of table) assert.equal(pathMatches(p, path), want, `${p} ~ ${path}`);
});

test('exceptionMatches: id, paths and purls all must agree', () => {
  const f = finding(); // CVE-2018-18074 in pkg:pypi/requests@2.19.0 at /usr/lib/python3/site-packages/...
  const src = { file: '.trivyignore.yaml', line: 1 };
  const ex = (e: Partial<Exception>): Exception => ({ statement: 's', source: src, ...e });
  const table: [Exception, boolean, string][] = [
    [ex({ id: 'CVE-2018-18074' }), true, 'id only'],
    [ex({ id: 'cve-2018-18074' }), false, 'ids are case-sensitive'],
    [ex({ id: 'GHSA-x84v-xcm2-53pg' }), false, 'aliases are not matched (as trivy)'],
    [ex({ id: 'CVE-2018-18074', paths: ['usr/lib/**'] }), true, 'path glob matches'],
    [ex({ id: 'CVE-2018-18074', paths: ['opt/**', 'usr/lib/python3/**'] }), true, 'any path glob'],
    [ex({ id: 'CVE-2018-18074', paths: ['opt/**'] }), false, 'no path glob matches'],
    [ex({ id: 'CVE-2018-18074', purls: ['pkg:pypi/requests'] }), true, 'versionless purl'],
    [ex({ id: 'CVE-2018-18074', purls: ['pkg:pypi/requests@2.19.0'] }), true, 'exact purl'],
    [ex({ id: 'CVE-2018-18074', purls: ['pkg:pypi/requests@2.20.0'] }), false, 'other version'],
    [ex({ id: 'CVE-2018-18074', purls: ['pkg:pypi/urllib3', 'pkg:pypi/requests'] }), true, 'any purl'],
    [
      ex({ id: 'CVE-2018-18074', purls: ['pkg:pypi/requests'], paths: ['opt/**'] }),
      false,
      'purl ok, path not',
    ],
    [ex({ purls: ['pkg:pypi/requests'] }), true, 'id-optional entry'],
    [ex({ paths: ['opt/**'] }), false, 'id-optional entry, path differs'],
  ];
  for (const [e, want, why] of table) assert.equal(exceptionMatches(e, f), want, why);

  const noPath = finding({ package: { path: undefined } });
  assert.equal(
    exceptionMatches(ex({ id: 'CVE-2018-18074', paths: ['**'] }), noPath),
    false,
    'no path, path constraint',
  );
  const badPurl = finding({ package: { purl: '' } });
  assert.equal(exceptionMatches(ex({ id: 'CVE-2018-18074', purls: ['pkg:pypi/requests'] }), badPurl), false);
  assert.equal(exceptionMatches(ex({ id: 'CVE-2018-18074' }), badPurl), true, 'no purl constraint');
});
