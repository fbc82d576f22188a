import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import type { OsInfo } from './model.ts';
import { buildPurl, canonicalPurl, distroQualifier, languagePurl, osPackagePurl, parsePurl } from './purl.ts';

// "build" cases of package-url/purl-spec tests/types/<type>-test.json for vouch's package types
// (components in, canonical string out).
const BUILD: [Parameters<typeof buildPurl>[0], string][] = [
  [
    {
      type: 'deb',
      namespace: 'debian',
      name: 'curl',
      version: '7.50.3-1',
      qualifiers: { arch: 'i386', distro: 'jessie' },
    },
    'pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie',
  ],
  [
    { type: 'deb', namespace: 'ubuntu', name: 'dpkg', version: '1.19.0.4', qualifiers: { arch: 'amd64' } },
    'pkg:deb/ubuntu/dpkg@1.19.0.4?arch=amd64',
  ],
  [
    { type: 'deb', namespace: 'debian', name: 'attr', version: '1:2.4.47-2', qualifiers: { arch: 'source' } },
    'pkg:deb/debian/attr@1:2.4.47-2?arch=source',
  ],
  [
    {
      type: 'deb',
      namespace: 'debian',
      name: 'attr',
      version: '1:2.4.47-2+b1',
      qualifiers: { arch: 'amd64' },
    },
    'pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64',
  ],
  [
    {
      type: 'rpm',
      namespace: 'fedora',
      name: 'curl',
      version: '7.50.3-1.fc25',
      qualifiers: { arch: 'i386', distro: 'fedora-25' },
    },
    'pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25',
  ],
  [
    {
      type: 'rpm',
      name: 'centerim',
      version: '4.22.10-1.el6',
      qualifiers: { arch: 'i686', epoch: '1', distro: 'fedora-25' },
    },
    'pkg:rpm/centerim@4.22.10-1.el6?arch=i686&distro=fedora-25&epoch=1',
  ],
  [
    { type: 'apk', namespace: 'alpine', name: 'curl', version: '7.83.0-r0', qualifiers: { arch: 'x86' } },
    'pkg:apk/alpine/curl@7.83.0-r0?arch=x86',
  ],
  [
    {
      type: 'apk',
      namespace: 'alpine',
      name: 'libcrypto3',
      version: '3.5.5-r0',
      qualifiers: { arch: 'x86_64', distro: 'alpine-edge', upstream: 'openssl' },
    },
    'pkg:apk/alpine/libcrypto3@3.5.5-r0?arch=x86_64&distro=alpine-edge&upstream=openssl',
  ],
  [
    { type: 'npm', namespace: '@angular', name: 'animation', version: '12.3.1' },
    'pkg:npm/%40angular/animation@12.3.1',
  ],
  [{ type: 'npm', name: 'foobar', version: '12.3.1' }, 'pkg:npm/foobar@12.3.1'],
  [
    {
      type: 'npm',
      name: 'mypackage',
      version: '12.4.5',
      qualifiers: { vcs_url: 'git://host.com/path/to/repo.git@4345abcd34343' },
    },
    'pkg:npm/mypackage@12.4.5?vcs_url=git://host.com/path/to/repo.git%404345abcd34343',
  ],
  [
    { type: 'pypi', name: 'My.PyPI_.--._Package', version: '1.11.1.dev1' },
    'pkg:pypi/my-pypi-package@1.11.1.dev1',
  ],
  [
    { type: 'pypi', name: 'django', version: '1.11.1', qualifiers: { filename: 'Django-1.11.1.tar.gz' } },
    'pkg:pypi/django@1.11.1?filename=Django-1.11.1.tar.gz',
  ],
  [
    {
      type: 'golang',
      namespace: 'google.golang.org',
      name: 'genproto',
      subpath: 'googleapis/api/annotations',
    },
    'pkg:golang/google.golang.org/genproto#googleapis/api/annotations',
  ],
  [
    { type: 'golang', namespace: 'github.com/gorilla', name: 'context', version: '234fd47e07d1004f0aed9c' },
    'pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c',
  ],
  [
    { type: 'maven', namespace: 'org.apache.commons', name: 'io', version: '1.3.4' },
    'pkg:maven/org.apache.commons/io@1.3.4',
  ],
  [
    {
      type: 'maven',
      namespace: 'org.apache.xmlgraphics',
      name: 'batik-anim',
      version: '1.9.1',
      qualifiers: { classifier: 'sources', repository_url: 'repo.spring.io/release' },
    },
    'pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?classifier=sources&repository_url=repo.spring.io/release',
  ],
  [
    {
      type: 'maven',
      namespace: 'net.sf.jacob-project',
      name: 'jacob',
      version: '1.14.3',
      qualifiers: { type: 'dll', classifier: 'x86' },
    },
    'pkg:maven/net.sf.jacob-project/jacob@1.14.3?classifier=x86&type=dll',
  ],
  [{ type: 'cargo', name: 'rand', version: '0.7.2' }, 'pkg:cargo/rand@0.7.2'],
  [
    { type: 'gem', name: 'jruby-launcher', version: '1.1.2', qualifiers: { platform: 'java' } },
    'pkg:gem/jruby-launcher@1.1.2?platform=java',
  ],
];

// "roundtrip" cases: any input form, canonical output.
const ROUNDTRIP: [string, string][] = [
  [
    'pkg:Rpm/fedora/curl@7.50.3-1.fc25?Arch=i386&Distro=fedora-25',
    'pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25',
  ],
  [
    'pkg:rpm/centerim@4.22.10-1.el6?arch=i686&epoch=1&distro=fedora-25',
    'pkg:rpm/centerim@4.22.10-1.el6?arch=i686&distro=fedora-25&epoch=1',
  ],
  ['pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64', 'pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64'],
  ['pkg:npm/@babel/core#/googleapis/api/annotations/', 'pkg:npm/%40babel/core#googleapis/api/annotations'],
  ['pkg:npm/LoDash@4.17.21', 'pkg:npm/lodash@4.17.21'],
  ['pkg:npm/%40MyScope/MyPackage@1.0.0', 'pkg:npm/%40myscope/mypackage@1.0.0'],
  ['pkg:npm/foo@1.0.0#src/%F0%9F%98%83/file.js', 'pkg:npm/foo@1.0.0#src/%F0%9F%98%83/file.js'],
  ['pkg:pypi/My.PyPI_.--._Package@1.11.1.dev1', 'pkg:pypi/my-pypi-package@1.11.1.dev1'],
  [
    'pkg:GOLANG/google.golang.org/genproto@abcdedf#/googleapis/api/annotations/',
    'pkg:golang/google.golang.org/genproto@abcdedf#googleapis/api/annotations',
  ],
  [
    'pkg:Maven/org.apache.xmlgraphics/batik-anim@1.9.1?type=pom&repositorY_url=repo.spring.io/release',
    'pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1?repository_url=repo.spring.io/release&type=pom',
  ],
  ['pkg://maven/org.apache.commons/io', 'pkg:maven/org.apache.commons/io'],
  // Note: npm-test.json also round-trips "1.2.3-alpha.1+build.456" with a bare '+', which
  // contradicts deb-test.json and docs/standard/characters-and-encoding.md ('+' is not in
  // the allowed set); vouch follows the encoding rules.
  ['pkg:npm/foobar@1.2.3-alpha.1+build.456', 'pkg:npm/foobar@1.2.3-alpha.1%2Bbuild.456'],
];

test('purl-spec build cases give the canonical string', () => {
  for (const [input, want] of BUILD) assert.equal(buildPurl(input), want, JSON.stringify(input));
});

test('purl-spec roundtrip cases give the canonical string', () => {
  for (const [input, want] of ROUNDTRIP) assert.equal(canonicalPurl(input), want, input);
});

test('invalid components and strings are PURL_INVALID errors', () => {
  assert.throws(
    () =>
      buildPurl({
        type: 'npm',
        name: 'myartifact',
        version: '1.0.0',
        qualifiers: { 'in production': 'true' },
      }),
    (e: unknown) => isVouchError(e, 'PURL_INVALID'),
  );
  assert.throws(
    () => buildPurl({ type: 'maven', name: '' }),
    (e: unknown) => isVouchError(e, 'PURL_INVALID'),
  );
  for (const bad of ['pkg:maven/@1.3.4', 'pkg:npm/myartifact@1.0.0?in%20production=true', 'not a purl']) {
    assert.throws(
      () => parsePurl(bad),
      (e: unknown) => isVouchError(e, 'PURL_INVALID'),
      bad,
    );
  }
});

test('parsePurl decodes what buildPurl encodes', () => {
  const s = buildPurl({
    type: 'deb',
    namespace: 'debian',
    name: 'libc6',
    version: '2.36-9+deb12u7',
    qualifiers: { arch: 'amd64', upstream: 'glibc@2.36-9+deb12u7' },
  });
  assert.equal(s, 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&upstream=glibc%402.36-9%2Bdeb12u7');
  assert.deepEqual(parsePurl(s), {
    type: 'deb',
    namespace: 'debian',
    name: 'libc6',
    version: '2.36-9+deb12u7',
    qualifiers: { arch: 'amd64', upstream: 'glibc@2.36-9+deb12u7' },
  });
});

const DEBIAN12: OsInfo = { id: 'debian', versionId: '12', versionCodename: 'bookworm' };

test('osPackagePurl: deb as syft writes it, upstream only when the source differs', () => {
  const cases: [Parameters<typeof osPackagePurl>, string][] = [
    [
      [
        'deb',
        DEBIAN12,
        'libc6',
        '2.36-9+deb12u7',
        { arch: 'amd64', source: { name: 'glibc', version: '2.36-9+deb12u7' } },
      ],
      'pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc',
    ],
    [
      [
        'deb',
        DEBIAN12,
        'bash',
        '5.2.15-2+b7',
        { arch: 'amd64', source: { name: 'bash', version: '5.2.15-2' } },
      ],
      'pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2',
    ],
    [
      ['deb', DEBIAN12, 'adduser', '3.134', { arch: 'all', source: { name: 'adduser', version: '3.134' } }],
      'pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12',
    ],
    [
      [
        'deb',
        { id: 'ubuntu', versionId: '22.04' },
        'zlib1g',
        '1:1.2.11.dfsg-2ubuntu9',
        { arch: 'amd64', source: { name: 'zlib' } },
      ],
      'pkg:deb/ubuntu/zlib1g@1:1.2.11.dfsg-2ubuntu9?arch=amd64&distro=ubuntu-22.04&upstream=zlib',
    ],
    [['deb', undefined, 'tzdata', '2024a-0+deb12u1', {}], 'pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1'],
    [
      ['deb', { id: 'debian', versionCodename: 'trixie' }, 'base-files', '13', { arch: 'amd64' }],
      'pkg:deb/debian/base-files@13?arch=amd64&distro=debian-trixie',
    ],
    [
      [
        'apk',
        { id: 'alpine', versionId: '3.20.1' },
        'libcrypto3',
        '3.3.1-r0',
        { arch: 'x86_64', source: { name: 'openssl' } },
      ],
      'pkg:apk/alpine/libcrypto3@3.3.1-r0?arch=x86_64&distro=alpine-3.20.1&upstream=openssl',
    ],
    [
      [
        'apk',
        { id: 'wolfi', versionId: '20230201' },
        'busybox',
        '1.36.1-r7',
        { arch: 'aarch64', source: { name: 'busybox' } },
      ],
      'pkg:apk/wolfi/busybox@1.36.1-r7?arch=aarch64&distro=wolfi-20230201',
    ],
    [
      [
        'rpm',
        { id: 'rhel', versionId: '8.6' },
        'openssl',
        '1.1.1k-7.el8_6',
        { arch: 'x86_64', epoch: 1, sourceRpm: 'openssl-1.1.1k-7.el8_6.src.rpm' },
      ],
      'pkg:rpm/rhel/openssl@1.1.1k-7.el8_6?arch=x86_64&distro=rhel-8.6&epoch=1&upstream=openssl-1.1.1k-7.el8_6.src.rpm',
    ],
    [
      ['rpm', { id: 'fedora', versionId: '40' }, 'bash', '5.2.26-3.fc40', { arch: 'x86_64', epoch: 0 }],
      'pkg:rpm/fedora/bash@5.2.26-3.fc40?arch=x86_64&distro=fedora-40',
    ],
  ];
  for (const [args, want] of cases) assert.equal(osPackagePurl(...args), want, args.join(' '));
});

test('languagePurl covers every language type', () => {
  assert.equal(
    languagePurl('npm', { namespace: '@types', name: 'node', version: '24.19.2' }),
    'pkg:npm/%40types/node@24.19.2',
  );
  assert.equal(languagePurl('pypi', { name: 'Requests', version: '2.28.1' }), 'pkg:pypi/requests@2.28.1');
  assert.equal(
    languagePurl('golang', { namespace: 'github.com/BurntSushi', name: 'toml', version: 'v1.3.2' }),
    'pkg:golang/github.com/BurntSushi/toml@v1.3.2',
  );
  assert.equal(languagePurl('golang', { name: 'stdlib', version: '1.22.1' }), 'pkg:golang/stdlib@1.22.1');
  assert.equal(
    languagePurl('maven', { namespace: 'org.slf4j', name: 'slf4j-api', version: '1.7.36' }),
    'pkg:maven/org.slf4j/slf4j-api@1.7.36',
  );
  assert.equal(languagePurl('cargo', { name: 'serde', version: '1.0.200' }), 'pkg:cargo/serde@1.0.200');
  assert.equal(languagePurl('gem', { name: 'rake', version: '13.0.6' }), 'pkg:gem/rake@13.0.6');
});

test('distroQualifier', () => {
  assert.equal(distroQualifier(DEBIAN12), 'debian-12');
  assert.equal(distroQualifier({ id: 'Alpine', versionId: '3.19.0' }), 'alpine-3.19.0');
  assert.equal(distroQualifier({ id: 'debian' }), undefined);
  assert.equal(distroQualifier(undefined), undefined);
});
