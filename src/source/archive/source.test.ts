import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import {
  type FixtureImage,
  legacyArchiveEntries,
  ociArchiveEntries,
  packEntries,
  withContent,
} from '../../../test/helpers/docker-archive.ts';
import { type BuiltImage, randomImage, type TarEntry } from '../../../test/helpers/random-image.ts';
import { type Digest, digestHex, digestOf } from '../../digest/digest.ts';
import { isVouchError } from '../../errors.ts';
import { parseManifest } from '../../oci/manifest.ts';
import { MediaType } from '../../oci/media-types.ts';
import { parseReference } from '../../oci/reference.ts';
import type { ImageManifest } from '../../oci/types.ts';
import type { ImageSource } from '../types.ts';
import { openDockerArchiveSource } from './source.ts';

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-docker-archive-src-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function archive(entries: TarEntry[] | Uint8Array, compress?: 'gzip' | 'zstd'): Promise<string> {
  let bytes = entries instanceof Uint8Array ? entries : await packEntries(entries);
  if (compress === 'gzip') bytes = gzipSync(bytes);
  if (compress === 'zstd') bytes = zstdCompressSync(bytes);
  const file = join(dir, `a${n++}.tar`);
  await writeFile(file, bytes);
  return file;
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

async function manifestOf(src: ImageSource): Promise<{ bytes: Uint8Array; manifest: ImageManifest }> {
  const bytes = await src.getManifest(await src.resolve());
  const p = parseManifest(bytes);
  assert.equal(p.kind, 'manifest');
  return { bytes, manifest: (p as { manifest: ImageManifest }).manifest };
}

async function expectCode(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isVouchError(e), `expected VouchError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

/** Every blob the synthesized manifest names reads back as the archive stored it. */
async function checkImage(src: ImageSource, image: BuiltImage, stored: 'as-built' | 'uncompressed') {
  const { manifest } = await manifestOf(src);
  assert.equal(manifest.mediaType, MediaType.DockerManifest);
  assert.equal(manifest.config.mediaType, MediaType.DockerConfig);
  assert.equal(manifest.config.digest, image.configDescriptor.digest);
  assert.deepEqual(await collect(await src.openBlob(manifest.config)), Buffer.from(image.config));
  assert.equal(manifest.layers.length, image.layers.length);
  for (const [i, l] of manifest.layers.entries()) {
    const built = image.layers[i]!;
    const expected = stored === 'as-built' ? built.digest : image.diffIds[i];
    assert.equal(l.digest, expected);
    const bytes = await collect(await src.openBlob(l));
    assert.equal(digestOf(bytes), l.digest);
    assert.equal(bytes.byteLength, l.size);
  }
  return manifest;
}

describe('openDockerArchiveSource: layouts', () => {
  it('reads a legacy archive with uncompressed layers, manifest stable across opens', async () => {
    const image = await randomImage({ compression: 'none', layerCount: 3 });
    const file = await archive(legacyArchiveEntries([{ image, tags: ['foo/bar:1'] }]));
    const src = await openDockerArchiveSource(file);
    assert.equal(src.name, `docker-archive:${file}`);
    const m = await checkImage(src, image, 'uncompressed');
    assert.ok(m.layers.every((l) => l.mediaType === MediaType.DockerLayer));
    const first = await src.resolve();
    assert.equal(first.mediaType, MediaType.DockerManifest);
    await src.close();
    const again = await openDockerArchiveSource(file, { ref: parseReference('foo/bar:1') });
    assert.deepEqual(await again.resolve(), first);
    await again.close();
  });

  it('describes gzip and zstd layers as stored and checks their content against diff_ids', async () => {
    for (const compression of ['gzip', 'zstd'] as const) {
      const image = await randomImage({ compression });
      const file = await archive(legacyArchiveEntries([{ image, tags: null }]));
      const src = await openDockerArchiveSource(file);
      const m = await checkImage(src, image, 'as-built');
      const want = compression === 'gzip' ? MediaType.DockerLayerGzip : MediaType.DockerLayerZstd;
      assert.ok(m.layers.every((l) => l.mediaType === want));
      await src.close();
    }
  });

  it('reads the Docker 25 OCI-in-tar layout, digests taken from blob names', async () => {
    for (const compression of ['none', 'gzip'] as const) {
      const image = await randomImage({ compression });
      const file = await archive(ociArchiveEntries([{ image, tags: ['alpine:3.20'] }]));
      const src = await openDockerArchiveSource(file, {
        ref: parseReference('docker.io/library/alpine:3.20'),
      });
      await checkImage(src, image, 'as-built');
      await src.close();
    }
  });

  it('reads a gzip- or zstd-compressed archive through a temp copy removed on close', async () => {
    const image = await randomImage({ compression: 'none' });
    // os.tmpdir() follows TMPDIR: a private one shows exactly what the source leaves behind
    const privateTmp = await mkdtemp(join(dir, 'tmp-'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = privateTmp;
    try {
      for (const c of ['gzip', 'zstd'] as const) {
        const file = await archive(legacyArchiveEntries([{ image, tags: ['x:1'] }]), c);
        const src = await openDockerArchiveSource(file);
        assert.equal((await readdir(privateTmp)).length, 1);
        await checkImage(src, image, 'uncompressed');
        await src.close();
        assert.deepEqual(await readdir(privateTmp), []);
      }
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});

describe('openDockerArchiveSource: choosing an image', () => {
  let file: string;
  let images: BuiltImage[];
  before(async () => {
    // images 0 and 1 share a base layer: docker writes the second copy as a symlink
    const base = [
      { name: 'etc/', type: 'directory' as const },
      { name: 'etc/os-release', content: 'ID=test\n' },
    ];
    images = await Promise.all(
      [0, 1, 2].map((i) =>
        randomImage({
          compression: 'none',
          layers: [base, [{ name: `app${i}`, content: randomBytes(100 + i) }]],
        }),
      ),
    );
    const fixtures: FixtureImage[] = [
      { image: images[0]!, tags: ['debian:12', 'debian:latest'] },
      { image: images[1]!, tags: ['127.0.0.1:5000/team/app:v2'] },
      { image: images[2]!, tags: null },
    ];
    file = await archive(legacyArchiveEntries(fixtures));
  });

  it('selects by RepoTags, normalising Docker Hub names', async () => {
    for (const [ref, i] of [
      ['debian:12', 0],
      ['docker.io/library/debian:12', 0],
      ['index.docker.io/library/debian', 0],
      ['127.0.0.1:5000/team/app:v2', 1],
    ] as const) {
      const src = await openDockerArchiveSource(file, { ref: parseReference(ref) });
      const { manifest } = await manifestOf(src);
      assert.equal(manifest.config.digest, images[i]!.configDescriptor.digest, ref);
      await src.close();
    }
  });

  it('selects by @N, following a symlinked shared layer', async () => {
    const src = await openDockerArchiveSource(file, { index: 1 });
    assert.equal(src.name, `docker-archive:${file}:@1`);
    const { manifest } = await manifestOf(src);
    assert.equal(images[1]!.diffIds[0], images[0]!.diffIds[0]);
    assert.equal(manifest.layers[0]!.digest, images[0]!.diffIds[0]);
    const bytes = await collect(await src.openBlob(manifest.layers[0]!));
    assert.equal(digestOf(bytes), images[0]!.diffIds[0]);
    await src.close();
    const untagged = await openDockerArchiveSource(file, { index: 2 });
    assert.equal((await manifestOf(untagged)).manifest.config.digest, images[2]!.configDescriptor.digest);
    await untagged.close();
  });

  it('explains ambiguity, misses and bad selectors', async () => {
    await expectCode(
      openDockerArchiveSource(file),
      'IMAGE_AMBIGUOUS',
      /3 images: @0 debian:12, debian:latest; @1 127\.0\.0\.1:5000\/team\/app:v2; @2 \(untagged\)/,
    );
    await expectCode(
      openDockerArchiveSource(file, { ref: parseReference('debian:11') }),
      'IMAGE_NOT_FOUND',
      /no image tagged debian:11; it holds @0 debian:12/,
    );
    await expectCode(
      openDockerArchiveSource(file, { ref: parseReference('other.example/debian:12') }),
      'IMAGE_NOT_FOUND',
    );
    await expectCode(openDockerArchiveSource(file, { index: 3 }), 'IMAGE_NOT_FOUND', /@3 is out of range/);
    await expectCode(openDockerArchiveSource(file, { index: 0, ref: parseReference('debian:12') }), 'USAGE');
    const d = `sha256:${'a'.repeat(64)}`;
    await expectCode(openDockerArchiveSource(file, { ref: parseReference(`debian@${d}`) }), 'USAGE');
  });

  it('checks a tag@digest pin against the synthesized manifest', async () => {
    const src = await openDockerArchiveSource(file, { ref: parseReference('debian:12') });
    const digest = (await src.resolve()).digest;
    await src.close();
    const pinned = await openDockerArchiveSource(file, { ref: parseReference(`debian:12@${digest}`) });
    await pinned.close();
    await expectCode(
      openDockerArchiveSource(file, { ref: parseReference(`debian:12@sha256:${'b'.repeat(64)}`) }),
      'DIGEST_MISMATCH',
    );
  });

  it('refuses an empty archive list', async () => {
    const empty = await archive([{ name: 'manifest.json', content: '[]' }]);
    await expectCode(openDockerArchiveSource(empty), 'IMAGE_NOT_FOUND', /holds no images/);
  });
});

describe('openDockerArchiveSource: damaged archives', () => {
  let image: BuiltImage;
  let gz: BuiltImage;
  let legacy: TarEntry[];
  let layerPath: string;
  before(async () => {
    image = await randomImage({ compression: 'none' });
    gz = await randomImage({ compression: 'gzip' });
    legacy = legacyArchiveEntries([{ image, tags: ['t:1'] }]);
    layerPath = (
      JSON.parse(String(legacy.find((e) => e.name === 'manifest.json')!.content)) as { Layers: string[] }[]
    )[0]!.Layers[1]!;
  });

  function manifestJson(
    entries: TarEntry[],
    edit: (items: Record<string, unknown>[]) => unknown,
  ): TarEntry[] {
    const items = JSON.parse(String(entries.find((e) => e.name === 'manifest.json')!.content));
    return withContent(entries, 'manifest.json', JSON.stringify(edit(items)));
  }

  it('layer content that is not its diff_id: DIGEST_MISMATCH when opening', async () => {
    const other = await randomImage({ compression: 'none', layerCount: 1 });
    const file = await archive(withContent(legacy, layerPath, other.blobs.get(other.layers[0]!.digest)!));
    await expectCode(openDockerArchiveSource(file), 'DIGEST_MISMATCH', /rootfs\.diff_ids\[1\]/);
    // a compressed layer is decompressed to check it
    const gzEntries = legacyArchiveEntries([{ image: gz, tags: null }]);
    const gzLayer = (
      JSON.parse(String(gzEntries.find((e) => e.name === 'manifest.json')!.content)) as {
        Layers: string[];
      }[]
    )[0]!.Layers[0]!;
    const wrong = gzipSync(other.blobs.get(other.layers[0]!.digest)!);
    await expectCode(
      openDockerArchiveSource(await archive(withContent(gzEntries, gzLayer, wrong))),
      'DIGEST_MISMATCH',
    );
  });

  it('a blobs/sha256 layer that does not match its name: DIGEST_MISMATCH when streamed', async () => {
    for (const img of [image, gz]) {
      const entries = ociArchiveEntries([{ image: img, tags: null }]);
      const name = `blobs/sha256/${digestHex(img.layers[0]!.digest)}`;
      const orig = img.blobs.get(img.layers[0]!.digest)!;
      const bad = Buffer.from(orig);
      bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
      const src = await openDockerArchiveSource(await archive(withContent(entries, name, bad)));
      const { manifest } = await manifestOf(src);
      await expectCode(
        collect(await src.openBlob(manifest.layers[0]!)),
        'DIGEST_MISMATCH',
        /expected sha256:/,
      );
      await src.close();
    }
  });

  it('an uncompressed blobs/sha256 layer whose name is not its diff_id: DIGEST_MISMATCH', async () => {
    const other = await randomImage({ compression: 'none', layerCount: 1 });
    const entries = ociArchiveEntries([{ image, tags: null }]);
    const od = other.layers[0]!.digest;
    const swapped = manifestJson(
      [...entries, { name: `blobs/sha256/${digestHex(od)}`, content: other.blobs.get(od)! }],
      (items) => {
        (items[0]!.Layers as string[])[0] = `blobs/sha256/${digestHex(od)}`;
        return items;
      },
    );
    await expectCode(openDockerArchiveSource(await archive(swapped)), 'DIGEST_MISMATCH', /diff_ids\[0\]/);
  });

  it('a tampered or renamed config: DIGEST_MISMATCH', async () => {
    const configName = `${digestHex(image.configDescriptor.digest)}.json`;
    const tampered = Buffer.from(image.config).toString().replace('"amd64"', '"arm64"');
    await expectCode(
      openDockerArchiveSource(await archive(withContent(legacy, configName, tampered))),
      'DIGEST_MISMATCH',
      new RegExp(`config ${configName}`),
    );
    const fakeName = `${createHash('sha256').update('x').digest('hex')}.json`;
    const renamed = manifestJson(
      legacy.map((e) => (e.name === configName ? { ...e, name: fakeName } : e)),
      (items) => {
        items[0]!.Config = fakeName;
        return items;
      },
    );
    await expectCode(openDockerArchiveSource(await archive(renamed)), 'DIGEST_MISMATCH');
    const ociEntries = ociArchiveEntries([{ image, tags: null }]);
    const ociConfig = `blobs/sha256/${digestHex(image.configDescriptor.digest)}`;
    await expectCode(
      openDockerArchiveSource(await archive(withContent(ociEntries, ociConfig, tampered))),
      'DIGEST_MISMATCH',
    );
  });

  it('missing members, bad paths and malformed manifest.json: ARCHIVE_INVALID naming the problem', async () => {
    const noLayer = legacy.filter((e) => e.name !== layerPath);
    await expectCode(
      openDockerArchiveSource(await archive(noLayer)),
      'ARCHIVE_INVALID',
      new RegExp(`Layers\\[1\\] "${layerPath}": member "${layerPath}" is missing`),
    );
    const configName = `${digestHex(image.configDescriptor.digest)}.json`;
    await expectCode(
      openDockerArchiveSource(await archive(legacy.filter((e) => e.name !== configName))),
      'ARCHIVE_INVALID',
      /Config: member "[0-9a-f]{64}\.json" is missing/,
    );
    await expectCode(
      openDockerArchiveSource(await archive(legacy.filter((e) => e.name !== 'manifest.json'))),
      'ARCHIVE_INVALID',
      /no manifest\.json/,
    );
    for (const [content, re] of [
      ['{not json', /not valid JSON/],
      ['{"Config":"x"}', /must be a JSON array/],
      [
        '[{"RepoTags":["a:1"],"Layers":"x.tar"}]',
        /manifest\.json\[0\]\.Config: missing; manifest\.json\[0\]\.Layers/,
      ],
      ['[{"Config":"c.json","RepoTags":[1],"Layers":[]}]', /manifest\.json\[0\]\.RepoTags/],
      ['[3]', /manifest\.json\[0\]: not an object/],
    ] as const) {
      await expectCode(
        openDockerArchiveSource(await archive(withContent(legacy, 'manifest.json', content))),
        'ARCHIVE_INVALID',
        re,
      );
    }
    const escaping = manifestJson(legacy, (items) => {
      (items[0]!.Layers as string[])[0] = '../../etc/passwd';
      return items;
    });
    await expectCode(
      openDockerArchiveSource(await archive(escaping)),
      'ARCHIVE_INVALID',
      /leaves the archive/,
    );
    await expectCode(
      openDockerArchiveSource(await archive([...legacy, { name: '../evil', content: 'x' }])),
      'ARCHIVE_INVALID',
      /"\.\.\/evil".*leaves the archive/,
    );
    const badTag = withContent(
      legacy,
      'manifest.json',
      JSON.stringify([{ Config: configName, RepoTags: ['UPPER:1'], Layers: [] }]),
    );
    await expectCode(
      openDockerArchiveSource(await archive(badTag), { ref: parseReference('t:1') }),
      'ARCHIVE_INVALID',
      /RepoTags\[0\] "UPPER:1"/,
    );
  });

  it('a layer count that differs from rootfs.diff_ids: ARCHIVE_INVALID', async () => {
    const short = manifestJson(legacy, (items) => {
      (items[0]!.Layers as string[]).pop();
      return items;
    });
    await expectCode(
      openDockerArchiveSource(await archive(short)),
      'ARCHIVE_INVALID',
      /lists 1 layers but .* has 2/,
    );
  });

  it('unknown blobs and manifests; bytes changed after opening are caught when streamed', async () => {
    const file = await archive(legacy);
    const src = await openDockerArchiveSource(file);
    const { manifest } = await manifestOf(src);
    const unknown = { ...manifest.config, digest: `sha256:${'c'.repeat(64)}` as Digest };
    await expectCode(src.openBlob(unknown), 'BLOB_UNKNOWN');
    await expectCode(src.getManifest(unknown), 'MANIFEST_UNKNOWN');
    // flip one byte inside the last layer's data, in place
    const layer = manifest.layers[1]!;
    const raw = image.blobs.get(layer.digest)!;
    const whole = await packEntries(legacy);
    const at = Buffer.from(whole).indexOf(Buffer.from(raw));
    assert.ok(at > 0);
    const fh = await open(file, 'r+');
    await fh.write(Buffer.from([raw[600]! ^ 0xff]), 0, 1, at + 600);
    await fh.close();
    await expectCode(collect(await src.openBlob(layer)), 'DIGEST_MISMATCH');
    await src.close();
  });
});
