/**
 * Issue #5 end to end, as a user runs vouch (cli/main.ts with a captured CliIO): against the real
 * docker-registry on 127.0.0.1 and the Sigstore mocks (Fulcio, Rekor, TSA on 127.0.0.1), a key
 * is generated, an image signed and verified, a provenance from `provenance generate` attested
 * and checked with a CEL policy, the image signed and attested keylessly with a GitHub-Actions-like
 * token, copied with everything attached, and its provenance verified the way slsa-verifier
 * does; then the same in an OCI layout; then every failure of the issue's negative list at CLI
 * level with its own code; then `--offline` proven to open no connection.
 */
import assert from 'node:assert/strict';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { digestOf, parseDigest } from '../../src/digest/digest.ts';
import { parseReference } from '../../src/oci/reference.ts';
import type { Descriptor } from '../../src/oci/types.ts';
import { CosignAnnotation, cosignTag } from '../../src/sign/image/cosign-tags.ts';
import { RegistryStore } from '../../src/sign/image/registry-store.ts';
import { type CliResult, runVouch } from '../helpers/cli.ts';
import { GITHUB_ACTIONS_ENV as GITHUB_ENV, APP_SHA as SHA } from '../helpers/github-env.ts';
import { randomImage, writeLayout } from '../helpers/random-image.ts';
import { REGISTRY_BIN, requireBinary, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import {
  GITHUB_ACTIONS_ISSUER,
  githubActionsClaims,
  MOCK_ISSUER,
  type SigstoreMock,
  startSigstoreMock,
} from '../helpers/sigstore-mock.ts';
import { createInstance, keylessSigner, messageBundle, T0 } from '../sigstore/helpers/instance.ts';

const skip = await requireBinary(REGISTRY_BIN);
const SIGNER = 'https://github.com/o/app/.github/workflows/release.yml@refs/tags/v1.4.0';
const PASSWORD = { COSIGN_PASSWORD: 'e2e correct horse' };

let dir: string;
let reg: TestRegistry;
let mock: SigstoreMock;

function vouch(...args: string[]): Promise<CliResult> {
  return vouchEnv({}, ...args);
}

function vouchEnv(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> {
  return runVouch(args, { env: { ...PASSWORD, ...env }, cwd: dir });
}

function ok(r: CliResult): CliResult {
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}`);
  return r;
}

/** Exit 1 and the code on stderr (`error [CODE]` from main, `FAILED: ... [CODE]` from verify-provenance). */
function refused(r: CliResult, code: string, message?: RegExp): void {
  assert.equal(r.code, 1, `expected exit 1 with ${code}\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`(error|SLSA verification failed:) \\[${code}\\]`));
  if (message) assert.match(r.stderr, message);
}

/** A GitHub Actions token of o/app's release workflow at v1.4.0, and the mock's URLs. */
function keyless(claims: Record<string, unknown> = githubActionsClaims(ghToken)): string[] {
  return [
    '--identity-token',
    mock.identityToken(claims),
    '--fulcio-url',
    mock.fulcioUrl,
    '--rekor-url',
    mock.rekorUrl,
  ];
}
const ghToken = { repository: 'o/app', ref: 'refs/tags/v1.4.0', sha: SHA };
const BY_SIGNER = ['--certificate-identity', SIGNER, '--certificate-oidc-issuer', GITHUB_ACTIONS_ISSUER];
const ROOT = ['--trusted-root', 'root.json'];

/** A fresh random image in a layout `oci:<dir>/<name>:v1`. */
async function layoutImage(name: string): Promise<{ ref: string; digest: string }> {
  const img = await randomImage({ layerCount: 1 });
  await writeLayout(join(dir, name), [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  return { ref: `oci:${join(dir, name)}:v1`, digest: img.descriptor.digest };
}

/** A fresh image pushed with `vouch copy` to `<registry>/<repo>:v1`. */
async function pushed(repo: string): Promise<{ ref: string; digest: string; byDigest: string }> {
  const src = await layoutImage(`src-${repo.replace(/\W/g, '-')}`);
  const ref = `${reg.host}/${repo}:v1`;
  const r = ok(await vouch('copy', src.ref, ref));
  assert.match(r.stdout, new RegExp(`digest: ${src.digest}`));
  return { ref, digest: src.digest, byDigest: `${reg.host}/${repo}@${src.digest}` };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-e2e-signing-'));
  mock = await startSigstoreMock({ tsa: true });
  await writeFile(join(dir, 'root.json'), JSON.stringify(mock.trustedRoot));
  await writeFile(join(dir, 'artifact.txt'), 'a release artifact\n');
  await writeFile(
    join(dir, 'release-policy.yaml'),
    [
      'apiVersion: vouch.dev/v1',
      'kind: AttestationPolicy',
      'rules:',
      '  - name: builder',
      `    expression: predicate.runDetails.builder.id == "${SIGNER}"`,
      '  - name: source-repository',
      '    expression: predicate.buildDefinition.externalParameters.workflow.repository == "https://github.com/o/app"',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'other-repo.cel'),
    'predicate.buildDefinition.externalParameters.workflow.repository == "https://github.com/o/other"\n',
  );
  ok(await vouch('key', 'generate'));
  ok(await vouch('key', 'generate', '--output-key-prefix', 'other'));
  // The provenance a GitHub Actions job of o/app at v1.4.0 writes; attest takes its predicate.
  const p = ok(
    await vouchEnv(
      GITHUB_ENV,
      'provenance',
      'generate',
      '--subject',
      `app=sha256:${'0'.repeat(64)}`,
      '-o',
      'prov.json',
    ),
  );
  assert.match(
    p.stderr,
    /builder https:\/\/github\.com\/o\/app\/\.github\/workflows\/release\.yml@refs\/tags\/v1\.4\.0/,
  );
  const statement = JSON.parse(await readFile(join(dir, 'prov.json'), 'utf8'));
  await writeFile(join(dir, 'predicate.json'), JSON.stringify(statement.predicate));
  if (!skip) reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
  await mock?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('key generate wrote cosign.key (encrypted) and cosign.pub in the current directory', async () => {
  await access(join(dir, 'cosign.pub'));
  assert.match(
    await readFile(join(dir, 'cosign.key'), 'utf8'),
    /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/,
  );
  assert.match(await readFile(join(dir, 'cosign.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
});

describe('the issue end to end against a registry', { skip }, () => {
  let image: { ref: string; digest: string; byDigest: string };
  let copy: string;

  test('sign with the key (cosign tag) and verify it', async () => {
    image = await pushed('e2e/app');
    const s = ok(await vouch('sign', image.byDigest, '--key', 'cosign.key'));
    assert.equal(s.stdout.trim(), image.byDigest);
    assert.match(
      s.stderr,
      new RegExp(`Pushed signature to tag ${cosignTag(parseDigest(image.digest), 'sig')}`),
    );
    const v = ok(await vouch('verify', image.ref, '--key', 'cosign.pub'));
    assert.match(v.stdout, new RegExp(`^Verified 1 signature of ${reg.host}/e2e/app@${image.digest}`));
    assert.match(v.stdout, /tag sha256-[0-9a-f]{64}\.sig\[0\]: key /);
    refused(await vouch('verify', image.ref, '--key', 'other.pub'), 'SIGNATURE_INVALID');
  });

  test('attest the provenance from `provenance generate`; verify-attestation with a CEL policy', async () => {
    const a = ok(
      await vouch(
        'attest',
        image.byDigest,
        '--type',
        'slsaprovenance1',
        '--predicate',
        'predicate.json',
        '--key',
        'cosign.key',
      ),
    );
    assert.match(
      a.stderr,
      /Pushed https:\/\/slsa\.dev\/provenance\/v1 attestation to tag sha256-[0-9a-f]{64}\.att/,
    );
    const v = ok(
      await vouch(
        'verify-attestation',
        image.ref,
        '--type',
        'slsaprovenance1',
        '--key',
        'cosign.pub',
        '--policy',
        'release-policy.yaml',
      ),
    );
    assert.match(v.stdout, /^Verified 1 https:\/\/slsa\.dev\/provenance\/v1 attestation of /);
    assert.match(v.stdout, /policy .*release-policy\.yaml: 2 rule\(s\) passed/);
    const j = ok(
      await vouch(
        'verify-attestation',
        image.ref,
        '--type',
        'slsaprovenance1',
        '--key',
        'cosign.pub',
        '--output',
        'json',
      ),
    );
    const [st] = JSON.parse(j.stdout);
    assert.deepEqual(st.subject, [
      { name: `${reg.host}/e2e/app`, digest: { sha256: image.digest.slice(7) } },
    ]);
    assert.equal(st.predicate.runDetails.builder.id, SIGNER);
    refused(
      await vouch(
        'verify-attestation',
        image.ref,
        '--type',
        'slsaprovenance1',
        '--key',
        'cosign.pub',
        '--policy',
        'other-repo.cel',
      ),
      'POLICY_FAILED',
    );
  });

  test('keyless: sign as a referrer with a GitHub Actions token; verify by identity, refuse a look-alike', async () => {
    const s = ok(await vouch('sign', image.byDigest, '--storage', 'referrers', ...keyless()));
    assert.match(
      s.stderr,
      /^Signing as repo:o\/app:ref:refs\/tags\/v1\.4\.0 \(issuer https:\/\/token\.actions\.githubusercontent\.com/m,
    );
    assert.match(s.stderr, /Pushed signature to referrer sha256:[0-9a-f]{64}/);
    assert.doesNotMatch(s.stderr + s.stdout, /eyJ/); // the token is never printed
    const v = ok(await vouch('verify', image.ref, ...BY_SIGNER, ...ROOT));
    assert.match(
      v.stdout,
      new RegExp(`referrer sha256:[0-9a-f]{64}: certificate ${SIGNER} \\(issuer ${GITHUB_ACTIONS_ISSUER}\\)`),
    );
    assert.match(v.stderr, /not verified: tag sha256-[0-9a-f]{64}\.sig\[0\]: \[KEY_MISMATCH\]/);
    // A part of the identity is not the identity: anchored, as exact strings are.
    refused(
      await vouch(
        'verify',
        image.ref,
        '--certificate-identity-regexp',
        'https://github.com/o/app',
        '--certificate-oidc-issuer',
        GITHUB_ACTIONS_ISSUER,
        ...ROOT,
      ),
      'IDENTITY_MISMATCH',
    );
    refused(
      await vouch(
        'verify',
        image.ref,
        '--certificate-identity',
        'https://github.com/o/app/.github/workflows/release.yml',
        '--certificate-oidc-issuer',
        GITHUB_ACTIONS_ISSUER,
        ...ROOT,
      ),
      'IDENTITY_MISMATCH',
    );
    // Keyless attestation of the same provenance, as actions/attest-build-provenance would.
    ok(
      await vouch(
        'attest',
        image.byDigest,
        '--type',
        'slsaprovenance1',
        '--predicate',
        'predicate.json',
        '--storage',
        'referrers',
        ...keyless(),
      ),
    );
    ok(
      await vouch(
        'verify-attestation',
        image.ref,
        '--type',
        'slsaprovenance1',
        ...BY_SIGNER,
        ...ROOT,
        '--policy',
        'release-policy.yaml',
      ),
    );
  });

  test('copy to another repository carries signatures and attestations; the copy verifies', async () => {
    copy = `${reg.host}/e2e/copy:v1`;
    const c = ok(await vouch('copy', image.ref, copy));
    assert.match(c.stdout, new RegExp(`digest: ${image.digest}`));
    assert.match(c.stdout, /attachments: [1-9]/);
    const v = ok(await vouch('verify', copy, '--key', 'cosign.pub'));
    assert.match(v.stdout, new RegExp(`^Verified 1 signature of ${reg.host}/e2e/copy@${image.digest}`));
    ok(await vouch('verify', copy, ...BY_SIGNER, ...ROOT));
    ok(
      await vouch(
        'verify-attestation',
        copy,
        '--type',
        'slsaprovenance1',
        '--key',
        'cosign.pub',
        '--policy',
        'release-policy.yaml',
      ),
    );
  });

  test('verify-provenance on the image and its copy; another source repository or builder is refused', async () => {
    for (const ref of [image.ref, copy]) {
      // Keyless: the GitHub Actions default identity and the certificate's claims.
      const r = ok(
        await vouch(
          'verify-provenance',
          ref,
          '--source-uri',
          'github.com/o/app',
          '--source-tag',
          'v1.4.0',
          ...ROOT,
        ),
      );
      assert.match(r.stderr, /^PASSED: SLSA verification passed$/m);
      assert.match(r.stderr, new RegExp(`builder id \\(certificate\\): expected ${SIGNER}, found ${SIGNER}`));
      assert.match(r.stderr, new RegExp(`subject digest: expected ${image.digest}, found ${image.digest}`));
      // With the key: the key-signed `.att` attestation.
      const k = ok(
        await vouch(
          'verify-provenance',
          ref,
          '--key',
          'cosign.pub',
          '--source-uri',
          'github.com/o/app',
          '--builder-id',
          SIGNER,
        ),
      );
      assert.match(k.stderr, /Verified signature of tag sha256-[0-9a-f]{64}\.att\[0\]/);
    }
    refused(
      await vouch('verify-provenance', image.ref, '--source-uri', 'github.com/o/other', ...ROOT),
      'PROVENANCE_MISMATCH',
      /expected git\+https:\/\/github\.com\/o\/other/,
    );
    refused(
      await vouch(
        'verify-provenance',
        image.ref,
        '--key',
        'cosign.pub',
        '--source-uri',
        'github.com/o/app',
        '--builder-id',
        'https://github.com/o/app/.github/workflows/other.yml',
      ),
      'PROVENANCE_MISMATCH',
      /builder id: expected https:\/\/github\.com\/o\/app\/\.github\/workflows\/other\.yml, found /,
    );
  });

  test('--offline with a --trusted-root file on every verifying command', async () => {
    const off = ['--offline', ...ROOT];
    ok(await vouch('verify', copy, ...BY_SIGNER, ...off));
    ok(await vouch('verify', copy, '--key', 'cosign.pub', '--offline'));
    ok(await vouch('verify-attestation', copy, '--type', 'slsaprovenance1', ...BY_SIGNER, ...off));
    ok(await vouch('verify-provenance', copy, '--source-uri', 'github.com/o/app', ...off));
    ok(await vouch('sign-blob', 'artifact.txt', '--bundle', 'artifact.sigstore.json', ...keyless()));
    const b = ok(
      await vouch('verify-blob', 'artifact.txt', '--bundle', 'artifact.sigstore.json', ...BY_SIGNER, ...off),
    );
    assert.match(b.stderr, /^Verified OK$/m);
  });
});

describe('the same in an OCI layout (oci:DIR:TAG)', () => {
  test('sign, verify, attest, verify-attestation and verify-provenance, key and keyless', async () => {
    const img = await layoutImage('layout');
    ok(await vouch('sign', img.ref, '--key', 'cosign.key'));
    ok(await vouch('sign', img.ref, ...keyless()));
    const v = ok(await vouch('verify', img.ref, '--key', 'cosign.pub'));
    assert.match(v.stdout, /^Verified 1 signature of oci:/);
    const k = ok(await vouch('verify', img.ref, ...BY_SIGNER, ...ROOT));
    assert.match(k.stdout, new RegExp(`tag sha256-[0-9a-f]{64}\\.sig\\[1\\]: certificate ${SIGNER}`));
    ok(
      await vouch(
        'attest',
        img.ref,
        '--type',
        'slsaprovenance1',
        '--predicate',
        'predicate.json',
        '--key',
        'cosign.key',
        '--storage',
        'referrers',
      ),
    );
    ok(
      await vouch(
        'attest',
        img.ref,
        '--type',
        'slsaprovenance1',
        '--predicate',
        'predicate.json',
        ...keyless(),
      ),
    );
    ok(
      await vouch(
        'verify-attestation',
        img.ref,
        '--type',
        'slsaprovenance1',
        '--key',
        'cosign.pub',
        '--policy',
        'release-policy.yaml',
      ),
    );
    ok(
      await vouch(
        'verify-attestation',
        img.ref,
        '--type',
        'slsaprovenance1',
        ...BY_SIGNER,
        ...ROOT,
        '--offline',
      ),
    );
    const p = ok(
      await vouch(
        'verify-provenance',
        img.ref,
        '--source-uri',
        'github.com/o/app',
        '--source-versioned-tag',
        'v1',
        ...ROOT,
        '--output',
        'json',
      ),
    );
    const j = JSON.parse(p.stdout);
    assert.equal(j.verified, true);
    assert.equal(j.subjects[0].digest, img.digest);
    assert.equal(j.subjects[0].provenance.signer.identity, SIGNER);
    ok(
      await vouch(
        'verify-provenance',
        img.ref,
        '--key',
        'cosign.pub',
        '--source-uri',
        'github.com/o/app',
        '--offline',
      ),
    );
    refused(
      await vouch(
        'verify-provenance',
        img.ref,
        '--key',
        'cosign.pub',
        '--source-uri',
        'github.com/o/app',
        '--source-branch',
        'main',
      ),
      'PROVENANCE_MISMATCH',
    );
  });
});

describe('the negative list of the issue, each with its own code', () => {
  test('wrong key: KEY_MISMATCH (a bundle names its key; a legacy .sig cannot, so SIGNATURE_INVALID)', async () => {
    const img = await layoutImage('neg-key');
    ok(await vouch('sign', img.ref, '--key', 'cosign.key', '--storage', 'referrers'));
    refused(await vouch('verify', img.ref, '--key', 'other.pub'), 'KEY_MISMATCH');
    ok(await vouch('verify', img.ref, '--key', 'cosign.pub'));
    ok(await vouch('sign-blob', 'artifact.txt', '--key', 'cosign.key', '--bundle', 'key.sigstore.json'));
    refused(
      await vouch('verify-blob', 'artifact.txt', '--bundle', 'key.sigstore.json', '--key', 'other.pub'),
      'KEY_MISMATCH',
    );
  });

  test('wrong identity, including the look-alike evil-user@example.com for user@example.com: IDENTITY_MISMATCH', async () => {
    const img = await layoutImage('neg-identity');
    const evil = {
      iss: MOCK_ISSUER,
      sub: 'evil-user@example.com',
      email: 'evil-user@example.com',
      email_verified: true,
    };
    ok(await vouch('sign', img.ref, ...keyless(evil)));
    refused(
      await vouch(
        'verify',
        img.ref,
        '--certificate-identity',
        'user@example.com',
        '--certificate-oidc-issuer',
        MOCK_ISSUER,
        ...ROOT,
      ),
      'IDENTITY_MISMATCH',
      /"evil-user@example\.com" does not match the required "user@example\.com"/,
    );
    refused(
      await vouch(
        'verify',
        img.ref,
        '--certificate-identity-regexp',
        'user@example\\.com',
        '--certificate-oidc-issuer',
        MOCK_ISSUER,
        ...ROOT,
      ),
      'IDENTITY_MISMATCH',
    );
    // The whole identity is admitted, so the refusals above are about the identity alone.
    ok(
      await vouch(
        'verify',
        img.ref,
        '--certificate-identity',
        'evil-user@example.com',
        '--certificate-oidc-issuer',
        MOCK_ISSUER,
        ...ROOT,
      ),
    );
  });

  test('wrong issuer: ISSUER_MISMATCH', async () => {
    const img = await layoutImage('neg-issuer');
    ok(await vouch('sign', img.ref, ...keyless()));
    refused(
      await vouch(
        'verify',
        img.ref,
        '--certificate-identity',
        SIGNER,
        '--certificate-oidc-issuer',
        'https://accounts.google.com',
        ...ROOT,
      ),
      'ISSUER_MISMATCH',
    );
    refused(
      await vouch(
        'verify',
        img.ref,
        '--certificate-identity',
        SIGNER,
        '--certificate-oidc-issuer-regexp',
        'https://token\\.actions',
        ...ROOT,
      ),
      'ISSUER_MISMATCH',
    );
  });

  test('a signature moved from another image: SUBJECT_MISMATCH', { skip }, async () => {
    const a = await pushed('neg/moved');
    const b = await layoutImage('neg-moved-b');
    ok(await vouch('copy', b.ref, `${reg.host}/neg/moved:b`));
    ok(await vouch('sign', a.byDigest, '--key', 'cosign.key'));
    const store = new RegistryStore(parseReference(`${reg.host}/neg/moved`));
    try {
      const sig = (await store.getTagged(cosignTag(parseDigest(a.digest), 'sig')))!;
      await store.putManifest(sig.bytes, sig.descriptor.mediaType, cosignTag(parseDigest(b.digest), 'sig'));
    } finally {
      await store.close();
    }
    refused(
      await vouch('verify', `${reg.host}/neg/moved@${b.digest}`, '--key', 'cosign.pub'),
      'SUBJECT_MISMATCH',
      new RegExp(a.digest.slice(7)),
    );
  });

  test('a tampered payload: SIGNATURE_INVALID', { skip }, async () => {
    const img = await pushed('neg/tampered');
    ok(await vouch('sign', img.byDigest, '--key', 'cosign.key'));
    const store = new RegistryStore(parseReference(`${reg.host}/neg/tampered`));
    try {
      const tag = cosignTag(parseDigest(img.digest), 'sig');
      const sig = (await store.getTagged(tag))!;
      const manifest = JSON.parse(Buffer.from(sig.bytes).toString()) as { layers: Descriptor[] };
      const layer = manifest.layers[0]!;
      const payload = JSON.parse(Buffer.from(await store.readBlob(layer, 1 << 20)).toString());
      payload.optional = { env: 'prod' }; // a claim the signer never made
      const bytes = Buffer.from(JSON.stringify(payload));
      const changed: Descriptor = { ...layer, digest: digestOf(bytes), size: bytes.byteLength };
      await store.putBlob(changed, bytes);
      manifest.layers[0] = changed;
      await store.putManifest(Buffer.from(JSON.stringify(manifest)), sig.descriptor.mediaType, tag);
    } finally {
      await store.close();
    }
    refused(
      await vouch('verify', img.ref, '--key', 'cosign.pub'),
      'SIGNATURE_INVALID',
      /does not verify with the trusted key/,
    );
  });

  test('a certificate outside its validity when the log saw the signature: CERTIFICATE_INVALID', async () => {
    const inst = createInstance();
    await writeFile(join(dir, 'instance-root.json'), JSON.stringify(inst.trustedRoot()));
    const artifact = await readFile(join(dir, 'artifact.txt'));
    const expired = keylessSigner(inst, {
      san: { email: 'user@example.com' },
      issuer: MOCK_ISSUER,
      notBefore: new Date(T0.getTime() - 3600_000),
      notAfter: new Date(T0.getTime() - 1800_000),
    });
    await writeFile(
      join(dir, 'expired.sigstore.json'),
      JSON.stringify(messageBundle(artifact, expired, { log: inst.log, at: T0 })),
    );
    const id = [
      '--certificate-identity',
      'user@example.com',
      '--certificate-oidc-issuer',
      MOCK_ISSUER,
      '--trusted-root',
      'instance-root.json',
    ];
    refused(
      await vouch('verify-blob', 'artifact.txt', '--bundle', 'expired.sigstore.json', ...id),
      'CERTIFICATE_INVALID',
      /expired/,
    );
    // The same signer inside its validity verifies.
    const valid = keylessSigner(inst, { san: { email: 'user@example.com' }, issuer: MOCK_ISSUER });
    await writeFile(
      join(dir, 'valid.sigstore.json'),
      JSON.stringify(messageBundle(artifact, valid, { log: inst.log, at: T0 })),
    );
    ok(await vouch('verify-blob', 'artifact.txt', '--bundle', 'valid.sigstore.json', ...id));
  });

  test(
    'no transparency-log proof: TLOG_INVALID (image signature without its Rekor SET)',
    { skip },
    async () => {
      const img = await pushed('neg/unlogged');
      ok(await vouch('sign', img.byDigest, ...keyless()));
      ok(await vouch('verify', img.ref, ...BY_SIGNER, ...ROOT));
      const store = new RegistryStore(parseReference(`${reg.host}/neg/unlogged`));
      try {
        const tag = cosignTag(parseDigest(img.digest), 'sig');
        const sig = (await store.getTagged(tag))!;
        const manifest = JSON.parse(Buffer.from(sig.bytes).toString()) as { layers: Descriptor[] };
        const { [CosignAnnotation.Bundle]: set, ...rest } = manifest.layers[0]!.annotations ?? {};
        assert.ok(set, 'the keyless signature carried its Rekor SET');
        manifest.layers[0] = { ...manifest.layers[0]!, annotations: rest };
        await store.putManifest(Buffer.from(JSON.stringify(manifest)), sig.descriptor.mediaType, tag);
      } finally {
        await store.close();
      }
      refused(
        await vouch('verify', img.ref, ...BY_SIGNER, ...ROOT),
        'TLOG_INVALID',
        /0 transparency log entries, 1 required/,
      );
    },
  );

  test('provenance of another source repository or builder: PROVENANCE_MISMATCH', async () => {
    const img = await layoutImage('neg-provenance');
    ok(
      await vouch(
        'attest',
        img.ref,
        '--type',
        'slsaprovenance1',
        '--predicate',
        'predicate.json',
        ...keyless(),
      ),
    );
    ok(await vouch('verify-provenance', img.ref, '--source-uri', 'github.com/o/app', ...ROOT));
    refused(
      await vouch('verify-provenance', img.ref, '--source-uri', 'github.com/evil/app', ...ROOT),
      'PROVENANCE_MISMATCH',
      /certificate source repository: expected git\+https:\/\/github\.com\/evil\/app, found https:\/\/github\.com\/o\/app/,
    );
    refused(
      await vouch(
        'verify-provenance',
        img.ref,
        '--source-uri',
        'github.com/o/app',
        '--builder-id',
        'https://github.com/evil/app/.github/workflows/release.yml',
        ...ROOT,
      ),
      'PROVENANCE_MISMATCH',
      /builder id: expected https:\/\/github\.com\/evil\/app/,
    );
    // Signed by another repository's workflow, the provenance disagrees with the certificate.
    const fork = await layoutImage('neg-provenance-fork');
    ok(
      await vouch(
        'attest',
        fork.ref,
        '--type',
        'slsaprovenance1',
        '--predicate',
        'predicate.json',
        ...keyless(githubActionsClaims({ ...ghToken, repository: 'evil/app' })),
      ),
    );
    refused(
      await vouch('verify-provenance', fork.ref, '--source-uri', 'github.com/o/app', ...ROOT),
      'PROVENANCE_MISMATCH',
    );
  });
});

/**
 * Record every outgoing connection of this process (net.Socket#connect, under http, https,
 * fetch and tls alike) while `fn` runs; those `allow` refuses fail as a blocked network would.
 */
async function watchConnections<T>(
  allow: (host: string, port: number) => boolean,
  fn: () => Promise<T>,
): Promise<{ result: T; attempts: string[] }> {
  const original = net.Socket.prototype.connect;
  const attempts: string[] = [];
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    const o =
      typeof first === 'object' && first !== null
        ? (first as { host?: string; port?: number | string; path?: string | null })
        : { port: first as number, host: typeof args[1] === 'string' ? args[1] : undefined };
    const host = o.host ?? 'localhost';
    const port = Number(o.port);
    const unix = typeof o.path === 'string';
    attempts.push(unix ? `unix:${o.path}` : `${host}:${port}`);
    if (unix || !allow(host, port)) {
      process.nextTick(() => this.destroy(new Error(`connection to ${host}:${port} blocked by the test`)));
      return this;
    }
    return original.apply(this, args as Parameters<typeof original>);
  } as typeof original;
  try {
    return { result: await fn(), attempts };
  } finally {
    net.Socket.prototype.connect = original;
  }
}

describe('--offline opens no connection', () => {
  test('the guard sees and blocks a connection (control)', async () => {
    // A port that was free a moment ago (fetch refuses well-known "bad" ports before connecting).
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const { port } = srv.address() as net.AddressInfo;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const { attempts } = await watchConnections(
      () => false,
      async () => {
        await assert.rejects(fetch(`http://127.0.0.1:${port}/never`));
        const r = await vouch('verify', `127.0.0.1:${port}/app:v1`, '--key', 'cosign.pub', '--offline');
        assert.match(r.stderr, /blocked by the test/);
      },
    );
    assert.deepEqual(attempts.slice(0, 2), [`127.0.0.1:${port}`, `127.0.0.1:${port}`]);
  });

  test('verify-blob, verify, verify-attestation and verify-provenance on files and a layout: none at all', async () => {
    const img = await layoutImage('offline');
    ok(await vouch('sign', img.ref, '--key', 'cosign.key'));
    ok(await vouch('sign', img.ref, ...keyless()));
    ok(
      await vouch(
        'attest',
        img.ref,
        '--type',
        'slsaprovenance1',
        '--predicate',
        'predicate.json',
        ...keyless(),
      ),
    );
    ok(await vouch('sign-blob', 'artifact.txt', '--bundle', 'offline.sigstore.json', ...keyless()));
    ok(await vouch('sign-blob', 'artifact.txt', '--key', 'cosign.key', '--output-signature', 'artifact.sig'));
    const bundle = JSON.parse(await readFile(join(dir, 'offline.sigstore.json'), 'utf8'));
    assert.equal(bundle.verificationMaterial.tlogEntries.length, 1); // logged in the mock Rekor
    const { attempts } = await watchConnections(
      () => false,
      async () => {
        const off = ['--offline', ...ROOT];
        ok(
          await vouch(
            'verify-blob',
            'artifact.txt',
            '--bundle',
            'offline.sigstore.json',
            ...BY_SIGNER,
            ...off,
          ),
        );
        ok(
          await vouch(
            'verify-blob',
            'artifact.txt',
            '--key',
            'cosign.pub',
            '--signature',
            'artifact.sig',
            '--offline',
          ),
        );
        ok(await vouch('verify', img.ref, '--key', 'cosign.pub', '--offline'));
        ok(await vouch('verify', img.ref, ...BY_SIGNER, ...off));
        ok(await vouch('verify-attestation', img.ref, '--type', 'slsaprovenance1', ...BY_SIGNER, ...off));
        ok(await vouch('verify-provenance', img.ref, '--source-uri', 'github.com/o/app', ...off));
        // The public-good root that ships with vouch: no TUF refresh either.
        refused(
          await vouch(
            'verify-blob',
            'artifact.txt',
            '--bundle',
            'offline.sigstore.json',
            ...BY_SIGNER,
            '--offline',
          ),
          'CERTIFICATE_INVALID',
        );
      },
    );
    assert.deepEqual(attempts, []);
  });

  test('a remote image: connections to its registry only', { skip }, async () => {
    const img = await pushed('offline/app');
    ok(await vouch('sign', img.byDigest, ...keyless()));
    ok(
      await vouch(
        'attest',
        img.byDigest,
        '--type',
        'slsaprovenance1',
        '--predicate',
        'predicate.json',
        ...keyless(),
      ),
    );
    const port = Number(reg.host.split(':')[1]);
    const { attempts } = await watchConnections(
      (host, p) => host === '127.0.0.1' && p === port,
      async () => {
        const off = ['--offline', ...ROOT];
        ok(await vouch('verify', img.ref, ...BY_SIGNER, ...off));
        ok(await vouch('verify-attestation', img.ref, '--type', 'slsaprovenance1', ...BY_SIGNER, ...off));
        ok(await vouch('verify-provenance', img.ref, '--source-uri', 'github.com/o/app', ...off));
      },
    );
    assert.ok(attempts.length > 0, 'the registry was contacted');
    assert.deepEqual([...new Set(attempts)], [reg.host]);
  });
});

test('no token, key or passphrase appears in any output', async () => {
  const img = await layoutImage('secrets');
  const token = mock.identityToken(githubActionsClaims(ghToken));
  const runs = [
    await vouch(
      'sign',
      img.ref,
      '--identity-token',
      token,
      '--fulcio-url',
      mock.fulcioUrl,
      '--rekor-url',
      mock.rekorUrl,
    ),
    await vouch('sign', img.ref, '--key', 'cosign.key'),
    await vouchEnv({ COSIGN_PASSWORD: 'not-the-passphrase-7781' }, 'sign', img.ref, '--key', 'cosign.key'),
  ];
  assert.deepEqual(
    runs.map((r) => r.code),
    [0, 0, 1],
  );
  assert.match(runs[2]!.stderr, /\[PASSPHRASE_WRONG\]/);
  const all = runs.map((r) => r.stdout + r.stderr).join('\n');
  assert.ok(!all.includes(token.split('.')[1]!), 'token leaked');
  assert.ok(
    !all.includes(PASSWORD.COSIGN_PASSWORD) && !all.includes('not-the-passphrase-7781'),
    'passphrase leaked',
  );
  const keyPem = await readFile(join(dir, 'cosign.key'), 'utf8');
  assert.ok(!all.includes(keyPem.split('\n')[1]!), 'key leaked');
});
