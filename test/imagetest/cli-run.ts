/**
 * Run a CLI command object the way src/cli/main.ts does (parseArgs with its options, VouchError
 * to exit code and message), with captured output: the commands are tested before they are
 * registered in main.ts.
 */
import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';
import type { CliIO } from '../../src/cli/io.ts';
import type { Command } from '../../src/cli/main.ts';
import { isVouchError } from '../../src/errors.ts';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export async function runCommand(cmd: Command, args: string[], cwd = process.cwd()): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => {
    out += c;
  });
  stderr.on('data', (c) => {
    err += c;
  });
  const io: CliIO = { stdout, stderr, env: {}, cwd };
  const options = Object.fromEntries(
    Object.entries(cmd.options).map(([k, { description: _d, ...o }]) => [k, o]),
  );
  let code: number;
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    code = await cmd.run(parsed, io);
  } catch (e) {
    if (!isVouchError(e)) throw e;
    stderr.write(`vouch ${cmd.name}: error [${e.code}]: ${e.message}\n`);
    code = e.code === 'USAGE' ? 2 : 1;
  }
  await new Promise((r) => setImmediate(r));
  return { code, out, err };
}
