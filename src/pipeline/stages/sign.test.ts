import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeProject, type Project, runIn } from '../../../test/pipeline/project.ts';
import { parseEnvelope, verifyEnvelope } from '../../attest/dsse.ts';
import { loadVerificationKey } from '../../sign/keys/load.ts';
import { decodeSignature } from '../../store/signature.ts';
import { loadPipelineConfig } from '../config.ts';
import { workArea } from '../work.ts';

let p: Project;
before(async () => {
  p = await makeProject({ architectures: ['amd64'] });
});
after(async () => {
  await p?.cleanup();
});

test('sign: the provenance is signed (DSSE) and every artifact is uploaded with a .sig the public key verifies', async () => {
  const r = await runIn(p, { stages: ['build', 'sbom', 'scan', 'provenance', 'sign'] });
  assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
  const key = await loadVerificationKey(p.publicKey);
  const store = join(p.dir, 'artifacts');
  for (const k of [
    'sboms/amd64/sbom-hello-1.2.3-cyclonedx.json',
    'sboms/amd64/sbom-hello-1.2.3-spdx.json',
    'attestations/amd64/attestation-hello-1.2.3.json',
    'scans/amd64/scan-hello-1.2.3.json',
  ]) {
    const bytes = await readFile(join(store, k));
    const sig = decodeSignature(await readFile(join(store, `${k}.sig`)), k);
    assert.ok(key.verify(bytes, sig), `${k}.sig verifies`);
  }
  const env = parseEnvelope(await readFile(join(store, 'attestations/amd64/attestation-hello-1.2.3.json')));
  verifyEnvelope(env, [key]);
  const files = workArea(await loadPipelineConfig(p.config)).files('amd64');
  assert.deepEqual(
    Buffer.from(env.payload),
    await readFile(files.provenance),
    'the envelope signs the provenance statement',
  );
  assert.deepEqual(r.stages.at(-1)?.figures.amd64, { created: 8, unchanged: 0, replaced: 0, objects: 8 });

  // Signing again keeps the stored envelope (ECDSA would give new bytes) and changes nothing.
  const again = await runIn(p, { stages: ['sign'] });
  assert.deepEqual(again.stages[0]?.figures.amd64, { created: 0, unchanged: 8, replaced: 0, objects: 8 });
  assert.ok(again.events.some((e) => e.event === 'info' && /already signed \(kept\)/.test(e.message)));
});

test('sign: artifacts made for an earlier image are never signed for a rebuilt one', async () => {
  const r = await runIn(p, { stages: ['build', 'sign'], env: { ...p.env, SOURCE_DATE_EPOCH: '1800000000' } });
  assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
  // The rebuild removed the old image's SBOMs, scan and attestation from the work area.
  assert.deepEqual(r.stages[1]?.figures.amd64, { created: 0, unchanged: 0, replaced: 0, objects: 0 });
  const warnings = r.events.filter((e) => e.event === 'warning').map((e) => e.message);
  assert.ok(
    warnings.some((m) => /^no sbom-cyclonedx to upload/.test(m)),
    warnings.join('\n'),
  );
});

test('sign: a wrong passphrase and a missing signing section stop the run, naming the problem', async () => {
  const wrong = await runIn(p, { stages: ['sign'], env: { ...p.env, COSIGN_PASSWORD: 'not it' } });
  assert.equal(wrong.exitCode, 1);
  assert.equal(wrong.failed?.code, 'PASSPHRASE_WRONG');
  await writeFile(
    p.config,
    (await readFile(p.config, 'utf8')).replace(/signing:\n {2}key: cosign\.key\n {2}storage: tag\n/, ''),
  );
  const none = await runIn(p, { stages: ['push'] });
  assert.equal(none.failed?.stage, 'push');
  assert.equal(none.failed?.code, 'PIPELINE_CONFIG_INVALID');
  assert.match(none.failed?.reason ?? '', /never publishes unsigned images/);
  await p.write({ architectures: ['amd64'] });
});
