import assert from 'node:assert/strict';
import { test } from 'node:test';
import { debFinding, finding, reportContext } from '../../test/fixtures/gate/findings.ts';
import { isVouchError } from '../errors.ts';
import { defaultPolicy, evaluateGate } from '../gate/policy.ts';
import { toSarif } from '../report/sarif.ts';
import { toTrivyJson } from '../report/trivy-json.ts';
import {
  PREDICATE_ALIASES,
  PREDICATE_TYPE_BY_ALIAS,
  predicateFromFile,
  predicateTypeFor,
  sbomPredicate,
  vulnPredicateFromReport,
} from './predicates.ts';

test("cosign's --type aliases map to interop.md's predicate types", () => {
  const table: [string, string][] = [
    ['custom', 'https://cosign.sigstore.dev/attestation/v1'],
    ['slsaprovenance', 'https://slsa.dev/provenance/v0.2'],
    ['slsaprovenance02', 'https://slsa.dev/provenance/v0.2'],
    ['slsaprovenance1', 'https://slsa.dev/provenance/v1'],
    ['spdx', 'https://spdx.dev/Document'],
    ['spdxjson', 'https://spdx.dev/Document'],
    ['cyclonedx', 'https://cyclonedx.org/bom'],
    ['link', 'https://in-toto.io/Link/v1'],
    ['vuln', 'https://cosign.sigstore.dev/attestation/vuln/v1'],
    ['openvex', 'https://openvex.dev/ns'],
  ];
  for (const [alias, uri] of table) assert.equal(predicateTypeFor(alias), uri, alias);
  assert.deepEqual([...PREDICATE_ALIASES].sort(), table.map(([a]) => a).sort());
  assert.equal(Object.keys(PREDICATE_TYPE_BY_ALIAS).length, table.length);
  // anything else must be a URI (Go url.ParseRequestURI: a scheme, or an absolute path)
  for (const uri of ['https://example.com/att/v1', 'urn:example:att', '/local/type']) {
    assert.equal(predicateTypeFor(uri), uri);
  }
  for (const bad of [
    'sbom',
    'SLSAProvenance',
    'cosign.sigstore.dev/attestation/vuln/v1',
    'https://x y',
    '',
  ]) {
    assert.throws(
      () => predicateTypeFor(bad),
      (e) => isVouchError(e, 'USAGE') && e.message.includes(JSON.stringify(bad)),
      bad,
    );
  }
});

test('predicateFromFile gives each type what cosign attest puts in the statement', () => {
  const now = new Date('2024-05-01T10:00:00.123Z');
  assert.deepEqual(predicateFromFile('custom', 'free text', now), {
    predicateType: 'https://cosign.sigstore.dev/attestation/v1',
    predicate: { Data: 'free text', Timestamp: '2024-05-01T10:00:00.123Z' },
  });
  assert.deepEqual(
    predicateFromFile('spdx', '{"spdxVersion":"SPDX-2.3"}', now).predicate,
    '{"spdxVersion":"SPDX-2.3"}',
  );
  assert.deepEqual(predicateFromFile('spdxjson', '{"spdxVersion":"SPDX-2.3"}', now).predicate, {
    spdxVersion: 'SPDX-2.3',
  });
  assert.deepEqual(predicateFromFile('https://example.com/t', '{"a":1}', now), {
    predicateType: 'https://example.com/t',
    predicate: { a: 1 },
  });
  assert.throws(
    () => predicateFromFile('slsaprovenance', '{"builder":{"id":"x"}}', now),
    (e) => isVouchError(e, 'STATEMENT_INVALID') && /required field buildType is missing/.test(e.message),
  );
  assert.throws(
    () => predicateFromFile('slsaprovenance1', '{"buildDefinition":{}}', now),
    (e) => isVouchError(e, 'STATEMENT_INVALID') && /runDetails/.test(e.message),
  );
  assert.throws(
    () => predicateFromFile('cyclonedx', '[1]', now),
    (e) => isVouchError(e, 'STATEMENT_INVALID') && /not a JSON object/.test(e.message),
  );
  assert.throws(
    () => predicateFromFile('openvex', '{oops', now),
    (e) => isVouchError(e, 'STATEMENT_INVALID') && /not JSON/.test(e.message),
  );
  // vuln: re-shaped as cosign's struct (unknown fields dropped, missing ones empty)
  const vuln = predicateFromFile(
    'vuln',
    JSON.stringify({
      scanner: {
        uri: 'pkg:github/aquasecurity/trivy@0.50.0',
        version: '0.50.0',
        result: { SchemaVersion: 2 },
      },
      metadata: { scanStartedOn: '2024-05-01T10:00:00Z', scanFinishedOn: '2024-05-01T10:01:00Z' },
      extra: true,
    }),
    now,
  );
  assert.deepEqual(vuln.predicate, {
    invocation: { parameters: null, uri: '', event_id: '', 'builder.id': '' },
    scanner: {
      uri: 'pkg:github/aquasecurity/trivy@0.50.0',
      version: '0.50.0',
      db: { uri: '', version: '' },
      result: { SchemaVersion: 2 },
    },
    metadata: { scanStartedOn: '2024-05-01T10:00:00Z', scanFinishedOn: '2024-05-01T10:01:00Z' },
  });
  assert.throws(
    () => predicateFromFile('vuln', '{"metadata":{"scanStartedOn":"yesterday"}}', now),
    (e) => isVouchError(e, 'STATEMENT_INVALID') && /scanStartedOn/.test(e.message),
  );
});

function scanResult() {
  const now = new Date('2026-01-01T10:00:00Z');
  const findings = [finding(), debFinding()];
  const ctx = reportContext(findings, { createdAt: '2026-01-01T10:00:00Z' });
  return { result: evaluateGate(findings, defaultPolicy(now)), ctx };
}

test('the cosign vuln predicate around a vouch trivy-JSON scan report', () => {
  const { result, ctx } = scanResult();
  const report = toTrivyJson(result, ctx);
  const p = vulnPredicateFromReport(report, {
    invocation: { uri: 'https://github.com/o/r/actions/runs/9', eventId: '9', builderId: 'github actions' },
    scanFinishedOn: '2026-01-01T10:02:00Z',
  });
  assert.deepEqual(Object.keys(p), ['invocation', 'scanner', 'metadata']);
  assert.deepEqual(p.invocation, {
    parameters: null,
    uri: 'https://github.com/o/r/actions/runs/9',
    event_id: '9',
    'builder.id': 'github actions',
  });
  assert.equal(p.scanner.result, report);
  assert.match(p.scanner.uri, /^pkg:generic\/vouch@\d+\.\d+\.\d+/);
  assert.equal(p.scanner.db.version, ctx.inputs.dbDigest);
  assert.deepEqual(p.metadata, {
    scanStartedOn: '2026-01-01T10:00:00Z',
    scanFinishedOn: '2026-01-01T10:02:00Z',
  });
  // the report keeps its findings for policies to read
  const results = (p.scanner.result as { Results: { Vulnerabilities?: { VulnerabilityID: string }[] }[] })
    .Results;
  assert.ok(results.some((r) => r.Vulnerabilities?.some((v) => v.VulnerabilityID === 'CVE-2018-18074')));
});

test('the vuln predicate from a SARIF report takes the tool version; times are required', () => {
  const { result, ctx } = scanResult();
  const sarif = toSarif(result, { ...ctx, toolVersion: '9.8.7' });
  const p = vulnPredicateFromReport(sarif, {
    scanStartedOn: new Date('2026-01-01T09:00:00Z'),
    db: { uri: 'https://osv.dev' },
  });
  assert.equal(p.scanner.version, '9.8.7');
  assert.equal(p.scanner.uri, 'pkg:generic/vouch@9.8.7');
  assert.deepEqual(p.scanner.db, { uri: 'https://osv.dev', version: ctx.inputs.dbDigest });
  assert.deepEqual(p.metadata, {
    scanStartedOn: '2026-01-01T09:00:00Z',
    scanFinishedOn: '2026-01-01T09:00:00Z',
  });
  assert.throws(
    () => vulnPredicateFromReport(sarif),
    (e) => isVouchError(e, 'STATEMENT_INVALID') && /start time is unknown/.test(e.message),
  );
  assert.throws(
    () => vulnPredicateFromReport({ bomFormat: 'CycloneDX' }, { scanStartedOn: '2026-01-01T09:00:00Z' }),
    (e) => isVouchError(e, 'STATEMENT_INVALID') && /neither trivy JSON/.test(e.message),
  );
});

test('SBOM predicates: the document itself, typed by its format', () => {
  const cdx = { bomFormat: 'CycloneDX', specVersion: '1.6', components: [] };
  assert.deepEqual(sbomPredicate(cdx), { predicateType: 'https://cyclonedx.org/bom', predicate: cdx });
  const spdx = { spdxVersion: 'SPDX-2.3', packages: [] };
  assert.deepEqual(sbomPredicate(spdx), { predicateType: 'https://spdx.dev/Document', predicate: spdx });
  assert.throws(
    () => sbomPredicate({ SchemaVersion: 2 }),
    (e) => isVouchError(e, 'SBOM_INVALID'),
  );
});
