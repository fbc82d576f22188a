/**
 * The demo end to end, through its command: the bundled example built, scanned, signed and
 * published offline, verified as a consumer; checked here independently of the demo's own
 * report (files on disk, signatures with node:crypto, the layout's tags), then a second run
 * compared digest for digest. Plus the refusals: a pipeline that fails, a project that would
 * reach the network.
 */
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { parseArgs } from 'node:util';
import { demoCommand } from '../cli/commands/demo.ts';
import type { CliIO } from '../cli/io.ts';
import { isVouchError } from '../errors.ts';
import { loadPipelineConfig } from '../pipeline/config.ts';
import { directoryFiles, entryTag, readLayout } from '../source/layout/layout.ts';
import { verifyAsConsumer } from './consumer.ts';
import { DEMO_EPOCH, type DemoResult, EXAMPLE_DIR, runDemo } from './demo.ts';
import { prepareProject } from './project.ts';

type Done = Extract<DemoResult, { status: 'done' }>;

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'vouch-demo-test-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function sink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk, _enc, done) {
      w.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

async function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const options = Object.fromEntries(
    Object.entries(demoCommand.options).map(([k, { description: _d, ...o }]) => [k, o]),
  );
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  const stdout = sink();
  const stderr = sink();
  const io: CliIO = { stdout, stderr, env: {}, cwd: root };
  const code = await demoCommand.run(parsed, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

let first: Done;
let firstOutput: string;

test('vouch demo runs every stage offline, verifies as a consumer, and says where everything landed', async () => {
  const dir = join(root, 'first');
  // No network: every TCP connection attempt (fetch included) is recorded and refused.
  const connects: string[] = [];
  const original = Socket.prototype.connect;
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    connects.push(JSON.stringify(args[0]));
    throw new Error('the demo must not open network connections');
  } as typeof Socket.prototype.connect;
  let r: Awaited<ReturnType<typeof demo>>;
  try {
    r = await demo(['--work-dir', dir, '--json']);
  } finally {
    Socket.prototype.connect = original;
  }
  assert.deepEqual(connects, []);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as DemoResult;
  assert.equal(result.status, 'done', r.stderr);
  if (result.status !== 'done') return;
  first = result;
  firstOutput = r.stderr;
  assert.equal(result.ok, true);
  assert.deepEqual(result.pipeline.stages, [
    'build:ok',
    'harden:ok',
    'flatten:ok',
    'test:ok',
    'sbom:ok',
    'scan:ok',
    'provenance:ok',
    'sign:ok',
    'push:ok',
  ]);
  assert.match(result.pinned, /^127\.0\.0\.1:5000\/example\/hello:1\.0\.0@sha256:[0-9a-f]{64}$/);
  assert.equal(result.pinned.split('@')[1], result.index);

  // The layout standing in for the registry: the release tags name the digests the run reports.
  const layout = await readLayout(directoryFiles(join(dir, 'registry')));
  const tagged = new Map(layout.manifests.map((m) => [entryTag(m), m.digest]));
  assert.equal(tagged.get('1.0.0'), result.index);
  assert.equal(tagged.get('1.0.0-amd64'), result.images.amd64);
  assert.equal(tagged.get('1.0.0-arm64'), result.images.arm64);
  for (const d of [result.index, result.images.amd64, result.images.arm64]) {
    assert.ok(tagged.has(`sha256-${d?.slice(7)}.sig`), `signature tag of ${d}`);
  }

  // The advisory database and the gate decision.
  assert.equal(result.advisories.records, 6);
  assert.deepEqual(
    result.gate.map((g) => `${g.arch}:${g.decision}`),
    ['amd64:pass', 'arm64:pass'],
  );

  // As a consumer: every verify-release check passed or was not asked for; provenance checked itself.
  assert.equal(result.consumer.release.ok, true);
  const checks = result.consumer.release.subjects.flatMap((s) =>
    s.checks.map((c) => `${c.check}:${c.status}`),
  );
  assert.equal(checks.filter((c) => c.endsWith(':fail')).length, 0);
  assert.equal(checks.filter((c) => c === 'signature:pass').length, 3);
  assert.equal(checks.filter((c) => c === 'sbom:pass').length, 2);
  assert.equal(checks.filter((c) => c === 'vuln:pass').length, 2);
  assert.deepEqual(
    result.consumer.provenance.map((p) => `${p.subject}:${p.outcome.status}`),
    ['index:pass', 'linux/amd64:pass', 'linux/arm64:pass'],
  );
  assert.equal(result.consumer.artifacts.length, 8);
  assert.ok(result.consumer.artifacts.every((a) => a.status === 'pass'));

  // Reproducible within the run, and tampering rejected with the right codes.
  assert.equal(result.reproducible.identical, true);
  assert.equal(result.reproducible.compared.length, 12);
  for (const c of result.reproducible.compared) assert.equal(c.first, c.second, c.what);
  assert.equal(await exists(join(dir, 'rebuild')), false, 'the rebuild is removed once compared');
  const codes = Object.fromEntries(result.tamper.map((t) => [t.attack, t.rejected ? t.code : 'accepted']));
  assert.deepEqual(codes, { swap: 'SUBJECT_MISMATCH', flip: 'DIGEST_MISMATCH' });
  assert.equal(await exists(join(dir, 'tamper')), false, 'the tampered copies are removed');
});

test('the store holds every artifact with a .sig that verifies with cosign.pub (node:crypto alone)', async () => {
  assert.ok(first, 'the first test ran');
  const dir = first.workDir;
  const pub = createPublicKey(await readFile(join(dir, 'cosign.pub')));
  for (const arch of ['amd64', 'arm64']) {
    for (const key of [
      `sboms/${arch}/sbom-hello-1.0.0-cyclonedx.json`,
      `sboms/${arch}/sbom-hello-1.0.0-spdx.json`,
      `attestations/${arch}/attestation-hello-1.0.0.json`,
      `scans/${arch}/scan-hello-1.0.0.json`,
    ]) {
      const bytes = await readFile(join(dir, 'artifacts', key));
      const sig = Buffer.from(
        (await readFile(join(dir, 'artifacts', `${key}.sig`), 'utf8')).trim(),
        'base64',
      );
      assert.equal(verify('sha256', bytes, pub, sig), true, key);
      // The check can fail: one changed byte and the signature no longer holds.
      bytes[0]! ^= 1;
      assert.equal(verify('sha256', bytes, pub, sig), false, key);
      assert.ok(first.landed.artifacts.files.some((f) => f.key === key && f.signed));
    }
  }
  // The SBOMs downloaded as a consumer are CycloneDX documents of each platform.
  for (const arch of ['amd64', 'arm64']) {
    const path = join(dir, 'sbom', `sbom-linux-${arch}-cyclonedx.json`);
    assert.ok(first.landed.sboms.includes(path));
    const sbom = JSON.parse(await readFile(path, 'utf8')) as { bomFormat?: string };
    assert.equal(sbom.bomFormat, 'CycloneDX');
  }
  // The demo key: cosign's encrypted format, private files 0600, the passphrase never printed.
  assert.match(
    await readFile(join(dir, 'cosign.key'), 'utf8'),
    /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/,
  );
  assert.equal((await stat(join(dir, 'cosign.key'))).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, 'cosign.password'))).mode & 0o777, 0o600);
  const passphrase = (await readFile(join(dir, 'cosign.password'), 'utf8')).trim();
  assert.ok(passphrase.length >= 24);
  assert.equal(firstOutput.includes(passphrase), false, 'the passphrase is not in the output');
});

test('the output names every location: layout and tags, pinned reference, store files, SBOMs, keys', () => {
  assert.ok(first, 'the first test ran');
  const out = firstOutput;
  for (const s of [
    `work directory ${first.workDir}`,
    `Where everything landed, in ${first.workDir}:`,
    'registry/  OCI layout standing in for 127.0.0.1:5000/example/hello',
    'tags 1.0.0, 1.0.0-amd64, 1.0.0-arm64',
    `pinned  ${first.pinned}`,
    `127.0.0.1:5000/example/hello:1.0.0-arm64@${first.images.arm64}`,
    'artifacts/  artifact store',
    'sboms/amd64/sbom-hello-1.0.0-cyclonedx.json',
    'scans/arm64/scan-hello-1.0.0.json',
    'attestations/amd64/attestation-hello-1.0.0.json',
    'sbom/sbom-linux-amd64-cyclonedx.json',
    'cosign.key (demo key, encrypted), cosign.pub',
    'made for this run only',
    '6 OSV records',
    'gate against 6 advisories: amd64 PASS',
    `SOURCE_DATE_EPOCH=${DEMO_EPOCH} vouch pipeline run`,
    '[push] tag 1.0.0 →',
    'rejected [SUBJECT_MISMATCH]',
    'rejected [DIGEST_MISMATCH]',
    'all identical',
  ]) {
    assert.ok(out.includes(s), `the output names: ${s}`);
  }
  assert.match(out, /Done in \d+\.\d s:/);
});

test('the consumer checks fail when the store or vouch.yaml no longer match what was signed', async () => {
  assert.ok(first, 'the first test ran');
  const copy = join(root, 'consumer-copy');
  await cp(first.workDir, copy, { recursive: true });
  const check = async () =>
    verifyAsConsumer({
      config: await loadPipelineConfig(join(copy, 'vouch.yaml')),
      publicKey: join(copy, 'cosign.pub'),
      release: `oci:${join(copy, 'registry')}:1.0.0`,
      sbomOutput: join(copy, 'sbom-again'),
    });
  const intact = await check();
  assert.equal(intact.ok, true);

  // One changed byte in a stored scan report: its .sig fails, and the provenance naming it too.
  const scan = join(copy, 'artifacts', 'scans', 'amd64', 'scan-hello-1.0.0.json');
  const bytes = await readFile(scan);
  bytes[10]! ^= 1;
  await writeFile(scan, bytes);
  const r = await check();
  assert.equal(r.ok, false);
  const failed = r.artifacts.filter((a) => a.status === 'fail');
  assert.deepEqual(
    failed.map((a) => (a.status === 'fail' ? `${a.key} ${a.code}` : '')),
    ['scans/amd64/scan-hello-1.0.0.json SIGNATURE_INVALID'],
  );
  const outcomes = Object.fromEntries(
    r.provenance.map((p) => [p.subject, p.outcome.status === 'fail' ? p.outcome.code : p.outcome.status]),
  );
  assert.deepEqual(outcomes, {
    index: 'PROVENANCE_MISMATCH',
    'linux/amd64': 'PROVENANCE_MISMATCH',
    'linux/arm64': 'pass',
  });
  const amd64 = r.provenance.find((p) => p.subject === 'linux/amd64')?.outcome;
  assert.ok(amd64?.status === 'fail' && amd64.message.includes('scans/amd64/scan-hello-1.0.0.json'));

  // vouch.yaml edited after the build: no provenance names it any more.
  bytes[10]! ^= 1;
  await writeFile(scan, bytes);
  await writeFile(join(copy, 'vouch.yaml'), `${await readFile(join(copy, 'vouch.yaml'), 'utf8')}# edited\n`);
  const edited = await check();
  assert.ok(edited.artifacts.every((a) => a.status === 'pass'));
  for (const p of edited.provenance) {
    assert.ok(
      p.outcome.status === 'fail' &&
        p.outcome.code === 'PROVENANCE_MISMATCH' &&
        p.outcome.message.includes('externalParameters.config.digest.sha256'),
      p.subject,
    );
  }
});

test('a second run, in a temp directory it removes afterwards, gives the same digests', async () => {
  assert.ok(first, 'the first test ran');
  const r = await demo(['--json']);
  assert.equal(r.code, 0, r.stderr);
  const second = JSON.parse(r.stdout) as Done;
  assert.notEqual(second.workDir, first.workDir);
  assert.deepEqual(second.images, first.images);
  assert.equal(second.index, first.index);
  assert.equal(second.pinned, first.pinned);
  // Another key pair: the signatures differ, the content they sign does not.
  const [a, b] = await Promise.all(
    [first.workDir, second.workDir].map((d) =>
      readFile(join(d, 'cosign.pub'), 'utf8').catch(() => 'removed'),
    ),
  );
  assert.notEqual(a, b);
  assert.equal(await exists(second.workDir), false, 'the temp directory is gone');
  assert.match(r.stderr, /Removed .*--keep/);
});

test('a failing stage ends the demo with the pipeline’s reason and exit code', async () => {
  const example = join(root, 'broken-example');
  await cp(EXAMPLE_DIR, example, { recursive: true });
  const yaml = join(example, 'vouch.yaml');
  await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('/data/facts.json', '/data/missing.json'));
  const work = join(root, 'broken');
  const lines: string[] = [];
  const r = await runDemo({ workDir: work, exampleDir: example, log: (l) => lines.push(l) });
  assert.equal(r.status, 'pipeline-failed');
  assert.equal(r.ok, false);
  if (r.status === 'pipeline-failed') assert.match(r.reason, /^stage test: /);
  assert.equal(r.pipeline.exitCode, 1);
  assert.ok(lines.some((l) => l.includes('/data/missing.json')));
  assert.equal(await exists(join(work, 'registry')), false, 'nothing was published');
});

test('a project that would leave the machine is refused before anything runs', async () => {
  const example = join(root, 'online-example');
  await cp(EXAMPLE_DIR, example, { recursive: true });
  const yaml = join(example, 'vouch.yaml');
  await writeFile(yaml, (await readFile(yaml, 'utf8')).replace(/^target: .*$/m, ''));
  const work = join(root, 'online');
  await assert.rejects(
    prepareProject(example, work),
    (e) => isVouchError(e, 'PIPELINE_CONFIG_INVALID') && /target: oci:DIR/.test(e.message),
  );
  assert.equal(await exists(join(work, 'cosign.key')), false);
});
