/**
 * A release signed keylessly the way the generated GitHub workflow signs it (the workflow's OIDC
 * token, Fulcio, Rekor; here the mock services on 127.0.0.1), verified with the identity flags
 * the generated re-scan workflow passes: the provenance must agree with the signing certificate.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { verifyReleaseCommand } from '../../src/cli/commands/verify-release.ts';
import type { CheckOutcome, ReleaseResult } from '../../src/release/types.ts';
import { verifyRelease } from '../../src/release/verify-release.ts';
import type { ImageSigningOptions } from '../../src/sign/image/sign.ts';
import { type ImageTarget, openImageTarget } from '../../src/sign/image/target.ts';
import type { VerifyOptions } from '../../src/verify/image.ts';
import { runCommand } from '../helpers/cli.ts';
import { randomImage, writeLayout } from '../helpers/random-image.ts';
import {
  GITHUB_ACTIONS_ISSUER,
  githubActionsClaims,
  type SigstoreMock,
  startSigstoreMock,
} from '../helpers/sigstore-mock.ts';
import { COMMIT, githubProvenance, publish, SLSA_V1 } from './helpers.ts';

const WORKFLOW = '.github/workflows/vouch-build.yml';
const SAN = `https://github.com/o/app/${WORKFLOW}@refs/tags/v1.0.0`;
let mock: SigstoreMock;
let dir: string;
let n = 0;

before(async () => {
  mock = await startSigstoreMock();
  dir = await mkdtemp(join(tmpdir(), 'vouch-release-keyless-'));
  await writeFile(join(dir, 'trusted_root.json'), JSON.stringify(mock.trustedRoot));
});
after(async () => {
  await mock?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function githubSigning(workflow = WORKFLOW): ImageSigningOptions {
  const token = mock.identityToken(
    githubActionsClaims({
      repository: 'o/app',
      ref: 'refs/tags/v1.0.0',
      sha: COMMIT,
      workflowPath: workflow,
    }),
  );
  return {
    identity: { kind: 'keyless', fulcioUrl: mock.fulcioUrl, identityToken: async () => token },
    rekorUrl: mock.rekorUrl,
  };
}

const trust = (identity = SAN): VerifyOptions => ({
  trust: {
    kind: 'keyless',
    identity: { identity, issuer: GITHUB_ACTIONS_ISSUER },
    trustedRoot: mock.trustedRoot,
  },
});

async function layoutImage(): Promise<{ t: ImageTarget; layout: string }> {
  const layout = join(dir, `img-${n++}`);
  const img = await randomImage({ layerCount: 1 });
  await writeLayout(layout, [{ descriptor: img.descriptor, tag: '1.0.0-amd64' }], img.blobs);
  return { t: await openImageTarget(`oci:${layout}:1.0.0-amd64`), layout };
}

function check(r: ReleaseResult, name: CheckOutcome['check']): CheckOutcome {
  const c = r.subjects[0]!.checks.find((x) => x.check === name);
  assert.ok(c);
  return c;
}

test('a keyless GitHub release verifies; provenance is checked against the certificate', async () => {
  const { t, layout } = await layoutImage();
  await publish(t.store, t.image, t.repository, { signing: githubSigning(), storage: 'referrers' });
  const r = await verifyRelease(t, {
    ...trust(),
    provenance: { kind: 'check', sourceUri: 'github.com/o/app', sourceTag: 'v1.0.0' },
  });
  assert.equal(r.ok, true, JSON.stringify(r.subjects, null, 2));
  const sig = check(r, 'signature');
  assert.ok(sig.status === 'pass');
  assert.equal(sig.detail, `1 signature by ${SAN} (issuer ${GITHUB_ACTIONS_ISSUER})`);
  const prov = check(r, 'provenance');
  assert.ok(prov.status === 'pass');
  const checks = prov.facts.checks as string[];
  assert.ok(checks.includes(`builder id (certificate): ${SAN}`), checks.join('\n'));
  assert.ok(checks.includes(`source commit (certificate): ${COMMIT}`), checks.join('\n'));
  assert.ok(checks.includes('source tag: refs/tags/v1.0.0'));

  // The CLI with the flags the generated re-scan workflow passes.
  const cli = await runCommand(
    verifyReleaseCommand,
    [
      `oci:${layout}:1.0.0-amd64`,
      '--certificate-identity',
      SAN,
      '--certificate-oidc-issuer',
      GITHUB_ACTIONS_ISSUER,
      '--trusted-root',
      'trusted_root.json',
      '--source-uri',
      'github.com/o/app',
      '--source-tag',
      'v1.0.0',
      '--offline',
    ],
    { cwd: dir, rethrow: true },
  );
  assert.equal(cli.code, 0, cli.stdout);
  assert.equal(cli.stdout.trim().split('\n').at(-1), 'PASSED: 3 checks passed, 1 skipped');

  const otherTag = await verifyRelease(t, {
    ...trust(`https://github.com/o/app/${WORKFLOW}@refs/tags/v2.0.0`),
    provenance: { kind: 'skip' },
  });
  assert.equal(otherTag.ok, false);
  const s = check(otherTag, 'signature');
  assert.ok(s.status === 'fail' && s.code === 'IDENTITY_MISMATCH', JSON.stringify(s));
});

test('provenance naming another workflow than the one that signed it fails', async () => {
  const { t } = await layoutImage();
  await publish(t.store, t.image, t.repository, {
    signing: githubSigning(),
    provenance: {
      predicateType: SLSA_V1,
      predicate: githubProvenance('o/app', 'v1.0.0', '.github/workflows/other.yml'),
    },
  });
  const r = await verifyRelease(t, {
    ...trust(),
    provenance: { kind: 'check', sourceUri: 'github.com/o/app' },
  });
  const prov = check(r, 'provenance');
  assert.ok(prov.status === 'fail', JSON.stringify(prov));
  assert.equal(prov.code, 'PROVENANCE_MISMATCH');
  assert.match(
    prov.message,
    /builder id: expected the certificate's signer .*vouch-build\.yml.*found .*other\.yml/,
  );
  assert.equal(check(r, 'signature').status, 'pass');
  assert.equal(check(r, 'sbom').status, 'pass');
});
