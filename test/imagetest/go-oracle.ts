/**
 * Run a small Go program as an oracle (Go's regexp, archive/tar and io/fs are what
 * container-structure-test uses): built with the local toolchain, fed JSON on stdin, its stdout
 * returned. Undefined when Go is not installed (setup-system.sh installs golang-go).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function haveGo(): Promise<boolean> {
  try {
    await run('go', ['version']);
    return true;
  } catch {
    return false;
  }
}

export async function runGo(source: string, stdin: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-go-oracle-'));
  try {
    await writeFile(join(dir, 'main.go'), source);
    await run('go', ['build', '-o', join(dir, 'oracle'), join(dir, 'main.go')], {
      // No module, no toolchain download: only the standard library of the installed Go.
      env: { ...process.env, GOTOOLCHAIN: 'local', GO111MODULE: 'off', GOFLAGS: '' },
    });
    return await new Promise<string>((resolve, reject) => {
      const child = spawn(join(dir, 'oracle'), { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => {
        out += c;
      });
      child.stderr.on('data', (c) => {
        err += c;
      });
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`oracle exited ${code}: ${err}`)),
      );
      child.stdin.end(stdin);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
