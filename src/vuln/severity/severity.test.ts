import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isVouchError } from '../../errors.ts';
import type { Severity } from '../finding.ts';
import type { OsvAffected, OsvRecord, OsvSeverity } from '../osv.ts';
import {
  assessSeverity,
  cvssSource,
  parseSeverityPrecedence,
  SEVERITY_PRECEDENCE,
  type SeverityEvidence,
  severityFromLabel,
} from './index.ts';

const V3_CRIT: OsvSeverity = { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }; // 9.8
const V3_MED: OsvSeverity = { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N' }; // 6.1
const V3_LOW: OsvSeverity = { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:L/A:N' }; // 3.7
const V4_HIGH: OsvSeverity = {
  type: 'CVSS_V4',
  score: 'CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
};
const V2_HIGH: OsvSeverity = { type: 'CVSS_V2', score: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' }; // 7.5
const BAD: OsvSeverity = { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N' };

function ev(
  id: string,
  o: {
    record?: OsvSeverity[];
    entry?: OsvSeverity[];
    es?: Record<string, unknown>;
    ds?: Record<string, unknown>;
  } = {},
): SeverityEvidence {
  const entry: OsvAffected = {
    package: { ecosystem: 'Debian:12', name: 'x' },
    ...(o.entry ? { severity: o.entry } : {}),
    ...(o.es ? { ecosystem_specific: o.es } : {}),
  };
  const record: OsvRecord = {
    id,
    modified: '2024-01-01T00:00:00Z',
    affected: [entry],
    ...(o.record ? { severity: o.record } : {}),
    ...(o.ds ? { database_specific: o.ds } : {}),
  };
  return { record, entries: [entry] };
}

interface Row {
  name: string;
  evidence: SeverityEvidence[];
  distro?: string;
  precedence?: string[];
  want: [Severity, string];
}

const ROWS: Row[] = [
  {
    name: 'distro urgency first for OS packages',
    evidence: [ev('DEBIAN-CVE-1', { record: [V3_CRIT], es: { urgency: 'low' } })],
    distro: 'debian',
    want: ['LOW', 'debian'],
  },
  {
    name: "Debian's inherited urgency marks (medium**)",
    evidence: [ev('DEBIAN-CVE-1', { es: { urgency: 'medium**' } })],
    distro: 'debian',
    want: ['MEDIUM', 'debian'],
  },
  {
    name: '"not yet assigned" rates nothing: CVSS decides',
    evidence: [ev('DEBIAN-CVE-1', { record: [V3_CRIT], es: { urgency: 'not yet assigned' } })],
    distro: 'debian',
    want: ['CRITICAL', 'cvss_v3'],
  },
  {
    name: 'distro labels do not count for language packages',
    evidence: [ev('DEBIAN-CVE-1', { record: [V3_MED], es: { urgency: 'high' } })],
    want: ['MEDIUM', 'cvss_v3'],
  },
  {
    name: 'Ubuntu priority in ecosystem_specific',
    evidence: [ev('CVE-1', { record: [V3_CRIT], es: { ubuntu_priority: 'negligible' } })],
    distro: 'ubuntu',
    want: ['LOW', 'ubuntu'],
  },
  {
    name: 'Ubuntu severity[] entry of type Ubuntu',
    evidence: [ev('USN-1', { record: [{ type: 'Ubuntu', score: 'high' }] })],
    distro: 'ubuntu',
    want: ['HIGH', 'ubuntu'],
  },
  {
    name: 'Red Hat style label in database_specific',
    evidence: [ev('ALSA-2024:1', { ds: { severity: 'Important' } })],
    distro: 'alma',
    want: ['HIGH', 'alma'],
  },
  {
    name: 'highest distro label of several entries wins',
    evidence: [ev('DEBIAN-CVE-1', { es: { urgency: 'low' } }), ev('DSA-1', { es: { urgency: 'high' } })],
    distro: 'debian',
    want: ['HIGH', 'debian'],
  },
  {
    name: 'GHSA label before CVSS',
    evidence: [ev('GHSA-aaaa-bbbb-cccc', { record: [V3_CRIT], ds: { severity: 'MODERATE' } })],
    want: ['MEDIUM', 'ghsa'],
  },
  {
    name: 'a non-GHSA record database_specific.severity is not GitHub',
    evidence: [ev('PYSEC-1', { record: [V3_LOW], ds: { severity: 'CRITICAL' } })],
    want: ['LOW', 'cvss_v3'],
  },
  {
    name: 'affected-level CVSS before record-level',
    evidence: [ev('GO-1', { record: [V3_CRIT], entry: [V3_LOW] })],
    want: ['LOW', 'cvss_v3'],
  },
  {
    name: 'highest score among records at the same level',
    evidence: [ev('PYSEC-1', { record: [V3_LOW] }), ev('GHSA-x', { record: [V3_MED] })],
    want: ['MEDIUM', 'cvss_v3'],
  },
  { name: 'v4 when no v3', evidence: [ev('X-1', { record: [V4_HIGH, V2_HIGH] })], want: ['HIGH', 'cvss_v4'] },
  { name: 'v2 last', evidence: [ev('X-1', { record: [V2_HIGH] })], want: ['HIGH', 'cvss_v2'] },
  {
    name: 'invalid vectors are ignored',
    evidence: [ev('X-1', { record: [BAD, V3_LOW] })],
    want: ['LOW', 'cvss_v3'],
  },
  { name: 'nothing rated: UNKNOWN', evidence: [ev('X-1', { record: [BAD] })], want: ['UNKNOWN', ''] },
  {
    name: 'reordered: CVSS before the distro',
    evidence: [ev('DEBIAN-CVE-1', { record: [V3_CRIT], es: { urgency: 'low' } })],
    distro: 'debian',
    precedence: ['cvss_v3', 'distro'],
    want: ['CRITICAL', 'cvss_v3'],
  },
  {
    name: 'a vendor key as a source (nvd)',
    evidence: [ev('DEBIAN-CVE-1', { record: [V3_MED], es: { urgency: 'low' } })],
    distro: 'debian',
    precedence: ['nvd'],
    want: ['MEDIUM', 'nvd'],
  },
  {
    name: 'a precedence that names no present source: UNKNOWN',
    evidence: [ev('DEBIAN-CVE-1', { record: [V3_MED] })],
    precedence: ['ghsa'],
    want: ['UNKNOWN', ''],
  },
];

describe('severity precedence', () => {
  test('the default order', () => {
    assert.deepEqual([...SEVERITY_PRECEDENCE], ['distro', 'ghsa', 'cvss_v3', 'cvss_v4', 'cvss_v2']);
  });
  for (const r of ROWS) {
    test(r.name, () => {
      const a = assessSeverity(
        { evidence: r.evidence, ...(r.distro ? { distro: r.distro } : {}) },
        r.precedence ? { precedence: r.precedence } : {},
      );
      assert.deepEqual([a.severity, a.severitySource], r.want);
    });
  }

  test('every source is kept: vendorSeverity and cvss', () => {
    const a = assessSeverity({
      evidence: [
        ev('DEBIAN-CVE-1', { record: [V3_CRIT], es: { urgency: 'low' } }),
        ev('GHSA-aaaa-bbbb-cccc', { record: [V3_MED], ds: { severity: 'HIGH' } }),
        ev('DSA-1', { record: [V2_HIGH] }),
      ],
      distro: 'debian',
    });
    assert.deepEqual(a.vendorSeverity, {
      cvss_v2: 'HIGH',
      cvss_v3: 'CRITICAL',
      debian: 'LOW',
      dsa: 'HIGH',
      ghsa: 'HIGH',
      nvd: 'CRITICAL',
    });
    assert.deepEqual(
      a.cvss.map((c) => [c.source, c.version, c.score]),
      [
        ['dsa', '2.0', 7.5],
        ['ghsa', '3.1', 6.1],
        ['nvd', '3.1', 9.8],
      ],
    );
    assert.equal(a.severitySource, 'debian');
  });
});

describe('labels and sources', () => {
  test('severityFromLabel', () => {
    const T: [unknown, Severity | undefined][] = [
      ['unimportant', 'LOW'],
      ['low*', 'LOW'],
      ['Medium', 'MEDIUM'],
      ['MODERATE', 'MEDIUM'],
      ['high**', 'HIGH'],
      ['Important', 'HIGH'],
      ['critical', 'CRITICAL'],
      ['not yet assigned', undefined],
      ['end-of-life', undefined],
      ['untriaged', undefined],
      [7, undefined],
      [undefined, undefined],
    ];
    for (const [l, want] of T) assert.equal(severityFromLabel(l), want, String(l));
  });

  test('cvssSource', () => {
    assert.equal(cvssSource('GHSA-aaaa-bbbb-cccc'), 'ghsa');
    assert.equal(cvssSource('DEBIAN-CVE-2023-1'), 'nvd');
    assert.equal(cvssSource('ALPINE-CVE-2023-1'), 'nvd');
    assert.equal(cvssSource('CVE-2024-0727', 'ubuntu'), 'ubuntu');
    assert.equal(cvssSource('PYSEC-2023-74'), 'pysec');
    assert.equal(cvssSource('GO-2024-2687'), 'go');
  });

  test('parseSeverityPrecedence', () => {
    assert.deepEqual(parseSeverityPrecedence(['auto']), [...SEVERITY_PRECEDENCE]);
    assert.deepEqual(parseSeverityPrecedence(['NVD', 'auto']), ['nvd', ...SEVERITY_PRECEDENCE]);
    assert.deepEqual(parseSeverityPrecedence(['cvss_v3', 'auto']), [
      'cvss_v3',
      'distro',
      'ghsa',
      'cvss_v4',
      'cvss_v2',
    ]);
    for (const bad of [[], [''], ['a b'], ['1x']]) {
      assert.throws(
        () => parseSeverityPrecedence(bad),
        (e) => isVouchError(e, 'USAGE'),
      );
    }
  });
});
