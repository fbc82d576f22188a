import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { digestOf } from '../../digest/digest.ts';
import { PACKAGE_TYPES, type Sbom } from '../model.ts';
import { licenseChoices, serializeCycloneDx, toCycloneDx } from './cyclonedx.ts';
import {
  type CdxComponent,
  type CdxDoc,
  cycloneDxValidator,
  LAYERS,
  pkg,
  sampleDirectorySbom,
  sampleImageSbom,
  schemaErrors,
} from './test-support.ts';

function doc(sbom: Sbom): CdxDoc {
  return toCycloneDx(sbom) as unknown as CdxDoc;
}

/** Every component, nested ones included, with the bom-ref of the component it is nested in. */
function flatten(
  components: CdxComponent[],
  parent?: string,
): { c: CdxComponent; parent: string | undefined }[] {
  return components.flatMap((c) => [{ c, parent }, ...flatten(c.components ?? [], c['bom-ref'])]);
}

function prop(c: CdxComponent, name: string): string | undefined {
  return c.properties?.find((p) => p.name === name)?.value;
}

describe('CycloneDX 1.6 writer', () => {
  it('writes documents the official 1.6 schema accepts, for an image and a directory', () => {
    for (const sbom of [sampleImageSbom(), sampleDirectorySbom()]) {
      assert.deepEqual(schemaErrors(cycloneDxValidator(), doc(sbom)), []);
    }
  });

  it("uses schema files that accept the specification's own valid examples", () => {
    for (const name of [
      'cdx-valid-bom-1.6.json',
      'cdx-valid-evidence-1.6.json',
      'cdx-valid-license-expression-1.6.json',
    ]) {
      const example = JSON.parse(
        readFileSync(new URL(`../../../test/fixtures/sbom/formats/${name}`, import.meta.url), 'utf8'),
      );
      assert.deepEqual(schemaErrors(cycloneDxValidator(), example), [], name);
    }
  });

  it('is checked by a validator that does reject invalid documents', () => {
    const bad = doc(sampleImageSbom());
    bad.components[1]!.licenses = [{ license: { id: 'Not-A-License' } }];
    assert.notDeepEqual(schemaErrors(cycloneDxValidator(), bad), []);
    const twoExpressions = doc(sampleImageSbom());
    twoExpressions.components[1]!.licenses = [{ expression: 'MIT OR Zlib' }, { expression: 'MIT' }];
    assert.notDeepEqual(schemaErrors(cycloneDxValidator(), twoExpressions), []);
    const noName = doc(sampleImageSbom());
    delete (noName.components[1] as Partial<CdxComponent>).name;
    assert.notDeepEqual(schemaErrors(cycloneDxValidator(), noName), []);
  });

  it('describes the image as a container with its digest, pkg:oci purl, platform and layers', () => {
    const sbom = sampleImageSbom();
    const d = doc(sbom);
    assert.equal(d.bomFormat, 'CycloneDX');
    assert.equal(d.specVersion, '1.6');
    assert.equal(d.version, 1);
    assert.equal(d.metadata.timestamp, '2024-05-01T12:00:00Z');
    assert.deepEqual(d.metadata.tools, {
      components: [{ type: 'application', name: 'vouch', version: '0.1.0' }],
    });
    const root = d.metadata.component;
    assert.equal(root['bom-ref'], 'root');
    assert.equal(root.type, 'container');
    assert.equal(root.name, '127.0.0.1:5000/app:1.0');
    assert.equal(root.version, digestOf('manifest'));
    const hex = digestOf('manifest').slice('sha256:'.length);
    assert.equal(root.purl, `pkg:oci/app@sha256:${hex}?arch=amd64&repository_url=127.0.0.1:5000/app&tag=1.0`);
    assert.deepEqual(root.hashes, [{ alg: 'SHA-256', content: hex }]);
    assert.equal(prop(root, 'vouch:image:layer:0'), LAYERS[0]);
    assert.equal(prop(root, 'vouch:image:layer:1'), LAYERS[1]);
    assert.equal(prop(root, 'vouch:image:architecture'), 'amd64');
  });

  it('gives an image named by a registry reference a purl, one opened by layout path none', () => {
    const sbom = sampleImageSbom();
    sbom.subject = { ...sbom.subject, name: 'docker.io/library/debian:12' } as Sbom['subject'];
    if (sbom.subject.kind === 'image') {
      delete sbom.subject.repository;
      delete sbom.subject.tag;
    }
    assert.match(
      doc(sbom).metadata.component.purl ?? '',
      /^pkg:oci\/debian@sha256:[0-9a-f]{64}\?arch=amd64&repository_url=docker\.io\/library\/debian&tag=12$/,
    );
    sbom.subject = { ...sbom.subject, name: 'oci:./out:1.0' } as Sbom['subject'];
    assert.equal(doc(sbom).metadata.component.purl, undefined);
  });

  it('describes a directory as a file component with its path', () => {
    const root = doc(sampleDirectorySbom()).metadata.component;
    assert.equal(root.type, 'file');
    assert.equal(root.name, './rootfs');
    assert.equal(prop(root, 'vouch:directory:path'), '/tmp/rootfs');
  });

  it('writes the OS as an operating-system component', () => {
    const os = doc(sampleImageSbom()).components[0]!;
    assert.deepEqual(
      { type: os.type, name: os.name, version: os.version, description: os.description, ref: os['bom-ref'] },
      {
        type: 'operating-system',
        name: 'debian',
        version: '12',
        description: 'Debian GNU/Linux 12 (bookworm)',
        ref: 'os:debian@12',
      },
    );
    assert.equal(prop(os, 'vouch:os:versionCodename'), 'bookworm');
  });

  it('writes every package once, of every type, nested under its owner when ownedBy is set', () => {
    const sbom = sampleImageSbom();
    const all = flatten(doc(sbom).components).filter(({ c }) => c.type === 'library');
    assert.equal(all.length, sbom.packages.length);
    assert.deepEqual(new Set(all.map(({ c }) => c['bom-ref'])), new Set(sbom.packages.map((p) => p.id)));
    assert.deepEqual(new Set(all.map(({ c }) => prop(c, 'vouch:package:type'))), new Set(PACKAGE_TYPES));
    for (const p of sbom.packages) {
      const found = all.find(({ c }) => c['bom-ref'] === p.id)!;
      assert.equal(found.parent, p.ownedBy, `${p.name} nested under ${p.ownedBy}`);
      assert.equal(found.c.name, p.name);
      assert.equal(found.c.version, p.version);
      assert.equal(found.c.purl, p.purl);
    }
    const requestsDeb = sbom.packages.find((p) => p.name === 'python3-requests')!;
    const nested = all.filter(({ parent }) => parent === requestsDeb.id).map(({ c }) => c.name);
    assert.deepEqual(nested, ['requests']);
  });

  it('writes package extras as vouch properties and the evidence files as occurrences', () => {
    const sbom = sampleImageSbom();
    const libc6 = sbom.packages.find((p) => p.name === 'libc6')!;
    const c = flatten(doc(sbom).components).find(({ c }) => c['bom-ref'] === libc6.id)!.c;
    assert.deepEqual(c.properties, [
      { name: 'vouch:package:foundBy', value: 'dpkg-db' },
      { name: 'vouch:package:type', value: 'deb' },
      { name: 'vouch:package:arch', value: 'amd64' },
      { name: 'vouch:package:sourceName', value: 'glibc' },
      { name: 'vouch:package:sourceVersion', value: '2.36-9+deb12u14' },
      { name: 'vouch:location:0:path', value: '/var/lib/dpkg/status' },
      { name: 'vouch:location:0:layerID', value: LAYERS[0] },
      { name: 'vouch:location:1:path', value: '/usr/share/doc/libc6/copyright' },
      { name: 'vouch:location:1:layerID', value: LAYERS[0] },
      {
        name: 'vouch:package:metadata',
        value: '{"maintainer":"GNU Libc Maintainers <debian-glibc@lists.debian.org>"}',
      },
    ]);
    assert.deepEqual(c.evidence, {
      occurrences: [{ location: '/var/lib/dpkg/status' }, { location: '/usr/share/doc/libc6/copyright' }],
    });
    assert.deepEqual(c.supplier, { name: 'GNU Libc Maintainers <debian-glibc@lists.debian.org>' });
  });

  it('keeps a package whose owner is missing at the top level with its ownedBy as a property', () => {
    const sbom = sampleImageSbom();
    const orphan = sbom.packages.find((p) => p.name === 'semver')!;
    orphan.ownedBy = 'pkg-0000000000000000';
    const top = doc(sbom).components;
    const c = top.find((x) => x['bom-ref'] === orphan.id)!;
    assert.equal(prop(c, 'vouch:package:ownedBy'), 'pkg-0000000000000000');
    assert.deepEqual(schemaErrors(cycloneDxValidator(), doc(sbom)), []);
  });

  it('cuts an ownedBy cycle instead of losing or repeating packages', () => {
    const sbom = sampleImageSbom();
    const a = sbom.packages.find((p) => p.name === 'rake')!;
    const b = sbom.packages.find((p) => p.name === 'rand')!;
    a.ownedBy = b.id;
    b.ownedBy = a.id;
    const all = flatten(doc(sbom).components).filter(({ c }) => c.type === 'library');
    assert.equal(all.length, sbom.packages.length);
    assert.equal(new Set(all.map(({ c }) => c['bom-ref'])).size, sbom.packages.length);
  });

  it('maps licenses: listed ids as id, one compound expression as expression, the rest as name', () => {
    assert.deepEqual(licenseChoices(['MIT']), [{ license: { id: 'MIT', acknowledgement: 'declared' } }]);
    assert.deepEqual(licenseChoices(['apache-2.0']), [
      { license: { id: 'Apache-2.0', acknowledgement: 'declared' } },
    ]);
    assert.deepEqual(licenseChoices(['MIT OR Apache-2.0']), [
      { expression: 'MIT OR Apache-2.0', acknowledgement: 'declared' },
    ]);
    assert.deepEqual(licenseChoices(['LicenseRef-foo']), [
      { expression: 'LicenseRef-foo', acknowledgement: 'declared' },
    ]);
    assert.deepEqual(licenseChoices(['GPL-2+']), [
      { license: { name: 'GPL-2+', acknowledgement: 'declared' } },
    ]);
    assert.deepEqual(licenseChoices(['MIT', 'GPL-1.0-or-later OR Artistic-1.0-Perl', 'BSD-like']), [
      { license: { id: 'MIT', acknowledgement: 'declared' } },
      { license: { name: 'GPL-1.0-or-later OR Artistic-1.0-Perl', acknowledgement: 'declared' } },
      { license: { name: 'BSD-like', acknowledgement: 'declared' } },
    ]);
    assert.deepEqual(licenseChoices([]), []);
    assert.deepEqual(licenseChoices(['', '  ']), []);
  });

  it('writes the dependency graph: the root on every top-level component, depends-on edges', () => {
    const sbom = sampleImageSbom();
    const d = doc(sbom);
    const top = d.components.filter((c) => c.type !== 'file').map((c) => c['bom-ref']);
    assert.deepEqual(d.dependencies[0], { ref: 'root', dependsOn: [...top].sort() });
    const byName = (n: string) => sbom.packages.find((p) => p.name === n)!.id;
    const edges = d.dependencies.slice(1);
    assert.deepEqual(
      edges,
      [
        { ref: byName('libssl3'), dependsOn: [byName('libc6')] },
        { ref: byName('bash'), dependsOn: [byName('libc6')] },
        { ref: byName('github.com/sigstore/cosign/v2'), dependsOn: [byName('stdlib')] },
        { ref: byName('python3-requests'), dependsOn: [byName('urllib3')] },
      ].sort((a, b) => (a.ref < b.ref ? -1 : 1)),
    );
    // Edges to packages that are not in the SBOM are not written (they would dangle).
    sbom.relationships.push({ from: byName('bash'), to: 'pkg-ffffffffffffffff', type: 'depends-on' });
    assert.deepEqual(doc(sbom).dependencies, d.dependencies);
  });

  it('writes unowned files as file components and problems as metadata properties', () => {
    const d = doc(sampleImageSbom());
    const files = d.components.filter((c) => c.type === 'file');
    assert.deepEqual(
      files.map((f) => [f.name, prop(f, 'vouch:unowned:kind'), f.hashes?.[0]?.content]),
      [
        ['/opt/lib/libfoo.so.1', 'shared-library', undefined],
        ['/usr/local/bin/helper', 'executable', digestOf('helper binary').slice(7)],
      ],
    );
    const props = d.metadata.properties ?? [];
    assert.deepEqual(
      props.filter((p) => p.name.endsWith(':message')).map((p) => p.value),
      ['no Name: header', 'stanza 12: no Version'],
    );
  });

  it('is deterministic: same bytes twice, whatever the input order, with a content-derived serialNumber', () => {
    const a = serializeCycloneDx(sampleImageSbom());
    assert.equal(serializeCycloneDx(sampleImageSbom()), a);
    assert.ok(a.endsWith('}\n'));
    assert.ok(a.startsWith('{\n  "$schema"'));
    const shuffled = sampleImageSbom();
    shuffled.packages.reverse();
    shuffled.relationships.reverse();
    shuffled.problems.reverse();
    shuffled.unowned.reverse();
    assert.equal(serializeCycloneDx(shuffled), a);
    const serial = (JSON.parse(a) as CdxDoc).serialNumber;
    assert.match(serial, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const changed = sampleImageSbom();
    changed.packages[0]!.version = '2.36-9+deb12u15';
    assert.notEqual((JSON.parse(serializeCycloneDx(changed)) as CdxDoc).serialNumber, serial);
  });

  it('omits what is empty instead of writing empty strings', () => {
    const sbom = sampleDirectorySbom();
    sbom.packages.push(
      pkg({
        type: 'npm',
        name: 'nameless-version',
        version: '',
        purl: '',
        path: '/x/package.json',
        foundBy: 'npm',
      }),
    );
    sbom.created = '';
    const d = doc(sbom);
    assert.equal(d.metadata.timestamp, undefined);
    const c = d.components.find((x) => x.name === 'nameless-version')!;
    assert.equal(c.version, undefined);
    assert.equal(c.purl, undefined);
    assert.equal(c.licenses, undefined);
    assert.deepEqual(schemaErrors(cycloneDxValidator(), d), []);
  });
});
