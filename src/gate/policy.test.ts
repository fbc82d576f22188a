import assert from 'node:assert/strict';
import { test } from 'node:test';
import { debFinding, finding } from '../../test/fixtures/gate/findings.ts';
import type { Finding } from '../vuln/finding.ts';
import { parseTrivyIgnore, parseTrivyIgnoreYaml } from './ignorefile.ts';
import { defaultPolicy, evaluateGate, ignoredStatuses, isActive } from './policy.ts';
import type { Exception, GatePolicy, GateResult } from './types.ts';
import { parseOpenVex } from './vex.ts';

const NOW = new Date('2020-08-10T07:28:17.000958Z'); // trivy filter_test's fake clock

function policy(p: Partial<GatePolicy> = {}): GatePolicy {
  return { ...defaultPolicy(NOW), ...p };
}

function ids(fs: readonly Finding[]): string[] {
  return fs.map((f) => `${f.id}/${f.package.name}`);
}

function why(r: GateResult): string[] {
  return r.suppressed.map((s) => `${s.finding.id}:${s.reason.kind}`);
}

test('no findings pass; any kept finding fails', () => {
  assert.equal(evaluateGate([], policy()).decision, 'pass');
  const r = evaluateGate([finding({ severity: 'UNKNOWN' })], policy());
  assert.equal(r.decision, 'fail', 'UNKNOWN is gated by default: unknown is never safe');
  assert.equal(r.kept.length, 1);
});

test('each flag, alone', () => {
  const fs = [
    finding({ id: 'CVE-1', severity: 'CRITICAL', status: 'fixed' }),
    finding({ id: 'CVE-2', severity: 'HIGH', status: 'affected', fixedVersion: undefined }),
    finding({ id: 'CVE-3', severity: 'MEDIUM', status: 'will_not_fix', fixedVersion: undefined }),
    finding({ id: 'CVE-4', severity: 'LOW', status: 'fix_deferred', fixedVersion: undefined }),
    finding({ id: 'CVE-5', severity: 'UNKNOWN', status: 'end_of_life', fixedVersion: undefined }),
  ];
  const table: { p: Partial<GatePolicy>; kept: string[]; kinds: string[] }[] = [
    { p: {}, kept: ['CVE-1', 'CVE-2', 'CVE-3', 'CVE-4', 'CVE-5'], kinds: [] },
    {
      p: { severities: ['HIGH', 'CRITICAL'] },
      kept: ['CVE-1', 'CVE-2'],
      kinds: ['severity', 'severity', 'severity'],
    },
    { p: { severities: [] }, kept: [], kinds: ['severity', 'severity', 'severity', 'severity', 'severity'] },
    { p: { ignoreUnfixed: true }, kept: ['CVE-1'], kinds: ['status', 'status', 'status', 'status'] },
    {
      p: { ignoreStatuses: ['will_not_fix', 'end_of_life'] },
      kept: ['CVE-1', 'CVE-2', 'CVE-4'],
      kinds: ['status', 'status'],
    },
    // --ignore-status replaces --ignore-unfixed (trivy drops the latter with a warning)
    {
      p: { ignoreUnfixed: true, ignoreStatuses: ['fixed'] },
      kept: ['CVE-2', 'CVE-3', 'CVE-4', 'CVE-5'],
      kinds: ['status'],
    },
    {
      p: { severities: ['CRITICAL', 'HIGH'], ignoreUnfixed: true },
      kept: ['CVE-1'],
      kinds: ['status', 'severity', 'severity', 'severity'],
    },
  ];
  for (const c of table) {
    const r = evaluateGate(fs, policy(c.p));
    assert.deepEqual(r.kept.map((f) => f.id).sort(), c.kept, JSON.stringify(c.p));
    assert.deepEqual(r.suppressed.map((s) => s.reason.kind).sort(), [...c.kinds].sort(), JSON.stringify(c.p));
    assert.equal(r.kept.length + r.suppressed.length, fs.length, 'nothing is dropped');
    assert.equal(r.decision, c.kept.length > 0 ? 'fail' : 'pass');
  }
});

test('ignoredStatuses', () => {
  assert.deepEqual(ignoredStatuses({ ignoreUnfixed: false }), []);
  assert.deepEqual(ignoredStatuses({ ignoreUnfixed: true }), [
    'affected',
    'will_not_fix',
    'fix_deferred',
    'end_of_life',
  ]);
  assert.deepEqual(ignoredStatuses({ ignoreUnfixed: true, ignoreStatuses: ['end_of_life', 'affected'] }), [
    'affected',
    'end_of_life',
  ]);
});

test('filters run in trivy order: set-aside, severity, status, ignore file, VEX', () => {
  const ex = parseTrivyIgnore('CVE-1 # accepted\n', '.trivyignore');
  const vex = parseOpenVex(
    JSON.stringify({
      '@context': 'https://openvex.dev/ns/v0.2.0',
      statements: [{ vulnerability: { name: 'CVE-1' }, products: ['pkg:pypi/requests'], status: 'fixed' }],
    }),
    'v.json',
  );
  const all = { severities: ['CRITICAL' as const], ignoreUnfixed: true, exceptions: ex, vex };
  const table: [Finding, string][] = [
    [
      finding({
        id: 'CVE-1',
        severity: 'LOW',
        status: 'affected',
        setAside: { rule: 'kernel-headers', reason: 'headers only' },
      }),
      'set-aside',
    ],
    [finding({ id: 'CVE-1', severity: 'LOW', status: 'affected' }), 'severity'],
    [finding({ id: 'CVE-1', severity: 'CRITICAL', status: 'affected' }), 'status'],
    [finding({ id: 'CVE-1', severity: 'CRITICAL', status: 'fixed' }), 'ignorefile'],
  ];
  for (const [f, kind] of table)
    assert.equal(evaluateGate([f], policy(all)).suppressed[0]?.reason.kind, kind);
  const onlyVex = evaluateGate([finding({ id: 'CVE-1' })], policy({ vex }));
  assert.equal(onlyVex.suppressed[0]?.reason.kind, 'vex');
  assert.equal(onlyVex.suppressed[0]?.reason.detail, 'v.json#/statements/0: fixed');
});

test('set-aside findings are suppressed and explained, never kept', () => {
  const f = debFinding({
    setAside: { rule: 'kernel-headers', reason: 'linux-libc-dev ships headers, not a kernel' },
  });
  const r = evaluateGate([f], policy());
  assert.equal(r.decision, 'pass');
  assert.deepEqual(r.suppressed[0]?.reason, {
    kind: 'set-aside',
    rule: 'kernel-headers',
    detail: 'kernel-headers: linux-libc-dev ships headers, not a kernel',
  });
});

test('expiry: active before the date, inactive from 00:00 UTC on the date', () => {
  const [e] = parseTrivyIgnore('CVE-2018-18074 exp:2026-09-01 # waiting for 2.20\n', '.trivyignore') as [
    Exception,
  ];
  const table: [string, boolean][] = [
    ['2026-08-31T23:59:59.999Z', true],
    ['2026-08-31T12:00:00-11:00', true], // 23:00 UTC the day before
    ['2026-09-01T00:00:00.000Z', false],
    ['2026-09-01T00:00:00.001Z', false],
    ['2026-08-31T20:00:00-05:00', false], // 01:00 UTC on the date
    ['2027-01-01T00:00:00Z', false],
  ];
  for (const [t, active] of table) {
    const now = new Date(t);
    assert.equal(isActive(e, now), active, t);
    const r = evaluateGate([finding()], policy({ exceptions: [e], now }));
    assert.equal(r.decision, active ? 'pass' : 'fail', t);
    assert.equal(r.expiredExceptions.length, active ? 0 : 1, t);
    if (!active) assert.equal(r.expiredExceptions[0]?.source, '.trivyignore:1');
  }
});

test('audit trail: the exception, its source and statement stay with the finding; unused exceptions are listed', () => {
  const exceptions = parseTrivyIgnoreYaml(
    [
      'vulnerabilities:',
      '  - id: CVE-2018-18074',
      '    purls: ["pkg:pypi/requests"]',
      '    statement: only talks to our own https endpoints',
      '    expired_at: 2099-01-01',
      '  - id: CVE-2099-0001',
      '    statement: typo or already fixed',
    ].join('\n'),
    'policy/.trivyignore.yaml',
  );
  const r = evaluateGate([finding(), debFinding()], policy({ exceptions }));
  assert.equal(r.decision, 'fail');
  assert.deepEqual(ids(r.kept), ['CVE-2023-3817/libssl3']);
  const s = r.suppressed[0];
  assert.equal(s?.reason.kind, 'ignorefile');
  assert.equal(
    s?.reason.detail,
    'policy/.trivyignore.yaml:2 (until 2099-01-01): only talks to our own https endpoints',
  );
  assert.equal(s?.reason.kind === 'ignorefile' && s.reason.exception, exceptions[0]);
  assert.deepEqual(
    r.unusedExceptions.map((u) => u.source),
    ['policy/.trivyignore.yaml:6'],
  );
});

test('results are sorted as trivy sorts vulnerabilities, whatever the input order', () => {
  const fs = [
    finding({ id: 'CVE-B', severity: 'LOW' }),
    debFinding({ id: 'CVE-Z', severity: 'LOW' }),
    finding({ id: 'CVE-A', severity: 'LOW' }),
    finding({ id: 'CVE-C', severity: 'CRITICAL' }),
  ];
  const a = evaluateGate(fs, policy());
  const b = evaluateGate([...fs].reverse(), policy());
  assert.deepEqual(ids(a.kept), ['CVE-Z/libssl3', 'CVE-C/requests', 'CVE-A/requests', 'CVE-B/requests']);
  assert.deepEqual(a, b);
});

/*
 * aquasecurity/trivy pkg/result/filter_test.go (TestFilter, "ignore file" and "ignore yaml"),
 * transcribed with vouch's mandatory statements added, clock 2020-08-10.
 */
test('trivy filter_test: .trivyignore semantics', () => {
  const ignore = parseTrivyIgnore(
    [
      '# vulnerabilities',
      'CVE-2019-0001 # s',
      'CVE-2019-0002 # s',
      'CVE-2019-0004 exp:2020-01-01 # s',
      'CVE-2019-0005 exp:9999-01-01 # s',
      'CVE-2019-0006 exp:9999-01-01 # s',
      '',
      '# misconfigurations',
      'AVD-ID-0300 # s',
    ].join('\n'),
    'testdata/.trivyignore',
  );
  const v = (n: number, severity: 'LOW' | 'CRITICAL') =>
    finding({
      id: `CVE-2019-000${n}`,
      severity,
      package: { name: 'foo', purl: 'pkg:golang/github.com/aquasecurity/foo@1.2.3' },
    });
  const fs = [v(1, 'LOW'), v(2, 'CRITICAL'), v(3, 'LOW'), v(4, 'LOW'), v(5, 'LOW'), v(6, 'LOW')];
  const r = evaluateGate(fs, policy({ severities: ['LOW'], exceptions: ignore }));
  assert.deepEqual(
    r.kept.map((f) => f.id),
    ['CVE-2019-0003', 'CVE-2019-0004'],
  );
  assert.deepEqual(why(r).sort(), [
    'CVE-2019-0001:ignorefile',
    'CVE-2019-0002:severity', // filtered by severity before the ignore file is consulted
    'CVE-2019-0005:ignorefile',
    'CVE-2019-0006:ignorefile',
  ]);
  assert.deepEqual(
    r.expiredExceptions.map((e) => e.exception.id),
    ['CVE-2019-0004'],
  );
  // the CVE-2019-0002 exception matched nothing: severity filtered that finding first
  assert.deepEqual(
    r.unusedExceptions.map((e) => e.exception.id),
    ['CVE-2019-0002', 'AVD-ID-0300'],
  );
});

test('trivy filter_test: .trivyignore.yaml semantics (paths, purls, expiry)', () => {
  const ignore = parseTrivyIgnoreYaml(
    [
      'vulnerabilities:',
      '  - id: CVE-2019-0001',
      '    paths: ["**/*-lock.json"]',
      '    statement: s',
      '  - id: CVE-2019-0002',
      '    paths: ["bar/package.json"]',
      '    statement: s',
      '  - id: CVE-2019-0003',
      '    statement: s',
      '  - id: CVE-2019-0004',
      '    paths: ["bar/package.json"]',
      '    statement: s',
      '  - id: CVE-2019-0005',
      '    expired_at: 2023-01-01',
      '    statement: s',
      '  - id: CVE-2019-0006',
      '    expired_at: 2020-01-01',
      '    statement: s',
      '  - id: CVE-2019-0007',
      '    purls:',
      '      - "pkg:golang/github.com/aquasecurity/aaa@9.9.9"',
      '      - "pkg:golang/github.com/aquasecurity/bar" # Match',
      '    statement: s',
    ].join('\n'),
    'testdata/.trivyignore.yaml',
  );
  const at = 'foo/package-lock.json';
  const v = (n: number, severity: 'LOW' | 'CRITICAL', name = 'foo') =>
    finding({
      id: `CVE-2019-000${n}`,
      severity,
      package: { name, path: at, purl: `pkg:golang/github.com/aquasecurity/${name}@1.2.3` },
    });
  const fs = [
    v(1, 'LOW'),
    v(2, 'CRITICAL'),
    v(3, 'LOW'),
    v(4, 'LOW'),
    v(5, 'LOW'),
    v(6, 'LOW'),
    v(7, 'LOW', 'bar'),
    v(7, 'LOW', 'baz'),
  ];
  const r = evaluateGate(fs, policy({ severities: ['LOW'], exceptions: ignore }));
  assert.deepEqual(ids(r.kept), ['CVE-2019-0007/baz', 'CVE-2019-0004/foo', 'CVE-2019-0006/foo']);
  assert.deepEqual(why(r).sort(), [
    'CVE-2019-0001:ignorefile',
    'CVE-2019-0002:severity',
    'CVE-2019-0003:ignorefile',
    'CVE-2019-0005:ignorefile',
    'CVE-2019-0007:ignorefile',
  ]);
});

test('trivy filter_test "ignore unfixed": HIGH only, will_not_fix and end_of_life ignored', () => {
  const fs = [
    finding({ id: 'CVE-2019-0001', severity: 'LOW' }),
    finding({ id: 'CVE-2019-0002', severity: 'CRITICAL' }),
    finding({ id: 'CVE-2019-0009', severity: 'HIGH', status: 'will_not_fix' }),
  ];
  const r = evaluateGate(
    fs,
    policy({ severities: ['HIGH'], ignoreStatuses: ['will_not_fix', 'end_of_life'] }),
  );
  assert.equal(r.decision, 'pass');
  assert.deepEqual(why(r).sort(), [
    'CVE-2019-0001:severity',
    'CVE-2019-0002:severity',
    'CVE-2019-0009:status',
  ]);
});
