import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { isVouchError } from '../../errors.ts';
import { promptHidden, readPassphrase, readPassphraseFile, terminalPrompt } from './passphrase.ts';

const decrypt = { purpose: 'decrypt', what: 'cosign.key' } as const;
const encrypt = { purpose: 'encrypt', what: 'cosign.key' } as const;

async function tempDir(): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'vouch-passphrase-'));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** A prompt that answers from a list and records the questions. */
function scripted(answers: string[]): { prompt: (q: string) => Promise<string>; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    prompt: async (q) => {
      asked.push(q);
      const a = answers.shift();
      if (a === undefined) throw new Error('asked too often');
      return a;
    },
  };
}

test('VOUCH_PASSWORD wins over COSIGN_PASSWORD, which wins over the file and the prompt', async () => {
  await using dir = await tempDir();
  const file = join(dir.path, 'pw');
  await writeFile(file, 'from-file\n');
  const never = scripted([]);
  const src = { env: { VOUCH_PASSWORD: 'v', COSIGN_PASSWORD: 'c' }, file, prompt: never.prompt };
  assert.equal(await readPassphrase(src, decrypt), 'v');
  assert.equal(await readPassphrase({ ...src, env: { COSIGN_PASSWORD: 'c' } }, decrypt), 'c');
  assert.equal(await readPassphrase({ ...src, env: {} }, decrypt), 'from-file');
  // set but empty is the empty passphrase, as cosign treats COSIGN_PASSWORD=""
  assert.equal(
    await readPassphrase({ ...src, env: { VOUCH_PASSWORD: '', COSIGN_PASSWORD: 'c' } }, decrypt),
    '',
  );
  assert.deepEqual(never.asked, []);
});

test('the file gives its first line without the line ending; a missing file is FILE_NOT_FOUND', async () => {
  await using dir = await tempDir();
  const cases: [string, string][] = [
    ['secret\n', 'secret'],
    ['secret\r\nsecond line\n', 'secret'],
    ['  spaces kept  ', '  spaces kept  '],
    ['', ''],
    ['\nlater', ''],
  ];
  for (const [content, want] of cases) {
    const f = join(dir.path, 'pw');
    await writeFile(f, content);
    assert.equal(await readPassphraseFile(f), want, JSON.stringify(content));
  }
  await assert.rejects(
    readPassphrase({ file: join(dir.path, 'nope') }, decrypt),
    (e) => isVouchError(e, 'FILE_NOT_FOUND') && e.message.includes('nope'),
  );
  await assert.rejects(readPassphraseFile(dir.path), (e) => isVouchError(e, 'IO_ERROR'));
});

test('the prompt asks once to decrypt, twice to encrypt, and refuses two different answers', async () => {
  const one = scripted(['pw']);
  assert.equal(await readPassphrase({ env: {}, prompt: one.prompt }, decrypt), 'pw');
  assert.deepEqual(one.asked, ['Enter passphrase for cosign.key: ']);
  const two = scripted(['pw', 'pw']);
  assert.equal(await readPassphrase({ prompt: two.prompt }, encrypt), 'pw');
  assert.equal(two.asked.length, 2);
  const differ = scripted(['pw', 'pW']);
  await assert.rejects(
    readPassphrase({ prompt: differ.prompt }, encrypt),
    (e) => isVouchError(e, 'PASSPHRASE_WRONG') && !e.message.includes('pw') && !e.message.includes('pW'),
  );
});

test('no env, no file and no terminal: PASSPHRASE_MISSING with a hint', async () => {
  await assert.rejects(
    readPassphrase({ env: { HOME: '/x' } }, decrypt),
    (e) => isVouchError(e, 'PASSPHRASE_MISSING') && /VOUCH_PASSWORD/.test(e.hint ?? ''),
  );
});

/** A stand-in terminal: a stream that says it is a TTY. */
function fakeTty(): PassThrough & { isTTY: boolean; setRawMode(on: boolean): void; raw: boolean[] } {
  const s = new PassThrough() as PassThrough & {
    isTTY: boolean;
    setRawMode(on: boolean): void;
    raw: boolean[];
  };
  s.isTTY = true;
  s.raw = [];
  s.setRawMode = (on) => {
    s.raw.push(on);
  };
  return s;
}

test('terminalPrompt exists only for a TTY and reads a line without echoing it', async () => {
  assert.equal(terminalPrompt(new PassThrough(), new PassThrough()), undefined);
  const input = fakeTty();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (c) => {
    shown += c;
  });
  const prompt = terminalPrompt(input, output);
  assert.ok(prompt);
  const answer = prompt('Enter passphrase: ');
  input.write('hunter2\r');
  assert.equal(await answer, 'hunter2');
  assert.equal(shown, 'Enter passphrase: \n');
  assert.ok(!shown.includes('hunter2'));
  // raw mode on to read, off again afterwards
  assert.deepEqual(input.raw.slice(0, 1), [true]);
  assert.equal(input.raw.at(-1), false);
});

test('promptHidden: end of input before a line is PASSPHRASE_MISSING', async () => {
  const input = fakeTty();
  const answer = promptHidden('pw: ', input, new PassThrough());
  input.end();
  await assert.rejects(answer, (e) => isVouchError(e, 'PASSPHRASE_MISSING'));
});
