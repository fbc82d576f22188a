import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { digestOf } from '../../digest/digest.ts';
import { isVouchError } from '../../errors.ts';
import type { Package, Relationship, Sbom } from '../model.ts';
import { serializeCycloneDx } from './cyclonedx.ts';
import { detectSbomFormat, readSbom, readSbomFile } from './read.ts';
import { serializeSpdx } from './spdx.ts';
import { pkg, sampleDirectorySbom, sampleImageSbom } from './test-support.ts';

const FIXTURES = new URL('../../../test/fixtures/sbom/formats/', import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

const byId = (a: Package, b: Package) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const rel = (r: Relationship) => `${r.from} ${r.type} ${r.to}`;

function assertSamePackages(got: readonly Package[], want: readonly Package[]): void {
  assert.equal(got.length, want.length);
  assert.deepEqual([...got].sort(byId), [...want].sort(byId));
}

function throwsInvalid(input: string | Uint8Array, message: RegExp): void {
  assert.throws(
    () => readSbom(input),
    (e: unknown) => {
      assert.ok(isVouchError(e, 'SBOM_INVALID'), `SBOM_INVALID, got ${String(e)}`);
      assert.match(e.message, message);
      return true;
    },
  );
}

describe('readSbom: round trips of what vouch writes', () => {
  for (const [format, write] of [
    ['CycloneDX', serializeCycloneDx],
    ['SPDX', serializeSpdx],
  ] as const) {
    it(`Sbom → ${format} → Sbom keeps every package field, the subject, the OS and the problems`, () => {
      const sbom = sampleImageSbom();
      if (sbom.subject.kind === 'image') {
        sbom.subject.indexDigest = digestOf('index');
        sbom.subject.platform.variant = 'v3';
      }
      const back = readSbom(write(sbom));
      assertSamePackages(back.packages, sbom.packages);
      assert.deepEqual(back.subject, sbom.subject);
      assert.deepEqual(back.os, sbom.os);
      assert.deepEqual(back.created, sbom.created);
      assert.deepEqual(back.tool, sbom.tool);
      const sortProblems = (s: Sbom) => [...s.problems].sort((a, b) => (a.path < b.path ? -1 : 1));
      assert.deepEqual(sortProblems(back), sortProblems(sbom));
      assert.deepEqual(back.relationships.map(rel).sort(), sbom.relationships.map(rel).sort());
      // Writing what was read gives the same bytes again.
      assert.equal(write(back), write(sbom));
    });

    it(`Sbom → ${format} → Sbom for a directory scan`, () => {
      const sbom = sampleDirectorySbom();
      const back = readSbom(write(sbom));
      assertSamePackages(back.packages, sbom.packages);
      assert.deepEqual(back.subject, sbom.subject);
      assert.equal(back.os, undefined);
    });
  }

  it('CycloneDX also keeps unowned files (SPDX does not write them)', () => {
    const sbom = sampleImageSbom();
    const sortFiles = (s: Sbom) => [...s.unowned].sort((a, b) => (a.path < b.path ? -1 : 1));
    assert.deepEqual(sortFiles(readSbom(serializeCycloneDx(sbom))), sortFiles(sbom));
    assert.deepEqual(readSbom(serializeSpdx(sbom)).unowned, []);
  });

  it('reads bytes as well as text, with or without a UTF-8 byte order mark', () => {
    const text = serializeCycloneDx(sampleDirectorySbom());
    const bytes = new TextEncoder().encode(`\ufeff${text}`);
    assert.equal(readSbom(bytes).packages.length, 2);
    assert.equal(detectSbomFormat(JSON.parse(text)), 'cyclonedx');
    assert.equal(detectSbomFormat(JSON.parse(serializeSpdx(sampleDirectorySbom()))), 'spdx');
    assert.equal(detectSbomFormat([]), undefined);
  });
});

describe('readSbom: documents written by others', () => {
  it("reads the CycloneDX spec's valid-bom-1.6 example (legacy tools array, npm purl, no-purl component)", () => {
    const s = readSbom(fixture('cdx-valid-bom-1.6.json'));
    assert.deepEqual(s.subject, { kind: 'directory', name: 'Acme Application', path: 'Acme Application' });
    assert.equal(s.created, '2020-04-13T20:20:39+00:00');
    assert.equal(s.tool.version, 'unknown');
    assert.equal(s.packages.length, 1);
    const [p] = s.packages;
    assert.deepEqual(p, {
      id: 'pkg:npm/acme/component@1.0.0',
      type: 'npm',
      name: 'tomcat-catalina',
      version: '9.0.14',
      purl: 'pkg:npm/acme/component@1.0.0',
      licenses: ['Apache-2.0'],
      locations: [],
      foundBy: 'cyclonedx-reader',
    });
    // The self-dependency in the example is not a relationship.
    assert.deepEqual(s.relationships, []);
    assert.deepEqual(s.problems, [
      {
        cataloger: 'cyclonedx-reader',
        path: '$.components[1]',
        message: 'component "mylibrary" 1.0.0: no purl, so its ecosystem is unknown; skipped',
      },
    ]);
  });

  it("reads the CycloneDX spec's valid-evidence-1.6 example: maven purls, licenses, occurrences", () => {
    const s = readSbom(fixture('cdx-valid-evidence-1.6.json'));
    assert.deepEqual(
      s.packages.map((p) => [p.type, p.name, p.version, p.licenses, p.locations.map((l) => l.path)]),
      [
        [
          'maven',
          'findbugs-project',
          '3.0.0',
          ['LGPL-3.0-or-later'],
          ['/path/to/component', '/another/path/to/component'],
        ],
        ['maven', 'example-project', '1.0.0', [], []],
      ],
    );
    assert.deepEqual(s.problems, []);
  });

  it("reads the CycloneDX spec's license-expression example and reports its purl-less component", () => {
    const doc = JSON.parse(fixture('cdx-valid-license-expression-1.6.json'));
    assert.equal(readSbom(JSON.stringify(doc)).problems.length, 1);
    doc.components[0].purl = 'pkg:maven/com.acme/tomcat-catalina@9.0.14';
    const s = readSbom(JSON.stringify(doc));
    assert.deepEqual(s.packages[0]?.licenses, ['EPL-2.0 OR GPL-2.0 WITH Classpath-exception-2.0']);
  });

  it("reads syft's CycloneDX encoder snapshot: syft properties, operating-system, a bad purl", () => {
    const s = readSbom(fixture('syft-TestCycloneDxImageEncoder.golden.json'));
    // Its container version is redacted ("sha256:redacted"): no digest, so not an image subject.
    assert.deepEqual(s.subject, { kind: 'directory', name: 'user-image-input', path: 'user-image-input' });
    assert.deepEqual(s.os, { id: 'debian', versionId: '1.2.3', prettyName: 'debian', idLike: ['like!'] });
    assert.equal(s.packages.length, 1);
    const p = s.packages[0]!;
    assert.equal(p.type, 'deb');
    assert.equal(p.name, 'package-2');
    assert.equal(p.foundBy, 'the-cataloger-2');
    assert.deepEqual(p.locations, [{ path: '/somefile-2.txt' }], 'the redacted layer is not a digest');
    assert.equal(s.problems.length, 1);
    assert.equal(s.problems[0]!.path, '$.components[0]');
    assert.match(s.problems[0]!.message, /component "package-1" 1\.0\.1: "a-purl-1" is not a package URL/);
  });

  it("reads trivy's CycloneDX output: source packages, file paths and layers from its properties", () => {
    const s = readSbom(fixture('trivy-fluentd-multiple-lockfiles-short.cdx.json'));
    assert.equal(s.created, '2021-08-25T12:20:30+00:00');
    // trivy names the image by its config (ImageID), not its manifest digest: no image subject.
    assert.equal(s.subject.kind, 'directory');
    assert.deepEqual(s.os, { id: 'debian', versionId: '10.2' });
    assert.deepEqual(
      s.packages.map((p) => [p.type, p.name, p.version, p.source, p.licenses, p.locations]),
      [
        ['deb', 'bash', '5.0-4', { name: 'bash', version: '5.0-4' }, [], []],
        ['deb', 'libidn2-0', '2.0.5-1', { name: 'libidn2', version: '2.0.5-1' }, [], []],
        [
          'gem',
          'activesupport',
          '6.0.2.1',
          undefined,
          ['MIT'],
          [
            {
              path: '/var/lib/gems/2.5.0/specifications/activesupport-6.0.2.1.gemspec',
              layer: 'sha256:a8877cad19f14a7044524a145ce33170085441a7922458017db1631dcd5f7602',
            },
          ],
        ],
      ],
    );
    // The OS → package and root → package edges are structure, not package dependencies.
    assert.deepEqual(s.relationships, []);
    assert.deepEqual(s.problems, []);
  });

  it("reads the SPDX 2.3 spec's example document", () => {
    const s = readSbom(fixture('SPDXJSONExample-v2.3.spdx.json'));
    // It describes a file and a package, so there is no single subject package.
    assert.deepEqual(s.subject, { kind: 'directory', name: 'SPDX-Tools-v2.0', path: '' });
    assert.equal(s.created, '2010-01-29T18:30:22Z');
    assert.equal(s.tool.version, 'unknown');
    assert.deepEqual(s.packages, [
      {
        id: s.packages[0]!.id,
        type: 'maven',
        name: 'Jena',
        version: '3.12.0',
        purl: 'pkg:maven/org.apache.jena/apache-jena@3.12.0',
        licenses: [],
        locations: [],
        foundBy: 'spdx-reader',
      },
    ]);
    assert.match(s.packages[0]!.id, /^pkg-[0-9a-f]{16}$/);
    assert.deepEqual(
      s.problems.map((p) => p.path),
      ['$.packages[0]', '$.packages[1]', '$.packages[3]'],
    );
    assert.match(s.problems[0]!.message, /package "glibc" 2\.11\.1: no purl external reference/);
  });

  it('reads SPDX licenses: declared split at top-level ANDs, LicenseRefs by their extracted name', () => {
    const doc = JSON.parse(fixture('SPDXJSONExample-v2.3.spdx.json'));
    const purl = (p: string) => [
      { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p },
    ];
    doc.packages[0].externalRefs = purl('pkg:generic/glibc@2.11.1');
    doc.packages[3].externalRefs = purl('pkg:maven/net.sf.saxon/saxon@8.8');
    doc.packages[1].externalRefs = purl('pkg:maven/org.apache.commons/commons-lang3@3.1');
    doc.packages[1].licenseDeclared = 'LicenseRef-Beerware-4.2 AND (MIT OR LicenseRef-3)';
    const s = readSbom(JSON.stringify(doc));
    const lic = (name: string) => s.packages.find((p) => p.name === name)?.licenses;
    assert.deepEqual(lic('Saxon'), ['MPL-1.0']);
    assert.deepEqual(lic('Apache Commons Lang'), ['Beer-Ware License (Version 42)', 'MIT OR LicenseRef-3']);
    // pkg:generic is not an ecosystem vouch models: reported, not dropped silently.
    assert.ok(s.problems.some((p) => /purl type "generic" is not an ecosystem vouch models/.test(p.message)));
  });

  it('reads SPDX CONTAINS between packages as ownedBy and DEPENDENCY_OF as depends-on', () => {
    const doc = JSON.parse(serializeSpdx(sampleImageSbom()));
    const s = readSbom(JSON.stringify(doc));
    const requests = s.packages.find((p) => p.name === 'requests')!;
    const owner = s.packages.find((p) => p.id === requests.ownedBy)!;
    assert.equal(owner.name, 'python3-requests');
    // A third-party document: no vouch annotations, DEPENDENCY_OF instead of DEPENDS_ON.
    for (const p of doc.packages) delete p.annotations;
    for (const r of doc.relationships) {
      if (r.relationshipType === 'DEPENDS_ON') {
        [r.spdxElementId, r.relatedSpdxElement] = [r.relatedSpdxElement, r.spdxElementId];
        r.relationshipType = 'DEPENDENCY_OF';
      }
    }
    const plain = readSbom(JSON.stringify(doc));
    assert.equal(plain.relationships.filter((r) => r.type === 'depends-on').length, 4);
    const libc6 = plain.packages.find((p) => p.name === 'libc6')!;
    assert.equal(libc6.foundBy, 'spdx-reader');
    assert.deepEqual(
      libc6.locations,
      [{ path: '/var/lib/dpkg/status' }, { path: '/usr/share/doc/libc6/copyright' }],
      'paths from sourceInfo',
    );
    assert.deepEqual(libc6.source, { name: 'glibc', version: '2.36-9+deb12u14' }, 'from the purl upstream');
    assert.equal(libc6.arch, 'amd64');
    assert.equal(plain.subject.kind, 'image', 'a CONTAINER with a digest');
    const plainOwner = plain.packages.find((p) => p.name === 'python3-requests')!;
    assert.equal(plain.packages.find((p) => p.name === 'requests')!.ownedBy, plainOwner.id);
  });
});

describe('readSbom: bad input', () => {
  it('refuses what is not JSON, naming the format it is', () => {
    throwsInvalid('this is not an SBOM', /not JSON/);
    throwsInvalid('<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>', /XML/);
    throwsInvalid('SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n', /tag-value/);
    throwsInvalid(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /not UTF-8/);
    throwsInvalid('{}', /neither CycloneDX .* nor SPDX/);
    throwsInvalid('[1, 2]', /neither CycloneDX/);
    throwsInvalid('', /not JSON/);
  });

  it('refuses versions it does not read', () => {
    throwsInvalid(
      '{"bomFormat":"CycloneDX","specVersion":"1.3"}',
      /specVersion "1\.3" is not supported; vouch reads 1\.4, 1\.5, 1\.6/,
    );
    throwsInvalid('{"bomFormat":"CycloneDX"}', /specVersion undefined is not supported/);
    throwsInvalid('{"spdxVersion":"SPDX-3.0"}', /SPDX version "SPDX-3\.0" is not supported/);
    throwsInvalid('{"spdxVersion":"SPDX-2.1"}', /not supported; vouch reads SPDX-2\.2 and SPDX-2\.3/);
  });

  it('names every wrongly-typed field of a CycloneDX document by its JSON path', () => {
    const bom = {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      components: [
        { type: 'library', version: '1.0' },
        { type: 'library', name: 'x', version: 2, components: {} },
        'not a component',
      ],
      dependencies: [{ dependsOn: 'x' }],
    };
    throwsInvalid(JSON.stringify(bom), /invalid CycloneDX document \(6 problems\)/);
    try {
      readSbom(JSON.stringify(bom));
    } catch (e) {
      const m = (e as Error).message;
      for (const part of [
        '$.components[0].name: missing',
        '$.components[1].version: expected a string, got number',
        '$.components[1].components: expected an array, got object',
        '$.components[2]: expected an object, got string',
        '$.dependencies[0].ref: missing',
        '$.dependencies[0].dependsOn: expected an array, got string',
      ]) {
        assert.ok(m.includes(part), `message names ${part}:\n${m}`);
      }
    }
    throwsInvalid(
      '{"bomFormat":"CycloneDX","specVersion":"1.6","components":{}}',
      /\$\.components: expected an array, got object/,
    );
    throwsInvalid(
      '{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":[]}',
      /\$\.metadata: expected an object, got array/,
    );
  });

  it('names every wrongly-typed field of an SPDX document by its JSON path', () => {
    const doc = {
      spdxVersion: 'SPDX-2.3',
      SPDXID: 'SPDXRef-DOCUMENT',
      name: 'x',
      packages: [{ name: 'a' }, { SPDXID: 'SPDXRef-b', name: 'b', versionInfo: 1 }],
      relationships: [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES' }],
    };
    throwsInvalid(JSON.stringify(doc), /\$\.creationInfo: missing/);
    try {
      readSbom(JSON.stringify(doc));
    } catch (e) {
      const m = (e as Error).message;
      for (const part of [
        '$.packages[0].SPDXID: missing',
        '$.packages[1].versionInfo: expected a string, got number',
        '$.relationships[0].relatedSpdxElement: missing',
      ]) {
        assert.ok(m.includes(part), `message names ${part}:\n${m}`);
      }
    }
  });

  it('reports components it cannot model as located problems and keeps the rest', () => {
    const bom = {
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      components: [
        { type: 'library', name: 'ok', version: '1.0.0', purl: 'pkg:npm/ok@1.0.0' },
        { type: 'library', name: 'bad', version: '1', purl: 'pkg:' },
        { type: 'library', name: 'nuget', version: '1', purl: 'pkg:nuget/Newtonsoft.Json@13.0.1' },
        {
          type: 'library',
          name: 'meta',
          version: '1',
          purl: 'pkg:gem/meta@1',
          properties: [{ name: 'vouch:package:metadata', value: '{not json' }],
        },
      ],
    };
    const s = readSbom(JSON.stringify(bom));
    assert.deepEqual(
      s.packages.map((p) => p.name),
      ['ok', 'meta'],
    );
    assert.deepEqual(
      s.problems.map((p) => [p.cataloger, p.path]),
      [
        ['cyclonedx-reader', '$.components[1]'],
        ['cyclonedx-reader', '$.components[2]'],
        ['cyclonedx-reader', '$.components[3]'],
      ],
    );
    assert.match(s.problems[1]!.message, /purl type "nuget" is not an ecosystem vouch models/);
    assert.match(s.problems[2]!.message, /vouch:package:metadata is not JSON/);
  });

  it('refuses components nested deeper than any real BOM instead of exhausting the stack', () => {
    const depth = 5000;
    const open = '{"type":"library","name":"n","components":['.repeat(depth);
    const text = `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[${open}{"type":"library","name":"leaf"}${']}'.repeat(depth)}]}`;
    throwsInvalid(text, /nested more than 64 deep/);
  });

  it('reads files with a size cap, naming the file in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vouch-sbom-'));
    try {
      const good = join(dir, 'sbom.cdx.json');
      await writeFile(good, serializeCycloneDx(sampleDirectorySbom()));
      assert.equal((await readSbomFile(good)).packages.length, 2);
      await assert.rejects(readSbomFile(good, { maxBytes: 100 }), (e: unknown) => {
        assert.ok(isVouchError(e, 'SBOM_INVALID'));
        assert.match(e.message, /sbom\.cdx\.json is \d+ bytes, more than the 100 bytes/);
        return true;
      });
      const bad = join(dir, 'bad.json');
      await writeFile(bad, '{"bomFormat":"CycloneDX","specVersion":"2.0"}');
      await assert.rejects(readSbomFile(bad), /bad\.json: CycloneDX specVersion "2\.0" is not supported/);
      await assert.rejects(readSbomFile(join(dir, 'missing.json')), (e: unknown) =>
        isVouchError(e, 'IO_ERROR'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives packages unique ids even when bom-refs repeat or are missing', () => {
    const bom = {
      bomFormat: 'CycloneDX',
      specVersion: '1.4',
      components: [
        { 'bom-ref': 'same', type: 'library', name: 'a', version: '1', purl: 'pkg:npm/a@1' },
        { 'bom-ref': 'same', type: 'library', name: 'b', version: '1', purl: 'pkg:npm/b@1' },
        { type: 'library', name: 'c', version: '1', purl: 'pkg:npm/c@1' },
        { type: 'library', name: 'c', version: '1', purl: 'pkg:npm/c@1' },
      ],
    };
    const ids = readSbom(JSON.stringify(bom)).packages.map((p) => p.id);
    assert.equal(ids[0], 'same');
    assert.equal(new Set(ids).size, 4);
    const c = pkg({ type: 'npm', name: 'c', version: '1', purl: '', path: '/', foundBy: '' });
    assert.match(ids[2]!, /^pkg-[0-9a-f]{16}$/);
    assert.notEqual(ids[2], c.id, 'no location: a different id than a package found at /');
    assert.equal(ids[3], `${ids[2]}-2`);
  });
});
