/**
 * Interop with skopeo (containers/image) as the oracle: archives skopeo writes are read by vouch
 * with the same config and diff_ids, and archives vouch writes are read and copied by skopeo.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import {
  legacyArchiveEntries,
  memorySource,
  ociArchiveEntries,
  packEntries,
} from '../../../test/helpers/docker-archive.ts';
import { randomImage, writeLayout } from '../../../test/helpers/random-image.ts';
import { type Digest, digestHex, digestOf } from '../../digest/digest.ts';
import { parseManifest } from '../../oci/manifest.ts';
import { parseReference } from '../../oci/reference.ts';
import type { ImageConfig, ImageIndex, ImageManifest } from '../../oci/types.ts';
import { openDockerArchiveDestination, writeDockerArchive } from './destination.ts';
import { openDockerArchiveSource } from './source.ts';

const run = promisify(execFile);
let dir: string;
let policy: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-docker-archive-skopeo-'));
  policy = join(dir, 'policy.json');
  await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await run('skopeo', ['--policy', policy, ...args], { maxBuffer: 1 << 24 });
  return stdout;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

interface SkopeoManifest {
  config: { digest: string; size: number };
  layers: { digest: string; size: number }[];
}

describe('skopeo interop', () => {
  it('reads what skopeo copy writes to docker-archive', async () => {
    const image = await randomImage({ compression: 'gzip', layerCount: 3 });
    const layout = join(dir, 'layout1');
    await writeLayout(layout, [{ descriptor: image.descriptor, tag: 'v1' }], image.blobs);
    const file = join(dir, 'from-skopeo.tar');
    await skopeo('copy', '--quiet', `oci:${layout}:v1`, `docker-archive:${file}:example.com/team/app:t1`);

    const src = await openDockerArchiveSource(file, { ref: parseReference('example.com/team/app:t1') });
    const manifest = (
      parseManifest(await src.getManifest(await src.resolve())) as { manifest: ImageManifest }
    ).manifest;
    assert.equal(manifest.config.digest, image.configDescriptor.digest);
    assert.deepEqual(
      manifest.layers.map((l) => l.digest),
      image.diffIds,
    );
    for (const l of manifest.layers) assert.equal(digestOf(await collect(await src.openBlob(l))), l.digest);
    await src.close();

    // skopeo's own view of the same archive: same config, same layer digests and sizes
    const theirs = JSON.parse(await skopeo('inspect', '--raw', `docker-archive:${file}`)) as SkopeoManifest;
    assert.equal(theirs.config.digest, manifest.config.digest);
    assert.deepEqual(
      theirs.layers.map((l) => [l.digest, l.size]),
      manifest.layers.map((l) => [l.digest, l.size]),
    );
  });

  it('matches Docker Hub names skopeo writes in full form', async () => {
    const image = await randomImage({ compression: 'none' });
    const layout = join(dir, 'layout2');
    await writeLayout(layout, [{ descriptor: image.descriptor, tag: 'v1' }], image.blobs);
    const file = join(dir, 'hub.tar');
    await skopeo('copy', '--quiet', `oci:${layout}:v1`, `docker-archive:${file}:busybox:1.36`);
    const src = await openDockerArchiveSource(file, { ref: parseReference('busybox:1.36') });
    assert.match(src.name, /busybox:1\.36$/);
    await src.close();
  });

  it('writes an archive skopeo inspects and copies with the same config and layers', async () => {
    const image = await randomImage({ compression: 'none', flavour: 'docker', layerCount: 2 });
    const file = join(dir, 'from-vouch.tar');
    const dst = await openDockerArchiveDestination(file, {
      ref: parseReference('localhost:5000/vouch/test:v1'),
    });
    for (const d of [image.configDescriptor, ...image.layers]) {
      const bytes = image.blobs.get(d.digest)!;
      await dst.putBlob(d, async () =>
        (async function* () {
          yield bytes;
        })(),
      );
    }
    await dst.putManifest(image.descriptor, image.manifest);
    await dst.commit(image.descriptor);
    await dst.close();

    const ref = `docker-archive:${file}:localhost:5000/vouch/test:v1`;
    const theirs = JSON.parse(await skopeo('inspect', '--raw', ref)) as SkopeoManifest;
    assert.equal(theirs.config.digest, image.configDescriptor.digest);
    assert.deepEqual(
      theirs.layers.map((l) => l.digest),
      image.diffIds,
    );
    const config = Buffer.from(await skopeo('inspect', '--config', '--raw', ref));
    assert.equal(digestOf(config.toString().trimEnd()), image.configDescriptor.digest);
    const inspect = JSON.parse(await skopeo('inspect', ref)) as { Layers: string[]; Architecture: string };
    assert.deepEqual(inspect.Layers, image.diffIds);

    // dir: keeps manifest, config and layers byte for byte
    const plain = join(dir, 'copied-dir');
    await skopeo('copy', '--quiet', ref, `dir:${plain}`);
    const dm = JSON.parse(await readFile(join(plain, 'manifest.json'), 'utf8')) as ImageManifest;
    assert.equal(dm.config.digest, image.configDescriptor.digest);
    assert.deepEqual(await readFile(join(plain, digestHex(dm.config.digest))), Buffer.from(image.config));
    for (const [i, l] of dm.layers.entries()) {
      assert.equal(l.digest, image.diffIds[i]);
      assert.equal(digestOf(await readFile(join(plain, digestHex(l.digest)))), l.digest);
    }

    // oci: converts (skopeo rewrites the config and gzips the layers); the diff_ids must survive
    const out = join(dir, 'copied-oci');
    await skopeo('copy', '--quiet', ref, `oci:${out}:copied`);
    const blob = (d: string) => readFile(join(out, 'blobs', 'sha256', d.slice('sha256:'.length)));
    const top = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as ImageIndex;
    const m = JSON.parse((await blob(top.manifests[0]!.digest)).toString()) as ImageManifest;
    const copiedConfig = JSON.parse((await blob(m.config.digest)).toString()) as ImageConfig;
    assert.deepEqual(copiedConfig.rootfs.diff_ids, image.diffIds);
    for (const [i, l] of m.layers.entries()) {
      assert.equal(digestOf(gunzipSync(await blob(l.digest))), image.diffIds[i]);
    }
  });

  it('writes several images that skopeo selects by tag and by @N', async () => {
    const a = await randomImage({ compression: 'gzip' });
    const b = await randomImage({ compression: 'zstd' });
    const file = join(dir, 'many.tar');
    await writeDockerArchive(file, [
      {
        source: memorySource(a.blobs, a.descriptor),
        manifest: a.descriptor,
        tags: [parseReference('app:a')],
      },
      {
        source: memorySource(b.blobs, b.descriptor),
        manifest: b.descriptor,
        tags: [parseReference('app:b')],
      },
    ]);
    for (const [sel, img] of [
      ['app:a', a],
      ['docker.io/library/app:b', b],
      ['@0', a],
      ['@1', b],
    ] as const) {
      const theirs = JSON.parse(
        await skopeo('inspect', '--raw', `docker-archive:${file}:${sel}`),
      ) as SkopeoManifest;
      assert.equal(theirs.config.digest, img.configDescriptor.digest, sel);
      assert.deepEqual(
        theirs.layers.map((l) => l.digest as Digest),
        img.diffIds,
        sel,
      );
    }
  });

  it('the test fixtures (legacy and Docker 25 layouts) read the same in skopeo and vouch', async () => {
    for (const [kind, entries] of [
      ['legacy', legacyArchiveEntries],
      ['oci', ociArchiveEntries],
    ] as const) {
      const image = await randomImage({ compression: 'none' });
      const file = join(dir, `fixture-${kind}.tar`);
      await writeFile(file, await packEntries(entries([{ image, tags: ['fixture:1'] }])));
      const theirs = JSON.parse(await skopeo('inspect', '--raw', `docker-archive:${file}`)) as SkopeoManifest;
      const src = await openDockerArchiveSource(file);
      const ours = (parseManifest(await src.getManifest(await src.resolve())) as { manifest: ImageManifest })
        .manifest;
      await src.close();
      assert.equal(theirs.config.digest, ours.config.digest, kind);
      assert.deepEqual(
        theirs.layers.map((l) => [l.digest, l.size]),
        ours.layers.map((l) => [l.digest, l.size]),
        kind,
      );
    }
  });
});
