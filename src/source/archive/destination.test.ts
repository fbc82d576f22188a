import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { memorySource } from '../../../test/helpers/docker-archive.ts';
import { type BuiltImage, randomImage, randomIndex } from '../../../test/helpers/random-image.ts';
import { type Digest, digestHex, digestOf } from '../../digest/digest.ts';
import { isVouchError } from '../../errors.ts';
import { parseManifest } from '../../oci/manifest.ts';
import { MediaType } from '../../oci/media-types.ts';
import { parseReference } from '../../oci/reference.ts';
import type { Descriptor, ImageManifest } from '../../oci/types.ts';
import { indexTar } from '../../util/tar-index.ts';
import type { ImageDestination } from '../types.ts';
import { openDockerArchiveDestination, writeDockerArchive } from './destination.ts';
import { openDockerArchiveSource } from './source.ts';

let root: string;
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-docker-archive-dst-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const d = join(root, `d${n++}`);
  await mkdir(d);
  return d;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

async function expectCode(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isVouchError(e), `expected VouchError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

function blobSource(bytes: Uint8Array) {
  return async () =>
    (async function* () {
      yield bytes;
    })();
}

/** Push a docker-flavoured, uncompressed image through the ImageDestination calls the copy engine makes. */
async function putImage(dst: ImageDestination, image: BuiltImage): Promise<void> {
  for (const d of [image.configDescriptor, ...image.layers]) {
    if (!(await dst.hasBlob(d))) await dst.putBlob(d, blobSource(image.blobs.get(d.digest)!));
  }
  await dst.putManifest(image.descriptor, image.manifest);
  await dst.commit(image.descriptor);
}

async function listing(file: string): Promise<Map<string, string>> {
  const idx = await indexTar(file);
  const out = new Map(idx.entries().map((m) => [m.name, m.type === 'symlink' ? `-> ${m.linkname}` : m.type]));
  await idx.close();
  return out;
}

async function member(file: string, name: string): Promise<string> {
  const idx = await indexTar(file);
  const b = await idx.read(name, 1 << 20);
  await idx.close();
  return Buffer.from(b).toString();
}

describe('openDockerArchiveDestination', () => {
  it('writes the skopeo layout, readable back with the same config and diff_ids', async () => {
    const dir = await freshDir();
    const file = join(dir, 'out.tar');
    const image = await randomImage({ compression: 'none', flavour: 'docker', layerCount: 3 });
    const dst = await openDockerArchiveDestination(file, { ref: parseReference('127.0.0.1:5000/foo:bar') });
    assert.deepEqual(dst.capabilities, { index: false, layerCompression: 'none', manifestFlavour: 'docker' });
    await putImage(dst, image);
    await dst.close();

    const names = await listing(file);
    const hex = (d: Digest) => digestHex(d);
    assert.equal(names.get(`${hex(image.configDescriptor.digest)}.json`), 'file');
    for (const d of image.diffIds) assert.equal(names.get(`${hex(d)}.tar`), 'file');
    const legacyLinks = [...names].filter(([k]) => k.endsWith('/layer.tar'));
    assert.equal(legacyLinks.length, 3);
    for (const [k, v] of legacyLinks) {
      const id = k.slice(0, 64);
      assert.equal(names.get(id), 'directory');
      assert.equal(names.get(`${id}/VERSION`), 'file');
      assert.match(v, /^-> \.\.\/[0-9a-f]{64}\.tar$/);
    }
    const manifestJson = JSON.parse(await member(file, 'manifest.json'));
    assert.deepEqual(manifestJson, [
      {
        Config: `${hex(image.configDescriptor.digest)}.json`,
        RepoTags: ['127.0.0.1:5000/foo:bar'],
        Layers: image.diffIds.map((d) => `${hex(d)}.tar`),
      },
    ]);
    const repositories = JSON.parse(await member(file, 'repositories'));
    const top = JSON.parse(await member(file, `${repositories['127.0.0.1:5000/foo'].bar}/json`));
    assert.equal(top.architecture, 'amd64');
    assert.ok(top.parent, 'the top legacy layer has a parent');

    const src = await openDockerArchiveSource(file, { ref: parseReference('127.0.0.1:5000/foo:bar') });
    const m = parseManifest(await src.getManifest(await src.resolve())) as { manifest: ImageManifest };
    assert.equal(m.manifest.config.digest, image.configDescriptor.digest);
    assert.deepEqual(
      m.manifest.layers.map((l) => l.digest),
      image.diffIds,
    );
    assert.deepEqual(await collect(await src.openBlob(m.manifest.config)), Buffer.from(image.config));
    await src.close();
  });

  it('uses the familiar form for Docker Hub tags and no tag without a ref', async () => {
    const image = await randomImage({ compression: 'none', flavour: 'docker' });
    for (const [ref, tags, repos] of [
      ['docker.io/library/debian:12', ['debian:12'], { debian: '12' }],
      ['someone/app', ['someone/app:latest'], { 'someone/app': 'latest' }],
      [undefined, [], {}],
    ] as const) {
      const file = join(await freshDir(), 'a.tar');
      const dst = await openDockerArchiveDestination(file, ref ? { ref: parseReference(ref) } : {});
      await putImage(dst, image);
      await dst.close();
      assert.deepEqual(JSON.parse(await member(file, 'manifest.json'))[0].RepoTags, tags);
      const repositories = JSON.parse(await member(file, 'repositories'));
      assert.deepEqual(Object.keys(repositories), Object.keys(repos));
      for (const [name, tag] of Object.entries(repos)) assert.ok(repositories[name][tag]);
    }
    await expectCode(
      openDockerArchiveDestination('x.tar', { ref: parseReference(`a@sha256:${'1'.repeat(64)}`) }),
      'USAGE',
    );
  });

  it('is deterministic: the same image written twice gives identical bytes', async () => {
    const image = await randomImage({ compression: 'none', flavour: 'docker' });
    const files: Buffer[] = [];
    for (let i = 0; i < 2; i++) {
      const file = join(await freshDir(), 'same.tar');
      const dst = await openDockerArchiveDestination(file, { ref: parseReference('same:1') });
      await putImage(dst, image);
      await dst.close();
      files.push(await readFile(file));
    }
    assert.ok(files[0]!.equals(files[1]!));
  });

  it('touches FILE only at commit, cleans its staging and temp files', async () => {
    const dir = await freshDir();
    const file = join(dir, 'late.tar');
    const image = await randomImage({ compression: 'none', flavour: 'docker' });
    const dst = await openDockerArchiveDestination(file);
    for (const d of [image.configDescriptor, ...image.layers])
      await dst.putBlob(d, blobSource(image.blobs.get(d.digest)!));
    await dst.putManifest(image.descriptor, image.manifest);
    await assert.rejects(stat(file), { code: 'ENOENT' });
    await dst.commit(image.descriptor);
    assert.ok((await stat(file)).size > 0);
    await dst.close();
    assert.deepEqual(await readdir(dir), ['late.tar']);
    // closing without commit leaves nothing at all
    const dst2 = await openDockerArchiveDestination(join(dir, 'never.tar'));
    await dst2.putBlob(image.configDescriptor, blobSource(image.config));
    await dst2.close();
    assert.deepEqual(await readdir(dir), ['late.tar']);
  });

  it('refuses bad blobs, compressed layers, indexes and unknown roots', async () => {
    const dir = await freshDir();
    const file = join(dir, 'bad.tar');
    const image = await randomImage({ compression: 'none', flavour: 'docker' });
    const dst = await openDockerArchiveDestination(file);
    const layer = image.layers[0]!;
    await expectCode(dst.putBlob(layer, blobSource(randomBytes(layer.size))), 'DIGEST_MISMATCH');
    assert.equal(await dst.hasBlob(layer), false);
    await expectCode(dst.putBlob(layer, blobSource(randomBytes(layer.size + 1))), 'SIZE_MISMATCH');
    await expectCode(dst.commit(image.descriptor), 'MANIFEST_UNKNOWN');
    await dst.putManifest(image.descriptor, image.manifest);
    await dst.putBlob(image.configDescriptor, blobSource(image.config));
    await expectCode(dst.commit(image.descriptor), 'BLOB_UNKNOWN', new RegExp(image.layers[0]!.digest));
    await expectCode(
      dst.putManifest({ ...image.descriptor, digest: digestOf('x') }, image.manifest),
      'DIGEST_MISMATCH',
    );
    const index = await randomIndex(undefined, { flavour: 'docker', compression: 'none' });
    await expectCode(dst.putManifest(index.descriptor, index.index), 'MEDIA_TYPE_UNSUPPORTED');

    const gz = await randomImage({ compression: 'gzip', flavour: 'docker' });
    for (const d of [gz.configDescriptor, ...gz.layers])
      await dst.putBlob(d, blobSource(gz.blobs.get(d.digest)!));
    await dst.putManifest(gz.descriptor, gz.manifest);
    await expectCode(dst.commit(gz.descriptor), 'MANIFEST_INVALID', /need uncompressed layers/);
    await dst.close();
    assert.deepEqual(await readdir(dir), []);
  });

  it('several commits add several images; layers are stored once', async () => {
    const base = [{ name: 'base.txt', content: 'shared base layer' }];
    const a = await randomImage({
      compression: 'none',
      flavour: 'docker',
      layers: [base, [{ name: 'a', content: 'a' }]],
    });
    const b = await randomImage({
      compression: 'none',
      flavour: 'docker',
      layers: [base, [{ name: 'b', content: 'b' }]],
    });
    const file = join(await freshDir(), 'two.tar');
    const dst = await openDockerArchiveDestination(file, { ref: parseReference('multi:1') });
    await putImage(dst, a);
    await putImage(dst, b);
    await dst.close();
    const items = JSON.parse(await member(file, 'manifest.json'));
    assert.equal(items.length, 2);
    assert.deepEqual(items[0].RepoTags, []);
    assert.deepEqual(items[1].RepoTags, ['multi:1']);
    const tars = [...(await listing(file)).keys()].filter((k) => /^[0-9a-f]{64}\.tar$/.test(k));
    assert.equal(tars.length, 3);
  });
});

describe('writeDockerArchive', () => {
  it('writes several tagged images from compressed sources, sharing layers', async () => {
    const base = [
      { name: 'etc/', type: 'directory' as const },
      { name: 'etc/base', content: randomBytes(4000) },
    ];
    const a = await randomImage({ compression: 'gzip', layers: [base, [{ name: 'a', content: 'a' }]] });
    const b = await randomImage({ compression: 'zstd', layers: [base, [{ name: 'b', content: 'b' }]] });
    const file = join(await freshDir(), 'many.tar');
    await writeDockerArchive(file, [
      {
        source: memorySource(a.blobs, a.descriptor, 'a'),
        manifest: a.descriptor,
        tags: [parseReference('app:a')],
      },
      {
        source: memorySource(b.blobs, b.descriptor, 'b'),
        manifest: b.descriptor,
        tags: [parseReference('app:b'), parseReference('ghcr.io/o/app:b')],
      },
    ]);
    const names = [...(await listing(file)).keys()];
    assert.equal(names.filter((k) => /^[0-9a-f]{64}\.tar$/.test(k)).length, 3);
    assert.deepEqual(names, [...names].sort());
    for (const [ref, img] of [
      ['app:a', a],
      ['app:b', b],
      ['ghcr.io/o/app:b', b],
    ] as const) {
      const src = await openDockerArchiveSource(file, { ref: parseReference(ref) });
      const m = parseManifest(await src.getManifest(await src.resolve())) as { manifest: ImageManifest };
      assert.equal(m.manifest.config.digest, img.configDescriptor.digest, ref);
      assert.deepEqual(
        m.manifest.layers.map((l) => [l.digest, l.mediaType]),
        img.diffIds.map((d) => [d, MediaType.DockerLayer]),
      );
      await src.close();
    }
    const repositories = JSON.parse(await member(file, 'repositories'));
    assert.deepEqual(Object.keys(repositories), ['app', 'ghcr.io/o/app']);
    assert.deepEqual(Object.keys(repositories.app), ['a', 'b']);
  });

  it('moves a tag given twice to the later image', async () => {
    const a = await randomImage({ compression: 'gzip' });
    const b = await randomImage({ compression: 'gzip' });
    const file = join(await freshDir(), 'moved.tar');
    const tag = [parseReference('same:tag')];
    await writeDockerArchive(file, [
      { source: memorySource(a.blobs, a.descriptor), manifest: a.descriptor, tags: tag },
      { source: memorySource(b.blobs, b.descriptor), manifest: b.descriptor, tags: tag },
    ]);
    const items = JSON.parse(await member(file, 'manifest.json'));
    assert.deepEqual(
      items.map((i: { RepoTags: string[] }) => i.RepoTags),
      [[], ['same:tag']],
    );
  });

  it('refuses a layer whose content is not its diff_id, and an index; FILE is not created', async () => {
    const dir = await freshDir();
    const file = join(dir, 'never.tar');
    const image = await randomImage({ compression: 'gzip' });
    const other = await randomImage({ compression: 'gzip', layerCount: 1 });
    // a manifest naming other's (valid, verified) layer blob while the config keeps its diff_ids
    const layers: Descriptor[] = [other.layers[0]!, image.layers[1]!];
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: image.configDescriptor,
        layers,
      }),
    );
    const desc: Descriptor = {
      mediaType: MediaType.OciManifest,
      digest: digestOf(bytes),
      size: bytes.byteLength,
    };
    const blobs = new Map([...image.blobs, ...other.blobs, [desc.digest, bytes]]);
    await expectCode(
      writeDockerArchive(file, [{ source: memorySource(blobs, desc), manifest: desc, tags: [] }]),
      'DIGEST_MISMATCH',
      /diff_id/,
    );
    const index = await randomIndex();
    await expectCode(
      writeDockerArchive(file, [
        { source: memorySource(index.blobs, index.descriptor), manifest: index.descriptor, tags: [] },
      ]),
      'MEDIA_TYPE_UNSUPPORTED',
    );
    // the source's own verification failing mid-layer also leaves nothing behind
    const corrupt = new Map(image.blobs);
    corrupt.set(image.layers[1]!.digest, gzipSync(randomBytes(100)));
    await expectCode(
      writeDockerArchive(file, [
        { source: memorySource(corrupt, image.descriptor), manifest: image.descriptor, tags: [] },
      ]),
      'SIZE_MISMATCH',
    );
    assert.deepEqual(await readdir(dir), []);
  });
});
