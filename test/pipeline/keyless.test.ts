/**
 * Keyless signing in the pipeline, against the Sigstore mocks on 127.0.0.1 (Fulcio, Rekor): the
 * images and the index get Sigstore bundles as referrers (into an OCI layout target), `vouch
 * verify` accepts them for the token's identity and refuses another, and the store's
 * attestation is a bundle holding the certificate.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { verifyCommand } from '../../src/cli/commands/verify.ts';
import { isVouchError } from '../../src/errors.ts';
import { runCommand } from '../helpers/cli.ts';
import { MOCK_ISSUER, type SigstoreMock, startSigstoreMock } from '../helpers/sigstore-mock.ts';
import { makeProject, type Project, runIn } from './project.ts';

let mock: SigstoreMock;
let p: Project;
before(async () => {
  mock = await startSigstoreMock();
  p = await makeProject({ architectures: ['amd64'], target: 'oci:./release' });
  const text = await readFile(p.config, 'utf8');
  await writeFile(
    p.config,
    text.replace(
      /signing:\n {2}key: cosign\.key\n {2}storage: tag\n/,
      `signing:\n  keyless: { fulcioUrl: "${mock.fulcioUrl}", rekorUrl: "${mock.rekorUrl}" }\n  storage: referrers\n`,
    ),
  );
  await writeFile(join(p.dir, 'trusted_root.json'), JSON.stringify(mock.trustedRoot));
});
after(async () => {
  await p?.cleanup();
  await mock?.close();
});

test('keyless: bundles for the image and the index verify for the signer identity; another identity is refused', async () => {
  const r = await runIn(p, { identityToken: mock.identityToken() });
  assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
  const io = { env: p.env, cwd: p.dir, rethrow: true };
  const trust = ['--trusted-root', 'trusted_root.json', '--certificate-oidc-issuer', MOCK_ISSUER];
  for (const tag of ['1.2.3-amd64', '1.2.3']) {
    const v = await runCommand(
      verifyCommand,
      [...trust, '--certificate-identity', 'signer@example.com', `oci:${join(p.dir, 'release')}:${tag}`],
      io,
    );
    assert.equal(v.code, 0, v.stderr);
  }
  await assert.rejects(
    runCommand(
      verifyCommand,
      [...trust, '--certificate-identity', 'evil@example.com', `oci:${join(p.dir, 'release')}:1.2.3`],
      io,
    ),
    (e: unknown) => isVouchError(e, 'IDENTITY_MISMATCH'),
  );
  const att = JSON.parse(
    await readFile(join(p.dir, 'artifacts/attestations/amd64/attestation-hello-1.2.3.json'), 'utf8'),
  ) as {
    mediaType: string;
    verificationMaterial: { certificate?: { rawBytes: string } };
    dsseEnvelope: { payloadType: string };
  };
  assert.equal(att.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
  assert.ok(att.verificationMaterial.certificate?.rawBytes);
  assert.equal(att.dsseEnvelope.payloadType, 'application/vnd.in-toto+json');
  const sig = await readFile(join(p.dir, 'artifacts/scans/amd64/scan-hello-1.2.3.json.sig'), 'utf8');
  assert.match(sig, /^[A-Za-z0-9+/]+=*$/);
  assert.ok(
    mock.requests.some((q) => q.service === 'fulcio') && mock.requests.some((q) => q.service === 'rekor'),
  );
});

test('keyless without any identity token stops at the first signing stage with IDENTITY_TOKEN_INVALID', async () => {
  const r = await runIn(p, { stages: ['sign'] });
  assert.equal(r.exitCode, 1);
  assert.equal(r.failed?.stage, 'sign');
  assert.equal(r.failed?.code, 'IDENTITY_TOKEN_INVALID');
});
