import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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

test('scan: a fixable HIGH finding fails the gate with exit 4; the trivy JSON report is written anyway', async () => {
  const r = await runIn(p, { stages: ['build', 'sbom', 'scan'] });
  assert.equal(r.exitCode, 4);
  assert.equal(r.failed?.stage, 'scan');
  const f = r.stages[2]?.figures.amd64 as Record<string, unknown>;
  assert.equal(f.decision, 'fail');
  assert.equal(f.kept, 1);
  const report = JSON.parse(
    await readFile(workArea(await loadPipelineConfig(p.config)).files('amd64').scan, 'utf8'),
  ) as {
    SchemaVersion: number;
    CreatedAt: string;
    Metadata: { ImageID?: string };
    Results: { Vulnerabilities?: { VulnerabilityID: string; FixedVersion: string }[] }[];
  };
  assert.equal(report.SchemaVersion, 2);
  assert.equal(report.CreatedAt, '2023-11-14T22:13:20Z');
  const ids = report.Results.flatMap((x) => x.Vulnerabilities ?? []).map((v) => v.VulnerabilityID);
  assert.ok(ids.includes('CVE-2023-5363'), ids.join(', '));
});

test('scan: an exception with a statement and an expiry lets the gate pass, and the report keeps the finding as suppressed', async () => {
  await writeFile(
    join(p.dir, '.trivyignore.yaml'),
    'vulnerabilities:\n  - id: CVE-2023-5363\n    statement: not reachable in this image\n    expired_at: 2999-01-01\n',
  );
  await p.write({ architectures: ['amd64'], vulnerable: true });
  await writeFile(
    p.config,
    (await readFile(p.config, 'utf8')).replace('gate:\n', 'gate:\n  ignoreFile: .trivyignore.yaml\n'),
  );
  const r = await runIn(p, { stages: ['build', 'scan'] });
  assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
  const f = r.stages[1]?.figures.amd64 as Record<string, unknown>;
  assert.deepEqual([f.decision, f.kept], ['pass', 0]);
  const report = await readFile(workArea(await loadPipelineConfig(p.config)).files('amd64').scan, 'utf8');
  assert.match(report, /not reachable in this image/, 'the report says why the finding was set aside');
});

test('scan: a missing advisory database is DB_NOT_FOUND with a hint (exit 1, not a gate failure)', async () => {
  await p.write({ architectures: ['amd64'] });
  await writeFile(
    p.config,
    (await readFile(p.config, 'utf8')).replace(/ {2}db: .*\n/, '  db: ./missing.db\n'),
  );
  const r = await runIn(p, { stages: ['build', 'scan'] });
  assert.equal(r.exitCode, 1);
  assert.equal(r.failed?.code, 'DB_NOT_FOUND');
  assert.match(r.failed?.reason ?? '', /gate\.db/);
});
