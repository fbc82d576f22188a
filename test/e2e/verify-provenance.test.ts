/**
 * `vouch verify-provenance` run as a user runs it (cli/main.ts with a captured CliIO), on
 * provenance made the way GitHub builders make it: `vouch provenance generate` in a GitHub Actions
 * environment, signed keylessly by a private Sigstore instance whose certificates carry GitHub's
 * claims (test/sigstore/helpers/instance.ts, fixed clock), written as a Sigstore bundle
 * (actions/attest-build-provenance) or a `.intoto.jsonl` envelope with its certificate
 * (slsa-github-generator); plus the real slsa-github-generator fixture, key-signed envelopes, the
 * mock Fulcio for certificates valid now, and an image in an OCI layout. Every failure is asserted
 * by exit code and the code on stderr.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IN_TOTO_PAYLOAD_TYPE, pae } from '../../src/attest/dsse.ts';
import { isVouchError } from '../../src/errors.ts';
import { signingKeyFromKeyObject } from '../../src/sign/keys/signing-key.ts';
import { signDsse } from '../../src/sigstore/sign.ts';
import { verifyBundle } from '../../src/sigstore/verify.ts';
import { type CliResult, runVouch } from '../helpers/cli.ts';
import { GITHUB_ACTIONS_ENV, APP_SHA as SHA } from '../helpers/github-env.ts';
import { randomImage, writeLayout } from '../helpers/random-image.ts';
import { githubActionsClaims, type SigstoreMock, startSigstoreMock } from '../helpers/sigstore-mock.ts';
import { pem } from '../sigstore/helpers/der.ts';
import {
  createInstance,
  dsseBundle,
  ecKeyPair,
  type Instance,
  keylessSigner,
  type LeafOptions,
  T0,
} from '../sigstore/helpers/instance.ts';

const GHA = 'https://token.actions.githubusercontent.com';
const WORKFLOW = 'https://github.com/o/app/.github/workflows/release.yml';
const GITHUB_ENV = { ...GITHUB_ACTIONS_ENV, GITHUB_REF_TYPE: 'tag' };
const SGG_FIXTURE = new URL('../attest/fixtures/sgg-generic-v1.9.0-push-v14.intoto.jsonl', import.meta.url)
  .pathname;
const SGG_REPO = 'github.com/slsa-framework/example-package';

let dir: string;

function vouch(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runVouch(args, { env: { COSIGN_PASSWORD: 'e2e pass', ...env }, cwd: dir });
}

/** Exit 1, `FAILED: ... [CODE]` on stderr. */
function failedWith(r: CliResult, code: string, message?: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^FAILED: SLSA verification failed: \\[${code}\\]`, 'm'));
  if (message) assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /PASSED/);
}

function passed(r: CliResult): void {
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^PASSED: SLSA verification passed$/m);
}

/** A Fulcio-like leaf for a GitHub Actions workflow of `repo` at `ref` (claims as real Fulcio writes them). */
function githubLeaf(o: { repo?: string; ref?: string; sha?: string } = {}): LeafOptions {
  const repo = o.repo ?? 'o/app';
  const ref = o.ref ?? 'refs/tags/v1.4.0';
  const sha = o.sha ?? SHA;
  const workflow = `https://github.com/${repo}/.github/workflows/release.yml@${ref}`;
  return {
    san: { uri: workflow },
    issuer: GHA,
    rawClaims: { 2: 'push', 3: sha, 4: 'release', 5: repo, 6: ref },
    derClaims: {
      9: workflow,
      11: 'github-hosted',
      12: `https://github.com/${repo}`,
      13: sha,
      14: ref,
    },
  };
}

let inst: Instance;
let statement: Buffer;
const TRUST = ['--trusted-root', 'instance-root.json'];

/** The provenance signed keylessly by `leaf`, logged at T0, as a `.sigstore.json` file. */
async function bundleFile(name: string, leaf: LeafOptions, payload: Uint8Array = statement): Promise<string> {
  const b = dsseBundle(IN_TOTO_PAYLOAD_TYPE, payload, keylessSigner(inst, leaf), { log: inst.log, at: T0 });
  await writeFile(join(dir, name), JSON.stringify(b));
  return name;
}

/** slsa-github-generator's form: one envelope per line, the certificate beside the signature, no log proof. */
function intotoLine(
  envelope: { payload: string; payloadType: string; signatures: { sig: string }[] },
  cert?: string,
) {
  return `${JSON.stringify({
    payloadType: envelope.payloadType,
    payload: envelope.payload,
    signatures: envelope.signatures.map((s) => ({ keyid: '', sig: s.sig, ...(cert ? { cert } : {}) })),
  })}\n`;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-e2e-provenance-'));
  await writeFile(join(dir, 'app.tar.gz'), 'artifact bytes');
  await writeFile(join(dir, 'other.bin'), 'some other artifact');
  const g = await vouch(
    ['provenance', 'generate', '--subject-file', 'app.tar.gz', '--output', 'prov.json'],
    GITHUB_ENV,
  );
  assert.equal(g.code, 0, g.stderr);
  statement = await readFile(join(dir, 'prov.json'));
  inst = createInstance();
  await writeFile(join(dir, 'instance-root.json'), JSON.stringify(inst.trustedRoot()));
  await bundleFile('app.sigstore.json', githubLeaf());
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const BASE = [
  'verify-provenance',
  '--artifact',
  'app.tar.gz',
  '--provenance-path',
  'app.sigstore.json',
  ...TRUST,
];

describe('a GitHub Actions provenance bundle (actions/attest-build-provenance)', () => {
  test('passes with the source, tag, versioned tag and builder; each check listed', async () => {
    const r = await vouch([
      ...BASE,
      '--source-uri',
      'github.com/o/app',
      '--source-tag',
      'v1.4.0',
      '--builder-id',
      WORKFLOW,
    ]);
    passed(r);
    const digest = createHash('sha256').update('artifact bytes').digest('hex');
    assert.match(
      r.stderr,
      /^Verified signature of app\.sigstore\.json:1 \(https:\/\/slsa\.dev\/provenance\/v1\): certificate https:\/\/github\.com\/o\/app\/\.github\/workflows\/release\.yml@refs\/tags\/v1\.4\.0 \(issuer https:\/\/token\.actions\.githubusercontent\.com\), signed at 2026-01-01T00:00:00\.000Z/m,
    );
    assert.match(
      r.stderr,
      new RegExp(`^Verified app\\.tar\\.gz \\(sha256:${digest}\\) with app\\.sigstore\\.json:1:$`, 'm'),
    );
    for (const line of [
      `  signature: expected certificate /https://github\\.com/.+/ (issuer ${GHA}), found certificate ${WORKFLOW}@refs/tags/v1.4.0 (issuer ${GHA})`,
      `  builder id: expected ${WORKFLOW}, found ${WORKFLOW}@refs/tags/v1.4.0`,
      `  builder id (certificate): expected ${WORKFLOW}@refs/tags/v1.4.0, found ${WORKFLOW}@refs/tags/v1.4.0`,
      '  source repository (certificate): expected git+https://github.com/o/app, found git+https://github.com/o/app',
      `  source commit (certificate): expected ${SHA}, found ${SHA}`,
      '  source repository: expected git+https://github.com/o/app, found git+https://github.com/o/app',
      `  subject digest: expected sha256:${digest}, found sha256:${digest}`,
      '  source tag: expected v1.4.0, found refs/tags/v1.4.0',
    ]) {
      assert.ok(r.stderr.includes(`${line}\n`), `missing: ${line}\n${r.stderr}`);
    }
    assert.equal(r.stdout, '');
    passed(
      await vouch([...BASE, '--source-uri', 'https://github.com/o/app', '--source-versioned-tag', 'v1.4']),
    );
    passed(
      await vouch([...BASE, '--source-uri', 'git+https://github.com/o/app', '--source-versioned-tag', 'v1']),
    );
  });

  test('--output json lists the checks; --print-provenance adds the signed statement', async () => {
    const r = await vouch([
      ...BASE,
      '--source-uri',
      'github.com/o/app',
      '--output',
      'json',
      '--print-provenance',
    ]);
    passed(r);
    const j = JSON.parse(r.stdout);
    assert.equal(j.verified, true);
    assert.equal(j.subjects.length, 1);
    const s = j.subjects[0];
    assert.equal(s.name, 'app.tar.gz');
    assert.equal(s.provenance.predicateType, 'https://slsa.dev/provenance/v1');
    assert.equal(s.provenance.signer.issuer, GHA);
    assert.deepEqual(s.provenance.timestamps, [{ source: 'transparency-log', time: T0.toISOString() }]);
    assert.deepEqual(
      s.checks.map((c: { field: string }) => c.field),
      [
        'signature',
        'builder id (certificate)',
        'source repository (certificate)',
        'source commit (certificate)',
        'source ref (certificate)',
        'trigger repository',
        'source repository',
        'subject digest',
      ],
    );
    assert.deepEqual(s.statement, JSON.parse(statement.toString()));
    // Text mode prints the statement alone on stdout.
    const t = await vouch([...BASE, '--source-uri', 'github.com/o/app', '--print-provenance']);
    passed(t);
    assert.deepEqual(JSON.parse(t.stdout), JSON.parse(statement.toString()));
  });

  test('another source repository: PROVENANCE_MISMATCH naming the field, expected and found', async () => {
    const r = await vouch([...BASE, '--source-uri', 'github.com/o/other']);
    failedWith(
      r,
      'PROVENANCE_MISMATCH',
      /certificate source repository: expected git\+https:\/\/github\.com\/o\/other, found https:\/\/github\.com\/o\/app/,
    );
    const j = await vouch([...BASE, '--source-uri', 'github.com/o/other', '--output', 'json']);
    assert.equal(j.code, 1);
    const out = JSON.parse(j.stdout);
    assert.equal(out.verified, false);
    assert.equal(out.error.code, 'PROVENANCE_MISMATCH');
    assert.match(out.error.message, /expected git\+https:\/\/github\.com\/o\/other/);
  });

  test('another builder: PROVENANCE_MISMATCH with expected and found builder ids', async () => {
    const r = await vouch([
      ...BASE,
      '--source-uri',
      'github.com/o/app',
      '--builder-id',
      'https://github.com/o/app/.github/workflows/evil.yml',
    ]);
    failedWith(
      r,
      'PROVENANCE_MISMATCH',
      /builder id: expected https:\/\/github\.com\/o\/app\/\.github\/workflows\/evil\.yml, found https:\/\/github\.com\/o\/app\/\.github\/workflows\/release\.yml@refs\/tags\/v1\.4\.0/,
    );
    // A version that is not the one built is another builder too.
    failedWith(
      await vouch([...BASE, '--source-uri', 'github.com/o/app', '--builder-id', `${WORKFLOW}@v9`]),
      'PROVENANCE_MISMATCH',
    );
  });

  test('another artifact: SUBJECT_MISMATCH with both digests', async () => {
    const r = await vouch([
      'verify-provenance',
      '--artifact',
      'other.bin',
      '--provenance-path',
      'app.sigstore.json',
      ...TRUST,
      '--source-uri',
      'github.com/o/app',
    ]);
    const want = createHash('sha256').update('some other artifact').digest('hex');
    const found = createHash('sha256').update('artifact bytes').digest('hex');
    failedWith(r, 'SUBJECT_MISMATCH', new RegExp(`expected sha256:${want}, found sha256:${found}`));
    // Two artifacts: each must have provenance.
    failedWith(
      await vouch([...BASE, '--artifact', 'other.bin', '--source-uri', 'github.com/o/app']),
      'SUBJECT_MISMATCH',
      /other\.bin: provenance subject/,
    );
  });

  test('branch, tag and versioned tag that were not built: PROVENANCE_MISMATCH', async () => {
    failedWith(
      await vouch([...BASE, '--source-uri', 'github.com/o/app', '--source-tag', 'v1.4.1']),
      'PROVENANCE_MISMATCH',
      /source tag: expected v1\.4\.1, found refs\/tags\/v1\.4\.0/,
    );
    failedWith(
      await vouch([...BASE, '--source-uri', 'github.com/o/app', '--source-versioned-tag', 'v2']),
      'PROVENANCE_MISMATCH',
      /major version 1 is not 2/,
    );
    failedWith(
      await vouch([...BASE, '--source-uri', 'github.com/o/app', '--source-branch', 'main']),
      'PROVENANCE_MISMATCH',
      /source branch: expected main/,
    );
  });

  test('a certificate from a workflow of another repository: PROVENANCE_MISMATCH', async () => {
    await bundleFile('fork.sigstore.json', githubLeaf({ repo: 'evil/app' }));
    const r = await vouch([
      'verify-provenance',
      '--artifact',
      'app.tar.gz',
      '--provenance-path',
      'fork.sigstore.json',
      ...TRUST,
      '--source-uri',
      'github.com/o/app',
    ]);
    failedWith(
      r,
      'PROVENANCE_MISMATCH',
      /builder id: expected the certificate's signer https:\/\/github\.com\/evil\/app/,
    );
  });

  test('identity: GitHub Actions by default, else the flags, matched whole', async () => {
    await bundleFile('email.sigstore.json', {
      san: { email: 'user@example.com' },
      issuer: 'https://accounts.example.com',
    });
    const args = [
      'verify-provenance',
      '--artifact',
      'app.tar.gz',
      '--provenance-path',
      'email.sigstore.json',
      ...TRUST,
    ];
    failedWith(
      await vouch([...args, '--source-uri', 'github.com/o/app']),
      'IDENTITY_MISMATCH',
      /"user@example\.com" does not match the required \/https:\/\/github\\\.com\/\.\+\//,
    );
    const id = [
      '--certificate-identity',
      'user@example.com',
      '--certificate-oidc-issuer',
      'https://accounts.example.com',
    ];
    passed(await vouch([...args, '--source-uri', 'github.com/o/app', ...id]));
    failedWith(
      await vouch([
        ...args,
        '--source-uri',
        'github.com/o/app',
        '--certificate-identity',
        'r@example.com',
        '--certificate-oidc-issuer',
        'https://accounts.example.com',
      ]),
      'IDENTITY_MISMATCH',
    );
    await bundleFile('evil.sigstore.json', {
      san: { email: 'evil-user@example.com' },
      issuer: 'https://accounts.example.com',
    });
    failedWith(
      await vouch([
        'verify-provenance',
        '--artifact',
        'app.tar.gz',
        '--provenance-path',
        'evil.sigstore.json',
        ...TRUST,
        '--source-uri',
        'github.com/o/app',
        ...id,
      ]),
      'IDENTITY_MISMATCH',
      /"evil-user@example\.com" does not match the required "user@example\.com"/,
    );
    failedWith(
      await vouch([
        ...BASE,
        '--source-uri',
        'github.com/o/app',
        '--certificate-identity',
        `${WORKFLOW}@refs/tags/v1.4.0`,
        '--certificate-oidc-issuer',
        'https://accounts.google.com',
      ]),
      'ISSUER_MISMATCH',
      /"https:\/\/token\.actions\.githubusercontent\.com" does not match the required "https:\/\/accounts\.google\.com"/,
    );
  });
});

describe('.intoto.jsonl envelopes with their certificate (slsa-github-generator)', () => {
  test('no transparency-log proof in the file: TLOG_INVALID, with the way out in the hint', async () => {
    const b = dsseBundle(IN_TOTO_PAYLOAD_TYPE, statement, keylessSigner(inst, githubLeaf()), {});
    const cert = pem(
      Buffer.from(
        (b.verificationMaterial as { certificate: { rawBytes: string } }).certificate.rawBytes,
        'base64',
      ),
    );
    await writeFile(join(dir, 'app.intoto.jsonl'), intotoLine(b.dsseEnvelope!, cert));
    const args = [
      'verify-provenance',
      '--artifact',
      'app.tar.gz',
      '--provenance-path',
      'app.intoto.jsonl',
      ...TRUST,
      '--source-uri',
      'github.com/o/app',
    ];
    const r = await vouch(args);
    failedWith(
      r,
      'TLOG_INVALID',
      /app\.intoto\.jsonl:1: the envelope's certificate has no transparency-log proof in the file/,
    );
    assert.match(
      r.stderr,
      /hint: slsa-verifier fetches the Rekor entry online; vouch verifies offline .*--insecure-ignore-tlog/,
    );
    // Waived, the certificate is checked now: this one was valid on 2026-01-01 for ten minutes.
    failedWith(await vouch([...args, '--insecure-ignore-tlog']), 'CERTIFICATE_INVALID');
  });

  test('the real slsa-github-generator file: TLOG_INVALID offline; waived, its 2023 certificate has expired', async () => {
    const args = [
      'verify-provenance',
      '--artifact',
      'app.tar.gz',
      '--provenance-path',
      SGG_FIXTURE,
      '--source-uri',
      SGG_REPO,
      '--offline',
    ];
    failedWith(await vouch(args), 'TLOG_INVALID', /sgg-generic-v1\.9\.0-push-v14\.intoto\.jsonl:1/);
    failedWith(await vouch([...args, '--insecure-ignore-tlog']), 'CERTIFICATE_INVALID');
  });

  describe('a certificate valid now (mock Fulcio)', () => {
    let mock: SigstoreMock;
    before(async () => {
      mock = await startSigstoreMock({ tsa: true });
      await writeFile(join(dir, 'mock-root.json'), JSON.stringify(mock.trustedRoot));
    });
    after(async () => {
      await mock?.close();
    });

    test('--insecure-ignore-tlog accepts it unlogged; the provenance checks still apply', async () => {
      const token = mock.identityToken(
        githubActionsClaims({ repository: 'o/app', ref: 'refs/tags/v1.4.0', sha: SHA }),
      );
      const b = await signDsse(statement, IN_TOTO_PAYLOAD_TYPE, {
        identity: { kind: 'keyless', fulcioUrl: mock.fulcioUrl, identityToken: async () => token },
        tsaUrl: mock.tsaUrl, // signing needs a witness; the .intoto.jsonl keeps none of it
      });
      assert.deepEqual(b.verificationMaterial.tlogEntries, []);
      const cert = pem(Buffer.from(b.verificationMaterial.certificate!.rawBytes, 'base64'));
      await writeFile(join(dir, 'now.intoto.jsonl'), intotoLine(b.dsseEnvelope!, cert));
      const args = [
        'verify-provenance',
        '--artifact',
        'app.tar.gz',
        '--provenance-path',
        'now.intoto.jsonl',
        '--trusted-root',
        'mock-root.json',
      ];
      failedWith(await vouch([...args, '--source-uri', 'github.com/o/app']), 'TLOG_INVALID');
      const r = await vouch([
        ...args,
        '--source-uri',
        'github.com/o/app',
        '--source-tag',
        'v1.4.0',
        '--insecure-ignore-tlog',
        '--offline',
      ]);
      passed(r);
      assert.match(
        r.stderr,
        /builder id \(certificate\): expected https:\/\/github\.com\/o\/app\/\.github\/workflows\/release\.yml@refs\/tags\/v1\.4\.0/,
      );
      failedWith(
        await vouch([...args, '--source-uri', 'github.com/o/other', '--insecure-ignore-tlog']),
        'PROVENANCE_MISMATCH',
      );
      // The library-level switch, on the same bundle without its timestamp: off, a certificate
      // needs a verified time; on, it is checked now.
      const bare = {
        ...b,
        verificationMaterial: {
          ...b.verificationMaterial,
          timestampVerificationData: { rfc3161Timestamps: [] },
        },
      };
      const o = {
        trustedRoot: mock.trustedRoot,
        tlogThreshold: 0,
        identity: { identityRegexp: '.+', issuer: GHA },
      };
      await assert.rejects(verifyBundle(bare, undefined, o), (e) => isVouchError(e, 'TIMESTAMP_INVALID'));
      const v = await verifyBundle(bare, undefined, { ...o, currentTimeWithoutTimestamps: true });
      assert.deepEqual(v.timestamps, []);
      assert.equal(
        v.signer.kind === 'certificate' && v.signer.claims.sourceRepositoryURI,
        'https://github.com/o/app',
      );
    });
  });
});

describe('key-signed envelopes', () => {
  test('verify with --key; another key or a changed payload is SIGNATURE_INVALID', async () => {
    const key = signingKeyFromKeyObject(ecKeyPair().privateKey);
    const other = signingKeyFromKeyObject(ecKeyPair().privateKey);
    await writeFile(join(dir, 'signer.pub'), key.publicKeyPem);
    await writeFile(join(dir, 'other.pub'), other.publicKeyPem);
    const sig = key.sign(pae(IN_TOTO_PAYLOAD_TYPE, statement)).toString('base64');
    const envelope = {
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      payload: statement.toString('base64'),
      signatures: [{ sig }],
    };
    await writeFile(join(dir, 'key.intoto.jsonl'), intotoLine(envelope));
    const args = [
      'verify-provenance',
      '--artifact',
      'app.tar.gz',
      '--provenance-path',
      'key.intoto.jsonl',
      '--source-uri',
      'github.com/o/app',
    ];
    const r = await vouch([...args, '--key', 'signer.pub', '--offline']);
    passed(r);
    assert.match(
      r.stderr,
      new RegExp(`signature: expected key ${key.hint.replace(/[+/]/g, '\\$&')}, found key `),
    );
    failedWith(await vouch([...args, '--key', 'other.pub']), 'SIGNATURE_INVALID');
    // A keyless policy for a key-signed envelope.
    failedWith(await vouch(args), 'KEY_MISMATCH', /signed with a key, not a certificate/);

    const tampered = JSON.parse(statement.toString());
    tampered.predicate.runDetails.builder.id =
      'https://github.com/o/app/.github/workflows/evil.yml@refs/tags/v1.4.0';
    const bad = { ...envelope, payload: Buffer.from(JSON.stringify(tampered)).toString('base64') };
    await writeFile(join(dir, 'tampered.intoto.jsonl'), intotoLine(bad));
    failedWith(
      await vouch([
        'verify-provenance',
        '--artifact',
        'app.tar.gz',
        '--provenance-path',
        'tampered.intoto.jsonl',
        '--source-uri',
        'github.com/o/app',
        '--key',
        'signer.pub',
      ]),
      'SIGNATURE_INVALID',
    );
  });
});

describe('an image in an OCI layout', () => {
  test('its SLSA v0.2 attestation (attest --type slsaprovenance) verifies; other source repos do not', async () => {
    const img = await randomImage({ layerCount: 1 });
    await writeLayout(join(dir, 'layout'), [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
    const g = await vouch(['key', 'generate', '--output-key-prefix', 'layout']);
    assert.equal(g.code, 0, g.stderr);
    const line = (await readFile(SGG_FIXTURE, 'utf8')).trim();
    const predicate = JSON.parse(Buffer.from(JSON.parse(line).payload, 'base64').toString()).predicate;
    await writeFile(join(dir, 'v02.json'), JSON.stringify(predicate));
    const layout = `oci:${join(dir, 'layout')}:v1`;
    const a = await vouch([
      'attest',
      layout,
      '--type',
      'slsaprovenance',
      '--predicate',
      'v02.json',
      '--key',
      'layout.key',
    ]);
    assert.equal(a.code, 0, a.stderr);
    const image = ['verify-provenance', layout, '--key', 'layout.pub', '--offline'];
    const r = await vouch([
      ...image,
      '--source-uri',
      SGG_REPO,
      '--source-tag',
      'v14',
      '--builder-id',
      'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@v1.9.0',
    ]);
    passed(r);
    assert.ok(r.stderr.includes(`note: ${layout} names a tag`), r.stderr);
    assert.match(r.stderr, new RegExp(`subject digest: expected sha256:${img.descriptor.digest.slice(7)}`));
    assert.match(
      r.stderr,
      /Verified signature of tag sha256-[0-9a-f]{64}\.att\[0\] \(https:\/\/slsa\.dev\/provenance\/v0\.2\): key /,
    );
    failedWith(
      await vouch([...image, '--source-uri', 'github.com/slsa-framework/other-package']),
      'PROVENANCE_MISMATCH',
      /expected git\+https:\/\/github\.com\/slsa-framework\/other-package/,
    );
    // An image with its provenance in a file (a bundle about the image digest).
    const gi = await vouch(
      [
        'provenance',
        'generate',
        '--subject',
        `layout=${img.descriptor.digest}`,
        '--output',
        'image-prov.json',
      ],
      GITHUB_ENV,
    );
    assert.equal(gi.code, 0, gi.stderr);
    const imageStatement = await readFile(join(dir, 'image-prov.json'));
    await bundleFile('image.sigstore.json', githubLeaf(), imageStatement);
    const f = await vouch([
      'verify-provenance',
      layout,
      '--provenance-path',
      'image.sigstore.json',
      ...TRUST,
      '--source-uri',
      'github.com/o/app',
    ]);
    passed(f);
    assert.match(f.stderr, /Verified signature of image\.sigstore\.json:1 /);
    failedWith(
      await vouch([
        'verify-provenance',
        layout,
        '--provenance-path',
        'app.sigstore.json',
        ...TRUST,
        '--source-uri',
        'github.com/o/app',
      ]),
      'SUBJECT_MISMATCH',
    );
    // No provenance stored with an image: SIGNATURE_NOT_FOUND.
    const bare = await randomImage({ layerCount: 1 });
    await writeLayout(join(dir, 'bare'), [{ descriptor: bare.descriptor, tag: 'v1' }], bare.blobs);
    failedWith(
      await vouch([
        'verify-provenance',
        `oci:${join(dir, 'bare')}:v1`,
        '--key',
        'layout.pub',
        '--source-uri',
        SGG_REPO,
      ]),
      'SIGNATURE_NOT_FOUND',
    );
  });
});

test('usage errors exit 2 before any work', async () => {
  const cases: [string[], RegExp][] = [
    [['--artifact', 'app.tar.gz', '--provenance-path', 'app.sigstore.json'], /--source-uri is required/],
    [['--artifact', 'app.tar.gz', '--source-uri', 'github.com/o/app'], /--artifact needs --provenance-path/],
    [['oci:x:v1', '--artifact', 'app.tar.gz', '--source-uri', 'github.com/o/app'], /not both/],
    [['--source-uri', 'github.com/o/app'], /give an IMAGE or --artifact/],
    [[...BASE.slice(1), '--source-uri', 'github.com/o/app@refs/tags/v1'], /must not name a ref/],
    [
      [
        ...BASE.slice(1),
        '--source-uri',
        'github.com/o/app',
        '--source-tag',
        'v1',
        '--source-versioned-tag',
        'v1',
      ],
      /exclude each other/,
    ],
    [
      [...BASE.slice(1), '--source-uri', 'github.com/o/app', '--source-versioned-tag', 'one'],
      /not a semantic version/,
    ],
    [[...BASE.slice(1), '--source-uri', 'github.com/o/app', '--builder-id', 'a@b@c'], /NAME\[@VERSION\]/],
    [
      [...BASE.slice(1), '--source-uri', 'github.com/o/app', '--key', 'x.pub', '--certificate-identity', 'a'],
      /cannot be combined with --key/,
    ],
    [
      [...BASE.slice(1), '--source-uri', 'github.com/o/app', '--certificate-identity', 'a'],
      /say who must have signed/,
    ],
    [
      [...BASE.slice(1), '--source-uri', 'github.com/o/app', '--output', 'yaml'],
      /--output must be text or json/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await vouch(['verify-provenance', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /PASSED|FAILED/);
  }
});
