import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseDigest } from '../digest/digest.ts';
import { parsePipelineConfig } from './config.ts';
import { archTag, bindArtifacts, boundDigest, workArea } from './work.ts';

const A = parseDigest(`sha256:${'a'.repeat(64)}`);
const B = parseDigest(`sha256:${'b'.repeat(64)}`);

test('the work area sits beside vouch.yaml, per version; artifact files carry the store names', () => {
  const c = parsePipelineConfig(
    'apiVersion: vouch.dev/v1\nkind: Pipeline\nimage: { name: r.example/team/app, version: "2.1" }\nbase: { image: scratch }\n',
    '/p/vouch.yaml',
  );
  const w = workArea(c);
  assert.equal(w.layout, '/p/.vouch/2.1/layout');
  assert.equal(w.files('arm64').cyclonedx, '/p/.vouch/2.1/artifacts/arm64/sbom-app-2.1-cyclonedx.json');
  assert.equal(w.files('arm64').scan, '/p/.vouch/2.1/artifacts/arm64/scan-app-2.1.json');
  assert.equal(archTag('2.1', 'arm64'), '2.1-arm64');
});

test('artifacts made for another image digest are removed when the image changes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-work-'));
  try {
    const c = parsePipelineConfig(
      'apiVersion: vouch.dev/v1\nkind: Pipeline\nimage: { name: r.example/app, version: "1" }\nbase: { image: scratch }\n',
      join(dir, 'vouch.yaml'),
    );
    const w = workArea(c);
    await bindArtifacts(w, 'amd64', A);
    await writeFile(w.files('amd64').scan, '{}');
    await bindArtifacts(w, 'amd64', A);
    assert.equal(await readFile(w.files('amd64').scan, 'utf8'), '{}', 'same image: kept');
    await bindArtifacts(w, 'amd64', B);
    assert.equal(await boundDigest(w, 'amd64'), B);
    await assert.rejects(stat(w.files('amd64').scan), 'another image: removed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
