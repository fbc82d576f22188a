import type { Writable } from 'node:stream';

/** Everything a command may touch of the process, injected so tests can capture it. */
export interface CliIO {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Exit codes: stable, documented in README.md. */
export const ExitCode = {
  Ok: 0,
  /** The operation failed (bad input, digest mismatch, registry error, ...). */
  Failure: 1,
  /** The command line was wrong. */
  Usage: 2,
  /** A bug in vouch: please report it. */
  Internal: 70,
} as const;

export function println(w: Writable, s = ''): void {
  w.write(`${s}\n`);
}

export function humanSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}
