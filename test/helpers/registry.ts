/**
 * Start Debian's docker-registry (CNCF distribution 2.8) on 127.0.0.1 for tests: a private temp dir
 * holds config.yml, storage, the log and, when asked, an htpasswd file and a self-signed cert.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { access, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface TestRegistryOptions {
  htpasswd?: { user: string; password: string };
  tls?: boolean;
}

export interface TestRegistry {
  /** 127.0.0.1:PORT */
  host: string;
  /** http(s)://127.0.0.1:PORT */
  url: string;
  /** stdout + stderr of the registry, access log included */
  logFile: string;
  /** storage root: `<storageDir>/docker/registry/v2/blobs/sha256/xx/<hex>/data` */
  storageDir: string;
  /** the self-signed certificate (PEM) when `tls` was asked */
  certFile?: string;
  stop(): Promise<void>;
}

/** True when the binary exists; tests skip (or fail under CI) otherwise. */
export async function haveBinary(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** An absolute path, or a name looked up on PATH. */
export async function findBinary(name: string): Promise<string | undefined> {
  if (name.includes('/')) return (await haveBinary(name)) ? name : undefined;
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    if (await haveBinary(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Skip reason for `test(..., { skip })`; under CI a missing tool is an error instead. */
export async function requireBinary(name: string): Promise<string | false> {
  if (await findBinary(name)) return false;
  if (process.env.CI) throw new Error(`${name} is required under CI but is missing`);
  return `${name} is not installed`;
}

export interface AccessLogEntry {
  method: string;
  /** path and query as requested */
  url: string;
  status: number;
}

/** The registry's access log: one entry per request, in order. */
export async function accessLog(logFile: string): Promise<AccessLogEntry[]> {
  const out: AccessLogEntry[] = [];
  for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
    const m = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3})/.exec(line);
    if (m) out.push({ method: m[1] ?? '', url: m[2] ?? '', status: Number(m[3]) });
  }
  return out;
}

/** Where distribution's filesystem driver keeps a blob's bytes. */
export function blobDataPath(storageDir: string, digest: string): string {
  const hex = digest.slice(digest.indexOf(':') + 1);
  return join(storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function config(dir: string, port: number, o: TestRegistryOptions): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: vouch-test-secret',
  ];
  if (o.tls) {
    lines.push('  tls:', `    certificate: ${join(dir, 'cert.pem')}`, `    key: ${join(dir, 'key.pem')}`);
  }
  if (o.htpasswd) {
    lines.push('auth:', '  htpasswd:', '    realm: vouch-test', `    path: ${join(dir, 'htpasswd')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Status of GET /v2/, or undefined while nothing answers. */
function probe(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = (url.startsWith('https') ? httpsRequest : httpRequest)(
      `${url}/v2/`,
      { rejectUnauthorized: false, timeout: 1000 },
      (res) => {
        res.resume();
        resolve(res.statusCode);
      },
    );
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function startOnce(dir: string, o: TestRegistryOptions): Promise<TestRegistry | 'port-taken'> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const url = `${o.tls ? 'https' : 'http'}://${host}`;
  const cfg = join(dir, `config-${port}.yml`);
  await writeFile(cfg, config(dir, port, o));
  const logFile = join(dir, `registry-${port}.log`);
  const log = await open(logFile, 'w');
  const child = spawn(REGISTRY_BIN, ['serve', cfg], { stdio: ['ignore', log.fd, log.fd] });
  await log.close();
  const deadline = Date.now() + 15_000;
  for (;;) {
    const status = await probe(url);
    if (status === 200 || status === 401) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited(child);
      const text = await readFile(logFile, 'utf8');
      if (/address already in use/.test(text)) return 'port-taken';
      throw new Error(`docker-registry did not start on ${host}:\n${text.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited(child);
    clearTimeout(timer);
    await rm(dir, { recursive: true, force: true });
  };
  return {
    host,
    url,
    logFile,
    storageDir: join(dir, 'storage'),
    ...(o.tls ? { certFile: join(dir, 'cert.pem') } : {}),
    stop,
  };
}

/** A self-signed P-256 certificate for 127.0.0.1/localhost: `dir`/cert.pem and `dir`/key.pem. */
export async function makeSelfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]);
  return {
    cert: await readFile(join(dir, 'cert.pem'), 'utf8'),
    key: await readFile(join(dir, 'key.pem'), 'utf8'),
  };
}

export async function startRegistry(o: TestRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-registry-'));
  try {
    if (o.htpasswd) {
      const { stdout } = await run('htpasswd', ['-Bbn', o.htpasswd.user, o.htpasswd.password]);
      await writeFile(join(dir, 'htpasswd'), stdout);
    }
    if (o.tls) {
      await makeSelfSignedCert(dir);
    }
    for (let i = 0; i < 5; i++) {
      const r = await startOnce(dir, o);
      if (r !== 'port-taken') return r;
    }
    throw new Error('docker-registry: could not find a free port');
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
