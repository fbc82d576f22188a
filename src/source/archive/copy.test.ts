/** The copy engine writing through this destination: capabilities make it hand over what fits. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { memorySource } from '../../../test/helpers/docker-archive.ts';
import { randomImage } from '../../../test/helpers/random-image.ts';
import { copyImage } from '../../copy/copy.ts';
import { parseManifest } from '../../oci/manifest.ts';
import { MediaType } from '../../oci/media-types.ts';
import { parseReference } from '../../oci/reference.ts';
import type { ImageManifest } from '../../oci/types.ts';
import { openDockerArchiveDestination, openDockerArchiveSource } from './docker-archive.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-docker-archive-copy-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('copyImage converts a gzip OCI image into the archive, and archive to archive', async () => {
  const image = await randomImage({ compression: 'gzip', flavour: 'oci', layerCount: 2 });
  const first = join(dir, 'first.tar');
  const dst = await openDockerArchiveDestination(first, { ref: parseReference('copied:1') });
  await copyImage(memorySource(image.blobs, image.descriptor), dst);
  await dst.close();

  const src = await openDockerArchiveSource(first, { ref: parseReference('copied:1') });
  const m = (parseManifest(await src.getManifest(await src.resolve())) as { manifest: ImageManifest })
    .manifest;
  assert.equal(m.config.digest, image.configDescriptor.digest);
  assert.deepEqual(
    m.layers.map((l) => [l.digest, l.mediaType]),
    image.diffIds.map((d) => [d, MediaType.DockerLayer]),
  );
  const second = join(dir, 'second.tar');
  const dst2 = await openDockerArchiveDestination(second, { ref: parseReference('copied:1') });
  await copyImage(src, dst2);
  await dst2.close();
  await src.close();
  // the archive holds no manifest: both synthesize the same one from the same config and layers
  const a = await openDockerArchiveSource(first);
  const b = await openDockerArchiveSource(second);
  assert.deepEqual(await b.resolve(), await a.resolve());
  await a.close();
  await b.close();
});
