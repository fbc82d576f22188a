import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pkg } from '../../../test/fixtures/osv/packages.ts';
import type { OsInfo, Package } from '../../sbom/model.ts';
import { schemeForEcosystem } from '../version/index.ts';
import {
  goToolchainVersion,
  osEcosystem,
  pep503,
  queryFor,
  RUST_ECOSYSTEM,
  stripBinNmu,
} from './ecosystem.ts';

const debian12: OsInfo = { id: 'debian', versionId: '12', versionCodename: 'bookworm' };

describe('osEcosystem', () => {
  const TABLE: [OsInfo | undefined, string | RegExp][] = [
    [debian12, 'Debian:12'],
    [{ id: 'debian', versionId: '12.5' }, 'Debian:12'],
    [{ id: 'debian', versionId: '11' }, 'Debian:11'],
    [{ id: 'debian', versionCodename: 'trixie' }, 'Debian:13'],
    [{ id: 'debian', versionCodename: 'bullseye' }, 'Debian:11'],
    [{ id: 'debian', versionCodename: 'nosuch' }, /no OSV ecosystem/],
    [{ id: 'ubuntu', versionId: '22.04' }, 'Ubuntu:22.04:LTS'],
    [{ id: 'ubuntu', versionId: '24.04' }, 'Ubuntu:24.04:LTS'],
    [{ id: 'ubuntu', versionId: '20.04' }, 'Ubuntu:20.04:LTS'],
    [{ id: 'ubuntu', versionId: '23.04' }, 'Ubuntu:23.04'],
    [{ id: 'ubuntu', versionId: '22.10' }, 'Ubuntu:22.10'],
    [{ id: 'ubuntu', versionId: '24.10' }, 'Ubuntu:24.10'],
    [{ id: 'ubuntu', versionId: 'jammy' }, /not YY\.MM/],
    [{ id: 'alpine', versionId: '3.20.1' }, 'Alpine:v3.20'],
    [{ id: 'alpine', versionId: '3.19' }, 'Alpine:v3.19'],
    [{ id: 'alpine', versionId: '3.21.0_alpha20240807' }, /edge/],
    [{ id: 'wolfi', versionId: '20230201' }, 'Wolfi'],
    [{ id: 'almalinux', versionId: '9.4' }, 'AlmaLinux:9'],
    [{ id: 'rocky', versionId: '8.10' }, 'Rocky Linux:8'],
    [{ id: 'rhel', versionId: '9.4' }, /without guessing/],
    [{ id: 'linuxmint', versionId: '21.3', idLike: ['ubuntu', 'debian'] }, /without guessing/],
    [undefined, /no known OS release/],
  ];
  for (const [os, want] of TABLE) {
    test(`${os?.id ?? 'none'} ${os?.versionId ?? os?.versionCodename ?? ''} → ${want}`, () => {
      const r = osEcosystem(os);
      if (typeof want === 'string') assert.deepEqual(r, { ecosystem: want });
      else assert.match('reason' in r ? r.reason : `ecosystem ${r.ecosystem}`, want);
    });
  }
});

describe('queryFor', () => {
  const TABLE: {
    name: string;
    p: Package;
    os?: OsInfo;
    want:
      | { ecosystem: string; name: string; version: string; via: string }
      | { kind: 'skip' | 'unknown'; reason: RegExp };
  }[] = [
    {
      name: 'Debian binary → source name and source version',
      p: pkg({
        type: 'deb',
        name: 'libssl3',
        version: '3.0.11-1~deb12u2',
        source: { name: 'openssl', version: '3.0.11-1~deb12u2' },
      }),
      os: debian12,
      want: { ecosystem: 'Debian:12', name: 'openssl', version: '3.0.11-1~deb12u2', via: 'source-package' },
    },
    {
      name: 'Debian binNMU → the source version without +bN',
      p: pkg({
        type: 'deb',
        name: 'libfoo1',
        version: '1.2-3+b2',
        source: { name: 'foo', version: '1.2-3' },
      }),
      os: debian12,
      want: { ecosystem: 'Debian:12', name: 'foo', version: '1.2-3', via: 'source-package' },
    },
    {
      name: 'Debian binary with its own version (gcc-defaults builds cpp)',
      p: pkg({
        type: 'deb',
        name: 'cpp',
        version: '4:12.2.0-3',
        source: { name: 'gcc-defaults', version: '1.203' },
      }),
      os: debian12,
      want: { ecosystem: 'Debian:12', name: 'gcc-defaults', version: '1.203', via: 'source-package' },
    },
    {
      name: 'Debian source from the purl upstream qualifier (SBOM read from a file)',
      p: pkg({
        type: 'deb',
        name: 'libssl3',
        version: '3.0.11-1~deb12u2',
        purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl',
      }),
      os: debian12,
      want: { ecosystem: 'Debian:12', name: 'openssl', version: '3.0.11-1~deb12u2', via: 'source-package' },
    },
    {
      name: 'Debian upstream qualifier with a version',
      p: pkg({
        type: 'deb',
        name: 'libfoo1',
        version: '1.2-3+b1',
        purl: 'pkg:deb/debian/libfoo1@1.2-3%2Bb1?upstream=foo%401.2-3',
      }),
      os: debian12,
      want: { ecosystem: 'Debian:12', name: 'foo', version: '1.2-3', via: 'source-package' },
    },
    {
      name: 'Debian without source → binary name, binNMU suffix dropped',
      p: pkg({ type: 'deb', name: 'bash', version: '5.2.15-2+b2' }),
      os: debian12,
      want: { ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2', via: 'name' },
    },
    {
      name: 'Ubuntu LTS',
      p: pkg({
        type: 'deb',
        name: 'libssl1.1',
        version: '1.1.1f-1ubuntu2.20',
        source: { name: 'openssl', version: '1.1.1f-1ubuntu2.20' },
      }),
      os: { id: 'ubuntu', versionId: '20.04' },
      want: {
        ecosystem: 'Ubuntu:20.04:LTS',
        name: 'openssl',
        version: '1.1.1f-1ubuntu2.20',
        via: 'source-package',
      },
    },
    {
      name: 'Alpine subpackage → origin',
      p: pkg({
        type: 'apk',
        name: 'libcrypto3',
        version: '3.0.10-r0',
        source: { name: 'openssl', version: '3.0.10-r0' },
      }),
      os: { id: 'alpine', versionId: '3.17.5' },
      want: { ecosystem: 'Alpine:v3.17', name: 'openssl', version: '3.0.10-r0', via: 'origin' },
    },
    {
      name: 'AlmaLinux rpm → binary name with epoch',
      p: pkg({
        type: 'rpm',
        name: 'openssl-libs',
        version: '1:3.0.7-24.el9',
        source: { name: 'openssl', version: '1:3.0.7-24.el9' },
      }),
      os: { id: 'almalinux', versionId: '9.3' },
      want: { ecosystem: 'AlmaLinux:9', name: 'openssl-libs', version: '1:3.0.7-24.el9', via: 'name' },
    },
    {
      name: 'deb on Alpine is not guessed',
      p: pkg({ type: 'deb', name: 'bash', version: '5.2-1' }),
      os: { id: 'alpine', versionId: '3.20.0' },
      want: { kind: 'unknown', reason: /deb package on Alpine/ },
    },
    {
      name: 'rpm on RHEL is not guessed',
      p: pkg({ type: 'rpm', name: 'bash', version: '5.1.8-6.el9' }),
      os: { id: 'rhel', versionId: '9.2' },
      want: { kind: 'unknown', reason: /rhel/ },
    },
    {
      name: 'OS package without OS release',
      p: pkg({ type: 'deb', name: 'bash', version: '5.2-1' }),
      want: { kind: 'unknown', reason: /no known OS release/ },
    },
    {
      name: 'npm scoped',
      p: pkg({ type: 'npm', name: '@babel/core', version: '7.22.5' }),
      want: { ecosystem: 'npm', name: '@babel/core', version: '7.22.5', via: 'name' },
    },
    {
      name: 'PyPI name normalised (PEP 503)',
      p: pkg({ type: 'pypi', name: 'Jinja2', version: '3.1.2' }),
      want: { ecosystem: 'PyPI', name: 'jinja2', version: '3.1.2', via: 'name' },
    },
    {
      name: 'PyPI dots and underscores',
      p: pkg({ type: 'pypi', name: 'zope.interface_Foo', version: '6.0' }),
      want: { ecosystem: 'PyPI', name: 'zope-interface-foo', version: '6.0', via: 'name' },
    },
    {
      name: 'Go module without v',
      p: pkg({ type: 'golang', name: 'github.com/gin-gonic/gin', version: 'v1.5.0' }),
      want: { ecosystem: 'Go', name: 'github.com/gin-gonic/gin', version: '1.5.0', via: 'name' },
    },
    {
      name: 'Go stdlib from the toolchain version',
      p: pkg({ type: 'golang', name: 'stdlib', version: 'go1.22.1' }),
      want: { ecosystem: 'Go', name: 'stdlib', version: '1.22.1', via: 'stdlib' },
    },
    {
      name: 'Go main module from a checkout',
      p: pkg({ type: 'golang', name: 'example.com/app', version: '(devel)' }),
      want: { kind: 'skip', reason: /\(devel\)/ },
    },
    {
      name: 'Maven group:artifact from the purl',
      p: pkg({
        type: 'maven',
        name: 'log4j-core',
        version: '2.14.1',
        purl: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
      }),
      want: {
        ecosystem: 'Maven',
        name: 'org.apache.logging.log4j:log4j-core',
        version: '2.14.1',
        via: 'purl',
      },
    },
    {
      name: 'Maven guessed groupId is not matched',
      p: pkg({
        type: 'maven',
        name: 'foo',
        version: '1.0',
        purl: 'pkg:maven/foo/foo@1.0',
        metadata: { groupId: 'foo', groupIdGuessed: true },
      }),
      want: { kind: 'unknown', reason: /guessed/ },
    },
    {
      name: 'RubyGems',
      p: pkg({ type: 'gem', name: 'rack', version: '2.2.3' }),
      want: { ecosystem: 'RubyGems', name: 'rack', version: '2.2.3', via: 'name' },
    },
    {
      name: 'Rust crate',
      p: pkg({ type: 'cargo', name: 'smallvec', version: '1.6.0' }),
      want: { ecosystem: RUST_ECOSYSTEM, name: 'smallvec', version: '1.6.0', via: 'name' },
    },
    {
      name: 'no version',
      p: pkg({ type: 'npm', name: 'left-pad', version: '' }),
      want: { kind: 'unknown', reason: /no version/ },
    },
  ];
  for (const c of TABLE) {
    test(c.name, () => {
      const r = queryFor(c.p, c.os);
      if ('kind' in c.want) {
        assert.ok(r.kind !== 'query', JSON.stringify(r));
        assert.equal(r.kind, c.want.kind);
        assert.match(r.reason, c.want.reason);
        return;
      }
      assert.equal(r.kind, 'query', JSON.stringify(r));
      if (r.kind !== 'query') return;
      const { scheme, ...rest } = r.query;
      assert.deepEqual(rest, c.want);
      // The query's scheme is the one src/vuln/version gives its ecosystem.
      assert.equal(scheme, schemeForEcosystem(r.query.ecosystem));
    });
  }
});

describe('helpers', () => {
  test('goToolchainVersion', () => {
    const T: [string, string | undefined][] = [
      ['go1.22.1', '1.22.1'],
      ['go1.22', '1.22.0'],
      ['go1.21rc2', '1.21.0-rc.2'],
      ['go1.9beta2', '1.9.0-beta.2'],
      ['go1.22.1 X:boringcrypto', '1.22.1'],
      ['1.22.1', '1.22.1'],
      ['devel +abc', undefined],
      ['go1', undefined],
    ];
    for (const [v, want] of T) assert.equal(goToolchainVersion(v), want, v);
  });
  test('stripBinNmu and pep503', () => {
    assert.equal(stripBinNmu('1.2-3+b12'), '1.2-3');
    assert.equal(stripBinNmu('1.2+b1-3'), '1.2+b1-3');
    assert.equal(stripBinNmu('1.2-3+deb12u1'), '1.2-3+deb12u1');
    assert.equal(pep503('Foo__Bar.baz'), 'foo-bar-baz');
  });
});
