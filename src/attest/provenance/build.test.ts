import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVouchError } from '../../errors.ts';
import { fileSubjects, imageStatement, imageSubject } from '../subjects.ts';
import { type ProvenanceInput, rfc3339, slsaProvenanceV1 } from './build.ts';
import { BYPRODUCT_MEDIA_TYPES, byproductFromFile } from './byproducts.ts';
import { provenanceStatement } from './statement.ts';

const BASE: ProvenanceInput = {
  buildType: 'https://example.com/buildtypes/make/v1',
  externalParameters: { target: 'all' },
  builder: { id: 'https://example.com/builder' },
};

test('every field in the spec order; empty optional parts left out', () => {
  const p = slsaProvenanceV1({
    ...BASE,
    internalParameters: { cache: false },
    resolvedDependencies: [
      { uri: 'git+https://x/y@refs/heads/main', digest: { gitCommit: 'ab'.repeat(20) } },
    ],
    builder: {
      id: 'https://example.com/builder',
      version: { tool: '1.2' },
      builderDependencies: [{ uri: 'oci://img', digest: { sha256: 'cd'.repeat(32) } }],
    },
    invocationId: 'run-1',
    startedOn: new Date('2024-05-01T10:00:00.000Z'),
    finishedOn: '2024-05-01T12:30:00.250+02:00',
    byproducts: [
      {
        name: 'sbom.cdx.json',
        digest: { sha256: 'ef'.repeat(32) },
        mediaType: 'application/vnd.cyclonedx+json',
      },
    ],
  });
  assert.deepEqual(Object.keys(p.buildDefinition), [
    'buildType',
    'externalParameters',
    'internalParameters',
    'resolvedDependencies',
  ]);
  assert.deepEqual(Object.keys(p.runDetails), ['builder', 'metadata', 'byproducts']);
  assert.deepEqual(Object.keys(p.runDetails.builder), ['id', 'version', 'builderDependencies']);
  assert.deepEqual(p.runDetails.metadata, {
    invocationId: 'run-1',
    startedOn: '2024-05-01T10:00:00Z',
    finishedOn: '2024-05-01T10:30:00.250Z',
  });
  const bare = slsaProvenanceV1({ ...BASE, resolvedDependencies: [], byproducts: [] });
  assert.deepEqual(bare, {
    buildDefinition: { buildType: BASE.buildType, externalParameters: { target: 'all' } },
    runDetails: { builder: { id: 'https://example.com/builder' } },
  });
});

test('bad inputs are PROVENANCE_INVALID naming the field', () => {
  const cases: [Partial<ProvenanceInput>, RegExp][] = [
    [{ buildType: '' }, /buildDefinition\.buildType is missing/],
    [{ buildType: 'make' }, /buildDefinition\.buildType must be an absolute URI/],
    [
      { externalParameters: [] as unknown as Record<string, unknown> },
      /externalParameters must be a JSON object/,
    ],
    [{ builder: { id: 'not a uri' } }, /runDetails\.builder\.id must be an absolute URI/],
    [
      { builder: { id: 'https://b', version: { x: 1 } as unknown as Record<string, string> } },
      /builder\.version/,
    ],
    [{ startedOn: '2024-05-01 10:00' }, /startedOn must be an RFC 3339 time/],
    [{ finishedOn: '2024-13-45T99:00:00Z' }, /finishedOn is not a valid time/],
    [
      { startedOn: '2024-05-01T10:00:00Z', finishedOn: '2024-05-01T09:00:00Z' },
      /finishedOn .* is before startedOn/,
    ],
    [{ resolvedDependencies: [{ name: 'x' }] }, /resolvedDependencies\[0\] needs a uri, digest or content/],
    [
      { byproducts: [{ name: 'x', digest: { sha256: 'XYZ' } }] },
      /byproducts\[0\]\.digest\.sha256 must be lower-case hex/,
    ],
    [{ invocationId: '' }, /invocationId is empty/],
  ];
  for (const [patch, re] of cases) {
    assert.throws(
      () => slsaProvenanceV1({ ...BASE, ...patch }),
      (e) => isVouchError(e, 'PROVENANCE_INVALID') && re.test(e.message),
      re.source,
    );
  }
  assert.equal(rfc3339('2024-05-01t10:00:00.5z', 'x'), '2024-05-01T10:00:00.500Z');
});

test('provenanceStatement wraps the predicate in a Statement v1', () => {
  const s = provenanceStatement([{ name: 'app', digest: { sha256: 'ab'.repeat(32) } }], BASE);
  assert.equal(s._type, 'https://in-toto.io/Statement/v1');
  assert.equal(s.predicateType, 'https://slsa.dev/provenance/v1');
  assert.equal(s.predicate?.runDetails.builder.id, 'https://example.com/builder');
  assert.throws(
    () => provenanceStatement([], BASE),
    (e) => isVouchError(e, 'STATEMENT_INVALID'),
  );
});

test('byproducts: name, sha256 and a media type recognised from the content', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-byproducts-'));
  try {
    const files: [string, string, string][] = [
      [
        'sbom.cdx.json',
        JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6' }),
        BYPRODUCT_MEDIA_TYPES.cyclonedx,
      ],
      ['sbom.spdx.json', JSON.stringify({ spdxVersion: 'SPDX-2.3' }), BYPRODUCT_MEDIA_TYPES.spdx],
      ['scan.sarif', JSON.stringify({ version: '2.1.0', runs: [] }), BYPRODUCT_MEDIA_TYPES.sarif],
      ['scan.json', JSON.stringify({ SchemaVersion: 2, Results: [] }), BYPRODUCT_MEDIA_TYPES.json],
      ['notes.txt', 'not json', BYPRODUCT_MEDIA_TYPES.octet],
    ];
    for (const [name, text, mediaType] of files) {
      const p = join(dir, name);
      await writeFile(p, text);
      assert.deepEqual(await byproductFromFile(p), {
        name,
        digest: { sha256: createHash('sha256').update(text).digest('hex') },
        mediaType,
      });
    }
    assert.equal((await byproductFromFile(join(dir, 'notes.txt'), 'text/plain')).mediaType, 'text/plain');
    await assert.rejects(byproductFromFile(join(dir, 'missing.json')), (e) =>
      isVouchError(e, 'FILE_NOT_FOUND'),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('subjects: files by base name and sha256, images by repository and digest', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-subjects-'));
  try {
    await writeFile(join(dir, 'a.bin'), 'A');
    await writeFile(join(dir, 'b.bin'), 'B');
    const subjects = await fileSubjects([join(dir, 'a.bin'), join(dir, 'b.bin')]);
    assert.deepEqual(subjects, [
      { name: 'a.bin', digest: { sha256: createHash('sha256').update('A').digest('hex') } },
      { name: 'b.bin', digest: { sha256: createHash('sha256').update('B').digest('hex') } },
    ]);
    await assert.rejects(
      fileSubjects([join(dir, 'a.bin'), join(dir, 'a.bin')]),
      (e) => isVouchError(e, 'STATEMENT_INVALID') && /both named a\.bin/.test(e.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const digest = `sha256:${'AB'.repeat(32)}`;
  assert.deepEqual(imageSubject('registry.example:5000/team/app', digest), {
    name: 'registry.example:5000/team/app',
    digest: { sha256: 'ab'.repeat(32) },
  });
  const s = imageStatement('ghcr.io/o/app', digest, 'https://cyclonedx.org/bom', { bomFormat: 'CycloneDX' });
  assert.deepEqual(s.subject, [{ name: 'ghcr.io/o/app', digest: { sha256: 'ab'.repeat(32) } }]);
  for (const bad of ['ghcr.io/o/app:1.0', `ghcr.io/o/app@${digest}`, '']) {
    assert.throws(
      () => imageSubject(bad, digest),
      (e) => isVouchError(e, 'STATEMENT_INVALID'),
      bad,
    );
  }
  assert.throws(
    () => imageSubject('ghcr.io/o/app', 'sha256:abc'),
    (e) => isVouchError(e, 'STATEMENT_INVALID'),
  );
});
