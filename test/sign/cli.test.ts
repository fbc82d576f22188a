/**
 * `vouch sign`, `verify`, `attest`, `verify-attestation`, run as cli/main.ts runs a command
 * (parseArgs over its options), against the real registry and, keyless, the mock Sigstore services.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeAttestCommand } from '../../src/cli/commands/attest.ts';
import { makeSignCommand } from '../../src/cli/commands/sign.ts';
import { verifyCommand } from '../../src/cli/commands/verify.ts';
import { verifyAttestationCommand } from '../../src/cli/commands/verify-attestation.ts';
import type { Command } from '../../src/cli/main.ts';
import { type ErrorCode, isVouchError } from '../../src/errors.ts';
import { exportKeyPair } from '../../src/sign/keys/generate.ts';
import { type CliResult, runCommand } from '../helpers/cli.ts';
import { randomImage, writeLayout } from '../helpers/random-image.ts';
import { REGISTRY_BIN, requireBinary, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { MOCK_ISSUER, type SigstoreMock, startSigstoreMock } from '../helpers/sigstore-mock.ts';
import { newKey, pushImage } from './helpers.ts';

const skip = await requireBinary(REGISTRY_BIN);
const TESTDATA = new URL('../../src/policy/testdata/', import.meta.url).pathname;
let reg: TestRegistry;
let mock: SigstoreMock;
let dir: string;
const ENV = { COSIGN_PASSWORD: 'correct horse' };

const COMMANDS: Record<string, Command> = {
  sign: makeSignCommand({ prompt: () => undefined }),
  verify: verifyCommand,
  attest: makeAttestCommand({ prompt: () => undefined }),
  'verify-attestation': verifyAttestationCommand,
};

/** Parse like cli/main.ts and run; VouchErrors propagate so tests can check their codes. */
function vouch(name: string, ...args: string[]): Promise<CliResult> {
  return runCommand(COMMANDS[name]!, args, { env: ENV, cwd: dir, rethrow: true });
}

async function fails(p: Promise<unknown>, code: ErrorCode): Promise<Error> {
  let err: unknown;
  await p.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => {
      err = e;
    },
  );
  assert.ok(
    isVouchError(err, code),
    `expected ${code}, got ${(err as { code?: string }).code}: ${(err as Error).message}`,
  );
  return err as Error;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-sign-cli-'));
  const pair = await exportKeyPair(newKey(), ENV.COSIGN_PASSWORD, { N: 32768, r: 8, p: 1 });
  await writeFile(join(dir, 'cosign.key'), pair.privatePem);
  await writeFile(join(dir, 'cosign.pub'), pair.publicPem);
  await writeFile(join(dir, 'other.pub'), newKey().publicKeyPem);
  mock = await startSigstoreMock();
  await writeFile(join(dir, 'trusted_root.json'), JSON.stringify(mock.trustedRoot));
  if (!skip) reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
  await mock?.close();
  await rm(dir, { recursive: true, force: true });
});

test('the commands: names and cosign flag names', () => {
  assert.deepEqual(
    Object.values(COMMANDS).map((c) => c.name),
    Object.keys(COMMANDS),
  );
  for (const flag of [
    'key',
    'identity-token',
    'fulcio-url',
    'rekor-url',
    'storage',
    'annotations',
    'tlog-upload',
  ]) {
    assert.ok(flag in COMMANDS.sign!.options, flag);
  }
  assert.equal(COMMANDS.sign!.options.annotations?.short, 'a');
  for (const flag of [
    'key',
    'certificate-identity',
    'certificate-identity-regexp',
    'certificate-oidc-issuer',
    'certificate-oidc-issuer-regexp',
    'trusted-root',
    'offline',
    'output',
  ]) {
    assert.ok(flag in COMMANDS.verify!.options, flag);
  }
  for (const flag of ['predicate', 'type', 'storage']) assert.ok(flag in COMMANDS.attest!.options, flag);
  for (const flag of ['type', 'policy', 'output'])
    assert.ok(flag in COMMANDS['verify-attestation']!.options, flag);
});

describe('against a registry', { skip }, () => {
  test('sign by tag (warned), verify text and JSON, then referrers storage with -a', async () => {
    const { descriptor } = await pushImage({ registry: reg.host, repository: 'cli/app', tag: 'v1' });
    const image = `${reg.host}/cli/app:v1`;
    const s = await vouch('sign', image, '--key', 'cosign.key');
    assert.equal(s.code, 0);
    assert.equal(s.stdout.trim(), `${reg.host}/cli/app@${descriptor.digest}`);
    assert.match(s.stderr, new RegExp(`warning: .*tag "v1".*${descriptor.digest}`));
    assert.match(s.stderr, /Pushed signature to tag sha256-[0-9a-f]{64}\.sig/);

    const v = await vouch('verify', image, '--key', 'cosign.pub');
    assert.match(v.stdout, /^Verified 1 signature of /);
    assert.match(v.stdout, /tag sha256-[0-9a-f]{64}\.sig\[0\]: key /);

    const byDigest = `${reg.host}/cli/app@${descriptor.digest}`;
    const s2 = await vouch(
      'sign',
      byDigest,
      '--key',
      'cosign.key',
      '-a',
      'env=prod',
      '-a',
      'team=a=b',
      '--storage',
      'referrers',
    );
    assert.doesNotMatch(s2.stderr, /warning/, 'a digest needs no warning');
    const j = await vouch('verify', byDigest, '--key', 'cosign.pub', '--output', 'json');
    const claims = JSON.parse(j.stdout) as {
      critical: { image: Record<string, string>; type: string };
      optional: unknown;
    }[];
    assert.deepEqual(
      claims.map((c) => [c.critical.type, c.critical.image['docker-manifest-digest'], c.optional]),
      [
        ['https://sigstore.dev/cosign/sign/v1', descriptor.digest, { env: 'prod', team: 'a=b' }],
        ['cosign container image signature', descriptor.digest, null],
      ],
    );
    assert.match(j.stderr, /The cosign claims were validated/);

    await fails(vouch('verify', image, '--key', 'other.pub'), 'KEY_MISMATCH');
  });

  test('verify: no signature, usage errors before any work', async () => {
    await pushImage({ registry: reg.host, repository: 'cli/unsigned', tag: 'v1' });
    const image = `${reg.host}/cli/unsigned:v1`;
    await fails(vouch('verify', image, '--key', 'cosign.pub'), 'SIGNATURE_NOT_FOUND');
    await fails(vouch('verify', image), 'USAGE');
    await fails(vouch('verify', image, '--certificate-identity', 'a@b.c'), 'USAGE');
    await fails(vouch('verify', image, '--key', 'cosign.pub', '--certificate-identity', 'a@b.c'), 'USAGE');
    await fails(vouch('verify', image, '--key', 'cosign.pub', '--output', 'yaml'), 'USAGE');
    await fails(vouch('sign', image, '--key', 'cosign.key', '--storage', 'attic'), 'USAGE');
    await fails(vouch('sign', image, '--key', 'cosign.key', '-a', 'novalue'), 'USAGE');
    await fails(vouch('sign', `${reg.host}/cli/missing:v1`, '--key', 'cosign.key'), 'MANIFEST_UNKNOWN');
    await fails(vouch('attest', image, '--key', 'cosign.key'), 'USAGE');
    await fails(vouch('verify-attestation', image, '--key', 'cosign.pub'), 'USAGE');
  });

  test('attest provenance and an SBOM; verify-attestation with a policy; JSON gives the statements', async () => {
    const { descriptor } = await pushImage({ registry: reg.host, repository: 'cli/att', tag: 'v1' });
    const image = `${reg.host}/cli/att@${descriptor.digest}`;
    const prov = JSON.parse(await readFile(join(TESTDATA, 'slsa-v1-github.json'), 'utf8')) as {
      predicate: unknown;
    };
    await writeFile(join(dir, 'prov.json'), JSON.stringify(prov.predicate));
    const sbom = {
      bomFormat: 'CycloneDX',
      specVersion: '1.6',
      version: 1,
      components: [{ type: 'library', name: 'zlib' }],
    };
    await writeFile(join(dir, 'sbom.cdx.json'), JSON.stringify(sbom));
    const a = await vouch(
      'attest',
      image,
      '--key',
      'cosign.key',
      '--type',
      'slsaprovenance1',
      '--predicate',
      'prov.json',
    );
    assert.match(
      a.stderr,
      /Pushed https:\/\/slsa\.dev\/provenance\/v1 attestation to tag sha256-[0-9a-f]{64}\.att/,
    );
    await vouch(
      'attest',
      image,
      '--key',
      'cosign.key',
      '--type',
      'cyclonedx',
      '--predicate',
      'sbom.cdx.json',
      '--storage',
      'referrers',
    );

    const v = await vouch(
      'verify-attestation',
      image,
      '--key',
      'cosign.pub',
      '--type',
      'slsaprovenance1',
      '--policy',
      join(TESTDATA, 'github-release.yaml'),
    );
    assert.match(v.stdout, /^Verified 1 https:\/\/slsa\.dev\/provenance\/v1 attestation of /);
    assert.match(v.stdout, /policy .*github-release\.yaml: 6 rule\(s\) passed/);

    const j = await vouch(
      'verify-attestation',
      image,
      '--key',
      'cosign.pub',
      '--type',
      'cyclonedx',
      '--output',
      'json',
    );
    const statements = JSON.parse(j.stdout) as { predicate: unknown; subject: unknown }[];
    assert.deepEqual(
      statements.map((s) => s.predicate),
      [sbom],
      'the SBOM comes back out of its attestation',
    );
    assert.deepEqual(statements[0]!.subject, [
      { name: `${reg.host}/cli/att`, digest: { sha256: descriptor.digest.slice(7) } },
    ]);

    await writeFile(
      join(dir, 'main-only.cel'),
      'predicate.buildDefinition.externalParameters.workflow.ref == "refs/heads/main"',
    );
    const e = await fails(
      vouch(
        'verify-attestation',
        image,
        '--key',
        'cosign.pub',
        '--type',
        'slsaprovenance1',
        '--policy',
        'main-only.cel',
      ),
      'POLICY_FAILED',
    );
    assert.match(e.message, /rule "policy"/);
    await fails(
      vouch('verify-attestation', image, '--key', 'cosign.pub', '--type', 'spdxjson'),
      'SIGNATURE_NOT_FOUND',
    );
  });
});

test('keyless sign and verify of an OCI layout with the mock Fulcio and Rekor', async () => {
  const layout = join(dir, 'layout');
  const img = await randomImage({ layerCount: 1 });
  await writeLayout(layout, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  await writeFile(join(dir, 'token.jwt'), mock.identityToken());
  const s = await vouch(
    'sign',
    `oci:${layout}:v1`,
    '--identity-token',
    '@token.jwt',
    '--fulcio-url',
    mock.fulcioUrl,
    '--rekor-url',
    mock.rekorUrl,
  );
  assert.match(s.stderr, /Signing as signer@example\.com/);
  assert.doesNotMatch(s.stderr + s.stdout, /eyJ/, 'the token is never printed');
  const keyless = ['--certificate-oidc-issuer', MOCK_ISSUER, '--trusted-root', 'trusted_root.json'];
  const v = await vouch(
    'verify',
    `oci:${layout}:v1`,
    '--certificate-identity',
    'signer@example.com',
    ...keyless,
    '--output',
    'json',
  );
  const claims = JSON.parse(v.stdout) as { optional: Record<string, string> }[];
  assert.equal(claims[0]?.optional.Subject, 'signer@example.com');
  assert.equal(claims[0]?.optional.Issuer, MOCK_ISSUER);
  await fails(
    vouch('verify', `oci:${layout}:v1`, '--certificate-identity-regexp', '.*@evil\\.example', ...keyless),
    'IDENTITY_MISMATCH',
  );
});
