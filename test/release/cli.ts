/** Run a command object as cli/main.ts runs it (parseArgs over its options), capturing output. */
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { CliIO } from '../../src/cli/io.ts';
import type { Command } from '../../src/cli/main.ts';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk, _enc, done) {
      w.text += String(chunk);
      done();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

/** VouchErrors propagate (main.ts would turn them into exit codes) so tests can check codes. */
export async function runCommand(
  command: Command,
  args: string[],
  o: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<Result> {
  const options = Object.fromEntries(
    Object.entries(command.options).map(([k, { description: _d, ...opt }]) => [k, opt]),
  );
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  const stdout = sink();
  const stderr = sink();
  const io: CliIO = { stdout, stderr, env: o.env ?? {}, cwd: o.cwd };
  const code = await command.run(parsed, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}
