/** `vouch key`: the command object run with a fake CliIO, its flags parsed as main.ts parses them. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { keyCommand, makeKeyCommand } from '../../src/cli/commands/key.ts';
import type { Command } from '../../src/cli/main.ts';
import { loadSigningKey, loadVerificationKey } from '../../src/sign/keys/load.ts';
import { type CliResult, runCommand } from '../helpers/cli.ts';
import { vouchErrorWith } from '../helpers/errors.ts';
import { tempDir } from './oracles.ts';

/** No terminal: the command must get its passphrase from env or file. */
const noTerminal = makeKeyCommand({ prompt: () => undefined });

/** Parse like cli/main.ts and run; VouchErrors propagate so tests can check their codes. */
function run(
  args: string[],
  o: { cwd: string; env?: NodeJS.ProcessEnv; command?: Command },
): Promise<CliResult> {
  return runCommand(o.command ?? noTerminal, args, { cwd: o.cwd, env: o.env ?? {}, rethrow: true });
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

test('generate: cosign.key (0600) and cosign.pub in the current directory, VOUCH_PASSWORD', async () => {
  await using dir = await tempDir('key-cli');
  const r = await run(['generate'], { cwd: dir.path, env: { VOUCH_PASSWORD: 'pw' } });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'Private key written to cosign.key\nPublic key written to cosign.pub\n');
  const keyFile = join(dir.path, 'cosign.key');
  const pubFile = join(dir.path, 'cosign.pub');
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
  assert.equal((await stat(pubFile)).mode & 0o077 & ~0o044, 0, 'public key not group/other writable');
  assert.match(await readFile(keyFile, 'utf8'), /^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
  const key = await loadSigningKey(keyFile, { env: { VOUCH_PASSWORD: 'pw' } });
  assert.equal(key.algorithm, 'ecdsa-p256');
  assert.equal(key.publicKeyPem, (await loadVerificationKey(pubFile)).publicKeyPem);
  await assert.rejects(
    loadSigningKey(keyFile, { env: { VOUCH_PASSWORD: 'pW' } }),
    vouchErrorWith('PASSPHRASE_WRONG'),
  );
  assert.ok(!r.stdout.includes('pw') && !r.stderr.includes('pw'));
});

test('generate refuses to overwrite either file without --force, and replaces both with it', async () => {
  await using dir = await tempDir('key-cli');
  const env = { VOUCH_PASSWORD: 'pw' };
  await run(['generate'], { cwd: dir.path, env });
  const before = await readFile(join(dir.path, 'cosign.key'), 'utf8');
  await assert.rejects(
    run(['generate'], { cwd: dir.path, env }),
    vouchErrorWith('USAGE', /cosign\.key already exists; refusing to overwrite it/),
  );
  assert.equal(await readFile(join(dir.path, 'cosign.key'), 'utf8'), before);
  // only the public key there (or a dangling link to it): still refused
  await using other = await tempDir('key-cli');
  await symlink(join(other.path, 'nowhere'), join(other.path, 'cosign.pub'));
  await assert.rejects(
    run(['generate'], { cwd: other.path, env }),
    vouchErrorWith('USAGE', /cosign\.pub already exists/),
  );
  assert.equal(await exists(join(other.path, 'cosign.key')), false, 'nothing written when refusing');
  const forced = await run(['generate', '--force'], { cwd: dir.path, env });
  assert.equal(forced.code, 0);
  assert.notEqual(await readFile(join(dir.path, 'cosign.key'), 'utf8'), before);
  assert.equal((await stat(join(dir.path, 'cosign.key'))).mode & 0o777, 0o600);
});

test('generate takes COSIGN_PASSWORD, then --password-file; with neither and no terminal it writes nothing', async () => {
  await using dir = await tempDir('key-cli');
  await run(['generate', '--output-key-prefix', 'a'], {
    cwd: dir.path,
    env: { COSIGN_PASSWORD: 'cosign-pw' },
  });
  await loadSigningKey(join(dir.path, 'a.key'), { env: { VOUCH_PASSWORD: 'cosign-pw' } });
  await writeFile(join(dir.path, 'pass.txt'), 'file-pw\nignored second line\n');
  await run(['generate', '--output-key-prefix', 'b', '--password-file', 'pass.txt'], { cwd: dir.path });
  await loadSigningKey(join(dir.path, 'b.key'), { env: { VOUCH_PASSWORD: 'file-pw' } });
  // env beats the file
  await run(['generate', '--output-key-prefix', 'c', '--password-file', 'pass.txt'], {
    cwd: dir.path,
    env: { VOUCH_PASSWORD: 'env-pw' },
  });
  await loadSigningKey(join(dir.path, 'c.key'), { env: { VOUCH_PASSWORD: 'env-pw' } });
  await assert.rejects(
    run(['generate', '--output-key-prefix', 'd'], { cwd: dir.path, env: { HOME: dir.path } }),
    vouchErrorWith('PASSPHRASE_MISSING'),
  );
  assert.equal(await exists(join(dir.path, 'd.key')), false);
  await assert.rejects(
    run(['generate', '--output-key-prefix', 'e', '--password-file', 'missing.txt'], { cwd: dir.path }),
    vouchErrorWith('FILE_NOT_FOUND', /missing\.txt/),
  );
});

test('generate on a terminal asks twice; different answers write nothing', async () => {
  await using dir = await tempDir('key-cli');
  const asked: string[] = [];
  const answers = ['typed', 'typed', 'one', 'two'];
  const terminal = makeKeyCommand({
    prompt: () => async (q) => {
      asked.push(q);
      return answers.shift() ?? assert.fail('asked too often');
    },
  });
  await run(['generate', '--algorithm', 'ed25519'], { cwd: dir.path, command: terminal });
  assert.deepEqual(asked, ['Enter passphrase for cosign.key: ', 'Enter passphrase for cosign.key again: ']);
  const key = await loadSigningKey(join(dir.path, 'cosign.key'), { env: { VOUCH_PASSWORD: 'typed' } });
  assert.equal(key.algorithm, 'ed25519');
  await assert.rejects(
    run(['generate', '--output-key-prefix', 'x'], { cwd: dir.path, command: terminal }),
    vouchErrorWith('PASSPHRASE_WRONG', /differ/),
  );
  assert.equal(await exists(join(dir.path, 'x.key')), false);
});

test('generate: --output-key-prefix with a directory, --algorithm checked', async () => {
  await using dir = await tempDir('key-cli');
  await mkdir(join(dir.path, 'keys'));
  const r = await run(['generate', '--output-key-prefix', 'keys/release', '--algorithm', 'ecdsa-p384'], {
    cwd: dir.path,
    env: { VOUCH_PASSWORD: '' },
  });
  assert.match(r.stdout, /keys\/release\.key/);
  const key = await loadSigningKey(join(dir.path, 'keys/release.key'), { env: { VOUCH_PASSWORD: '' } });
  assert.equal(key.algorithm, 'ecdsa-p384');
  await assert.rejects(
    run(['generate', '--algorithm', 'dsa'], { cwd: dir.path, env: { VOUCH_PASSWORD: '' } }),
    vouchErrorWith('USAGE', /--algorithm dsa is not one of ecdsa-p256/),
  );
});

test('public-key prints the public PEM of a private key (or writes it with --output)', async () => {
  await using dir = await tempDir('key-cli');
  const env = { VOUCH_PASSWORD: 'pw' };
  await run(['generate'], { cwd: dir.path, env });
  const pub = await readFile(join(dir.path, 'cosign.pub'), 'utf8');
  const r = await run(['public-key', '--key', 'cosign.key'], { cwd: dir.path, env });
  assert.equal(r.stdout, pub);
  await assert.rejects(
    run(['public-key', '--key', 'cosign.key'], { cwd: dir.path, env: { VOUCH_PASSWORD: 'no' } }),
    vouchErrorWith('PASSPHRASE_WRONG'),
  );
  const w = await run(['public-key', '--key', 'cosign.key', '--output', 'out.pub'], { cwd: dir.path, env });
  assert.equal(w.stdout, '');
  assert.equal(await readFile(join(dir.path, 'out.pub'), 'utf8'), pub);
  // a public key or certificate given: its key, normalized to SPKI
  assert.equal((await run(['public-key', '--key', 'cosign.pub'], { cwd: dir.path })).stdout, pub);
  await assert.rejects(run(['public-key'], { cwd: dir.path }), vouchErrorWith('USAGE', /needs --key/));
});

test('import: a plain openssl-style key becomes cosign.key + cosign.pub; encrypted input is refused', async () => {
  await using dir = await tempDir('key-cli');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(join(dir.path, 'plain.pem'), privateKey.export({ format: 'pem', type: 'sec1' }));
  const r = await run(['import', '--key', 'plain.pem'], { cwd: dir.path, env: { COSIGN_PASSWORD: 'pw' } });
  assert.equal(r.code, 0);
  const key = await loadSigningKey(join(dir.path, 'cosign.key'), { env: { VOUCH_PASSWORD: 'pw' } });
  assert.ok(key.privateKey.equals(privateKey));
  assert.equal(
    await readFile(join(dir.path, 'cosign.pub'), 'utf8'),
    publicKey.export({ format: 'pem', type: 'spki' }),
  );
  assert.equal((await stat(join(dir.path, 'cosign.key'))).mode & 0o777, 0o600);
  await assert.rejects(
    run(['import', '--key', 'cosign.key', '--output-key-prefix', 'again'], {
      cwd: dir.path,
      env: { VOUCH_PASSWORD: 'pw' },
    }),
    vouchErrorWith('KEY_INVALID', /already encrypted/),
  );
  await assert.rejects(
    run(['import', '--key', 'plain.pem'], { cwd: dir.path, env: { VOUCH_PASSWORD: 'pw' } }),
    vouchErrorWith('USAGE', /already exists/),
  );
  await assert.rejects(
    run(['import', '--key', 'cosign.pub', '--output-key-prefix', 'p'], {
      cwd: dir.path,
      env: { VOUCH_PASSWORD: 'pw' },
    }),
    vouchErrorWith('KEY_INVALID', /not a private key/),
  );
});

test('subcommands and options are checked; --help teaches formats and variables', async () => {
  await using dir = await tempDir('key-cli');
  await assert.rejects(run([], { cwd: dir.path }), vouchErrorWith('USAGE', /missing key subcommand/));
  await assert.rejects(
    run(['rotate'], { cwd: dir.path }),
    vouchErrorWith('USAGE', /unknown key subcommand "rotate"/),
  );
  await assert.rejects(
    run(['generate', '--key', 'x'], { cwd: dir.path }),
    vouchErrorWith('USAGE', /--key does not apply to vouch key generate/),
  );
  await assert.rejects(
    run(['generate', 'extra'], { cwd: dir.path }),
    vouchErrorWith('USAGE', /takes no arguments/),
  );
  assert.equal(keyCommand.name, 'key');
  for (const needle of [
    'VOUCH_PASSWORD',
    'COSIGN_PASSWORD',
    '--password-file',
    'ENCRYPTED SIGSTORE PRIVATE KEY',
    'PUBLIC KEY',
    '0600',
  ]) {
    assert.ok(keyCommand.help.includes(needle), needle);
  }
});
