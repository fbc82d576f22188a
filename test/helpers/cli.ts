/**
 * Run vouch commands in-process, as a user runs them, with captured output. `runVouch` goes
 * through cli/main.ts (command lookup, --help, strict parsing, errors to `error [CODE]` and exit
 * codes); `runCommand` runs one command object the same way, for commands built by a factory with
 * injected dependencies (`makeKeyCommand({ prompt })`). With `rethrow`, errors propagate instead,
 * so a test can check a VouchError's code and message directly.
 */
import { Writable } from 'node:stream';
import type { CliIO } from '../../src/cli/io.ts';
import { type Command, main, parseCommandArgs, runCommand as runParsed } from '../../src/cli/main.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** The environment the command sees; nothing of the test process leaks in (default: empty). */
  env?: NodeJS.ProcessEnv;
  /** The working directory relative paths resolve against (default: process.cwd()). */
  cwd?: string;
  /** Whether stderr says it is a terminal (commands show progress only then). */
  tty?: boolean;
}

type Sink = Writable & { text: string; isTTY?: boolean };

function sink(tty?: boolean): Sink {
  const w = new Writable({
    write(chunk, _enc, done) {
      w.text += String(chunk);
      done();
    },
  }) as Sink;
  w.text = '';
  if (tty !== undefined) w.isTTY = tty;
  return w;
}

async function capture(o: CliOptions, run: (io: CliIO) => Promise<number>): Promise<CliResult> {
  const stdout = sink();
  const stderr = sink(o.tty);
  const code = await run({ stdout, stderr, env: o.env ?? {}, cwd: o.cwd ?? process.cwd() });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** `vouch ARGS...` through main(). */
export function runVouch(args: string[], o: CliOptions = {}): Promise<CliResult> {
  return capture(o, (io) => main(args, io));
}

/**
 * `command` on `args` (what follows the command name) as main() runs a registered command; with
 * `rethrow`, parsed the same way but errors (a VouchError, a parseArgs TypeError) reject the promise.
 */
export function runCommand(
  command: Command,
  args: string[],
  o: CliOptions & { rethrow?: boolean } = {},
): Promise<CliResult> {
  if (o.rethrow) return capture(o, (io) => command.run(parseCommandArgs(command, args), io));
  return capture(o, (io) => runParsed(command, args, io));
}
