/**
 * Where the passphrase of a key file comes from, in cosign's order plus vouch's own variable:
 * VOUCH_PASSWORD, COSIGN_PASSWORD (set but empty = the empty passphrase, as cosign), the first
 * line of a file, then a terminal prompt without echo. Passphrases never appear in messages.
 */
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { VouchError } from '../../errors.ts';
import type { PassphraseSource } from './types.ts';

export const PASSPHRASE_ENV_VARS = ['VOUCH_PASSWORD', 'COSIGN_PASSWORD'] as const;

/** Asks a question on a terminal and returns the answer (without its newline). */
export type Prompt = (question: string) => Promise<string>;

export interface PassphraseRequest {
  /** `encrypt`: a new key; a prompt asks twice and compares. */
  purpose: 'decrypt' | 'encrypt';
  /** The key file, for the prompt and for errors. */
  what: string;
}

/** Passphrase files are one line; anything much bigger is a mistake (a key, a binary). */
const MAX_PASSPHRASE_FILE = 64 * 1024;

export async function readPassphrase(src: PassphraseSource, req: PassphraseRequest): Promise<string> {
  for (const name of PASSPHRASE_ENV_VARS) {
    const v = src.env?.[name];
    if (v !== undefined) return v;
  }
  if (src.file !== undefined) return readPassphraseFile(src.file);
  if (src.prompt !== undefined) {
    const first = await src.prompt(`Enter passphrase for ${req.what}: `);
    if (req.purpose === 'decrypt') return first;
    const again = await src.prompt(`Enter passphrase for ${req.what} again: `);
    if (again !== first) throw new VouchError('PASSPHRASE_WRONG', 'the two passphrases differ');
    return first;
  }
  throw new VouchError(
    'PASSPHRASE_MISSING',
    `${req.what} needs a passphrase and there is no terminal to ask`,
    {
      hint: 'set VOUCH_PASSWORD (or COSIGN_PASSWORD), or pass --password-file FILE',
    },
  );
}

/** The first line of `path`, its line ending stripped. */
export async function readPassphraseFile(path: string): Promise<string> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new VouchError('IO_ERROR', `passphrase file ${path} is not a regular file`);
    size = st.size;
  } catch (e) {
    throw fileError(e, path);
  }
  if (size > MAX_PASSPHRASE_FILE) {
    throw new VouchError('IO_ERROR', `passphrase file ${path} is ${size} bytes; expected one line`);
  }
  const text = await readFile(path, 'utf8').catch((e: unknown) => {
    throw fileError(e, path);
  });
  const nl = text.indexOf('\n');
  const line = nl < 0 ? text : text.slice(0, nl);
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function fileError(e: unknown, path: string): VouchError {
  if (e instanceof VouchError) return e;
  const code = (e as { code?: unknown }).code;
  if (code === 'ENOENT') return new VouchError('FILE_NOT_FOUND', `passphrase file ${path} does not exist`);
  return new VouchError('IO_ERROR', `cannot read passphrase file ${path}${code ? ` (${code})` : ''}`, {
    cause: e,
  });
}

export interface TtyInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
}

/** A prompt reading `input` without echo, or undefined when `input` is not a terminal. */
export function terminalPrompt(
  input: TtyInput = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Prompt | undefined {
  if (input.isTTY !== true) return undefined;
  return (question) => promptHidden(question, input, output);
}

/**
 * Ask `question` on `output` and read one line from `input` with echo off: readline writes its
 * echo to a stream that drops everything once the question is out.
 */
export function promptHidden(
  question: string,
  input: TtyInput,
  output: NodeJS.WritableStream,
): Promise<string> {
  let muted = false;
  const sink = new Writable({
    write(chunk, _enc, done) {
      if (!muted) output.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input, output: sink, terminal: true, historySize: 0 });
  output.write(question);
  muted = true;
  return new Promise((resolve, reject) => {
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      output.write('\n');
      resolve(line);
    });
    rl.once('SIGINT', () => rl.close());
    rl.once('close', () => {
      if (answered) return;
      output.write('\n');
      reject(new VouchError('PASSPHRASE_MISSING', 'no passphrase entered (input closed or interrupted)'));
    });
  });
}
