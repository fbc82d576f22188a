import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { debFinding, finding, IMAGE_DIGEST, reportContext } from '../../test/fixtures/gate/findings.ts';
import { parseTrivyIgnore } from '../gate/ignorefile.ts';
import { defaultPolicy, evaluateGate } from '../gate/policy.ts';
import { parseOpenVex } from '../gate/vex.ts';
import type { Finding } from '../vuln/finding.ts';
import { osEcosystem } from '../vuln/match/ecosystem.ts';
import { serializeSarif, toSarif } from './sarif.ts';
import { boxTable, toTable } from './table.ts';
import { serializeTrivyJson, toTrivyJson } from './trivy-json.ts';

const NOW = new Date('2026-01-01T10:00:00Z');

type J = Record<string, unknown> & { [k: string]: unknown };

function fixtureFindings(): Finding[] {
  return [
    finding(), // CVE-2018-18074 HIGH requests (Python)
    finding({
      id: 'CVE-2023-32681',
      aliases: ['GHSA-j8r2-6x86-q33q'],
      severity: 'MEDIUM',
      vendorSeverity: { ghsa: 'MEDIUM' },
      cvss: [
        {
          source: 'ghsa',
          version: '3.1',
          vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N',
          score: 6.1,
        },
      ],
      severitySource: 'ghsa',
      fixedVersion: '2.31.0',
    }),
    debFinding(), // CVE-2023-3817 MEDIUM libssl3 (os)
    debFinding({
      id: 'CVE-2023-5678',
      aliases: [],
      severity: 'LOW',
      status: 'affected',
      fixedVersion: undefined,
      vendorSeverity: { debian: 'LOW' },
      cvss: [],
    }),
    finding({
      id: 'CVE-2024-24790',
      aliases: ['GO-2024-2887'],
      severity: 'CRITICAL',
      severitySource: 'nvd',
      vendorSeverity: { nvd: 'CRITICAL' },
      cvss: [
        { source: 'nvd', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', score: 9.8 },
        {
          source: 'nvd',
          version: '4.0',
          vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
          score: 9.3,
        },
      ],
      fixedVersion: '1.22.4',
      package: {
        id: 'pkg-go-stdlib',
        type: 'golang',
        name: 'stdlib',
        version: 'v1.22.1',
        purl: 'pkg:golang/stdlib@v1.22.1',
        path: '/usr/local/bin/app',
        layer: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      },
    }),
    debFinding({
      id: 'CVE-2024-0001',
      aliases: [],
      severity: 'HIGH',
      setAside: { rule: 'kernel-headers', reason: 'linux-libc-dev ships headers' },
      package: {
        id: 'pkg-libc-dev',
        name: 'linux-libc-dev',
        version: '6.1.76-1',
        purl: 'pkg:deb/debian/linux-libc-dev@6.1.76-1?arch=amd64&distro=debian-12',
      },
    }),
  ];
}

function gateOf(fs: Finding[]) {
  const exceptions = parseTrivyIgnore(
    'CVE-2023-32681 exp:2026-06-01 # proxies are not used\nCVE-2000-0001 # stale\n',
    '.trivyignore',
  );
  const vex = parseOpenVex(
    JSON.stringify({
      '@context': 'https://openvex.dev/ns/v0.2.0',
      timestamp: '2025-12-01T00:00:00Z',
      statements: [
        {
          vulnerability: { name: 'CVE-2023-3817' },
          products: [{ '@id': 'pkg:oci/app', subcomponents: [{ '@id': 'pkg:deb/debian/libssl3' }] }],
          status: 'not_affected',
          justification: 'vulnerable_code_not_in_execute_path',
        },
      ],
    }),
    'app.vex.json',
  );
  const ctx = reportContext(fs);
  const target = {
    productPurls: [`pkg:oci/app@${IMAGE_DIGEST.replace(':', '%3A')}`],
    productDigests: [IMAGE_DIGEST],
    parents: {},
  };
  const result = evaluateGate(
    fs,
    { ...defaultPolicy(NOW), severities: ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL', 'UNKNOWN'], exceptions, vex },
    target,
  );
  return { result, ctx };
}

test('trivy JSON: SchemaVersion 2, Metadata, Results per class/target, vulnerability fields in trivy order', () => {
  const { result, ctx } = gateOf(fixtureFindings());
  assert.equal(result.decision, 'fail');
  const r = toTrivyJson(result, ctx) as J;
  assert.deepEqual(Object.keys(r), [
    'SchemaVersion',
    'ArtifactName',
    'ArtifactType',
    'Metadata',
    'Results',
    'VouchGate',
  ]);
  assert.equal(r.SchemaVersion, 2);
  assert.equal(r.ArtifactType, 'container_image');
  assert.deepEqual(r.Metadata, {
    OS: { Family: 'debian', Name: '12' },
    RepoDigests: [`127.0.0.1:5000/team/app@${IMAGE_DIGEST}`],
  });
  const results = r.Results as J[];
  assert.deepEqual(
    results.map((x) => [x.Target, x.Class, x.Type]),
    [
      ['127.0.0.1:5000/team/app:1.0 (debian 12)', 'os-pkgs', 'debian'],
      ['Python', 'lang-pkgs', 'python-pkg'],
      ['usr/local/bin/app', 'lang-pkgs', 'gobinary'],
    ],
  );
  const os = results[0] as J;
  assert.deepEqual(
    (os.Vulnerabilities as J[]).map((v) => v.VulnerabilityID),
    ['CVE-2023-5678'],
  );
  const low = (os.Vulnerabilities as J[])[0] as J;
  assert.deepEqual(Object.keys(low), [
    'VulnerabilityID',
    'PkgID',
    'PkgName',
    'PkgIdentifier',
    'InstalledVersion',
    'Status',
    'SeveritySource',
    'PrimaryURL',
    'Title',
    'Description',
    'Severity',
    'VendorSeverity',
    'References',
    'PublishedDate',
    'LastModifiedDate',
    'VouchMatch',
  ]);
  assert.equal(low.Status, 'affected');
  // how it was matched: records, the source package looked up, the range that held the version
  assert.deepEqual(low.VouchMatch, {
    Records: ['DSA-5532-1'],
    Ecosystem: 'Debian:12',
    PkgName: 'openssl',
    Via: 'source-package',
    Range: 'introduced 0, fixed 3.0.11-1~deb12u1',
  });
  assert.equal(low.FixedVersion, undefined, 'empty fields are omitted as trivy omits them');
  assert.deepEqual(low.VendorSeverity, { debian: 1 });
  // suppressed by VEX and set aside → ExperimentalModifiedFindings, as trivy --show-suppressed
  const mod = os.ExperimentalModifiedFindings as J[];
  assert.deepEqual(
    mod.map((m) => [m.Type, m.Status, m.Statement, m.Source, (m.Finding as J).VulnerabilityID]),
    [
      [
        'vulnerability',
        'not_affected',
        'vulnerable_code_not_in_execute_path',
        'app.vex.json',
        'CVE-2023-3817',
      ],
      [
        'vulnerability',
        'ignored',
        'kernel-headers: linux-libc-dev ships headers',
        'vouch:set-aside/kernel-headers',
        'CVE-2024-0001',
      ],
    ],
  );
  assert.deepEqual(((mod[1]!.Finding as J).VouchMatch as J).SetAside, {
    Rule: 'kernel-headers',
    Reason: 'linux-libc-dev ships headers',
  });

  const py = results[1] as J;
  const req = (py.Vulnerabilities as J[])[0] as J;
  assert.equal(req.VulnerabilityID, 'CVE-2018-18074');
  assert.deepEqual(req.VendorIDs, ['GHSA-x84v-xcm2-53pg', 'PYSEC-2018-28']);
  assert.equal(req.PkgID, 'requests@2.19.0');
  assert.equal(req.PkgPath, 'usr/lib/python3/site-packages/requests-2.19.0.dist-info/METADATA');
  assert.deepEqual(req.PkgIdentifier, { PURL: 'pkg:pypi/requests@2.19.0', UID: 'pkg-0000000000000001' });
  assert.deepEqual(req.VendorSeverity, { ghsa: 3, nvd: 3 });
  assert.deepEqual(req.CVSS, {
    nvd: { V3Vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N', V3Score: 7.5 },
  });
  assert.deepEqual(
    (py.ExperimentalModifiedFindings as J[]).map((m) => [m.Status, m.Statement, m.Source]),
    [['ignored', 'proxies are not used', '.trivyignore']],
  );

  const go = (results[2] as J).Vulnerabilities as J[];
  assert.equal(go[0]?.PkgPath, undefined, 'a binary is its own target');
  assert.deepEqual(go[0]?.Layer, {
    Digest: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  });
  assert.deepEqual(Object.keys(go[0]?.CVSS as J), ['nvd']);
  assert.deepEqual(Object.keys((go[0]?.CVSS as J).nvd as J), [
    'V3Vector',
    'V40Vector',
    'V3Score',
    'V40Score',
  ]);
});

test('trivy JSON: VouchGate records decision, policy, every suppression, exceptions and input digests', () => {
  const { result, ctx } = gateOf(fixtureFindings());
  const g = (toTrivyJson(result, ctx) as J).VouchGate as J;
  assert.equal(g.decision, 'fail');
  assert.deepEqual(g.kept, { UNKNOWN: 0, LOW: 1, MEDIUM: 0, HIGH: 1, CRITICAL: 1 });
  assert.deepEqual(
    (g.suppressed as J[]).map((s) => [s.VulnerabilityID, (s.Reason as J).Kind, (s.Reason as J).Source]),
    [
      ['CVE-2023-3817', 'vex', 'app.vex.json#/statements/0'],
      ['CVE-2024-0001', 'set-aside', undefined],
      ['CVE-2023-32681', 'ignorefile', '.trivyignore:1'],
    ],
  );
  assert.deepEqual(g.unusedExceptions, [
    { ID: 'CVE-2000-0001', Statement: 'stale', Source: '.trivyignore:2' },
  ]);
  assert.deepEqual(g.expiredExceptions, []);
  assert.deepEqual(g.inputs, ctx.inputs);
  assert.equal((g.policy as J).exitCode, 4);
});

test('trivy JSON: deterministic and byte-identical whatever the finding order; CreatedAt only when given', () => {
  const fs = fixtureFindings();
  const a = gateOf(fs);
  const b = gateOf([...fs].reverse());
  assert.equal(serializeTrivyJson(a.result, a.ctx), serializeTrivyJson(b.result, b.ctx));
  assert.ok(serializeTrivyJson(a.result, a.ctx).endsWith('}\n'));
  const dated = toTrivyJson(a.result, { ...a.ctx, createdAt: '2026-01-01T00:00:00Z' }) as J;
  assert.deepEqual(Object.keys(dated).slice(0, 3), ['SchemaVersion', 'CreatedAt', 'ArtifactName']);
});

test('trivy JSON: an OS target is listed even with no findings; a clean scan has no VouchGate failures', () => {
  const f = debFinding({ severity: 'LOW' });
  const ctx = reportContext([f]);
  const result = evaluateGate([], defaultPolicy(NOW));
  const r = toTrivyJson(result, ctx) as J;
  assert.deepEqual(r.Results, [
    { Target: '127.0.0.1:5000/team/app:1.0 (debian 12)', Class: 'os-pkgs', Type: 'debian' },
  ]);
  assert.equal((r.VouchGate as J).decision, 'pass');
});

test("the OS is named as trivy names it: Debian's point release when known, else VERSION_ID", () => {
  const f = debFinding({ severity: 'LOW', status: 'affected', fixedVersion: undefined });
  const base = reportContext([f]);
  const ctx = { ...base, sbom: { ...base.sbom, os: { ...base.sbom.os!, release: '12.7' } } };
  const result = evaluateGate([f], defaultPolicy(NOW));
  const r = toTrivyJson(result, ctx) as J;
  assert.deepEqual(r.Metadata, {
    OS: { Family: 'debian', Name: '12.7' },
    RepoDigests: [`127.0.0.1:5000/team/app@${IMAGE_DIGEST}`],
  });
  assert.equal((r.Results as J[])[0]!.Target, '127.0.0.1:5000/team/app:1.0 (debian 12.7)');
  assert.ok(toTable(result, ctx).startsWith('127.0.0.1:5000/team/app:1.0 (debian 12.7)\n'));
  // the advisories' ecosystem still comes from the major release
  assert.deepEqual(osEcosystem(ctx.sbom.os), { ecosystem: 'Debian:12' });
  const plain = toTrivyJson(result, base) as J;
  assert.deepEqual((plain.Metadata as J).OS, { Family: 'debian', Name: '12' });
});

function sarifValidator() {
  const schema = JSON.parse(
    readFileSync(new URL('../../test/fixtures/gate/sarif/sarif-2.1.0-rtm.5.json', import.meta.url), 'utf8'),
  ) as J;
  // draft-04 → draft-07: the schema uses no keyword whose meaning changed; only its id is renamed
  const { $schema: _s, id, ...rest } = schema;
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats.default(ajv);
  return ajv.compile({ $id: String(id), ...rest });
}

test('SARIF validates against the SARIF 2.1.0 schema; bad documents do not', () => {
  const validate = sarifValidator();
  const { result, ctx } = gateOf(fixtureFindings());
  const doc = toSarif(result, ctx);
  assert.ok(validate(doc), JSON.stringify(validate.errors, null, 2));
  const empty = toSarif(evaluateGate([], defaultPolicy(NOW)), reportContext([]));
  assert.ok(validate(empty), JSON.stringify(validate.errors));
  // the validator is not a rubber stamp
  assert.equal(validate({ ...doc, version: '2.0.0' }), false);
  const broken = JSON.parse(JSON.stringify(doc)) as { runs: { results: J[] }[] };
  broken.runs[0]!.results[0]!.level = 'fatal';
  assert.equal(validate(broken), false);
});

test('SARIF content: rules, levels, security-severity, locations, suppressions', () => {
  const { result, ctx } = gateOf(fixtureFindings());
  const doc = toSarif(result, ctx) as { runs: { tool: { driver: J }; results: J[]; properties: J }[] };
  const run = doc.runs[0]!;
  const rules = run.tool.driver.rules as J[];
  const rule = (id: string) => rules.find((r) => r.id === id) as J;
  assert.equal(run.tool.driver.name, 'vouch');
  assert.deepEqual(rule('CVE-2024-24790').properties, {
    tags: ['vulnerability', 'security', 'CRITICAL'],
    precision: 'very-high',
    'security-severity': '9.8',
    cvssv3_vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    cvssv3_baseScore: 9.8,
    cvssv40_vector: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N',
    cvssv40_baseScore: 9.3,
  });
  assert.equal(rule('CVE-2024-24790').name, 'LanguageSpecificPackageVulnerability');
  assert.equal(rule('CVE-2023-5678').name, 'OsPackageVulnerability');
  // no CVSS from the severity source: trivy's per-severity score
  assert.equal((rule('CVE-2023-5678').properties as J)['security-severity'], '2.0');
  // ghsa severity source without ghsa CVSS → 8.0 for HIGH
  assert.equal((rule('CVE-2018-18074').properties as J)['security-severity'], '8.0');
  const byId = (id: string) => run.results.find((r) => r.ruleId === id) as J;
  assert.equal(byId('CVE-2024-24790').level, 'error');
  assert.equal(byId('CVE-2023-5678').level, 'note');
  assert.equal(byId('CVE-2018-18074').level, 'error');
  const loc = (byId('CVE-2024-24790').locations as J[])[0] as J;
  assert.deepEqual((loc.physicalLocation as J).artifactLocation, {
    uri: 'usr/local/bin/app',
    uriBaseId: 'ROOTPATH',
  });
  assert.deepEqual(loc.message, { text: 'usr/local/bin/app: stdlib@v1.22.1' });
  for (const r of run.results)
    assert.equal(rules[r.ruleIndex as number]?.id, r.ruleId, 'ruleIndex points at its rule');
  // kept findings carry no suppressions; exception-suppressed ones are accepted suppressions
  assert.equal(byId('CVE-2018-18074').suppressions, undefined);
  assert.deepEqual(byId('CVE-2023-32681').suppressions, [
    {
      kind: 'external',
      status: 'accepted',
      justification: 'ignorefile: .trivyignore:1 (until 2026-06-01): proxies are not used',
    },
  ]);
  assert.equal(run.results.length, 6, '3 kept + ignorefile + vex + set-aside');
  assert.deepEqual(run.properties.vouchGate, { decision: 'fail', inputs: ctx.inputs });
  const { result: r2, ctx: c2 } = gateOf([...fixtureFindings()].reverse());
  assert.equal(serializeSarif(result, ctx), serializeSarif(r2, c2), 'deterministic');
});

test('table: per-target totals and rows, suppressed and set-aside sections, decision', () => {
  const { result, ctx } = gateOf(fixtureFindings());
  const t = toTable(result, ctx);
  assert.ok(t.startsWith('127.0.0.1:5000/team/app:1.0 (debian 12)\n====='), t);
  assert.ok(t.includes('\nPython (python-pkg)\n====='), t);
  assert.ok(t.includes('Total: 1 (UNKNOWN: 0, LOW: 1, MEDIUM: 0, HIGH: 0, CRITICAL: 0)'), t);
  assert.ok(
    t.includes('│ Library │ Vulnerability │ Severity │ Status   │ Installed Version │ Fixed Version │'),
    t,
  );
  assert.ok(/│ stdlib +│ CVE-2024-24790 +│ CRITICAL │ fixed +│ v1\.22\.1 +│ 1\.22\.4 +│/.test(t), t);
  assert.ok(t.includes('Suppressed by policy (2)'), t);
  assert.ok(t.includes('ignorefile: .trivyignore:1 (until 2026-06-01): proxies are not used'), t);
  assert.ok(
    t.includes('vex: app.vex.json#/statements/0: not_affected: vulnerable_code_not_in_execute_path'),
    t,
  );
  assert.ok(t.includes('Set aside by vouch rules (1)'), t);
  assert.ok(t.includes('unused exception: .trivyignore:2: CVE-2000-0001 matched no finding'), t);
  assert.ok(
    t.endsWith('Gate: FAIL: 3 finding(s) over the policy (CRITICAL 1, HIGH 1, LOW 1); 3 suppressed\n'),
    t,
  );
  const pass = toTable(evaluateGate([], defaultPolicy(NOW)), reportContext([]));
  assert.ok(pass.endsWith('Gate: PASS (0 suppressed)\n'), pass);
});

test('boxTable pads by characters and draws every border', () => {
  assert.equal(
    boxTable(['a', 'bb'], [['ééé', 'x']]),
    ['┌─────┬────┐', '│ a   │ bb │', '├─────┼────┤', '│ ééé │ x  │', '└─────┴────┘'].join('\n'),
  );
});

test('undecided and skipped packages are reported, never dropped', () => {
  const u = {
    name: 'weird',
    version: '1.0-x!',
    purl: 'pkg:pypi/weird@1.0-x%21',
    reason: 'PYSEC-1: version does not parse',
  };
  const s = { name: 'foo', version: '1', purl: 'pkg:gem/foo@1', reason: 'no advisory source' };
  const ctx = reportContext([], { unknown: [u], skipped: [s] });
  const result = evaluateGate([], defaultPolicy(NOW));
  const g = (toTrivyJson(result, ctx) as J).VouchGate as J;
  assert.deepEqual(g.unknown, [
    { PkgName: 'weird', InstalledVersion: '1.0-x!', PURL: 'pkg:pypi/weird@1.0-x%21', Reason: u.reason },
  ]);
  assert.deepEqual(g.skipped, [
    { PkgName: 'foo', InstalledVersion: '1', PURL: 'pkg:gem/foo@1', Reason: s.reason },
  ]);
  assert.ok(toTable(result, ctx).includes('undecided: weird 1.0-x!: PYSEC-1: version does not parse'));
});
