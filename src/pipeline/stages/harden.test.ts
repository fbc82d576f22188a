import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { randomImage, writeLayout } from '../../../test/helpers/random-image.ts';
import { makeProject, type Project, runIn } from '../../../test/pipeline/project.ts';
import { describeImage } from '../../image/describe.ts';
import { openSource } from '../../transport/open.ts';
import { hardenCategories } from './harden.ts';

let dir: string;
let p: Project;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-harden-stage-'));
  // A base with a package manager, docs and a cache, run as root.
  const base = await randomImage({
    layers: [
      [
        { name: 'usr/', type: 'directory' },
        { name: 'usr/bin/', type: 'directory' },
        { name: 'usr/bin/apt', content: '#!/bin/sh\n', mode: 0o755 },
        { name: 'usr/bin/dpkg', content: '#!/bin/sh\n', mode: 0o755 },
        { name: 'usr/share/', type: 'directory' },
        { name: 'usr/share/doc/', type: 'directory' },
        { name: 'usr/share/doc/tool/', type: 'directory' },
        { name: 'usr/share/doc/tool/README', content: 'x'.repeat(1000) },
        { name: 'var/', type: 'directory' },
        { name: 'var/cache/', type: 'directory' },
        { name: 'var/cache/fontconfig/', type: 'directory' },
        { name: 'var/cache/fontconfig/cache-4', content: 'y'.repeat(500) },
      ],
    ],
    containerConfig: { User: 'root', Env: ['PATH=/usr/bin'] },
  });
  await writeLayout(join(dir, 'base'), [{ descriptor: base.descriptor, tag: 'v1' }], base.blobs);
  p = await makeProject({
    base: `oci:${join(dir, 'base')}@${base.descriptor.digest}`,
    architectures: ['amd64'],
  });
});
after(async () => {
  await p?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

test('the categories of harden: in vouch.yaml', () => {
  assert.deepEqual(
    hardenCategories({ removePackageManagers: true, removeDocs: true, removeCaches: true, user: 'x' }),
    ['package-managers', 'docs', 'caches'],
  );
  assert.deepEqual(
    hardenCategories({ removePackageManagers: false, removeDocs: true, removeCaches: false, user: 'x' }),
    ['docs'],
  );
});

test('harden removes package managers, docs and caches and sets the non-root user; the test stage then passes', async () => {
  const r = await runIn(p, { stages: ['build', 'harden', 'test'] });
  assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
  const f = r.stages.find((s) => s.stage === 'harden')?.figures.amd64 as Record<string, unknown>;
  assert.equal(f.userAfter, '65532:65532');
  assert.deepEqual(f.byCategory, { 'package-managers': 2, docs: 1, caches: 1 });
  assert.ok((f.removedBytes as number) >= 1500);
  const src = await openSource(`oci:${r.layout}:1.2.3-amd64`);
  const d = await describeImage(src);
  await src.close();
  assert.equal(d.digest, r.images.amd64);
  assert.equal(d.config.user, '65532:65532');
  assert.equal(d.layers.length, 4, 'base, two added layers, one whiteout layer');
});

test('without harden the same image fails the test stage: package managers present', async () => {
  const r = await runIn(p, { stages: ['build', 'test'], workDir: join(dir, 'unhardened') });
  assert.equal(r.exitCode, 1);
  assert.equal(r.failed?.stage, 'test');
  assert.ok(
    r.failed?.details.some((d) => /package managers/.test(d) && /apt|dpkg/.test(d)),
    r.failed?.details.join('\n'),
  );
});
