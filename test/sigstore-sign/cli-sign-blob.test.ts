/**
 * `vouch sign-blob` end to end: key files (plain and cosign-encrypted), keyless with a token
 * flag, @file, SIGSTORE_ID_TOKEN and GitHub Actions' ambient credentials against the mock
 * Sigstore services; outputs checked with openssl and @sigstore/verify; usage errors; nothing
 * written when signing fails; the token never printed.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeSignBlobCommand, signBlobCommand } from '../../src/cli/commands/sign-blob.ts';
import { isVouchError } from '../../src/errors.ts';
import { generateKeyPair } from '../../src/sign/keys/generate.ts';
import { signingKeyFromKeyObject } from '../../src/sign/keys/signing-key.ts';
import { type CliResult, runCommand } from '../helpers/cli.ts';
import { requireBinary } from '../helpers/registry.ts';
import {
  type GithubTokenServer,
  githubActionsClaims,
  type SigstoreMock,
  startGithubTokenServer,
  startSigstoreMock,
} from '../helpers/sigstore-mock.ts';
import { closedPortUrl, openssl, sigstoreVerify, withTempDir } from './helpers.ts';

const opensslSkip = await requireBinary('openssl');
const DATA = Buffer.from('release tarball bytes\n');

/** Parse like cli/main.ts and run; VouchErrors propagate so tests can check their codes. */
function signBlob(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCommand(makeSignBlobCommand({ prompt: () => undefined }), args, { cwd, env, rethrow: true });
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

let mock: SigstoreMock;
before(async () => {
  mock = await startSigstoreMock({ tsa: true });
});
after(async () => {
  await mock.close();
});

test('the command object: name and flags', () => {
  assert.equal(signBlobCommand.name, 'sign-blob');
  for (const flag of [
    'key',
    'identity-token',
    'bundle',
    'output-signature',
    'output-certificate',
    'tlog-upload',
  ]) {
    assert.ok(flag in signBlobCommand.options, flag);
  }
  assert.match(signBlobCommand.help, /offline/);
});

describe('sign-blob --key', () => {
  const key = signingKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  const pkcs8 = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  test(
    'writes .sig (base64 DER, as cosign) and a bundle; openssl and @sigstore/verify agree',
    { skip: opensslSkip },
    async () =>
      withTempDir(async (dir) => {
        await writeFile(join(dir, 'app.tar'), DATA);
        await writeFile(join(dir, 'k.pem'), pkcs8);
        const before = mock.requests.length;
        const r = await signBlob(
          ['--key', 'k.pem', '--output-signature', 'app.tar.sig', '--bundle', 'app.sigstore.json', 'app.tar'],
          dir,
        );
        assert.equal(r.code, 0);
        assert.equal(r.stdout, '', 'the signature went to the file');
        assert.match(r.stderr, /Wrote bundle to app\.sigstore\.json/);
        assert.equal(mock.requests.length, before, 'key-based signing is offline by default');
        const sigText = await readFile(join(dir, 'app.tar.sig'), 'utf8');
        assert.match(sigText, /^[A-Za-z0-9+/]+=*$/, 'one line of standard base64, no newline');
        await writeFile(join(dir, 'sig.der'), Buffer.from(sigText, 'base64'));
        await writeFile(join(dir, 'pub.pem'), key.publicKeyPem);
        const ok = await openssl([
          'dgst',
          '-sha256',
          '-verify',
          join(dir, 'pub.pem'),
          '-signature',
          join(dir, 'sig.der'),
          join(dir, 'app.tar'),
        ]);
        assert.ok(ok.ok && /Verified OK/.test(ok.out), ok.out);
        const bundle = JSON.parse(await readFile(join(dir, 'app.sigstore.json'), 'utf8'));
        assert.equal(bundle.messageSignature.signature, sigText);
        sigstoreVerify(bundle, { key, artifact: DATA });
      }),
  );

  test('without --output-signature the base64 signature goes to stdout', async () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'f'), DATA);
      await writeFile(join(dir, 'k.pem'), pkcs8);
      const r = await signBlob(['--key', 'k.pem', 'f'], dir);
      const sig = Buffer.from(r.stdout.trim(), 'base64');
      assert.equal(key.verify(DATA, sig), true);
    }));

  test('a cosign-encrypted key with --password-file', async () =>
    withTempDir(async (dir) => {
      const pair = await generateKeyPair({ passphrase: 'correct horse', scrypt: { N: 32768, r: 8, p: 1 } });
      await writeFile(join(dir, 'cosign.key'), pair.privatePem);
      await writeFile(join(dir, 'pass'), 'correct horse\n');
      await writeFile(join(dir, 'f'), DATA);
      const r = await signBlob(
        ['--key', 'cosign.key', '--password-file', 'pass', '--bundle', 'b.json', 'f'],
        dir,
      );
      assert.equal(r.code, 0);
      const bundle = JSON.parse(await readFile(join(dir, 'b.json'), 'utf8'));
      sigstoreVerify(bundle, { key: pair.signingKey, artifact: DATA });
      assert.ok(!r.stderr.includes('correct horse') && !r.stdout.includes('correct horse'));
    }));

  test('--tlog-upload records the signature in Rekor', async () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'f'), DATA);
      await writeFile(join(dir, 'k.pem'), pkcs8);
      const r = await signBlob(
        ['--key', 'k.pem', '--tlog-upload', '--rekor-url', mock.rekorUrl, '--bundle', 'b.json', 'f'],
        dir,
      );
      assert.match(r.stderr, /tlog entry created with index: \d+/);
      const bundle = JSON.parse(await readFile(join(dir, 'b.json'), 'utf8'));
      sigstoreVerify(bundle, { key, artifact: DATA, trustedRoot: mock.trustedRoot, tlogThreshold: 1 });
    }));

  const usage: [string, string[], RegExp][] = [
    ['--identity-token with --key', ['--identity-token', 'x'], /--identity-token is for keyless/],
    ['--fulcio-url with --key', ['--fulcio-url', 'http://x'], /--fulcio-url is for keyless/],
    [
      '--output-certificate with --key',
      ['--output-certificate', 'c.pem'],
      /--output-certificate is for keyless/,
    ],
  ];
  for (const [name, extra, pattern] of usage) {
    test(`usage: ${name}`, async () => {
      await assert.rejects(
        signBlob(['--key', 'k.pem', ...extra, 'f'], '/'),
        (e) => isVouchError(e, 'USAGE') && pattern.test(e.message),
      );
    });
  }
});

describe('sign-blob keyless', () => {
  test('--identity-token @FILE: bundle, certificate and signature; token never printed', async () =>
    withTempDir(async (dir) => {
      const token = mock.identityToken();
      await writeFile(join(dir, 'token.jwt'), token);
      await writeFile(join(dir, 'f'), DATA);
      const r = await signBlob(
        [
          '--identity-token',
          '@token.jwt',
          '--fulcio-url',
          mock.fulcioUrl,
          '--rekor-url',
          mock.rekorUrl,
          '--tsa-url',
          mock.tsaUrl ?? '',
          '--bundle',
          'f.sigstore.json',
          '--output-certificate',
          'f.pem',
          '--output-signature',
          'f.sig',
          'f',
        ],
        dir,
      );
      assert.equal(r.code, 0);
      assert.match(
        r.stderr,
        /^Signing as signer@example\.com \(issuer https:\/\/oidc\.sigstore-mock\.test, token from file /,
      );
      for (const out of [r.stdout, r.stderr]) {
        assert.ok(!out.includes(token) && !out.includes(token.split('.')[1] ?? '-'), 'token printed');
      }
      const bundle = JSON.parse(await readFile(join(dir, 'f.sigstore.json'), 'utf8'));
      const signer = sigstoreVerify(bundle, {
        trustedRoot: mock.trustedRoot,
        artifact: DATA,
        tlogThreshold: 1,
        ctlogThreshold: 1,
        timestampThreshold: 2,
      });
      assert.equal(signer.identity?.subjectAlternativeName, 'signer@example.com');
      const cert = new X509Certificate(await readFile(join(dir, 'f.pem')));
      assert.equal(cert.raw.toString('base64'), bundle.verificationMaterial.certificate.rawBytes);
      assert.equal(await readFile(join(dir, 'f.sig'), 'utf8'), bundle.messageSignature.signature);
    }));

  test('SIGSTORE_ID_TOKEN from the environment', async () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'f'), DATA);
      const env = {
        SIGSTORE_ID_TOKEN: mock.identityToken({ sub: 'env-signer@example.com', email: undefined }),
      };
      const r = await signBlob(
        ['--fulcio-url', mock.fulcioUrl, '--rekor-url', mock.rekorUrl, '--bundle', 'b.json', 'f'],
        dir,
        env,
      );
      assert.match(r.stderr, /token from SIGSTORE_ID_TOKEN/);
      const bundle = JSON.parse(await readFile(join(dir, 'b.json'), 'utf8'));
      const signer = sigstoreVerify(bundle, {
        trustedRoot: mock.trustedRoot,
        artifact: DATA,
        tlogThreshold: 1,
        ctlogThreshold: 1,
        timestampThreshold: 1,
      });
      assert.equal(signer.identity?.subjectAlternativeName, 'env-signer@example.com');
    }));

  describe('GitHub Actions ambient credentials', () => {
    let gh: GithubTokenServer;
    before(async () => {
      gh = await startGithubTokenServer((aud) => mock.identityToken({ ...githubActionsClaims(), aud }));
    });
    after(async () => {
      await gh.close();
    });

    test('the token is fetched for audience sigstore; the certificate names the workflow', async () =>
      withTempDir(async (dir) => {
        await writeFile(join(dir, 'f'), DATA);
        const r = await signBlob(
          [
            '--fulcio-url',
            mock.fulcioUrl,
            '--rekor-url',
            mock.rekorUrl,
            '--output-certificate',
            'c.pem',
            'f',
          ],
          dir,
          gh.env,
        );
        assert.equal(r.code, 0);
        assert.deepEqual(gh.audiences, ['sigstore']);
        assert.match(r.stderr, /token from GitHub Actions/);
        const cert = new X509Certificate(await readFile(join(dir, 'c.pem')));
        assert.equal(
          cert.subjectAltName,
          'URI:https://github.com/octo-org/app/.github/workflows/release.yml@refs/heads/main',
        );
      }));
  });

  test('no identity at all: USAGE naming the ways to get one', async () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'f'), DATA);
      await assert.rejects(
        signBlob(['f'], dir, {}),
        (e) => isVouchError(e, 'USAGE') && /--key.*SIGSTORE_ID_TOKEN.*GitHub Actions/.test(e.message),
      );
    }));

  test('an expired token: IDENTITY_TOKEN_INVALID, nothing sent, nothing written', async () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'f'), DATA);
      const token = mock.identityToken({ sub: 'x@example.com', email: undefined, exp: 1_000_000 });
      const before = mock.requests.length;
      await assert.rejects(
        signBlob(['--identity-token', token, '--fulcio-url', mock.fulcioUrl, '--bundle', 'b.json', 'f'], dir),
        (e) => isVouchError(e, 'IDENTITY_TOKEN_INVALID') && !e.message.includes(token),
      );
      assert.equal(mock.requests.length, before);
      assert.equal(await exists(join(dir, 'b.json')), false);
    }));

  test('unreachable Fulcio: SIGNING_FAILED naming it; no bundle written', async () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'f'), DATA);
      const url = await closedPortUrl();
      await assert.rejects(
        signBlob(
          [
            '--identity-token',
            mock.identityToken(),
            '--fulcio-url',
            url,
            '--rekor-url',
            mock.rekorUrl,
            '--bundle',
            'b.json',
            'f',
          ],
          dir,
        ),
        (e) => isVouchError(e, 'SIGNING_FAILED') && e.message.startsWith(`Fulcio at ${url} failed`),
      );
      assert.equal(await exists(join(dir, 'b.json')), false);
    }));

  test('a missing FILE: FILE_NOT_FOUND before any token is looked for', async () =>
    withTempDir(async (dir) => {
      await assert.rejects(signBlob(['--identity-token', 'not even a token', 'nope'], dir), (e) =>
        isVouchError(e, 'FILE_NOT_FOUND'),
      );
    }));

  test('two FILEs: USAGE', async () => {
    await assert.rejects(signBlob(['a', 'b'], '/'), (e) => isVouchError(e, 'USAGE'));
  });
});
