import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { makeProject, type Project, runIn } from '../../../test/pipeline/project.ts';
import { describeImage } from '../../image/describe.ts';
import { openSource } from '../../transport/open.ts';

let p: Project;
before(async () => {
  p = await makeProject({ architectures: ['amd64'] });
});
after(async () => {
  await p?.cleanup();
});

async function describe(layout: string) {
  const src = await openSource(`oci:${layout}:1.2.3-amd64`);
  try {
    return await describeImage(src);
  } finally {
    await src.close();
  }
}

test('flatten squashes the image into one layer, keeps its config, reports sizes; twice gives the same digest', async () => {
  const built = await runIn(p, { stages: ['build'] });
  const before = await describe(built.layout);
  const r = await runIn(p, { stages: ['flatten'] });
  assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
  const after = await describe(r.layout);
  assert.equal(after.layers.length, 1);
  assert.deepEqual(after.config, before.config);
  const f = r.stages[0]?.figures.amd64 as Record<string, number>;
  assert.deepEqual([f.layersBefore, f.layersAfter], [2, 1]);
  assert.equal(f.sizeBefore, before.size);
  assert.equal(f.sizeAfter, after.size);
  // From the same built image, flattening again gives the same digest.
  await runIn(p, { stages: ['build'] });
  const again = await runIn(p, { stages: ['flatten'] });
  assert.equal(again.images.amd64, r.images.amd64);
});

test('a stage that needs an image fails with IMAGE_NOT_FOUND when no build ran', async () => {
  const q = await makeProject({ architectures: ['amd64'] });
  try {
    const r = await runIn(q, { stages: ['flatten'] });
    assert.equal(r.exitCode, 1);
    assert.equal(r.failed?.code, 'IMAGE_NOT_FOUND');
    assert.match(r.failed?.reason ?? '', /run the build stage first/);
  } finally {
    await q.cleanup();
  }
});
