/**
 * verify-release against Debian's docker-registry on 127.0.0.1 (no referrers API: the tag schema
 * runs), through the CLI command as users run it: a multi-platform release published with vouch's
 * signing library passes; a platform without an SBOM, provenance from another repository and the
 * wrong key each fail with exit 1, naming the image, the check and the code.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifyReleaseCommand } from '../../src/cli/commands/verify-release.ts';
import { copyImage } from '../../src/copy/copy.ts';
import { isVouchError } from '../../src/errors.ts';
import type { ImageTarget } from '../../src/sign/image/target.ts';
import { openImageTarget } from '../../src/sign/image/target.ts';
import { openDestination, openSource } from '../../src/transport/open.ts';
import { runCommand } from '../helpers/cli.ts';
import { type BuiltIndex, randomIndex, writeLayout } from '../helpers/random-image.ts';
import { REGISTRY_BIN, requireBinary, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { newKey } from '../sign/helpers.ts';
import { cyclonedx, described, githubProvenance, type PublishOptions, publish, SLSA_V1 } from './helpers.ts';

const skip = await requireBinary(REGISTRY_BIN);
const key = newKey();
const other = newKey();
let reg: TestRegistry;
let dir: string;

before(async () => {
  if (skip) return;
  reg = await startRegistry();
  dir = await mkdtemp(join(tmpdir(), 'vouch-release-reg-'));
  await writeFile(join(dir, 'cosign.pub'), key.publicKeyPem);
  await writeFile(join(dir, 'other.pub'), other.publicKeyPem);
});
after(async () => {
  await reg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A random two-platform index pushed to `repo:1.0.0` with vouch copy. */
async function pushIndex(repo: string): Promise<{ idx: BuiltIndex; t: ImageTarget }> {
  const idx = await randomIndex();
  const layout = join(dir, repo.replaceAll('/', '-'));
  await writeLayout(layout, [{ descriptor: idx.descriptor, tag: '1.0.0' }], idx.blobs);
  const src = await openSource(`oci:${layout}:1.0.0`);
  const dst = await openDestination(`${reg.host}/${repo}:1.0.0`);
  try {
    await copyImage(src, dst);
  } finally {
    await src.close();
    await dst.close();
  }
  return { idx, t: await openImageTarget(`${reg.host}/${repo}:1.0.0`) };
}

/** Sign the index, then sign and attest each platform image (per-image options by position). */
async function release(repo: string, perImage: Partial<PublishOptions>[] = []): Promise<BuiltIndex> {
  const { idx, t } = await pushIndex(repo);
  const signing = { identity: { kind: 'key' as const, key } };
  try {
    await publish(t.store, t.image, t.repository, { signing, provenance: false, sbom: false });
    for (const [i, img] of idx.images.entries()) {
      await publish(t.store, described(img.descriptor), t.repository, {
        signing,
        vuln: true,
        ...perImage[i],
      });
    }
  } finally {
    await t.store.close();
  }
  return idx;
}

const verify = (...args: string[]) => runCommand(verifyReleaseCommand, args, { cwd: dir, rethrow: true });

describe('verify-release against docker-registry', { skip }, () => {
  test('a signed and attested multi-platform release passes; SBOMs are written per platform', async () => {
    const idx = await release('rel/app');
    const r = await verify(
      `${reg.host}/rel/app:1.0.0`,
      '--key',
      'cosign.pub',
      '--source-uri',
      'github.com/o/app',
      '--source-tag',
      'v1.0.0',
      '--require-vuln-attestation',
      '--sbom-output',
      'sboms',
    );
    assert.equal(r.code, 0, r.stdout);
    const lines = r.stdout.trim().split('\n');
    assert.match(
      lines[0]!,
      new RegExp(`^Release ${reg.host}/rel/app@${idx.descriptor.digest} \\(index of 2 images\\)$`),
    );
    assert.equal(lines.filter((l) => l.startsWith('  ✓ ')).length, 10);
    assert.ok(lines.includes(`linux/arm64/v8 ${idx.images[1]!.descriptor.digest}`));
    assert.equal(lines.at(-1), 'PASSED: 10 checks passed, 1 skipped');
    const files = (await readdir(join(dir, 'sboms'))).sort();
    assert.deepEqual(files, ['sbom-linux-amd64-cyclonedx.json', 'sbom-linux-arm64-v8-cyclonedx.json']);
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'sboms', files[0]!), 'utf8')), cyclonedx());

    const json = await verify(
      `${reg.host}/rel/app:1.0.0`,
      '--key',
      'cosign.pub',
      '--source-uri',
      'github.com/o/app',
      '--output',
      'json',
    );
    assert.equal(json.code, 0);
    const doc = JSON.parse(json.stdout) as {
      ok: boolean;
      kind: string;
      digest: string;
      subjects: { role: string; platform?: string; checks: { check: string; status: string }[] }[];
    };
    assert.equal(doc.ok, true);
    assert.equal(doc.kind, 'index');
    assert.equal(doc.digest, idx.descriptor.digest);
    assert.deepEqual(
      doc.subjects.map((s) => s.platform ?? s.role),
      ['index', 'linux/amd64', 'linux/arm64/v8'],
    );
    assert.deepEqual(
      doc.subjects[1]!.checks.map((c) => `${c.check}:${c.status}`),
      ['signature:pass', 'provenance:pass', 'sbom:pass', 'vuln:skip'],
    );

    // One platform image by its own tag-less digest reference verifies on its own too.
    const single = await verify(
      `${reg.host}/rel/app@${idx.images[0]!.descriptor.digest}`,
      '--key',
      'cosign.pub',
      '--source-uri',
      'github.com/o/app',
    );
    assert.equal(single.code, 0, single.stdout);
    assert.match(single.stdout, /\(single image\)/);
  });

  test('a platform image without an SBOM attestation fails, naming that platform', async () => {
    await release('rel/nosbom', [{}, { sbom: false }]);
    const r = await verify(
      `${reg.host}/rel/nosbom:1.0.0`,
      '--key',
      'cosign.pub',
      '--source-uri',
      'github.com/o/app',
      '--sbom-output',
      'sboms-nosbom',
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^ {2}✗ sbom: \[SIGNATURE_NOT_FOUND\] no SBOM \(CycloneDX or SPDX\) attestation found/m,
    );
    assert.equal(
      r.stdout.trim().split('\n').at(-1),
      'FAILED: 1 of 8 checks failed: linux/arm64/v8 sbom [SIGNATURE_NOT_FOUND]',
    );
    await assert.rejects(
      readdir(join(dir, 'sboms-nosbom')),
      { code: 'ENOENT' },
      'nothing written on failure',
    );
  });

  test('provenance for another repository fails with PROVENANCE_MISMATCH', async () => {
    const fork = { provenance: { predicateType: SLSA_V1, predicate: githubProvenance('evil/app') } };
    await release('rel/fork', [fork, fork]);
    const r = await verify(
      `${reg.host}/rel/fork:1.0.0`,
      '--key',
      'cosign.pub',
      '--source-uri',
      'github.com/o/app',
    );
    assert.equal(r.code, 1);
    const failures = r.stdout.split('\n').filter((l) => l.startsWith('  ✗ '));
    assert.equal(failures.length, 2);
    for (const f of failures) {
      assert.match(
        f,
        /✗ provenance: \[PROVENANCE_MISMATCH\] provenance .*expected git\+https:\/\/github\.com\/o\/app/,
      );
    }
  });

  test('the wrong key fails every signature and attestation', async () => {
    await release('rel/wrongkey');
    const r = await verify(
      `${reg.host}/rel/wrongkey:1.0.0`,
      '--key',
      'other.pub',
      '--source-uri',
      'github.com/o/app',
      '--output',
      'json',
    );
    assert.equal(r.code, 1);
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      failures: { subject: string; check: string; code: string }[];
    };
    assert.equal(doc.ok, false);
    assert.deepEqual(
      doc.failures.map((f) => `${f.subject} ${f.check} ${f.code}`),
      [
        'index signature SIGNATURE_INVALID',
        'linux/amd64 signature SIGNATURE_INVALID',
        'linux/amd64 provenance SIGNATURE_INVALID',
        'linux/amd64 sbom SIGNATURE_INVALID',
        'linux/arm64/v8 signature SIGNATURE_INVALID',
        'linux/arm64/v8 provenance SIGNATURE_INVALID',
        'linux/arm64/v8 sbom SIGNATURE_INVALID',
      ],
    );
  });

  test('usage mistakes are refused before any registry access', async () => {
    const image = `${reg.host}/rel/app:1.0.0`;
    const usage = async (args: string[], message: RegExp) =>
      assert.rejects(verify(...args), (e) => isVouchError(e, 'USAGE') && message.test(e.message));
    await usage([image, '--key', 'cosign.pub'], /--source-uri is required/);
    await usage(
      [image, '--key', 'cosign.pub', '--skip-provenance', '--source-tag', 'v1'],
      /--source-tag checks provenance; it cannot be combined with --skip-provenance/,
    );
    await usage([image, '--source-uri', 'github.com/o/app'], /say who must have signed/);
    await usage(
      [image, '--key', 'cosign.pub', '--source-uri', 'github.com/o/app@refs/tags/v1'],
      /must not name a ref/,
    );
    await usage(
      [image, '--key', 'cosign.pub', '--source-uri', 'github.com/o/app', '--source-versioned-tag', 'latest'],
      /not a semantic version/,
    );
    await usage([image, '--key', 'cosign.pub', '--skip-provenance', '--output', 'yaml'], /--output must be/);
  });
});
