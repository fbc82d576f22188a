import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { makeProject, type Project, runIn } from '../../../test/pipeline/project.ts';
import { loadPipelineConfig } from '../config.ts';
import { workArea } from '../work.ts';

let p: Project;
before(async () => {
  p = await makeProject({ architectures: ['amd64'], vulnerable: true });
});
after(async () => {
  await p?.cleanup();
});

test('sbom: CycloneDX and SPDX named as the release (not the work layout), stamped with SOURCE_DATE_EPOCH, same bytes twice', async () => {
  const r = await runIn(p, { stages: ['build', 'sbom'] });
  assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
  const files = workArea(await loadPipelineConfig(p.config)).files('amd64');
  const cdxText = await readFile(files.cyclonedx, 'utf8');
  const cdx = JSON.parse(cdxText) as {
    bomFormat: string;
    metadata: { timestamp: string; component: { name: string; version: string } };
    components: { name: string; version: string; purl: string }[];
  };
  assert.equal(cdx.bomFormat, 'CycloneDX');
  assert.equal(cdx.metadata.timestamp, '2023-11-14T22:13:20Z');
  assert.match(cdx.metadata.component.name, /127\.0\.0\.1:5000\/team\/hello:1\.2\.3-amd64/);
  assert.doesNotMatch(
    cdxText,
    new RegExp(r.workDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    'no local path in the SBOM',
  );
  assert.ok(cdx.components.some((c) => c.name === 'openssl' && c.version === '3.0.11-1~deb12u1'));
  const spdx = JSON.parse(await readFile(files.spdx, 'utf8')) as {
    spdxVersion: string;
    creationInfo: { created: string };
  };
  assert.equal(spdx.spdxVersion, 'SPDX-2.3');
  assert.equal(spdx.creationInfo.created, '2023-11-14T22:13:20Z');
  const f = r.stages[1]?.figures.amd64 as Record<string, unknown>;
  assert.equal(f.packages, 1);
  assert.match(String(f.os), /^debian 12/);

  const again = await runIn(p, { stages: ['sbom'] });
  assert.equal(again.exitCode, 0);
  assert.equal(await readFile(files.cyclonedx, 'utf8'), cdxText);
});
