import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { randomIndex, writeLayout } from '../../../test/helpers/random-image.ts';
import { makeProject, type Project, runIn } from '../../../test/pipeline/project.ts';
import { readProvenance } from '../../attest/provenance/index.ts';
import { parseStatement } from '../../attest/statement.ts';
import { loadPipelineConfig } from '../config.ts';
import { workArea } from '../work.ts';
import { INDEX_ARTIFACTS, VOUCH_BUILD_TYPE, VOUCH_LOCAL_BUILDER } from './provenance.ts';

let p: Project;
before(async () => {
  p = await makeProject();
});
after(async () => {
  await p?.cleanup();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('provenance: one statement per image (byproducts = its SBOMs and scan, by store key) and one for the index', async () => {
  const r = await runIn(p, { stages: ['build', 'sbom', 'scan', 'provenance'] });
  assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
  const work = workArea(await loadPipelineConfig(p.config));
  const files = work.files('arm64');
  const s = parseStatement(await readFile(files.provenance));
  assert.equal(s.predicateType, 'https://slsa.dev/provenance/v1');
  assert.deepEqual(s.subject, [
    { name: '127.0.0.1:5000/team/hello', digest: { sha256: r.images.arm64?.slice(7) } },
  ]);
  const predicate = s.predicate as {
    buildDefinition: {
      buildType: string;
      externalParameters: { config: { path: string; digest: { sha256: string } } };
    };
    runDetails: {
      builder: { id: string };
      byproducts: { name: string; digest: { sha256: string }; mediaType: string }[];
    };
  };
  assert.equal(predicate.buildDefinition.buildType, VOUCH_BUILD_TYPE);
  assert.equal(predicate.runDetails.builder.id, VOUCH_LOCAL_BUILDER);
  assert.deepEqual(predicate.buildDefinition.externalParameters.config, {
    path: 'vouch.yaml',
    digest: { sha256: sha(await readFile(p.config)) },
  });
  assert.deepEqual(
    predicate.runDetails.byproducts.map((b) => [b.name, b.mediaType, b.digest.sha256]),
    [
      [
        'sboms/arm64/sbom-hello-1.2.3-cyclonedx.json',
        'application/vnd.cyclonedx+json',
        sha(await readFile(files.cyclonedx)),
      ],
      ['sboms/arm64/sbom-hello-1.2.3-spdx.json', 'application/spdx+json', sha(await readFile(files.spdx))],
      ['scans/arm64/scan-hello-1.2.3.json', 'application/json', sha(await readFile(files.scan))],
    ],
  );
  const index = parseStatement(await readFile(work.files(INDEX_ARTIFACTS).provenance));
  assert.equal(`sha256:${index.subject[0]?.digest?.sha256}`, r.index);
  assert.equal(
    (index.predicate as { runDetails: { byproducts: unknown[] } }).runDetails.byproducts.length,
    6,
  );
  // No wall-clock time: the same build gives the same statement.
  const before = await readFile(files.provenance);
  await runIn(p, { stages: ['provenance'] });
  assert.deepEqual(await readFile(files.provenance), before);
});

test('provenance in GitHub Actions: the workflow is the builder, the commit the source, the base a dependency', async () => {
  const env = {
    ...p.env,
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/hello',
    GITHUB_REF: 'refs/tags/v1.2.3',
    GITHUB_SHA: 'b'.repeat(40),
    GITHUB_WORKFLOW_REF: 'acme/hello/.github/workflows/release.yml@refs/tags/v1.2.3',
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REPOSITORY_ID: '7',
    GITHUB_REPOSITORY_OWNER_ID: '8',
  };
  const base = await randomIndex();
  const dir = await mkdtemp(join(tmpdir(), 'vouch-provenance-base-'));
  await writeLayout(dir, [{ descriptor: base.descriptor }], base.blobs);
  const q = await makeProject({ base: `oci:${dir}@${base.descriptor.digest}` });
  try {
    const r = await runIn(q, { stages: ['build', 'provenance'], env: { ...q.env, ...env } });
    assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
    const statement = parseStatement(
      await readFile(workArea(await loadPipelineConfig(q.config)).files('amd64').provenance),
    );
    const summary = readProvenance(statement);
    assert.equal(
      summary.builderId,
      'https://github.com/acme/hello/.github/workflows/release.yml@refs/tags/v1.2.3',
    );
    assert.equal(summary.sourceUri, 'git+https://github.com/acme/hello');
    assert.equal(summary.sourceRef, 'refs/tags/v1.2.3');
    assert.deepEqual(summary.sourceDigest, { algorithm: 'gitCommit', value: 'b'.repeat(40) });
    const deps = (statement.predicate as { buildDefinition: { resolvedDependencies: unknown[] } })
      .buildDefinition.resolvedDependencies;
    assert.deepEqual(deps[1], {
      name: `oci:${dir}@${base.descriptor.digest}`,
      digest: { sha256: base.descriptor.digest.slice(7) },
    });
  } finally {
    await q.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
});
