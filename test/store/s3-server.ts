/**
 * An S3-compatible server (s3rver) on 127.0.0.1 for tests, in a child process with a private
 * temp directory. Credentials are s3rver's fixed S3RVER / S3RVER (it checks the access key id;
 * it does not check SigV4 signatures).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface TestS3Server {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  /** s3rver's storage: `<directory>/<bucket>/<key dirs>/<name>._S3rver_object` */
  directory: string;
  /** AWS_* variables for the server's credentials. */
  env: NodeJS.ProcessEnv;
  /** Where s3rver keeps the bytes of `key` in `bucket`. */
  objectPath(bucket: string, key: string): string;
  stop(): Promise<void>;
}

const CHILD = join(import.meta.dirname, 's3rver-child.ts');

export async function startS3Server(buckets: string[] = []): Promise<TestS3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'vouch-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', CHILD, directory, ...buckets], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  let port: number;
  try {
    port = await readPort(child, () => stderr);
  } catch (e) {
    child.kill();
    await rm(directory, { recursive: true, force: true });
    throw e;
  }
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    directory,
    env: {
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    },
    objectPath: (bucket, key) => join(directory, bucket, `${key}._S3rver_object`),
    async stop() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function readPort(child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => fail(new Error('s3rver did not start within 15 s')), 15_000);
    function fail(e: Error): void {
      clearTimeout(timer);
      lines.close();
      reject(new Error(`${e.message}\n${stderr()}`));
    }
    lines.once('line', (line) => {
      clearTimeout(timer);
      lines.close();
      try {
        resolve((JSON.parse(line) as { port: number }).port);
      } catch (e) {
        fail(e as Error);
      }
    });
    child.once('exit', (code) => fail(new Error(`s3rver exited with code ${code}`)));
    child.once('error', fail);
  });
}
