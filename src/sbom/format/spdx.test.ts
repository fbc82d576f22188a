import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { digestOf } from '../../digest/digest.ts';
import type { Sbom } from '../model.ts';
import { packageSpdxId, serializeSpdx, toSpdx } from './spdx.ts';
import {
  pkg,
  type SpdxDoc,
  type SpdxPackage,
  sampleDirectorySbom,
  sampleImageSbom,
  schemaErrors,
  spdxValidator,
} from './test-support.ts';

function doc(sbom: Sbom, base?: string): SpdxDoc {
  return toSpdx(sbom, base ? { namespaceBase: base } : {}) as unknown as SpdxDoc;
}

function byName(d: SpdxDoc, name: string, type?: string): SpdxPackage {
  const found = d.packages.filter((p) => p.name === name && (!type || p.SPDXID.includes(`-${type}-`)));
  assert.equal(found.length, 1, `one package ${name}`);
  return found[0]!;
}

describe('SPDX 2.3 writer', () => {
  it('writes documents the official SPDX 2.3 schema accepts, for an image and a directory', () => {
    for (const sbom of [sampleImageSbom(), sampleDirectorySbom()]) {
      assert.deepEqual(schemaErrors(spdxValidator(), doc(sbom)), []);
    }
  });

  it("uses a schema file that accepts the specification's example document", () => {
    const example = JSON.parse(
      readFileSync(
        new URL('../../../test/fixtures/sbom/formats/SPDXJSONExample-v2.3.spdx.json', import.meta.url),
        'utf8',
      ),
    );
    assert.deepEqual(schemaErrors(spdxValidator(), example), []);
  });

  it('is checked by a validator that does reject invalid documents', () => {
    const bad = doc(sampleImageSbom());
    (bad.packages[1] as Partial<SpdxPackage>).downloadLocation = undefined;
    assert.notDeepEqual(schemaErrors(spdxValidator(), JSON.parse(JSON.stringify(bad))), []);
    const badRel = doc(sampleImageSbom());
    badRel.relationships[0]!.relationshipType = 'OWNS';
    assert.notDeepEqual(schemaErrors(spdxValidator(), badRel), []);
  });

  it('writes the document header: version, data license, deterministic namespace, creation info', () => {
    const d = doc(sampleImageSbom());
    assert.equal(d.spdxVersion, 'SPDX-2.3');
    assert.equal(d.dataLicense, 'CC0-1.0');
    assert.equal(d.SPDXID, 'SPDXRef-DOCUMENT');
    assert.equal(d.name, '127.0.0.1:5000/app:1.0');
    assert.match(
      d.documentNamespace,
      /^https:\/\/vouch\.dev\/spdx\/127\.0\.0\.1-5000-app-1\.0-[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    assert.ok(!d.documentNamespace.includes('#'));
    assert.deepEqual(d.creationInfo, {
      licenseListVersion: '3.29',
      creators: ['Tool: vouch-0.1.0'],
      created: '2024-05-01T12:00:00Z',
    });
    assert.match(
      doc(sampleImageSbom(), 'https://sbom.example.org/x/').documentNamespace,
      /^https:\/\/sbom\.example\.org\/x\/127/,
    );
  });

  it('writes created without fractional seconds, as SPDX requires', () => {
    assert.equal(doc(sampleDirectorySbom()).creationInfo.created, '2024-05-01T12:00:00Z');
  });

  it('describes the image as a CONTAINER package with its digest as checksum and pkg:oci purl', () => {
    const d = doc(sampleImageSbom());
    const describes = d.relationships.filter((r) => r.relationshipType === 'DESCRIBES');
    assert.deepEqual(describes, [
      {
        spdxElementId: 'SPDXRef-DOCUMENT',
        relationshipType: 'DESCRIBES',
        relatedSpdxElement: 'SPDXRef-DocumentRoot-Image-127.0.0.1-5000-app-1.0',
      },
    ]);
    const root = d.packages[0]!;
    assert.equal(root.SPDXID, 'SPDXRef-DocumentRoot-Image-127.0.0.1-5000-app-1.0');
    assert.equal(root.primaryPackagePurpose, 'CONTAINER');
    assert.equal(root.versionInfo, digestOf('manifest'));
    assert.deepEqual(root.checksums, [{ algorithm: 'SHA256', checksumValue: digestOf('manifest').slice(7) }]);
    assert.match(root.externalRefs?.[0]?.referenceLocator ?? '', /^pkg:oci\/app@sha256:/);
    const os = d.packages[1]!;
    assert.equal(os.SPDXID, 'SPDXRef-OperatingSystem-debian-12');
    assert.equal(os.primaryPackagePurpose, 'OPERATING_SYSTEM');
    assert.equal(os.versionInfo, '12');
  });

  it('writes each package with sanitised SPDXIDs, purl, NOASSERTION defaults and sourceInfo', () => {
    const sbom = sampleImageSbom();
    const d = doc(sbom);
    assert.equal(d.packages.length, sbom.packages.length + 2);
    const ids = d.packages.map((p) => p.SPDXID);
    assert.equal(new Set(ids).size, ids.length, 'SPDXIDs are unique');
    for (const id of ids) assert.match(id, /^SPDXRef-[A-Za-z0-9.-]+$/);
    const cosign = sbom.packages.find((p) => p.name === 'github.com/sigstore/cosign/v2')!;
    assert.equal(packageSpdxId(cosign), `SPDXRef-Package-golang-github.com-sigstore-cosign-v2-${cosign.id}`);
    const babel = byName(d, '@babel/core');
    assert.equal(babel.SPDXID.startsWith('SPDXRef-Package-npm--babel-core-pkg-'), true);
    assert.deepEqual(babel.externalRefs, [
      {
        referenceCategory: 'PACKAGE-MANAGER',
        referenceType: 'purl',
        referenceLocator: 'pkg:npm/%40babel/core@7.24.0',
      },
    ]);
    assert.equal(babel.downloadLocation, 'NOASSERTION');
    assert.equal(babel.filesAnalyzed, false);
    assert.equal(babel.licenseConcluded, 'NOASSERTION');
    assert.equal(babel.licenseDeclared, 'MIT');
    assert.equal(
      babel.sourceInfo,
      'acquired package info from npm-package: /app/node_modules/@babel/core/package.json',
    );
  });

  it('writes supplier and originator in SPDX agent syntax when a cataloger recorded them', () => {
    const d = doc(sampleImageSbom());
    assert.equal(
      byName(d, 'libc6').supplier,
      'Organization: GNU Libc Maintainers (debian-glibc@lists.debian.org)',
    );
    assert.equal(
      byName(d, 'python3-requests').supplier,
      'Organization: Debian Python Team (team+python@tracker.debian.org)',
    );
    assert.equal(byName(d, 'requests').originator, 'Person: Kenneth Reitz');
    assert.equal(byName(d, 'zlib1g').supplier, 'NOASSERTION');
    assert.equal(byName(d, 'zlib1g').originator, undefined);
  });

  it('declares licenses as one expression, free text as LicenseRef- with its text extracted', () => {
    const d = doc(sampleImageSbom());
    assert.equal(byName(d, 'libc6').licenseDeclared, 'LGPL-2.1-or-later AND GPL-2.0-or-later');
    assert.equal(byName(d, 'rand').licenseDeclared, 'MIT OR Apache-2.0');
    assert.equal(byName(d, 'perl-base').licenseDeclared, 'GPL-1.0-or-later OR Artistic-1.0-Perl');
    assert.equal(byName(d, 'bash', 'deb').licenseDeclared, 'LicenseRef-GPL-3-plus AND BSD-4-Clause-UC');
    assert.equal(byName(d, 'tzdata').licenseDeclared, 'LicenseRef-public-domain');
    assert.equal(byName(d, 'github.com/sigstore/cosign/v2').licenseDeclared, 'NOASSERTION');
    assert.deepEqual(d.hasExtractedLicensingInfos, [
      { licenseId: 'LicenseRef-GPL-3-plus', extractedText: 'GPL-3+', name: 'GPL-3+' },
      { licenseId: 'LicenseRef-public-domain', extractedText: 'public-domain', name: 'public-domain' },
    ]);
  });

  it('defines every LicenseRef it uses, and keeps two texts that sanitise alike apart', () => {
    const sbom = sampleDirectorySbom();
    sbom.packages.push(
      pkg({
        type: 'npm',
        name: 'a',
        version: '1',
        purl: 'pkg:npm/a@1',
        licenses: ['BSD like'],
        path: '/a',
        foundBy: 'npm',
      }),
      pkg({
        type: 'npm',
        name: 'b',
        version: '1',
        purl: 'pkg:npm/b@1',
        licenses: ['BSD/like'],
        path: '/b',
        foundBy: 'npm',
      }),
      pkg({
        type: 'npm',
        name: 'c',
        version: '1',
        purl: 'pkg:npm/c@1',
        licenses: ['LicenseRef-Proprietary OR MIT'],
        path: '/c',
        foundBy: 'npm',
      }),
    );
    sbom.packages.push(
      pkg({
        type: 'npm',
        name: 'd',
        version: '1',
        purl: 'pkg:npm/d@1',
        licenses: ['DocumentRef-other:LicenseRef-x'],
        path: '/d',
        foundBy: 'npm',
      }),
    );
    const d = doc(sbom);
    assert.equal(
      byName(d, 'd').licenseDeclared,
      'LicenseRef-DocumentRef-other-LicenseRef-x',
      'no external document to refer to',
    );
    const a = byName(d, 'a').licenseDeclared!;
    const b = byName(d, 'b').licenseDeclared!;
    assert.equal(a, 'LicenseRef-BSD-like');
    assert.match(b, /^LicenseRef-BSD-like-[0-9a-f]{8}$/);
    const defined = new Set((d.hasExtractedLicensingInfos ?? []).map((e) => e.licenseId));
    for (const p of d.packages) {
      for (const ref of (p.licenseDeclared ?? '').match(/LicenseRef-[A-Za-z0-9.-]+/g) ?? []) {
        assert.ok(defined.has(ref), `${ref} is defined`);
      }
    }
    assert.deepEqual(schemaErrors(spdxValidator(), d), []);
  });

  it('relates the subject to its top-level packages and owners to what they own', () => {
    const sbom = sampleImageSbom();
    const d = doc(sbom);
    const id = (name: string, type?: string) => byName(d, name, type).SPDXID;
    const root = d.packages[0]!.SPDXID;
    const contains = d.relationships.filter((r) => r.relationshipType === 'CONTAINS');
    const containedBy = new Map<string, string[]>();
    for (const r of contains)
      containedBy.set(r.relatedSpdxElement, [
        ...(containedBy.get(r.relatedSpdxElement) ?? []),
        r.spdxElementId,
      ]);
    assert.deepEqual(containedBy.get(id('requests')), [id('python3-requests')]);
    assert.deepEqual(containedBy.get(id('semver')), [id('node-semver')]);
    assert.deepEqual(containedBy.get(id('libc6')), [root]);
    assert.deepEqual(containedBy.get('SPDXRef-OperatingSystem-debian-12'), [root]);
    assert.equal(contains.length, sbom.packages.length + 1, 'each package contained once, plus the OS');
    const dependsOn = d.relationships.filter((r) => r.relationshipType === 'DEPENDS_ON');
    assert.deepEqual(
      dependsOn.map((r) => [r.spdxElementId, r.relatedSpdxElement]),
      [
        // sorted by SPDXID: deb-bash, deb-libssl3, deb-python3-requests, golang-...
        [id('bash', 'deb'), id('libc6')],
        [id('libssl3'), id('libc6')],
        [id('python3-requests'), id('urllib3')],
        [id('github.com/sigstore/cosign/v2'), id('stdlib')],
      ],
    );
    const known = new Set([...d.packages.map((p) => p.SPDXID), 'SPDXRef-DOCUMENT']);
    for (const r of d.relationships) {
      assert.ok(known.has(r.spdxElementId) && known.has(r.relatedSpdxElement), JSON.stringify(r));
    }
  });

  it('keeps SPDXIDs unique when package ids sanitise alike', () => {
    const sbom = sampleDirectorySbom();
    const [a, b] = sbom.packages;
    a!.id = 'pkg:npm/x@1';
    b!.id = 'pkg:npm/x-1';
    a!.name = 'x';
    b!.name = 'x';
    b!.type = 'npm';
    const ids = doc(sbom).packages.map((p) => p.SPDXID);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(ids.slice(1).sort(), [
      'SPDXRef-Package-npm-x-pkg-npm-x-1',
      'SPDXRef-Package-npm-x-pkg-npm-x-1-2',
    ]);
  });

  it("keeps vouch's extras and problems in annotations", () => {
    const sbom = sampleImageSbom();
    const d = doc(sbom);
    const libc6 = byName(d, 'libc6');
    assert.equal(libc6.annotations?.length, 1);
    const a = libc6.annotations![0]!;
    assert.equal(a.annotator, 'Tool: vouch-0.1.0');
    assert.equal(a.annotationType, 'OTHER');
    assert.equal(a.annotationDate, '2024-05-01T12:00:00Z');
    assert.ok(a.comment.startsWith('vouch:package {'));
    const extra = JSON.parse(a.comment.slice('vouch:package '.length));
    const model = sbom.packages.find((p) => p.name === 'libc6')!;
    assert.deepEqual(extra.locations, model.locations);
    assert.equal(extra.id, model.id);
    assert.deepEqual(
      (d.annotations ?? []).map((x) => JSON.parse(x.comment.slice('vouch:problem '.length)).message),
      ['no Name: header', 'stanza 12: no Version'],
    );
  });

  it('is deterministic: same bytes twice, whatever the input order; content changes the namespace', () => {
    const a = serializeSpdx(sampleImageSbom());
    assert.equal(serializeSpdx(sampleImageSbom()), a);
    assert.ok(a.endsWith('}\n'));
    const shuffled = sampleImageSbom();
    shuffled.packages.reverse();
    shuffled.relationships.reverse();
    shuffled.problems.reverse();
    assert.equal(serializeSpdx(shuffled), a);
    const changed = sampleImageSbom();
    changed.packages[0]!.licenses = ['MIT'];
    assert.notEqual(doc(changed).documentNamespace, (JSON.parse(a) as SpdxDoc).documentNamespace);
  });
});
