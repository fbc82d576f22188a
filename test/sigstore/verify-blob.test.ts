/**
 * `vouch verify-blob` end to end: cosign's flags over real public-good bundles, a private
 * instance's trusted root, key bundles and detached `.sig` files; exit codes 0 / 1 / 2.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { verifyBlobCommand } from '../../src/cli/commands/verify-blob.ts';
import { type CliResult, runCommand } from '../helpers/cli.ts';
import { tempDir } from '../helpers/layout.ts';
import { BEACON, CONFORMANCE, conformancePresent, GITHUB_ISSUER } from './helpers/conformance.ts';
import { pem } from './helpers/der.ts';
import { createInstance, keylessSigner, messageBundle } from './helpers/instance.ts';

/** Run as cli/main.ts runs it: parsed strictly, errors mapped to exit codes. */
function run(args: string[], cwd: string): Promise<CliResult> {
  return runCommand(verifyBlobCommand, args, { cwd });
}

const conf = (c: string, f: string) => join(CONFORMANCE, c, f);

describe(
  'verify-blob on public-good bundles',
  { skip: conformancePresent ? false : `${CONFORMANCE} is missing` },
  () => {
    const A = join(CONFORMANCE, 'a.txt');
    const B = conf('happy-path-v0.3', 'bundle.sigstore.json');

    test('identity and issuer flags: Verified OK on stderr, exit 0; --output json says what was verified', async () => {
      const r = await run(
        [A, '--bundle', B, '--certificate-identity', BEACON, '--certificate-oidc-issuer', GITHUB_ISSUER],
        '/',
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, 'Verified OK\n');
      assert.equal(r.stdout, '');
      const j = await run(
        [
          A,
          '--bundle',
          B,
          '--certificate-identity-regexp',
          'https://github\\.com/sigstore-conformance/.+',
          '--certificate-oidc-issuer',
          GITHUB_ISSUER,
          '--certificate-github-workflow-trigger',
          'workflow_dispatch',
          '--output',
          'json',
          '--offline',
        ],
        '/',
      );
      assert.equal(j.code, 0, j.stderr);
      const doc = JSON.parse(j.stdout);
      assert.equal(doc.verified, true);
      assert.equal(doc.artifact.sha256, 'a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf');
      assert.equal(doc.content, 'message-signature');
      assert.equal(doc.signer.identity, BEACON);
      assert.equal(doc.signer.issuer, GITHUB_ISSUER);
      assert.equal(doc.tlogEntries, 1);
      assert.equal(doc.timestamps[0].source, 'transparency-log');
    });

    test('a look-alike identity fails with exit 1 and the code', async () => {
      const r = await run(
        [
          A,
          '--bundle',
          B,
          '--certificate-identity-regexp',
          'extremely-dangerous-oidc-beacon',
          '--certificate-oidc-issuer',
          GITHUB_ISSUER,
        ],
        '/',
      );
      assert.equal(r.code, 1);
      assert.match(r.stderr, /\[IDENTITY_MISMATCH\]/);
      assert.doesNotMatch(r.stderr, /Verified OK/);
    });

    test('no identity flags is a usage error unless --insecure-ignore-identity', async () => {
      const r = await run([A, '--bundle', B], '/');
      assert.equal(r.code, 2);
      assert.match(r.stderr, /\[USAGE\].*say who must have signed/);
      assert.equal((await run([A, '--bundle', B, '--insecure-ignore-identity'], '/')).code, 0);
    });

    test('a key bundle verifies with --key (paths relative to the working directory)', async () => {
      const r = await run(
        ['../a.txt', '--bundle', 'bundle.sigstore.json', '--key', 'key.pub'],
        join(CONFORMANCE, 'managed-key-happy-path'),
      );
      assert.equal(r.code, 0, r.stderr);
      const wrong = await run([A, '--bundle', conf('managed-key-happy-path', 'bundle.sigstore.json')], '/');
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /\[KEY_MISMATCH\]/);
    });

    test('the wrong file is SUBJECT_MISMATCH; a missing file is FILE_NOT_FOUND', async () => {
      const ok = [
        '--bundle',
        B,
        '--certificate-identity',
        BEACON,
        '--certificate-oidc-issuer',
        GITHUB_ISSUER,
      ];
      const other = await run([conf('wrong-material_fail', 'artifact'), ...ok], '/');
      assert.equal(other.code, 1);
      assert.match(other.stderr, /\[SUBJECT_MISMATCH\]/);
      const missing = await run(['/nonexistent/file', ...ok], '/');
      assert.match(missing.stderr, /\[FILE_NOT_FOUND\]/);
    });
  },
);

test('verify-blob with a private trusted root and GitHub claims', async () => {
  await using dir = await tempDir('verify-blob');
  const inst = createInstance();
  const file = join(dir.path, 'app.tar');
  const data = Buffer.from('tarball bytes');
  await writeFile(file, data);
  const identity = 'https://github.com/o/r/.github/workflows/rel.yml@refs/tags/v1';
  const signer = keylessSigner(inst, {
    san: { uri: identity },
    issuer: GITHUB_ISSUER,
    rawClaims: { 5: 'o/r', 6: 'refs/tags/v1' },
  });
  await writeFile(
    join(dir.path, 'app.tar.sigstore.json'),
    JSON.stringify(messageBundle(data, signer, { log: inst.log })),
  );
  await writeFile(join(dir.path, 'trusted_root.json'), JSON.stringify(inst.trustedRoot()));
  const base = [
    'app.tar',
    '--bundle',
    'app.tar.sigstore.json',
    '--certificate-identity',
    identity,
    '--certificate-oidc-issuer',
    GITHUB_ISSUER,
  ];
  const ok = await run(
    [
      ...base,
      '--trusted-root',
      'trusted_root.json',
      '--certificate-github-workflow-repository',
      'o/r',
      '--certificate-github-workflow-ref',
      'refs/tags/v1',
    ],
    dir.path,
  );
  assert.equal(ok.code, 0, ok.stderr);
  const claim = await run(
    [...base, '--trusted-root', 'trusted_root.json', '--certificate-github-workflow-repository', 'o/other'],
    dir.path,
  );
  assert.equal(claim.code, 1);
  assert.match(claim.stderr, /\[CERTIFICATE_CLAIM_MISMATCH\]/);
  // Without --trusted-root the public-good root does not know this CA.
  const pg = await run(base, dir.path);
  assert.equal(pg.code, 1);
  assert.match(pg.stderr, /\[(CERTIFICATE_INVALID|TLOG_INVALID)\]/);
  // --use-signed-timestamps asks for an RFC 3161 timestamp this bundle lacks.
  const tsa = await run(
    [...base, '--trusted-root', 'trusted_root.json', '--use-signed-timestamps'],
    dir.path,
  );
  assert.match(tsa.stderr, /\[TIMESTAMP_INVALID\]/);
});

test('verify-blob --key --signature: cosign detached signatures', async () => {
  await using dir = await tempDir('verify-blob');
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = Buffer.from('release notes');
  await writeFile(join(dir.path, 'notes.txt'), data);
  await writeFile(
    join(dir.path, 'cosign.pub'),
    pem(publicKey.export({ type: 'spki', format: 'der' }), 'PUBLIC KEY'),
  );
  await writeFile(
    join(dir.path, 'notes.txt.sig'),
    `${sign('sha256', data, privateKey).toString('base64')}\n`,
  );
  const args = ['notes.txt', '--key', 'cosign.pub', '--signature', 'notes.txt.sig'];
  const ok = await run([...args, '--output', 'json'], dir.path);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).signer.algorithm, 'ecdsa-p256');
  assert.equal(ok.stderr, 'Verified OK\n');
  await writeFile(join(dir.path, 'notes.txt'), 'release notes, edited');
  const bad = await run(args, dir.path);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /\[SIGNATURE_INVALID\]/);
});

test('verify-blob usage errors exit 2 and say what is wrong; --help documents the trust root refresh', async () => {
  const cases: [string[], RegExp][] = [
    [['f'], /give --bundle B, or --key PUB with --signature SIG/],
    [['f', '--signature', 's'], /--signature needs --key/],
    [['f', '--bundle', 'b', '--signature', 's', '--key', 'k'], /exclude each other/],
    [
      ['f', '--bundle', 'b', '--key', 'k', '--certificate-identity', 'x'],
      /--certificate-identity applies to keyless bundles/,
    ],
    [['f', '--bundle', 'b', '--output', 'yaml'], /--output must be json or text/],
    [['--bundle', 'b'], /expected FILE/],
  ];
  for (const [args, message] of cases) {
    const r = await run(args, '/');
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
  assert.match(verifyBlobCommand.help, /refreshTrustedRoot\(DIR\)/);
  assert.match(verifyBlobCommand.help, /tuf-repo-cdn\.sigstore\.dev/);
  assert.equal(verifyBlobCommand.name, 'verify-blob');
});
