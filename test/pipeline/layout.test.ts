/**
 * The pipeline offline: the bundled example built, checked, signed and published into an OCI
 * layout standing in for the registry (no network, no daemon), verified as a consumer would; a
 * failing image test and a failing gate each stop the run with their exit code, keep the image in
 * the work layout and publish nothing; the CLI's JSON log and exit codes.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pipelineCommand } from '../../src/cli/commands/pipeline.ts';
import { verifyCommand } from '../../src/cli/commands/verify.ts';
import { verifyAttestationCommand } from '../../src/cli/commands/verify-attestation.ts';
import { isVouchError } from '../../src/errors.ts';
import { STAGES } from '../../src/pipeline/schema.ts';
import { openLayoutSource } from '../../src/source/layout/layout.ts';
import { runCommand } from '../helpers/cli.ts';
import { makeProject, type Project, runIn, snapshot } from './project.ts';

let p: Project;

before(async () => {
  p = await makeProject({ target: 'oci:./release' });
});
after(async () => {
  await p?.cleanup();
});

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function tagsOf(layout: string): Promise<string[]> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
    manifests: { annotations?: Record<string, string> }[];
  };
  return index.manifests
    .map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '')
    .filter(Boolean);
}

test('every stage runs in order into an OCI layout target; the result verifies; a re-run is identical', async () => {
  const r = await runIn(p);
  assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
  assert.deepEqual(
    r.stages.map((s) => `${s.stage}:${s.status}`),
    STAGES.map((s) => `${s}:ok`),
  );
  // Each stage logged start, then end with a duration and figures.
  for (const stage of STAGES) {
    const start = r.events.findIndex((e) => e.event === 'stage-start' && e.stage === stage);
    const end = r.events.findIndex((e) => e.event === 'stage-end' && e.stage === stage);
    assert.ok(start >= 0 && end > start, stage);
    const e = r.events[end];
    assert.ok(e?.event === 'stage-end' && e.durationMs >= 0 && Object.keys(e.figures).length > 0, stage);
  }
  const flatten = r.stages.find((s) => s.stage === 'flatten')?.figures.amd64 as Record<string, number>;
  assert.equal(flatten.layersAfter, 1);
  assert.ok(Number(flatten.sizeBefore) > 0 && Number(flatten.sizeAfter) > 0);

  const release = join(p.dir, 'release');
  assert.deepEqual((await tagsOf(release)).filter((t) => !t.startsWith('sha256-')).sort(), [
    '1.2.3',
    '1.2.3-amd64',
    '1.2.3-arm64',
  ]);
  assert.equal(r.pinned, `127.0.0.1:5000/team/hello:1.2.3@${r.index} (oci:${release}:1.2.3)`);
  const end = r.events.at(-1);
  assert.ok(end?.event === 'run-end' && end.status === 'ok' && end.exitCode === 0);
  assert.equal(end.summary.pinned, r.pinned);

  // As a consumer: vouch verify and verify-attestation with the public key.
  const io = { env: p.env, cwd: p.dir, rethrow: true };
  for (const tag of ['1.2.3-amd64', '1.2.3-arm64', '1.2.3']) {
    const v = await runCommand(verifyCommand, ['--key', p.publicKey, `oci:${release}:${tag}`], io);
    assert.equal(v.code, 0, v.stderr);
  }
  const att = await runCommand(
    verifyAttestationCommand,
    ['--key', p.publicKey, '--type', 'slsaprovenance1', `oci:${release}:1.2.3-arm64`],
    io,
  );
  assert.equal(att.code, 0, att.stderr);

  // The store: four artifacts per architecture, each with its .sig, at the keys.
  const store = await snapshot(join(p.dir, 'artifacts'));
  for (const arch of ['amd64', 'arm64']) {
    for (const key of [
      `sboms/${arch}/sbom-hello-1.2.3-cyclonedx.json`,
      `sboms/${arch}/sbom-hello-1.2.3-spdx.json`,
      `attestations/${arch}/attestation-hello-1.2.3.json`,
      `scans/${arch}/scan-hello-1.2.3.json`,
    ]) {
      assert.ok(store.has(key) && store.has(`${key}.sig`), key);
    }
  }
  // The provenance names the SBOMs and the scan report by store key and digest.
  const envelope = JSON.parse(
    Buffer.from(store.get('attestations/amd64/attestation-hello-1.2.3.json') ?? '', 'base64').toString(),
  ) as {
    payload: string;
  };
  const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString()) as {
    subject: { digest: { sha256: string } }[];
    predicate: { runDetails: { byproducts: { name: string; digest: { sha256: string } }[] } };
  };
  assert.equal(`sha256:${statement.subject[0]?.digest.sha256}`, r.images.amd64);
  const cdx = statement.predicate.runDetails.byproducts.find(
    (b) => b.name === 'sboms/amd64/sbom-hello-1.2.3-cyclonedx.json',
  );
  const cdxBytes = Buffer.from(store.get('sboms/amd64/sbom-hello-1.2.3-cyclonedx.json') ?? '', 'base64');
  const { createHash } = await import('node:crypto');
  assert.equal(cdx?.digest.sha256, createHash('sha256').update(cdxBytes).digest('hex'));

  const layoutBefore = await snapshot(release);
  const again = await runIn(p);
  assert.equal(again.exitCode, 0);
  assert.deepEqual(again.images, r.images);
  assert.equal(again.index, r.index);
  assert.deepEqual(await snapshot(join(p.dir, 'artifacts')), store, 'the store is unchanged');
  assert.deepEqual(await snapshot(release), layoutBefore, 'the target layout is unchanged');
});

test('a failing image test stops the run (exit 1) before anything is signed or published; the image stays', async () => {
  const q = await makeProject({ target: 'oci:./release', testFiles: ['{ path: /app/missing.sh }'] });
  try {
    const r = await runIn(q);
    assert.equal(r.exitCode, 1);
    assert.equal(r.failed?.stage, 'test');
    assert.match(r.failed?.reason ?? '', /^2 image check\(s\) failed$/);
    assert.ok(
      r.failed?.details.some((d) => /amd64: .*\/app\/missing\.sh/.test(d)),
      r.failed?.details.join('\n'),
    );
    assert.deepEqual(
      r.stages.map((s) => s.stage),
      ['build', 'harden', 'flatten', 'test'],
    );
    const end = r.events.at(-1);
    assert.ok(end?.event === 'run-end' && end.failedStage === 'test' && end.exitCode === 1);
    // The failed image is still in the work layout, under its tag.
    const src = await openLayoutSource(r.layout, { tag: '1.2.3-amd64' });
    assert.equal((await src.resolve()).digest, r.images.amd64);
    await src.close();
    assert.equal(await exists(join(q.dir, 'release')), false, 'nothing was published');
    assert.equal(await exists(join(q.dir, 'artifacts')), false, 'nothing was uploaded');
  } finally {
    await q.cleanup();
  }
});

test('a failing gate stops the run with exit code 4 (as vouch scan) and names the finding; the image stays', async () => {
  const q = await makeProject({ target: 'oci:./release', vulnerable: true, architectures: ['amd64'] });
  try {
    const r = await runIn(q);
    assert.equal(r.exitCode, 4);
    assert.equal(r.failed?.stage, 'scan');
    assert.match(r.failed?.reason ?? '', /gate failed: 1 finding/);
    assert.ok(
      r.failed?.details.some((d) =>
        /amd64: CVE-2023-5363 HIGH in openssl 3\.0\.11-1~deb12u1 \(fixed in 3\.0\.11-1~deb12u2\)/.test(d),
      ),
      r.failed?.details.join('\n'),
    );
    const report = JSON.parse(
      await readFile(join(r.workDir, 'artifacts', 'amd64', 'scan-hello-1.2.3.json'), 'utf8'),
    ) as {
      ArtifactName: string;
    };
    assert.equal(report.ArtifactName, '127.0.0.1:5000/team/hello:1.2.3-amd64');
    const src = await openLayoutSource(r.layout, { tag: '1.2.3-amd64' });
    assert.equal((await src.resolve()).digest, r.images.amd64);
    await src.close();
    assert.equal(await exists(join(q.dir, 'release')), false);
    assert.equal(await exists(join(q.dir, 'artifacts')), false);
  } finally {
    await q.cleanup();
  }
});

test('the CLI: JSON lines on stdout, exit 4 on a failed gate, --stages subsets, usage errors', async () => {
  const q = await makeProject({ target: 'oci:./release', vulnerable: true, architectures: ['amd64'] });
  try {
    const io = { env: q.env, cwd: q.dir, rethrow: true };
    const r = await runCommand(pipelineCommand, ['run', '--log-format', 'json'], io);
    assert.equal(r.code, 4);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines[0]?.event, 'run-start');
    assert.ok(lines.every((l) => typeof l.time === 'string' && typeof l.level === 'string'));
    const failed = lines.find((l) => l.event === 'stage-end' && l.status === 'failed');
    assert.equal(failed?.stage, 'scan');
    assert.equal(failed?.level, 'error');
    assert.equal(lines.at(-1)?.event, 'run-end');
    assert.equal(lines.at(-1)?.exitCode, 4);

    // A subset: only the stages before the gate run, and pass.
    const sub = await runCommand(pipelineCommand, ['run', '--stages', 'test,build,flatten'], io);
    assert.equal(sub.code, 0, sub.stdout);
    assert.match(sub.stdout, /stages: build → flatten → test/);
    assert.doesNotMatch(sub.stdout, /\u001b\[/, 'no colours when stdout is not a terminal');

    for (const args of [
      ['run', '--stages', 'build,deploy'],
      ['run', '--log-format', 'xml'],
      ['go'],
      ['run', '--target', 'docker://x/y'],
    ]) {
      await assert.rejects(
        runCommand(pipelineCommand, args, io),
        (e: unknown) => isVouchError(e, 'USAGE'),
        args.join(' '),
      );
    }
  } finally {
    await q.cleanup();
  }
});
