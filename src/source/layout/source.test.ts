import assert from 'node:assert/strict';
import { appendFile, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { drain, tempDir } from '../../../test/helpers/layout.ts';
import { randomImage, randomIndex, writeLayout } from '../../../test/helpers/random-image.ts';
import { digestHex, digestOf } from '../../digest/digest.ts';
import { isVouchError } from '../../errors.ts';
import { encodeJson, parseManifest } from '../../oci/manifest.ts';
import { MediaType } from '../../oci/media-types.ts';
import type { Descriptor } from '../../oci/types.ts';
import { openLayoutSource, selectEntry } from './source.ts';

const blobFile = (dir: string, d: Descriptor) => join(dir, 'blobs', 'sha256', digestHex(d.digest));

test('reads a single tagged image byte for byte', async () => {
  await using tmp = await tempDir('layout-src');
  const img = await randomImage({ layerCount: 3 });
  await writeLayout(tmp.path, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  for (const tag of ['v1', undefined]) {
    const src = await openLayoutSource(tmp.path, tag === undefined ? {} : { tag });
    const root = await src.resolve();
    assert.equal(root.digest, img.descriptor.digest);
    assert.equal(root.mediaType, MediaType.OciManifest);
    assert.equal(src.name, tag ? `oci:${tmp.path}:v1` : `oci:${tmp.path}`);
    assert.deepEqual(await src.getManifest(root), img.manifest);
    for (const d of [img.configDescriptor, ...img.layers]) {
      assert.deepEqual(await drain(await src.openBlob(d)), Buffer.from(img.blobs.get(d.digest)!));
    }
    await src.close();
  }
});

test('reads an index with two platforms, docker media types and zstd layers', async () => {
  for (const o of [{}, { flavour: 'docker' as const }, { compression: 'zstd' as const }]) {
    await using tmp = await tempDir('layout-idx');
    const idx = await randomIndex(undefined, o);
    await writeLayout(tmp.path, [{ descriptor: idx.descriptor, tag: 'multi' }], idx.blobs);
    const src = await openLayoutSource(tmp.path, { tag: 'multi' });
    const root = await src.resolve();
    assert.equal(root.digest, idx.descriptor.digest);
    const p = parseManifest(await src.getManifest(root), root.mediaType);
    assert.equal(p.kind, 'index');
    if (p.kind !== 'index') continue;
    assert.equal(p.index.manifests.length, 2);
    for (const [i, child] of p.index.manifests.entries()) {
      const bytes = await src.getManifest(child);
      assert.deepEqual(bytes, idx.images[i]!.manifest);
      for (const l of idx.images[i]!.layers) {
        assert.deepEqual(await drain(await src.openBlob(l)), Buffer.from(idx.blobs.get(l.digest)!));
      }
    }
  }
});

test('tag selection: ambiguous without tag, not found lists tags', async () => {
  await using tmp = await tempDir('layout-tags');
  const a = await randomImage();
  const b = await randomImage();
  const c = await randomImage();
  const blobs = new Map([...a.blobs, ...b.blobs, ...c.blobs]);
  await writeLayout(
    tmp.path,
    [
      { descriptor: a.descriptor, tag: 'v1' },
      { descriptor: b.descriptor, tag: 'v2' },
      { descriptor: c.descriptor },
    ],
    blobs,
  );
  assert.equal(
    (await (await openLayoutSource(tmp.path, { tag: 'v2' })).resolve()).digest,
    b.descriptor.digest,
  );
  const untagged = await openLayoutSource(tmp.path);
  await assert.rejects(
    untagged.resolve(),
    (e) =>
      isVouchError(e, 'IMAGE_AMBIGUOUS') &&
      e.message.includes('3 images') &&
      e.message.includes('v1, v2') &&
      e.message.includes(c.descriptor.digest),
  );
  await assert.rejects(
    (await openLayoutSource(tmp.path, { tag: 'v3' })).resolve(),
    (e) =>
      isVouchError(e, 'IMAGE_NOT_FOUND') && e.message.includes('"v3"') && e.message.includes('tags: v1, v2'),
  );
});

test('an empty layout has no image to resolve', async () => {
  await using tmp = await tempDir('layout-empty');
  await writeLayout(tmp.path, [], new Map());
  await assert.rejects(
    (await openLayoutSource(tmp.path)).resolve(),
    (e) => isVouchError(e, 'IMAGE_NOT_FOUND') && e.message.includes('no images'),
  );
  await assert.rejects(
    (await openLayoutSource(tmp.path, { tag: 'x' })).resolve(),
    (e) => isVouchError(e, 'IMAGE_NOT_FOUND') && e.message.includes('no tagged images'),
  );
});

test('a tag naming something that is not an image is MEDIA_TYPE_UNSUPPORTED', async () => {
  await using tmp = await tempDir('layout-mt');
  const img = await randomImage();
  await writeLayout(tmp.path, [{ descriptor: { ...img.configDescriptor }, tag: 'cfg' }], img.blobs);
  await assert.rejects(
    (await openLayoutSource(tmp.path, { tag: 'cfg' })).resolve(),
    (e) => isVouchError(e, 'MEDIA_TYPE_UNSUPPORTED') && e.message.includes(MediaType.OciConfig),
  );
});

async function tamperSetup() {
  const tmp = await tempDir('layout-tamper');
  const img = await randomImage();
  await writeLayout(tmp.path, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  const src = await openLayoutSource(tmp.path, { tag: 'v1' });
  return { tmp, img, src, layer: img.layers[0]! };
}

test('a changed byte in a layer is DIGEST_MISMATCH naming expected and found', async () => {
  const { tmp, img, src, layer } = await tamperSetup();
  await using _ = tmp;
  const bytes = Buffer.from(img.blobs.get(layer.digest)!);
  bytes[bytes.length >> 1]! ^= 0xff;
  await writeFile(blobFile(tmp.path, layer), bytes);
  await assert.rejects(
    drain(await src.openBlob(layer)),
    (e) =>
      isVouchError(e, 'DIGEST_MISMATCH') &&
      e.message.includes(`expected ${layer.digest}`) &&
      e.message.includes(`found ${digestOf(bytes)}`),
  );
});

test('a truncated or extended layer is SIZE_MISMATCH', async () => {
  const { tmp, src, layer } = await tamperSetup();
  await using _ = tmp;
  await truncate(blobFile(tmp.path, layer), layer.size - 1);
  await assert.rejects(
    drain(await src.openBlob(layer)),
    (e) =>
      isVouchError(e, 'SIZE_MISMATCH') &&
      e.message.includes(`expected ${layer.size} bytes, found ${layer.size - 1}`),
  );
  await truncate(blobFile(tmp.path, layer), layer.size);
  await appendFile(blobFile(tmp.path, layer), 'x');
  await assert.rejects(
    drain(await src.openBlob(layer)),
    (e) => isVouchError(e, 'SIZE_MISMATCH') && e.message.includes(layer.digest),
  );
});

test('a tampered manifest is DIGEST_MISMATCH; a longer one SIZE_MISMATCH', async () => {
  const { tmp, img, src } = await tamperSetup();
  await using _ = tmp;
  const bytes = Buffer.from(img.manifest);
  bytes[bytes.indexOf('layers')] = 'L'.charCodeAt(0);
  await writeFile(blobFile(tmp.path, img.descriptor), bytes);
  await assert.rejects(
    src.getManifest(img.descriptor),
    (e) => isVouchError(e, 'DIGEST_MISMATCH') && e.message.includes(`expected ${img.descriptor.digest}`),
  );
  await writeFile(blobFile(tmp.path, img.descriptor), Buffer.concat([img.manifest, Buffer.from(' ')]));
  await assert.rejects(src.getManifest(img.descriptor), (e) => isVouchError(e, 'SIZE_MISMATCH'));
});

test('missing blobs are BLOB_UNKNOWN naming the digest', async () => {
  const { tmp, img, src, layer } = await tamperSetup();
  await using _ = tmp;
  await rm(blobFile(tmp.path, layer));
  await rm(blobFile(tmp.path, img.descriptor));
  await assert.rejects(
    src.openBlob(layer),
    (e) => isVouchError(e, 'BLOB_UNKNOWN') && e.message.includes(layer.digest),
  );
  await assert.rejects(
    src.getManifest(img.descriptor),
    (e) => isVouchError(e, 'BLOB_UNKNOWN') && e.message.includes(img.descriptor.digest),
  );
});

test('descriptors cannot escape blobs/ and manifests are capped', async () => {
  const { tmp, src, layer } = await tamperSetup();
  await using _ = tmp;
  const evil = { ...layer, digest: 'sha256:../../../../etc/passwd' as never };
  await assert.rejects(src.openBlob(evil), (e) => isVouchError(e, 'DIGEST_INVALID'));
  await assert.rejects(
    src.getManifest({ ...layer, size: 5 * 1024 * 1024 }),
    (e) => isVouchError(e, 'BLOB_TOO_LARGE') && e.message.includes(layer.digest),
  );
});

test('malformed oci-layout and index.json are LAYOUT_INVALID', async () => {
  await using tmp = await tempDir('layout-bad');
  const img = await randomImage();
  const cases: [string, string | undefined, string][] = [
    ['oci-layout', undefined, 'oci-layout file is missing'],
    ['oci-layout', 'not json', 'oci-layout is not JSON'],
    ['oci-layout', '{"imageLayoutVersion":2}', 'no imageLayoutVersion'],
    ['oci-layout', '{"imageLayoutVersion":"2.0.0"}', 'unsupported imageLayoutVersion "2.0.0"'],
    ['index.json', undefined, 'index.json is missing'],
    ['index.json', '{', 'not valid UTF-8 JSON'],
    ['index.json', '[]', 'not a JSON object'],
    ['index.json', '{"schemaVersion":2,"manifests":{}}', 'manifests: must be an array'],
    [
      'index.json',
      '{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:1","size":1}]}',
      'manifests[0].digest',
    ],
    ['index.json', '{"schemaVersion":1,"manifests":[]}', 'schemaVersion'],
    ['index.json', new TextDecoder().decode(img.manifest), 'image manifest, not an image index'],
  ];
  for (const [file, content, fragment] of cases) {
    await writeLayout(tmp.path, [{ descriptor: img.descriptor }], img.blobs);
    if (content === undefined) await rm(join(tmp.path, file));
    else await writeFile(join(tmp.path, file), content);
    await assert.rejects(
      openLayoutSource(tmp.path),
      (e) =>
        isVouchError(e, 'LAYOUT_INVALID') && e.message.includes(tmp.path) && e.message.includes(fragment),
      `${file}: ${content}`,
    );
  }
  await assert.rejects(openLayoutSource(join(tmp.path, 'nope')), (e) => isVouchError(e, 'LAYOUT_INVALID'));
});

test('an index.json without mediaType (older writers) is accepted', async () => {
  await using tmp = await tempDir('layout-nomt');
  const img = await randomImage();
  await writeLayout(tmp.path, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  const index = JSON.parse(await readFile(join(tmp.path, 'index.json'), 'utf8'));
  delete index.mediaType;
  await writeFile(join(tmp.path, 'index.json'), JSON.stringify(index));
  assert.equal(
    (await (await openLayoutSource(tmp.path, { tag: 'v1' })).resolve()).digest,
    img.descriptor.digest,
  );
});

test('listReferrers finds manifests whose subject is the image, also inside indexes', async () => {
  await using tmp = await tempDir('layout-ref');
  const img = await randomImage();
  const other = await randomImage();
  const empty = encodeJson({});
  const emptyDesc: Descriptor = { mediaType: MediaType.OciEmpty, digest: digestOf(empty), size: 2 };
  const sbomLayer = new TextEncoder().encode('{"sbom":true}');
  const sbomDesc: Descriptor = {
    mediaType: 'application/spdx+json',
    digest: digestOf(sbomLayer),
    size: sbomLayer.length,
  };
  const mkReferrer = (artifactType: string, subject: Descriptor) => {
    const bytes = encodeJson({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType,
      config: emptyDesc,
      layers: [sbomDesc],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
    });
    return { bytes, desc: { mediaType: MediaType.OciManifest, digest: digestOf(bytes), size: bytes.length } };
  };
  const sbom = mkReferrer('application/spdx+json', img.descriptor);
  const sig = mkReferrer('application/vnd.dev.cosign.artifact.sig.v1+json', img.descriptor);
  const unrelated = mkReferrer('application/spdx+json', other.descriptor);
  // the signature is reachable only through an index entry
  const idxBytes = encodeJson({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [sig.desc] });
  const idxDesc: Descriptor = {
    mediaType: MediaType.OciIndex,
    digest: digestOf(idxBytes),
    size: idxBytes.length,
  };
  const blobs = new Map([...img.blobs, ...other.blobs]);
  for (const [d, b] of [
    [emptyDesc, empty],
    [sbomDesc, sbomLayer],
    [sbom.desc, sbom.bytes],
    [sig.desc, sig.bytes],
    [unrelated.desc, unrelated.bytes],
    [idxDesc, idxBytes],
  ] as const) {
    blobs.set(d.digest, b);
  }
  const gone = { mediaType: MediaType.OciManifest, digest: digestOf('missing'), size: 7 };
  await writeLayout(
    tmp.path,
    [
      { descriptor: img.descriptor, tag: 'v1' },
      { descriptor: sbom.desc },
      { descriptor: idxDesc },
      { descriptor: unrelated.desc },
      { descriptor: gone },
    ],
    blobs,
  );
  const src = await openLayoutSource(tmp.path, { tag: 'v1' });
  const all = await src.listReferrers!(img.descriptor);
  assert.deepEqual(all.map((d) => d.digest).sort(), [sbom.desc.digest, sig.desc.digest].sort());
  const s = all.find((d) => d.digest === sbom.desc.digest)!;
  assert.equal(s.artifactType, 'application/spdx+json');
  assert.equal(s.annotations?.['org.opencontainers.image.created'], '2024-01-01T00:00:00Z');
  const filtered = await src.listReferrers!(img.descriptor, { artifactType: 'application/spdx+json' });
  assert.deepEqual(
    filtered.map((d) => d.digest),
    [sbom.desc.digest],
  );
  assert.deepEqual(await src.listReferrers!(sbom.desc), []);
});

test('an untagged reference skips signatures and referrers stored beside the image', () => {
  const d = (hex: string, extra: Partial<Descriptor> = {}): Descriptor => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${hex.repeat(64)}` as Descriptor['digest'],
    size: 10,
    ...extra,
  });
  const sigTag = { 'org.opencontainers.image.ref.name': `sha256-${'a'.repeat(64)}.sig` };
  const index = {
    schemaVersion: 2 as const,
    manifests: [d('a'), d('b', { annotations: sigTag }), d('c', { artifactType: 'application/x' })],
  };
  assert.equal(selectEntry(index, undefined, 'oci:x').digest, d('a').digest);
  const two = { ...index, manifests: [...index.manifests, d('e')] };
  assert.throws(
    () => selectEntry(two, undefined, 'oci:x'),
    (e: unknown) => isVouchError(e, 'IMAGE_AMBIGUOUS'),
  );
});
