/**
 * Both writers and the reader over real data: every package installed on this Debian machine
 * (dpkg-query), with the License: names from its machine-readable copyright file — real
 * versions with epochs, '~' and '+', and the licence names Debian really uses (GPL-2+, Expat,
 * BSD-3-clause, public-domain, ...), most of them not SPDX ids.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { digestOf } from '../../digest/digest.ts';
import type { Package, Sbom } from '../model.ts';
import { osPackagePurl } from '../purl.ts';
import { serializeCycloneDx, toCycloneDx } from './cyclonedx.ts';
import { classifyLicense } from './license.ts';
import { readSbom } from './read.ts';
import { serializeSpdx, toSpdx } from './spdx.ts';
import {
  cycloneDxValidator,
  DEBIAN,
  pkg,
  type SpdxDoc,
  schemaErrors,
  spdxValidator,
} from './test-support.ts';

function installed(): string | undefined {
  try {
    return execFileSync(
      'dpkg-query',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
      ['-W', '-f=${Package}\\t${Version}\\t${Architecture}\\t${Source}\\t${Maintainer}\\n'],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
  } catch {
    return undefined;
  }
}

function copyrightLicenses(name: string): string[] {
  let text: string;
  try {
    text = readFileSync(`/usr/share/doc/${name}/copyright`, 'utf8');
  } catch {
    return [];
  }
  const out = new Set<string>();
  for (const m of text.matchAll(/^License:[ \t]*(\S[^\n]*)$/gm)) out.add(m[1]!.trim());
  return [...out].slice(0, 6);
}

const LAYER = digestOf('debian rootfs');

function realSbom(listing: string): Sbom {
  const packages: Package[] = [];
  for (const line of listing.split('\n')) {
    const [name, version, arch, sourceField, maintainer] = line.split('\t');
    if (!name || !version || !arch) continue;
    // Source: "name" or "name (version)"; empty when it is the binary's own name.
    const m = /^(\S+)(?: \((.+)\))?$/.exec(sourceField ?? '');
    const source = m ? { name: m[1]!, version: m[2] ?? version } : undefined;
    packages.push(
      pkg({
        type: 'deb',
        name,
        version,
        arch,
        purl: osPackagePurl('deb', DEBIAN, name, version, { arch, ...(source ? { source } : {}) }),
        licenses: copyrightLicenses(name),
        path: '/var/lib/dpkg/status',
        layer: LAYER,
        foundBy: 'dpkg-db',
        ...(source ? { source } : {}),
        ...(maintainer ? { metadata: { maintainer } } : {}),
      }),
    );
  }
  return {
    subject: {
      kind: 'image',
      name: 'localhost/debian:12',
      digest: digestOf('debian manifest'),
      platform: { os: 'linux', architecture: 'amd64' },
      layers: [LAYER],
    },
    os: { ...DEBIAN },
    packages,
    relationships: [],
    problems: [],
    unowned: [],
    created: '2024-05-01T12:00:00Z',
    tool: { name: 'vouch', version: '0.1.0' },
  };
}

/** What a license looks like after a trip through a writer: ids and expressions in canonical spelling. */
function canonical(l: string): string {
  const k = classifyLicense(l);
  return k.kind === 'id' ? k.id : k.kind === 'expression' ? k.expression : k.text;
}

const listing = installed();

describe(
  'formats over the real packages of this Debian system',
  { skip: listing ? false : 'no dpkg-query' },
  () => {
    const sbom = realSbom(listing ?? '');

    it('found a real system to describe', () => {
      assert.ok(sbom.packages.length >= 50, `${sbom.packages.length} packages`);
      assert.ok(
        sbom.packages.some((p) => p.version.includes(':')),
        'some version has an epoch',
      );
      assert.ok(
        sbom.packages.some((p) => p.licenses.some((l) => classifyLicense(l).kind === 'text')),
        'some licence is not an SPDX id',
      );
    });

    it('CycloneDX: valid against the 1.6 schema and read back unchanged', () => {
      assert.deepEqual(schemaErrors(cycloneDxValidator(), toCycloneDx(sbom)), []);
      const back = readSbom(serializeCycloneDx(sbom));
      assert.equal(back.packages.length, sbom.packages.length);
      const want = new Map(sbom.packages.map((p) => [p.id, p]));
      for (const p of back.packages) {
        const w = want.get(p.id)!;
        assert.deepEqual({ ...p, licenses: [] }, { ...w, licenses: [] });
        assert.deepEqual(
          p.licenses,
          w.licenses.map(canonical).filter((l) => l !== ''),
        );
      }
    });

    it('SPDX: valid against the 2.3 schema, every LicenseRef defined, read back unchanged', () => {
      const doc = toSpdx(sbom) as unknown as SpdxDoc;
      assert.deepEqual(schemaErrors(spdxValidator(), doc), []);
      const defined = new Set((doc.hasExtractedLicensingInfos ?? []).map((e) => e.licenseId));
      for (const p of doc.packages) {
        for (const ref of (p.licenseDeclared ?? '').match(/LicenseRef-[A-Za-z0-9.-]+/g) ?? []) {
          assert.ok(defined.has(ref), `${p.name}: ${ref} is defined`);
        }
      }
      const back = readSbom(serializeSpdx(sbom));
      const want = new Map(sbom.packages.map((p) => [p.id, p]));
      assert.equal(back.packages.length, sbom.packages.length);
      for (const p of back.packages) {
        const w = want.get(p.id)!;
        assert.deepEqual({ ...p, licenses: [] }, { ...w, licenses: [] });
        assert.deepEqual(
          p.licenses,
          w.licenses.map(canonical).filter((l) => l !== ''),
          p.name,
        );
      }
    });
  },
);
