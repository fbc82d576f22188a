import assert from 'node:assert/strict';
import { test } from 'node:test';
import { debFinding, finding } from '../../test/fixtures/gate/findings.ts';
import { isVouchError } from '../errors.ts';
import type { GateTarget } from './types.ts';
import { describeStatement, parseOpenVex, vexStatementFor } from './vex.ts';

const CTX = 'https://openvex.dev/ns/v0.2.0';
const DOC_TIME = '2023-01-16T19:07:16.853479631-06:00';

function doc(statements: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    '@context': CTX,
    author: 'test',
    timestamp: DOC_TIME,
    version: 1,
    statements,
    ...extra,
  });
}

function refuses(text: string, ...parts: string[]): void {
  assert.throws(
    () => parseOpenVex(text, 'v.json'),
    (e: unknown) => {
      assert.ok(isVouchError(e, 'VEX_INVALID'), String(e));
      for (const p of parts) assert.ok(e.message.includes(p), `"${e.message}" should contain "${p}"`);
      return true;
    },
  );
}

// An image "debian" with bash in it, as trivy's pkg/vex tests use (imageReport/bashResult).
const IMAGE_DIGEST = 'sha256:0b3d2f6a4d8c0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091';
const imageTarget: GateTarget = {
  productPurls: [
    `pkg:oci/debian@${IMAGE_DIGEST.replace(':', '%3A')}?arch=amd64&repository_url=index.docker.io%2Flibrary%2Fdebian&tag=12`,
  ],
  productDigests: [IMAGE_DIGEST],
  parents: {},
};
const bash = debFinding({
  id: 'CVE-2022-3715',
  aliases: [],
  package: {
    id: 'pkg-bash',
    name: 'bash',
    version: '5.2.15-2+b2',
    purl: 'pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12',
  },
});

test('trivy pkg/vex testdata: openvex-oci.json suppresses bash in the debian image, -mismatch does not', () => {
  const oci = doc([
    {
      vulnerability: { name: 'CVE-2022-3715' },
      products: [{ '@id': 'pkg:oci/debian', subcomponents: [{ '@id': 'pkg:deb/debian/bash' }] }],
      status: 'not_affected',
      justification: 'vulnerable_code_not_in_execute_path',
    },
  ]);
  const s = vexStatementFor(bash, parseOpenVex(oci, 'openvex-oci.json'), imageTarget);
  assert.equal(s?.status, 'not_affected');
  assert.equal(s?.justification, 'vulnerable_code_not_in_execute_path');
  assert.deepEqual(s?.source, { file: 'openvex-oci.json', pointer: '/statements/0' });

  const mismatch = oci.replace('pkg:oci/debian', 'pkg:oci/mismatch');
  assert.equal(
    vexStatementFor(bash, parseOpenVex(mismatch, 'openvex-oci-mismatch.json'), imageTarget),
    undefined,
  );
});

test('trivy testdata: openvex-multiple.json: the later-timestamped statement wins', () => {
  const text = JSON.stringify({
    '@context': 'https://openvex.dev/ns',
    timestamp: DOC_TIME,
    statements: [
      {
        timestamp: '2023-01-15T01:02:03.853479631-06:00',
        vulnerability: { name: 'CVE-2021-44228' },
        products: [{ '@id': 'pkg:maven/org.springframework.boot/spring-boot@2.6.0' }],
        status: 'affected',
      },
      {
        vulnerability: { name: 'CVE-2021-44228' },
        products: [{ '@id': 'pkg:maven/org.springframework.boot/spring-boot@2.6.0' }],
        status: 'not_affected',
        justification: 'vulnerable_code_not_in_execute_path',
      },
    ],
  });
  const spring = finding({
    id: 'CVE-2021-44228',
    aliases: [],
    package: {
      type: 'maven',
      name: 'org.springframework.boot:spring-boot',
      version: '2.6.0',
      purl: 'pkg:maven/org.springframework.boot/spring-boot@2.6.0',
    },
  });
  const stmts = parseOpenVex(text, 'openvex-multiple.json');
  assert.equal(stmts[1]?.timestamp, DOC_TIME, 'the document timestamp cascades');
  assert.equal(
    vexStatementFor(spring, stmts, { productPurls: [], productDigests: [], parents: {} })?.status,
    'not_affected',
  );
  // reversed timestamps: the affected statement is newer, so it decides (and suppresses nothing)
  const newer = text.replace('2023-01-15T01:02:03', '2023-01-17T01:02:03');
  assert.equal(vexStatementFor(spring, parseOpenVex(newer, 'x.json'), imageTarget)?.status, 'affected');
});

test('trivy testdata: openvex.json (v0.0.x strings) and openvex-nested.json (product holding the package)', () => {
  const legacy = JSON.stringify({
    '@context': 'https://openvex.dev/ns',
    timestamp: DOC_TIME,
    statements: [
      {
        vulnerability: 'CVE-2021-44228',
        products: ['pkg:maven/org.springframework.boot/spring-boot@2.6.0'],
        status: 'not_affected',
        justification: 'vulnerable_code_not_in_execute_path',
      },
    ],
  });
  const [s] = parseOpenVex(legacy, 'openvex.json');
  assert.deepEqual(s?.vulnerability, { name: 'CVE-2021-44228', aliases: [] });
  assert.equal(s?.products[0]?.id, 'pkg:maven/org.springframework.boot/spring-boot@2.6.0');

  const nested = doc([
    {
      vulnerability: { name: 'CVE-2024-0001' },
      products: [
        {
          '@id': 'pkg:golang/github.com/aquasecurity/go-direct1@2.0.0',
          subcomponents: [{ '@id': 'pkg:golang/github.com/aquasecurity/go-transitive@4.0.0' }],
        },
      ],
      status: 'not_affected',
      justification: 'vulnerable_code_not_in_execute_path',
    },
  ]);
  const transitive = finding({
    id: 'CVE-2024-0001',
    aliases: [],
    package: {
      id: 'pkg-t',
      type: 'golang',
      name: 'github.com/aquasecurity/go-transitive',
      version: '4.0.0',
      purl: 'pkg:golang/github.com/aquasecurity/go-transitive@4.0.0',
    },
  });
  const stmts = parseOpenVex(nested, 'openvex-nested.json');
  const held = {
    productPurls: [],
    productDigests: [],
    parents: { 'pkg-t': ['pkg:golang/github.com/aquasecurity/go-direct1@2.0.0'] },
  };
  assert.equal(vexStatementFor(transitive, stmts, held)?.status, 'not_affected');
  assert.equal(
    vexStatementFor(transitive, stmts, { ...held, parents: {} }),
    undefined,
    'not held by that product',
  );
});

test('matching table: ids, aliases, products, subcomponents, digests', () => {
  const base = {
    vulnerability: { name: 'CVE-2022-3715' },
    status: 'fixed',
  };
  const cases: { products: unknown[]; vuln?: unknown; target?: GateTarget; want: boolean; why: string }[] = [
    { products: [{ '@id': 'pkg:deb/debian/bash' }], want: true, why: 'product = the package, versionless' },
    {
      products: [{ '@id': 'pkg:deb/debian/bash@5.2.15-2+b2' }],
      want: true,
      why: 'product = the package, exact version',
    },
    { products: [{ '@id': 'pkg:deb/debian/bash@5.1-2' }], want: false, why: 'other version' },
    { products: [{ '@id': 'pkg:deb/debian/bash?arch=arm64' }], want: false, why: 'qualifier differs' },
    { products: [{ identifiers: { purl: 'pkg:deb/debian/bash' } }], want: true, why: 'identifiers.purl' },
    {
      products: [{ '@id': 'pkg:oci/debian' }],
      want: true,
      why: 'image without subcomponents covers every package',
    },
    {
      products: [{ '@id': 'pkg:oci/debian', subcomponents: [{ '@id': 'pkg:deb/debian/dash' }] }],
      want: false,
      why: 'other subcomponent',
    },
    {
      products: [{ '@id': `pkg:oci/anything@${IMAGE_DIGEST}` }],
      target: { ...imageTarget, productPurls: [] },
      want: true,
      why: 'digest names the image when the repository is unknown',
    },
    {
      products: [
        { '@id': 'pkg:oci/anything@sha256:1111111111111111111111111111111111111111111111111111111111111111' },
      ],
      want: false,
      why: 'other digest',
    },
    {
      products: [{ '@id': 'pkg:oci/debian', subcomponents: [{ '@id': 'pkg:deb/debian/bash' }] }],
      vuln: { name: 'CVE-2022-9999' },
      want: false,
      why: 'other vulnerability',
    },
    {
      products: [{ '@id': 'pkg:deb/debian/bash' }],
      vuln: { name: 'DSA-0000-1', aliases: ['CVE-2022-3715'] },
      want: true,
      why: 'statement alias = finding id',
    },
    {
      products: [{ '@id': 'pkg:deb/debian/bash' }],
      vuln: { name: 'DLA-3400-1' },
      want: true,
      why: 'statement name = a finding alias',
    },
    { products: [{ hashes: { 'sha-256': 'abc' } }], want: false, why: 'unrelated hash' },
  ];
  const f = { ...bash, aliases: ['DLA-3400-1'] };
  for (const c of cases) {
    const stmts = parseOpenVex(
      doc([{ ...base, ...(c.vuln ? { vulnerability: c.vuln } : {}), products: c.products }]),
      'v.json',
    );
    assert.equal(vexStatementFor(f, stmts, c.target ?? imageTarget) !== undefined, c.want, c.why);
  }
});

test('ties: the later statement (in document, then file order) wins', () => {
  const st = (status: string, extra: Record<string, unknown> = {}) => ({
    vulnerability: { name: 'CVE-2022-3715' },
    products: [{ '@id': 'pkg:deb/debian/bash' }],
    status,
    ...extra,
  });
  const one = parseOpenVex(doc([st('not_affected', { impact_statement: 'x' }), st('affected')]), 'a.json');
  assert.equal(vexStatementFor(bash, one, imageTarget)?.status, 'affected');
  const a = parseOpenVex(doc([st('affected')]), 'a.json');
  const b = parseOpenVex(doc([st('fixed')]), 'b.json', a.length);
  assert.equal(vexStatementFor(bash, [...a, ...b], imageTarget)?.source.file, 'b.json');
  // an older second file loses even though it comes later
  const old = parseOpenVex(doc([st('fixed')], { timestamp: '2020-01-01T00:00:00Z' }), 'c.json', a.length);
  assert.equal(vexStatementFor(bash, [...a, ...old], imageTarget)?.status, 'affected');
});

test('refusals name the file and the JSON pointer', () => {
  const ok = { vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a' }], status: 'fixed' };
  refuses('{', 'v.json', 'not JSON');
  refuses('[]', 'must be a JSON object');
  refuses(JSON.stringify({ statements: [] }), '#/@context');
  refuses(
    JSON.stringify({ '@context': 'https://cyclonedx.org', statements: [] }),
    'CSAF and CycloneDX VEX are not read',
  );
  refuses(doc([ok]).replace('"statements":[', '"statements":{"x":[').replace(/\]\}$/, ']}}'), '#/statements');
  refuses(
    doc([{ ...ok, status: 'not_affected' }]),
    '#/statements/0',
    'neither a justification nor an impact_statement',
  );
  refuses(
    doc([ok, { ...ok, status: 'not_affected', justification: 'because' }]),
    '#/statements/1/justification',
    '"because"',
  );
  refuses(doc([{ ...ok, status: 'unaffected' }]), '#/statements/0/status', 'not one of');
  refuses(doc([{ ...ok, products: [] }]), '#/statements/0/products', 'names no products');
  refuses(doc([{ ...ok, vulnerability: {} }]), '#/statements/0/vulnerability/name');
  refuses(doc([{ ...ok, products: [{ subcomponents: [] }] }]), '#/statements/0/products/0', 'needs "@id"');
  refuses(
    doc([{ ...ok, products: [{ '@id': 'x', subcomponents: [5] }] }]),
    '#/statements/0/products/0/subcomponents/0',
  );
  refuses(doc([{ ...ok, timestamp: 'yesterday' }]), '#/statements/0/timestamp');
  refuses(doc([ok], { timestamp: '2023-13-45T00:00:00Z' }), '#/timestamp');
  refuses(doc([{ ...ok, vulnerability: { name: 'CVE-1', aliases: 'CVE-2' } }]), '/aliases');
});

test('not_affected accepts a justification or an impact statement; describeStatement reports them', () => {
  const mk = (extra: Record<string, unknown>) =>
    parseOpenVex(
      doc([{ vulnerability: { name: 'CVE-1' }, products: ['pkg:npm/a'], status: 'not_affected', ...extra }]),
      'v.json',
    )[0]!;
  assert.equal(
    describeStatement(mk({ justification: 'component_not_present' })),
    'not_affected: component_not_present',
  );
  assert.equal(
    describeStatement(mk({ impact_statement: 'only used at build time' })),
    'not_affected: only used at build time',
  );
  const fixed = parseOpenVex(
    doc([{ vulnerability: { name: 'CVE-1' }, products: ['pkg:npm/a'], status: 'fixed' }]),
    'v.json',
  )[0]!;
  assert.equal(describeStatement(fixed), 'fixed');
});

test('gateTargetFromSbom: image purl and digest, holders of nested packages', async () => {
  const { gateTargetFromSbom } = await import('./target.ts');
  const { reportContext, packageOf } = await import('../../test/fixtures/gate/findings.ts');
  const py = finding();
  const deb = debFinding({
    package: {
      id: 'pkg-python3-requests',
      name: 'python3-requests',
      purl: 'pkg:deb/debian/python3-requests@2.28.1%2Bdfsg-1',
    },
  });
  const { sbom } = reportContext([py, deb]);
  sbom.packages = [{ ...packageOf(py), ownedBy: 'pkg-python3-requests' }, packageOf(deb)];
  const t = gateTargetFromSbom(sbom);
  assert.deepEqual(t.productDigests, [sbom.subject.kind === 'image' ? sbom.subject.digest : '']);
  assert.equal(t.productPurls.length, 1);
  assert.match(
    t.productPurls[0]!,
    /^pkg:oci\/app@sha256:[0-9a-f]{64}\?arch=amd64&repository_url=127\.0\.0\.1:5000\/team\/app&tag=1\.0$/,
  );
  assert.deepEqual(t.parents, { [py.package.id]: ['pkg:deb/debian/python3-requests@2.28.1%2Bdfsg-1'] });
  // a VEX product naming the Debian package covers the PyPI package it holds
  const stmts = parseOpenVex(
    doc([
      {
        vulnerability: { name: py.id },
        products: [{ '@id': 'pkg:deb/debian/python3-requests' }],
        status: 'fixed',
      },
    ]),
    'v.json',
  );
  assert.equal(vexStatementFor(py, stmts, t)?.status, 'fixed');
});
