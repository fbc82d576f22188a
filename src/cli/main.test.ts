import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CliResult, runCommand, runVouch } from '../../test/helpers/cli.ts';
import { tempDir } from '../../test/helpers/layout.ts';
import { randomIndex, writeLayout } from '../../test/helpers/random-image.ts';
import { isVouchError, VouchError } from '../errors.ts';
import type { Command } from './main.ts';

function run(args: string[]): Promise<CliResult> {
  return runVouch(args);
}

test('usage errors exit 2 and say what is wrong', async () => {
  assert.equal((await run(['nope'])).code, 2);
  const r = await run(['copy', 'oci:/x']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /expected SRC and DST/);
  const bad = await run(['inspect', '--bogus', 'x']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bogus/);
});

test('--help teaches every command', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  for (const c of ['copy', 'inspect', 'flatten', 'demo']) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
  const h = await run(['copy', '--help']);
  assert.match(h.stdout, /--platform/);
  assert.match(h.stdout, /Examples:/);
});

test('inspect --format json describes an index entry; failures exit 1 with the error code', async () => {
  await using dir = await tempDir('cli');
  const idx = await randomIndex();
  await writeLayout(dir.path, [{ descriptor: idx.descriptor, tag: 'v1' }], idx.blobs);
  const r = await run(['inspect', `oci:${dir.path}:v1`, '--format', 'json', '--platform', 'linux/arm64']);
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  assert.equal(d.digest, idx.images[1]!.descriptor.digest);
  assert.equal(d.index.digest, idx.descriptor.digest);
  assert.deepEqual(
    d.index.platforms.map((p: { platform: string }) => p.platform),
    ['linux/amd64', 'linux/arm64/v8'],
  );
  const missing = await run(['inspect', `oci:${dir.path}:nope`]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /\[IMAGE_NOT_FOUND\]/);
});

test('a command object runs as main runs a registered one: help, strict flags, errors to exit codes', async () => {
  const echo: Command = {
    name: 'echo',
    summary: 'say something',
    usage: 'echo WORD [--fail CODE]',
    help: 'Prints WORD.',
    options: { fail: { type: 'string', description: 'throw a VouchError with this code' } },
    async run({ values, positionals }, io) {
      if (values.fail === 'USAGE') throw new VouchError('USAGE', 'no word', { hint: 'give one' });
      if (values.fail === 'bug') throw new TypeError('oops');
      if (typeof values.fail === 'string') throw new VouchError('SIGNATURE_INVALID', 'altered');
      io.stdout.write(`${positionals.join(' ')} in ${io.cwd} ${io.env.WHO}\n`);
      return 0;
    },
  };
  const ok = await runCommand(echo, ['hi'], { cwd: '/tmp', env: { WHO: 'me' } });
  assert.deepEqual(ok, { code: 0, stdout: 'hi in /tmp me\n', stderr: '' });
  const help = await runCommand(echo, ['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: vouch echo WORD/);
  assert.match(help.stdout, /--fail VALUE +throw a VouchError/);
  const bogus = await runCommand(echo, ['--bogus']);
  assert.equal(bogus.code, 2);
  assert.match(bogus.stderr, /^vouch echo: .*bogus/);
  const usage = await runCommand(echo, ['--fail', 'USAGE']);
  assert.equal(usage.code, 2);
  assert.equal(usage.stderr, 'vouch echo: error [USAGE]: no word\n  hint: give one\n');
  const failed = await runCommand(echo, ['--fail', 'x']);
  assert.equal(failed.code, 1);
  assert.equal(failed.stderr, 'vouch echo: error [SIGNATURE_INVALID]: altered\n');
  const bug = await runCommand(echo, ['--fail', 'bug']);
  assert.equal(bug.code, 70);
  assert.match(bug.stderr, /^vouch echo: internal error: oops\n/);
  // rethrow: the same parsing, but the error itself reaches the test
  await assert.rejects(runCommand(echo, ['--fail', 'x'], { rethrow: true }), (e) =>
    isVouchError(e, 'SIGNATURE_INVALID'),
  );
  await assert.rejects(runCommand(echo, ['--bogus'], { rethrow: true }), TypeError);
});
