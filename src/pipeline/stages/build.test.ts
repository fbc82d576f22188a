import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { randomImage, randomIndex, writeLayout } from '../../../test/helpers/random-image.ts';
import { makeProject, type Project, runIn } from '../../../test/pipeline/project.ts';
import { describeImage } from '../../image/describe.ts';
import { openSource } from '../../transport/open.ts';

let p: Project;
let scratch: string;
before(async () => {
  p = await makeProject();
  scratch = await mkdtemp(join(tmpdir(), 'vouch-build-stage-'));
});
after(async () => {
  await p?.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

async function describe(layout: string, tag: string) {
  const src = await openSource(`oci:${layout}:${tag}`);
  try {
    return await describeImage(src);
  } finally {
    await src.close();
  }
}

test('build: one image per architecture with the config of vouch.yaml and the release labels', async () => {
  const r = await runIn(p, { stages: ['build'] });
  assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
  const amd = await describe(r.layout, '1.2.3-amd64');
  const arm = await describe(r.layout, '1.2.3-arm64');
  assert.equal(amd.platform, 'linux/amd64');
  assert.equal(arm.platform, 'linux/arm64');
  assert.equal(amd.digest, r.images.amd64);
  assert.deepEqual(amd.config, {
    user: '65532:65532',
    env: ['PATH=/app:/usr/bin:/bin', 'GREETING=hello'],
    entrypoint: ['/app/hello.sh'],
    cmd: ['--once'],
    workingDir: '/app',
    exposedPorts: ['8080/tcp'],
    volumes: ['/data'],
    stopSignal: 'SIGTERM',
    labels: {
      'org.opencontainers.image.title': 'hello',
      'org.opencontainers.image.version': '1.2.3',
      'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
    },
  });
  assert.equal(amd.created, '2023-11-14T22:13:20Z');
  assert.equal(amd.layers.length, 2);
  // The layers do not depend on the architecture: the same blobs serve both images.
  assert.deepEqual(
    amd.layers.map((l) => l.digest),
    arm.layers.map((l) => l.digest),
  );
});

test('build is reproducible: another work area and other file times give the same digests; another epoch does not', async () => {
  const first = await runIn(p, { stages: ['build'], workDir: join(scratch, 'a') });
  await utimes(join(p.dir, 'app', 'hello.sh'), new Date(), new Date(2001, 1, 1));
  const second = await runIn(p, { stages: ['build'], workDir: join(scratch, 'b') });
  assert.deepEqual(second.images, first.images);
  const later = await runIn(p, {
    stages: ['build'],
    workDir: join(scratch, 'c'),
    env: { ...p.env, SOURCE_DATE_EPOCH: '1700000001' },
  });
  assert.notEqual(later.images.amd64, first.images.amd64);
});

test('build: source and revision labels come from the CI environment (GitHub Actions)', async () => {
  const env = {
    ...p.env,
    GITHUB_ACTIONS: 'true',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/hello',
    GITHUB_REF: 'refs/tags/v1.2.3',
    GITHUB_SHA: 'a'.repeat(40),
    GITHUB_WORKFLOW_REF: 'acme/hello/.github/workflows/release.yml@refs/tags/v1.2.3',
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REPOSITORY_ID: '7',
    GITHUB_REPOSITORY_OWNER_ID: '8',
  };
  const r = await runIn(p, { stages: ['build'], env, workDir: join(scratch, 'ci') });
  assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
  const d = await describe(r.layout, '1.2.3-amd64');
  assert.equal(d.config.labels['org.opencontainers.image.source'], 'https://github.com/acme/hello');
  assert.equal(d.config.labels['org.opencontainers.image.revision'], 'a'.repeat(40));
});

test('build on a pinned base index: each architecture gets its platform of the base, config inherited', async () => {
  const base = await randomIndex(
    [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ],
    {
      containerConfig: {
        Env: ['PATH=/usr/bin', 'LANG=C.UTF-8'],
        Cmd: ['/bin/sh'],
        Labels: { vendor: 'base' },
      },
    },
  );
  const dir = join(scratch, 'base');
  await writeLayout(dir, [{ descriptor: base.descriptor, tag: 'v1' }], base.blobs);
  const q = await makeProject({ base: `oci:${dir}@${base.descriptor.digest}` });
  try {
    const r = await runIn(q, { stages: ['build'] });
    assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
    for (const [i, arch] of ['amd64', 'arm64'].entries()) {
      const d = await describe(r.layout, `1.2.3-${arch}`);
      const baseImage = base.images[i]!;
      assert.deepEqual(
        d.layers.slice(0, 2).map((l) => l.digest),
        baseImage.layers.map((l) => l.digest),
        `${arch}: base layers first`,
      );
      assert.equal(d.layers.length, 4);
      // PATH replaced in place, LANG kept, GREETING appended; the entrypoint clears the base's Cmd.
      assert.deepEqual(d.config.env, ['PATH=/app:/usr/bin:/bin', 'LANG=C.UTF-8', 'GREETING=hello']);
      assert.deepEqual(d.config.cmd, ['--once']);
      assert.equal(d.config.labels.vendor, 'base');
    }
    const src = await openSource(`oci:${r.layout}:1.2.3-amd64`);
    const manifest = JSON.parse(Buffer.from(await src.getManifest(await src.resolve())).toString()) as {
      annotations: Record<string, string>;
    };
    await src.close();
    assert.equal(manifest.annotations['org.opencontainers.image.base.digest'], base.descriptor.digest);
  } finally {
    await q.cleanup();
  }
});

test('build refuses a base image of another architecture, naming both platforms', async () => {
  const base = await randomImage({ platform: { os: 'linux', architecture: 'amd64' } });
  const dir = join(scratch, 'single');
  await writeLayout(dir, [{ descriptor: base.descriptor, tag: 'v1' }], base.blobs);
  const q = await makeProject({ base: `oci:${dir}@${base.descriptor.digest}`, architectures: ['arm64'] });
  try {
    const r = await runIn(q, { stages: ['build'] });
    assert.equal(r.exitCode, 1);
    assert.equal(r.failed?.stage, 'build');
    assert.equal(r.failed?.code, 'PLATFORM_NOT_FOUND');
    assert.match(r.failed?.reason ?? '', /linux\/amd64 only; cannot build linux\/arm64/);
  } finally {
    await q.cleanup();
  }
});

test('build: a layer source that does not exist fails the stage with FILE_NOT_FOUND naming it', async () => {
  const q = await makeProject();
  await writeFile(q.config, (await readFile(q.config, 'utf8')).replace('source: ./data', 'source: ./nope'));
  try {
    const r = await runIn(q, { stages: ['build'] });
    assert.equal(r.exitCode, 1);
    assert.equal(r.failed?.code, 'FILE_NOT_FOUND');
    assert.match(r.failed?.reason ?? '', /layer source .*\/nope/);
  } finally {
    await q.cleanup();
  }
});
