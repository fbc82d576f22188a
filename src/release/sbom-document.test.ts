import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CYCLONEDX_PREDICATE, SPDX_PREDICATE } from '../attest/predicates.ts';
import { isVouchError } from '../errors.ts';
import { platformSlug } from './platforms.ts';
import { sbomDocument } from './sbom-document.ts';

test('CycloneDX and SPDX predicates are read as documents, also SPDX JSON kept as a string', () => {
  const cdx = { bomFormat: 'CycloneDX', specVersion: '1.6', components: [{}, {}, {}] };
  assert.deepEqual(sbomDocument(CYCLONEDX_PREDICATE, cdx, 'x'), {
    format: 'cyclonedx',
    version: 'CycloneDX 1.6',
    packages: 3,
    document: cdx,
  });
  const spdx = { spdxVersion: 'SPDX-2.3', packages: [{}] };
  assert.deepEqual(sbomDocument(SPDX_PREDICATE, JSON.stringify(spdx), 'x'), {
    format: 'spdx',
    version: 'SPDX-2.3',
    packages: 1,
    document: spdx,
  });
  assert.equal(sbomDocument(CYCLONEDX_PREDICATE, { bomFormat: 'CycloneDX' }, 'x').packages, 0);
});

test('a predicate that is not the document its type says fails with SBOM_INVALID naming where', () => {
  const cases: [string, unknown, RegExp][] = [
    [CYCLONEDX_PREDICATE, { spdxVersion: 'SPDX-2.3' }, /att\[0\]: .* must be a CycloneDX document/],
    [SPDX_PREDICATE, { bomFormat: 'CycloneDX' }, /must be an SPDX JSON document/],
    [SPDX_PREDICATE, 'SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0', /is text, not an SBOM JSON document/],
    [SPDX_PREDICATE, null, /must be an SPDX JSON document/],
    ['https://slsa.dev/provenance/v1', {}, /is not an SBOM predicate type/],
  ];
  for (const [type, predicate, message] of cases) {
    assert.throws(
      () => sbomDocument(type, predicate, 'tag sha256-x.att[0]'),
      (e) => isVouchError(e, 'SBOM_INVALID') && message.test(e.message),
      String(message),
    );
  }
});

test('platforms become file name parts', () => {
  assert.equal(platformSlug('linux/amd64'), 'linux-amd64');
  assert.equal(platformSlug('linux/arm64/v8'), 'linux-arm64-v8');
  assert.equal(platformSlug('windows(10.0.17763)/amd64'), 'windows-10.0.17763-amd64');
  assert.equal(platformSlug('unknown (sha256:ab)'), 'unknown-sha256-ab');
});
