import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  FIXTURE_OSV,
  MemoryAdvisoryDb,
  readRecords,
  SHARED_OSV,
} from '../../../test/fixtures/osv/memory-db.ts';
import { pkg, sbomOf } from '../../../test/fixtures/osv/packages.ts';
import type { OsInfo, Package } from '../../sbom/model.ts';
import type { Finding } from '../finding.ts';
import type { OsvRecord } from '../osv.ts';
import { KERNEL_HEADERS_RULE, matchSbom } from './match.ts';

const fixtures = readRecords(...['debian', 'alpine', 'ubuntu', 'ghsa'].map((d) => join(FIXTURE_OSV, d)));
const real = (eco: 'go' | 'pypi', ...ids: string[]) =>
  readRecords(join(SHARED_OSV, eco)).filter((r) => ids.includes(r.id));
const db = new MemoryAdvisoryDb([
  ...fixtures,
  ...real('pypi', 'PYSEC-2023-74', 'PYSEC-2022-15'),
  ...real('go', 'GO-2024-2687'),
]);

const debian12: OsInfo = { id: 'debian', versionId: '12', versionCodename: 'bookworm' };
const debian11: OsInfo = { id: 'debian', versionId: '11' };
const byId = (fs: Finding[], id: string) => fs.find((f) => f.id === id);
const ids = (fs: Finding[]) => fs.map((f) => `${f.package.name} ${f.id}`);

describe('Debian: source packages', () => {
  const libssl3 = pkg({
    type: 'deb',
    name: 'libssl3',
    version: '3.0.9-1',
    source: { name: 'openssl', version: '3.0.9-1' },
  });

  test('binary libssl3 matches through its source openssl; CVE, DEBIAN-CVE and DSA are one finding', () => {
    const r = matchSbom(sbomOf([libssl3], debian12), db);
    assert.deepEqual(ids(r.findings), ['libssl3 CVE-2023-5363', 'libssl3 CVE-2024-5535']);
    const f = byId(r.findings, 'CVE-2023-5363')!;
    assert.deepEqual(f.aliases, ['DEBIAN-CVE-2023-5363', 'DSA-5532-1']);
    assert.deepEqual(f.match, {
      records: ['DEBIAN-CVE-2023-5363', 'DSA-5532-1'],
      ecosystem: 'Debian:12',
      name: 'openssl',
      via: 'source-package',
      range: 'introduced 0, fixed 3.0.11-1~deb12u2',
      version: '3.0.9-1',
    });
    assert.equal(f.installedVersion, '3.0.9-1');
    assert.equal(f.fixedVersion, '3.0.11-1~deb12u2');
    assert.equal(f.status, 'fixed');
    assert.deepEqual(f.package.source, { name: 'openssl', version: '3.0.9-1' });
    // Debian says "not yet assigned": the NVD vector decides.
    assert.equal(f.severity, 'HIGH');
    assert.equal(f.severitySource, 'cvss_v3');
    assert.deepEqual(f.vendorSeverity, { cvss_v3: 'HIGH', nvd: 'HIGH' });
    assert.deepEqual(f.cvss, [
      { source: 'nvd', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', score: 7.5 },
    ]);
    assert.equal(f.title, 'openssl - security update');
    assert.equal(f.primaryUrl, 'https://security-tracker.debian.org/tracker/CVE-2023-5363');
    assert.equal(r.unknown.length, 0);
  });

  test("Debian's urgency outranks a critical CVSS score", () => {
    const f = byId(matchSbom(sbomOf([libssl3], debian12), db).findings, 'CVE-2024-5535')!;
    assert.equal(f.severity, 'LOW');
    assert.equal(f.severitySource, 'debian');
    assert.equal(f.vendorSeverity.cvss_v3, 'CRITICAL');
    assert.equal(f.fixedVersion, '3.0.14-1~deb12u1');
  });

  test('a binNMU of the fixed source is fixed; the fix itself is not affected', () => {
    const binNmu = pkg({
      type: 'deb',
      name: 'libssl3',
      version: '3.0.11-1~deb12u2+b1',
      source: { name: 'openssl', version: '3.0.11-1~deb12u2' },
    });
    assert.deepEqual(ids(matchSbom(sbomOf([binNmu], debian12), db).findings), ['libssl3 CVE-2024-5535']);
  });

  test('the release matters: Debian 13 has its own fixed version', () => {
    const p = pkg({
      type: 'deb',
      name: 'openssl',
      version: '3.0.11-1',
      source: { name: 'openssl', version: '3.0.11-1' },
    });
    const f = matchSbom(sbomOf([p], { id: 'debian', versionCodename: 'trixie' }), db).findings;
    assert.deepEqual(ids(f), ['openssl CVE-2023-5363']);
    assert.equal(f[0]!.fixedVersion, '3.0.12-1');
    assert.equal(f[0]!.match.ecosystem, 'Debian:13');
  });

  test('an advisory naming six CVEs is six findings, each with the advisory as an alias', () => {
    const p = pkg({
      type: 'deb',
      name: 'libssl1.1',
      version: '1.1.1n-0+deb11u3',
      source: { name: 'openssl', version: '1.1.1n-0+deb11u3' },
    });
    const r = matchSbom(sbomOf([p], debian11), db);
    assert.deepEqual(
      r.findings.map((f) => f.id),
      ['CVE-2023-5678', 'CVE-2024-0727', 'CVE-2024-2511', 'CVE-2024-4741', 'CVE-2024-5535', 'CVE-2024-9143'],
    );
    for (const f of r.findings) {
      assert.ok(f.aliases.includes('DLA-3942-1'), f.id);
      assert.ok(f.aliases.includes(`DEBIAN-${f.id}`), f.id);
      assert.ok(!f.aliases.some((a) => /^CVE-/.test(a)), `${f.id} hides no other CVE: ${f.aliases}`);
      assert.equal(f.fixedVersion, '1.1.1n-0+deb11u6');
    }
    const c5535 = byId(r.findings, 'CVE-2024-5535')!;
    assert.deepEqual(c5535.match.records, ['DEBIAN-CVE-2024-5535', 'DLA-3942-1']);
    assert.equal(c5535.severity, 'LOW');
    const c9143 = byId(r.findings, 'CVE-2024-9143')!;
    assert.deepEqual(c9143.match.records, ['DLA-3942-1']);
    assert.equal(c9143.severity, 'UNKNOWN');
    assert.equal(c9143.severitySource, '');
    const fixed = pkg({
      ...p,
      version: '1.1.1n-0+deb11u6',
      source: { name: 'openssl', version: '1.1.1n-0+deb11u6' },
    });
    assert.deepEqual(matchSbom(sbomOf([fixed], debian11), db).findings, []);
  });
});

describe('fix status', () => {
  test('unfixed and unimportant: affected, LOW', () => {
    const apt = pkg({
      type: 'deb',
      name: 'apt',
      version: '2.6.1',
      source: { name: 'apt', version: '2.6.1' },
    });
    const [f, ...rest] = matchSbom(sbomOf([apt], debian12), db).findings;
    assert.equal(rest.length, 0);
    assert.equal(f!.id, 'CVE-2011-3374');
    assert.equal(f!.status, 'affected');
    assert.equal(f!.fixedVersion, undefined);
    assert.equal(f!.severity, 'LOW');
    assert.equal(f!.severitySource, 'debian');
    assert.equal(f!.match.range, 'introduced 0');
  });

  test("Debian's end-of-life urgency: end_of_life, and it rates nothing", () => {
    const bb = pkg({
      type: 'deb',
      name: 'busybox',
      version: '1:1.30.1-4',
      source: { name: 'busybox', version: '1:1.30.1-4' },
    });
    const f = matchSbom(sbomOf([bb], { id: 'debian', versionId: '10' }), db).findings[0]!;
    assert.equal(f.status, 'end_of_life');
    assert.equal(f.severitySource, 'cvss_v3');
    const f12 = matchSbom(sbomOf([bb], debian12), db).findings[0]!;
    assert.equal(f12.status, 'affected');
    assert.equal(f12.severity, 'LOW');
  });
});

describe('language packages owned by OS packages', () => {
  const deb = pkg({
    type: 'deb',
    name: 'python3-requests',
    version: '2.28.1+dfsg-1',
    source: { name: 'requests', version: '2.28.1+dfsg-1' },
  });
  const twin = pkg({ type: 'pypi', name: 'requests', version: '2.28.1', ownedBy: deb.id });
  const venv = pkg({
    type: 'pypi',
    name: 'requests',
    version: '2.28.1',
    locations: [{ path: '/app/venv/requests' }],
  });
  venv.id = 'pkg-venv-requests';

  test("Debian's python3-requests is matched as deb; its pypi twin is skipped with the reason", () => {
    const r = matchSbom(sbomOf([deb, twin], debian12), db);
    assert.deepEqual(ids(r.findings), ['python3-requests CVE-2023-32681']);
    const f = r.findings[0]!;
    assert.deepEqual(f.aliases, ['DEBIAN-CVE-2023-32681']);
    assert.equal(f.match.ecosystem, 'Debian:12');
    assert.equal(f.severity, 'MEDIUM');
    assert.equal(f.severitySource, 'debian');
    assert.equal(r.skipped.length, 1);
    assert.equal(r.skipped[0]!.package.id, twin.id);
    assert.match(r.skipped[0]!.reason, /python3-requests 2\.28\.1\+dfsg-1/);
  });

  test('a requests outside any OS package is matched as PyPI: CVE, GHSA and PYSEC are one finding', () => {
    const r = matchSbom(sbomOf([deb, twin, venv], debian12), db);
    const f = r.findings.find((x) => x.package.id === venv.id)!;
    assert.equal(f.id, 'CVE-2023-32681');
    assert.deepEqual(f.aliases, ['GHSA-j8r2-6x86-q33q', 'PYSEC-2023-74']);
    assert.deepEqual(f.match.records, ['GHSA-j8r2-6x86-q33q', 'PYSEC-2023-74']);
    assert.equal(f.fixedVersion, '2.31.0');
    assert.equal(f.severity, 'MEDIUM');
    assert.equal(f.severitySource, 'ghsa');
    assert.equal(f.vendorSeverity.ghsa, 'MEDIUM');
    assert.equal(f.vendorSeverity.cvss_v3, 'MEDIUM');
  });
});

describe('aliases', () => {
  test('CVE, GHSA and DSA records on one package are one finding, linked transitively', () => {
    const a = (id: string, extra: Partial<OsvRecord>): OsvRecord => ({
      id,
      modified: '2024-01-01T00:00:00Z',
      affected: [
        {
          package: { ecosystem: 'npm', name: 'left-pad' },
          ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.3.0' }] }],
        },
      ],
      ...extra,
    });
    const local = new MemoryAdvisoryDb([
      a('GHSA-aaaa-bbbb-cccc', { aliases: ['CVE-2024-1000'] }),
      a('DSA-9999-1', { upstream: ['CVE-2024-1000', 'DEBIAN-CVE-2024-1000'] }),
      a('MAL-2024-1', { aliases: ['GHSA-aaaa-bbbb-cccc'] }), // linked only through the GHSA
      a('GHSA-zzzz-yyyy-xxxx', {}), // another vulnerability
    ]);
    const r = matchSbom(sbomOf([pkg({ type: 'npm', name: 'left-pad', version: '1.2.0' })]), local);
    assert.deepEqual(
      r.findings.map((f) => [f.id, f.aliases]),
      [
        ['CVE-2024-1000', ['DEBIAN-CVE-2024-1000', 'DSA-9999-1', 'GHSA-aaaa-bbbb-cccc', 'MAL-2024-1']],
        ['GHSA-zzzz-yyyy-xxxx', []],
      ],
    );
  });
});

describe('withdrawn records', () => {
  const loguru = pkg({ type: 'pypi', name: 'loguru', version: '0.5.3' });
  // A store that hands out withdrawn records too: the matcher must still ignore them.
  const leaky = new MemoryAdvisoryDb(real('pypi', 'PYSEC-2022-15'), { includeWithdrawn: true });

  test('a withdrawn record never matches', () => {
    for (const store of [db, leaky]) {
      const r = matchSbom(sbomOf([loguru]), store);
      assert.deepEqual(r.findings, []);
      assert.deepEqual(r.unknown, []);
    }
  });

  test('before its withdrawal it matched every version (no ranges, no versions)', () => {
    const r = matchSbom(sbomOf([loguru]), leaky, { now: new Date('2022-02-01T00:00:00Z') });
    assert.deepEqual(ids(r.findings), ['loguru CVE-2022-0329']);
    assert.equal(r.findings[0]!.match.range, 'all versions (no ranges or versions given)');
  });
});

describe('kernel headers', () => {
  test('kernel CVEs on header packages are set aside, never dropped', () => {
    const libc = pkg({
      type: 'deb',
      name: 'linux-libc-dev',
      version: '6.1.76-1',
      source: { name: 'linux', version: '6.1.76-1' },
    });
    const hdr = pkg({
      type: 'deb',
      name: 'linux-headers-6.1.0-18-amd64',
      version: '6.1.76-1',
      source: { name: 'linux', version: '6.1.76-1' },
    });
    const r = matchSbom(sbomOf([libc, hdr], debian12), db);
    assert.deepEqual(ids(r.findings), [
      'linux-headers-6.1.0-18-amd64 CVE-2024-26581',
      'linux-libc-dev CVE-2024-26581',
    ]);
    for (const f of r.findings) {
      assert.deepEqual(f.setAside, KERNEL_HEADERS_RULE);
      assert.equal(f.fixedVersion, '6.1.82-1');
    }
  });

  test('a kernel image or another package from another source is not set aside', () => {
    const image = pkg({
      type: 'deb',
      name: 'linux-image-6.1.0-18-amd64',
      version: '6.1.76-1',
      source: { name: 'linux', version: '6.1.76-1' },
    });
    const f = matchSbom(sbomOf([image], debian12), db).findings[0]!;
    assert.equal(f.id, 'CVE-2024-26581');
    assert.equal(f.setAside, undefined);
  });
});

describe('unknown is never safe', () => {
  test('an unparseable Debian version lists every record it could not evaluate', () => {
    const bad = pkg({
      type: 'deb',
      name: 'libssl3',
      version: 'garbage!',
      source: { name: 'openssl', version: 'garbage!' },
    });
    const r = matchSbom(sbomOf([bad], debian12), db);
    assert.deepEqual(r.findings, []);
    assert.deepEqual(
      r.unknown.map((u) => u.record),
      ['DEBIAN-CVE-2023-5363', 'DEBIAN-CVE-2024-5535', 'DSA-5532-1'],
    );
    for (const u of r.unknown) {
      assert.equal(u.package, bad);
      assert.match(u.reason, /deb version "garbage!"/);
    }
  });

  test('an unparseable PyPI version', () => {
    const bad = pkg({ type: 'pypi', name: 'requests', version: '2.28.1-custom build' });
    const r = matchSbom(sbomOf([bad]), db);
    assert.deepEqual(r.findings, []);
    assert.deepEqual(
      r.unknown.map((u) => u.record),
      ['GHSA-j8r2-6x86-q33q', 'PYSEC-2023-74'],
    );
  });

  test('a package that cannot be queried is unknown without a record', () => {
    const r = matchSbom(sbomOf([pkg({ type: 'deb', name: 'bash', version: '5.2-1' })]), db);
    assert.equal(r.unknown.length, 1);
    assert.equal(r.unknown[0]!.record, undefined);
    assert.match(r.unknown[0]!.reason, /no known OS release/);
  });
});

describe('other distributions and ecosystems', () => {
  test('Alpine: the subpackage matches through its origin; Alpine rates nothing, CVSS decides', () => {
    const p = pkg({
      type: 'apk',
      name: 'libcrypto3',
      version: '3.0.10-r0',
      source: { name: 'openssl', version: '3.0.10-r0' },
    });
    const f = matchSbom(sbomOf([p], { id: 'alpine', versionId: '3.17.5' }), db).findings;
    assert.deepEqual(ids(f), ['libcrypto3 CVE-2023-5363']);
    assert.equal(f[0]!.fixedVersion, '3.0.12-r0');
    assert.equal(f[0]!.match.via, 'origin');
    assert.equal(f[0]!.severitySource, 'cvss_v3');
    assert.equal(f[0]!.vendorSeverity.alpine, undefined);
  });

  test("Ubuntu: the LTS ecosystem and Ubuntu's priority", () => {
    const p = pkg({
      type: 'deb',
      name: 'libssl1.1',
      version: '1.1.1f-1ubuntu2.20',
      source: { name: 'openssl', version: '1.1.1f-1ubuntu2.20' },
    });
    const f = matchSbom(sbomOf([p], { id: 'ubuntu', versionId: '20.04' }), db).findings;
    assert.deepEqual(ids(f), ['libssl1.1 CVE-2024-0727']);
    assert.equal(f[0]!.match.range, 'listed version');
    assert.equal(f[0]!.fixedVersion, '1.1.1f-1ubuntu2.21');
    assert.equal(f[0]!.severity, 'LOW');
    assert.equal(f[0]!.severitySource, 'ubuntu');
    assert.deepEqual(
      f[0]!.cvss.map((c) => c.source),
      ['ubuntu'],
    );
  });

  test('Go: the toolchain is stdlib, with the fix of its own branch', () => {
    const std = pkg({ type: 'golang', name: 'stdlib', version: 'go1.22.1' });
    const net = pkg({ type: 'golang', name: 'golang.org/x/net', version: 'v0.22.0' });
    const r = matchSbom(sbomOf([std, net]), db);
    assert.deepEqual(ids(r.findings), ['golang.org/x/net CVE-2023-45288', 'stdlib CVE-2023-45288']);
    const s = r.findings.find((f) => f.package.name === 'stdlib')!;
    assert.equal(s.fixedVersion, '1.22.2');
    assert.equal(s.match.range, 'introduced 1.22.0-0, fixed 1.22.2');
    assert.deepEqual(s.aliases, ['GHSA-4v7x-pqxf-cx7m', 'GO-2024-2687']);
    assert.equal(r.findings[0]!.fixedVersion, '0.23.0');
    const old = pkg({ type: 'golang', name: 'stdlib', version: 'go1.21.8' });
    assert.equal(matchSbom(sbomOf([old]), db).findings[0]!.fixedVersion, '1.21.9');
    const ok = pkg({ type: 'golang', name: 'stdlib', version: 'go1.22.2' });
    assert.deepEqual(matchSbom(sbomOf([ok]), db).findings, []);
  });
});

describe('determinism and caching', () => {
  const packages: Package[] = [
    pkg({
      type: 'deb',
      name: 'libssl3',
      version: '3.0.9-1',
      source: { name: 'openssl', version: '3.0.9-1' },
    }),
    pkg({
      type: 'deb',
      name: 'openssl',
      version: '3.0.9-1',
      source: { name: 'openssl', version: '3.0.9-1' },
    }),
    pkg({ type: 'deb', name: 'apt', version: '2.6.1', source: { name: 'apt', version: '2.6.1' } }),
    pkg({ type: 'pypi', name: 'Requests', version: '2.20.0' }),
    pkg({ type: 'golang', name: 'stdlib', version: 'go1.22.1' }),
  ];

  test('the same findings, in the same order, whatever the package order', () => {
    const a = matchSbom(sbomOf(packages, debian12), db);
    const b = matchSbom(sbomOf([...packages].reverse(), debian12), db);
    assert.equal(JSON.stringify(b), JSON.stringify(a));
    // code-unit order: upper case before lower case, never the locale's
    assert.deepEqual(ids(a.findings), [
      'Requests CVE-2023-32681',
      'apt CVE-2011-3374',
      'libssl3 CVE-2023-5363',
      'libssl3 CVE-2024-5535',
      'openssl CVE-2023-5363',
      'openssl CVE-2024-5535',
      'stdlib CVE-2023-45288',
    ]);
  });

  test('a second scan on the same database does not query it again', () => {
    const local = new MemoryAdvisoryDb(fixtures);
    matchSbom(sbomOf(packages, debian12), local);
    const first = local.queries;
    assert.ok(first > 0);
    const again = matchSbom(sbomOf(packages, debian12), local);
    assert.equal(local.queries, first);
    assert.equal(again.findings.length, 6); // no Go records in this database
  });

  test('a severity precedence reorders the decision, not the data', () => {
    const p = packages[0]!;
    const f = byId(
      matchSbom(sbomOf([p], debian12), db, { severityPrecedence: ['cvss_v3', 'distro'] }).findings,
      'CVE-2024-5535',
    )!;
    assert.equal(f.severity, 'CRITICAL');
    assert.equal(f.severitySource, 'cvss_v3');
    assert.equal(f.vendorSeverity.debian, 'LOW');
  });
});
