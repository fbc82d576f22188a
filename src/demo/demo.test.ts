import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers/layout.ts';
import { describeImage } from '../image/describe.ts';
import { openSource } from '../transport/open.ts';
import { buildExample, EXAMPLE_DIR, runDemo } from './demo.ts';

test('the demo builds reproducibly, keeps digests across archives and rejects tampering', async () => {
  await using w = await tempDir('demo');
  const lines: string[] = [];
  const r = await runDemo({ workDir: w.path, log: (l) => lines.push(l) });
  assert.equal(r.reproducible, true);
  assert.match(r.tamperRejected, /^DIGEST_MISMATCH/);
  const d = await describeImage(await openSource(r.image));
  assert.equal(d.digest, r.digest);
  assert.equal(d.config.user, '65532:65532');
  assert.deepEqual(d.config.exposedPorts, ['8080/tcp']);
  const oci = await describeImage(await openSource(`oci-archive:${r.archives.oci}:1.0.0-amd64`));
  assert.equal(oci.digest, r.digest);
  const flat = await describeImage(await openSource(r.flattened));
  assert.equal(flat.layers.length, 1);
  assert.deepEqual(flat.config, d.config);
  assert.ok(lines.some((l) => l.includes('identical digest')));
});

test('a different SOURCE_DATE_EPOCH gives a different digest, the same one gives the same', async () => {
  await using w = await tempDir('demo-epoch');
  const a = await buildExample(EXAMPLE_DIR, `oci:${w.path}/a:x`, `${w.path}/wa`, 1);
  const b = await buildExample(EXAMPLE_DIR, `oci:${w.path}/b:x`, `${w.path}/wb`, 2);
  const c = await buildExample(EXAMPLE_DIR, `oci:${w.path}/c:x`, `${w.path}/wc`, 1);
  assert.notEqual(a.digest, b.digest);
  assert.equal(a.digest, c.digest);
});
