import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { ARCHITECTURES } from '../pipeline/schema.ts';
import { ARTIFACT_KINDS, artifactKey, imageSlug, releaseKeys, signatureKey } from './layout.ts';

const APP = { name: '127.0.0.1:5000/team/app', version: '1.2.3' };

test('{image} is the last repository component and the version', () => {
  const cases: [string, string, string][] = [
    ['127.0.0.1:5000/team/app', '1.2.3', 'app-1.2.3'],
    ['app', 'v2', 'app-v2'],
    ['docker.io/library/debian', '12.5_rc-1', 'debian-12.5_rc-1'],
    ['ghcr.io/org/sub/my.tool', 'A_1', 'my.tool-A_1'],
    ['localhost/x', '0', 'x-0'],
  ];
  for (const [name, version, slug] of cases) assert.equal(imageSlug({ name, version }), slug, name);
});

test('the keys are exactly the layout of the issue, with .sig beside each', () => {
  assert.deepEqual(
    releaseKeys(APP, 'arm64').map((e) => [e.kind, e.key, e.signatureKey]),
    [
      [
        'sbom-cyclonedx',
        'sboms/arm64/sbom-app-1.2.3-cyclonedx.json',
        'sboms/arm64/sbom-app-1.2.3-cyclonedx.json.sig',
      ],
      ['sbom-spdx', 'sboms/arm64/sbom-app-1.2.3-spdx.json', 'sboms/arm64/sbom-app-1.2.3-spdx.json.sig'],
      [
        'attestation',
        'attestations/arm64/attestation-app-1.2.3.json',
        'attestations/arm64/attestation-app-1.2.3.json.sig',
      ],
      ['scan', 'scans/arm64/scan-app-1.2.3.json', 'scans/arm64/scan-app-1.2.3.json.sig'],
    ],
  );
  for (const arch of ARCHITECTURES) {
    for (const kind of ARTIFACT_KINDS) assert.ok(artifactKey(kind, APP, arch).includes(`/${arch}/`));
  }
  assert.equal(signatureKey('scans/amd64/x.json'), 'scans/amd64/x.json.sig');
});

test('names and versions that could leave the layout are refused, naming the field', () => {
  const bad: [{ name: string; version: string }, string, RegExp][] = [
    [{ name: APP.name, version: '../../etc' }, 'UNSAFE_PATH', /version "\.\.\/\.\.\/etc"/],
    [{ name: APP.name, version: '1..2' }, 'UNSAFE_PATH', /version/],
    [{ name: APP.name, version: 'a/b' }, 'UNSAFE_PATH', /version/],
    [{ name: APP.name, version: '.hidden' }, 'UNSAFE_PATH', /version/],
    [{ name: APP.name, version: '' }, 'UNSAFE_PATH', /version/],
    [{ name: APP.name, version: 'x'.repeat(129) }, 'UNSAFE_PATH', /version/],
    [{ name: APP.name, version: '1\0' }, 'UNSAFE_PATH', /NUL/],
    [{ name: 'team/../app', version: '1' }, 'REFERENCE_INVALID', /team\/\.\.\/app/],
    [{ name: 'Team/App', version: '1' }, 'REFERENCE_INVALID', /Team\/App/],
    [{ name: `${APP.name}:1.2.3`, version: '1.2.3' }, 'REFERENCE_INVALID', /without tag or digest/],
    [
      { name: `${APP.name}@sha256:${'a'.repeat(64)}`, version: '1' },
      'REFERENCE_INVALID',
      /without tag or digest/,
    ],
  ];
  for (const [image, code, message] of bad) {
    assert.throws(
      () => imageSlug(image),
      (e) => isVouchError(e, code as 'UNSAFE_PATH') && message.test(e.message),
      JSON.stringify(image),
    );
  }
});

test('architectures come from the pipeline list', () => {
  for (const arch of ['mips', 'x86_64', 'arm/v7', '../amd64', '']) {
    assert.throws(
      () => artifactKey('scan', APP, arch),
      (e) => isVouchError(e, 'PLATFORM_INVALID') && e.message.includes(`"${arch}"`),
    );
  }
});
