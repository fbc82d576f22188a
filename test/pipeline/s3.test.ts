/**
 * The pipeline with an S3-compatible artifact store (s3rver on 127.0.0.1) and the real
 * docker-registry: the artifacts of each architecture land in the bucket under the keys
 * with their `.sig`, the signatures verify with the public key, and a re-run leaves every object
 * as it was.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifyCommand } from '../../src/cli/commands/verify.ts';
import { loadVerificationKey } from '../../src/sign/keys/load.ts';
import { fetchArtifact } from '../../src/store/fetch.ts';
import { S3Store } from '../../src/store/s3.ts';
import { listAll } from '../../src/store/store.ts';
import { runCommand } from '../helpers/cli.ts';
import { REGISTRY_BIN, requireBinary, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from '../store/s3-server.ts';
import { makeProject, runIn } from './project.ts';

const skip = await requireBinary(REGISTRY_BIN);
const BUCKET = 'releases';

let s3: TestS3Server;
let reg: TestRegistry;

before(async () => {
  if (skip) return;
  s3 = await startS3Server([BUCKET]);
  reg = await startRegistry();
});
after(async () => {
  await s3?.stop();
  await reg?.stop();
});

test(
  'artifacts go to S3 by architecture, each with a .sig that verifies; a re-run changes no object',
  { skip },
  async () => {
    const name = `${reg.host}/team/s3app`;
    const p = await makeProject({
      name,
      architectures: ['amd64', 'arm64'],
      store: `s3: { endpoint: "${s3.endpoint}", bucket: ${BUCKET}, prefix: team/s3app }`,
    });
    p.env = { ...p.env, ...s3.env };
    const bucket = new S3Store(
      { bucket: BUCKET, prefix: 'team/s3app', endpoint: s3.endpoint, forcePathStyle: true },
      { credentials: S3RVER_CREDENTIALS },
    );
    try {
      const r = await runIn(p);
      assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
      const objects = await listAll(bucket);
      assert.equal(objects.length, 16, objects.map((o) => o.key).join(', '));
      const key = await loadVerificationKey(p.publicKey);
      for (const arch of ['amd64', 'arm64']) {
        for (const k of [
          `sboms/${arch}/sbom-s3app-1.2.3-cyclonedx.json`,
          `sboms/${arch}/sbom-s3app-1.2.3-spdx.json`,
          `attestations/${arch}/attestation-s3app-1.2.3.json`,
          `scans/${arch}/scan-s3app-1.2.3.json`,
        ]) {
          const a = await fetchArtifact(bucket, k, { verify: (b, s) => key.verify(b, s) });
          assert.ok(a.verified, k);
        }
      }
      const sign = r.stages.find((s) => s.stage === 'sign');
      assert.match(String(sign?.figures.store), /^s3:\/\/releases\/team\/s3app/);

      const v = await runCommand(verifyCommand, ['--key', p.publicKey, `${name}:1.2.3`], {
        env: p.env,
        cwd: p.dir,
        rethrow: true,
      });
      assert.equal(v.code, 0, v.stderr);

      const before = new Map<string, string | undefined>();
      for (const o of objects) before.set(o.key, (await bucket.head(o.key))?.sha256);
      const again = await runIn(p);
      assert.equal(again.exitCode, 0, JSON.stringify(again.failed));
      const signFigures = again.stages.find((s) => s.stage === 'sign')?.figures.amd64 as Record<
        string,
        number
      >;
      assert.deepEqual([signFigures.created, signFigures.replaced, signFigures.unchanged], [0, 0, 8]);
      for (const o of await listAll(bucket))
        assert.equal((await bucket.head(o.key))?.sha256, before.get(o.key), o.key);
    } finally {
      await bucket.close();
      await p.cleanup();
    }
  },
);
