/**
 * A small pipeline project for tests, in a temp dir: the bundled example's files (examples/hello)
 * as layers, a cosign key made with node:crypto (src/sign/keys/generate.ts), an OSV database
 * imported from the Debian fixtures (test/fixtures/osv/debian), and a vouch.yaml written from
 * options. `runIn` runs the pipeline as a library call with the run's events collected.
 */
import { rmSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LogEvent, memoryLog } from '../../src/pipeline/log.ts';
import { type RunOptions, type RunResult, runPipeline } from '../../src/pipeline/run.ts';
import { generateKeyPair } from '../../src/sign/keys/generate.ts';
import { importOsv } from '../../src/vuln/db/import.ts';

export const EXAMPLE = fileURLToPath(new URL('../../examples/hello', import.meta.url));
export const OSV_DEBIAN = fileURLToPath(new URL('../fixtures/osv/debian', import.meta.url));
export const PASSWORD = 'pipeline test';
export const EPOCH = '1700000000';

export interface Project {
  dir: string;
  config: string;
  publicKey: string;
  env: NodeJS.ProcessEnv;
  /** Rewrite vouch.yaml. */
  write(o?: ProjectOptions): Promise<void>;
  cleanup(): Promise<void>;
}

export interface ProjectOptions {
  name?: string;
  version?: string;
  architectures?: string[];
  base?: string;
  /** Extra top-level YAML (appended as written). */
  extra?: string;
  /** `tests.files` entries as YAML list items. */
  testFiles?: string[];
  storage?: 'tag' | 'referrers';
  /** `store:` block body (default `directory: ./artifacts`). */
  store?: string;
  target?: string;
  /** Add a Debian root with a vulnerable openssl (DSA-5532-1) as a third layer. */
  vulnerable?: boolean;
}

/** Keys made once per process: scrypt at cosign's legacy strength keeps tests quick. */
let keys: Promise<{ privatePem: string; publicPem: string }> | undefined;
let db: Promise<string> | undefined;

async function sharedDb(): Promise<string> {
  db ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vouch-pipeline-db-'));
    const path = join(dir, 'osv.db');
    await importOsv(path, [OSV_DEBIAN]);
    // Shared by every test of the process; an exit handler must be synchronous.
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return path;
  })();
  return db;
}

const DEBIAN_STATUS = `Package: openssl
Status: install ok installed
Priority: optional
Section: utils
Installed-Size: 2296
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Version: 3.0.11-1~deb12u1
Description: Secure Sockets Layer toolkit - cryptographic utility
`;

export async function makeProject(o: ProjectOptions = {}): Promise<Project> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-pipeline-'));
  await cp(join(EXAMPLE, 'app'), join(dir, 'app'), { recursive: true });
  await cp(join(EXAMPLE, 'data'), join(dir, 'data'), { recursive: true });
  await mkdir(join(dir, 'rootfs', 'etc'), { recursive: true });
  await mkdir(join(dir, 'rootfs', 'var', 'lib', 'dpkg'), { recursive: true });
  await writeFile(
    join(dir, 'rootfs', 'etc', 'os-release'),
    'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
  );
  await writeFile(join(dir, 'rootfs', 'var', 'lib', 'dpkg', 'status'), DEBIAN_STATUS);
  keys ??= generateKeyPair({ passphrase: PASSWORD, scrypt: { N: 32768, r: 8, p: 1 } });
  const k = await keys;
  await writeFile(join(dir, 'cosign.key'), k.privatePem);
  await writeFile(join(dir, 'cosign.pub'), k.publicPem);
  const dbPath = await sharedDb();
  const project: Project = {
    dir,
    config: join(dir, 'vouch.yaml'),
    publicKey: join(dir, 'cosign.pub'),
    env: { COSIGN_PASSWORD: PASSWORD, SOURCE_DATE_EPOCH: EPOCH, HOME: dir, PATH: process.env.PATH ?? '' },
    write: (x = {}) => writeFile(join(dir, 'vouch.yaml'), yaml({ ...o, ...x }, relative(dir, dbPath))),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  await project.write();
  return project;
}

function yaml(o: ProjectOptions, db: string): string {
  const files = o.testFiles ?? ['{ path: /app/hello.sh, mode: "0755" }'];
  return [
    'apiVersion: vouch.dev/v1',
    'kind: Pipeline',
    'image:',
    `  name: ${o.name ?? '127.0.0.1:5000/team/hello'}`,
    `  version: ${o.version ?? '1.2.3'}`,
    `  architectures: [${(o.architectures ?? ['amd64', 'arm64']).join(', ')}]`,
    'base:',
    `  image: ${o.base ?? 'scratch'}`,
    'layers:',
    '  - { source: ./app, target: /app, owner: "65532:65532", mode: "0755" }',
    '  - { source: ./data, target: /data }',
    ...(o.vulnerable ? ['  - { source: ./rootfs, target: / }'] : []),
    'config:',
    '  user: "65532:65532"',
    '  env: { PATH: /app:/usr/bin:/bin, GREETING: hello }',
    '  entrypoint: [/app/hello.sh]',
    '  cmd: [--once]',
    '  workdir: /app',
    '  ports: ["8080"]',
    '  volumes: [/data]',
    '  stopSignal: SIGTERM',
    '  labels: { org.opencontainers.image.title: hello }',
    'tests:',
    '  files:',
    ...files.map((f) => `    - ${f}`),
    'gate:',
    '  severities: [HIGH, CRITICAL]',
    `  db: ${db}`,
    'signing:',
    '  key: cosign.key',
    `  storage: ${o.storage ?? 'tag'}`,
    'store:',
    `  ${o.store ?? 'directory: ./artifacts'}`,
    ...(o.target ? [`target: ${o.target}`] : []),
    ...(o.extra ? [o.extra] : []),
    '',
  ].join('\n');
}

export interface Ran extends RunResult {
  events: LogEvent[];
}

export async function runIn(p: Project, o: Partial<RunOptions> = {}): Promise<Ran> {
  const log = memoryLog();
  const r = await runPipeline({ config: p.config, cwd: p.dir, env: p.env, log, ...o });
  return { ...r, events: log.events };
}

/** Every file under `dir` with its bytes (to compare a store before and after a re-run). */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.set(relative(dir, path), (await readFile(path)).toString('base64'));
  }
  return out;
}
