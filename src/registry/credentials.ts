/**
 * Find credentials for a registry the way docker does. Order: explicit credentials →
 * DOCKER_AUTH_CONFIG → config.json (authFile, else $DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json); inside a config: credHelpers[host] → credsStore → auths (exact key,
 * then keys normalised from URLs). Secrets never appear in messages.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { VouchError } from '../errors.ts';

export type Credential =
  | { kind: 'basic'; username: string; password: string }
  /** An OAuth2 refresh token (`identitytoken`, or a helper's `<token>` user). */
  | { kind: 'identity-token'; token: string }
  /** A bearer token sent to the registry as is. */
  | { kind: 'registry-token'; token: string };

export interface CredentialOptions {
  credentials?: { username: string; password: string } | undefined;
  authFile?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Time limit for a credential helper. */
  helperTimeoutMs?: number;
}

/** Docker Hub's key in config.json and for credential helpers. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
  registrytoken?: unknown;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export function configKey(registry: string): string {
  return HUB_NAMES.has(registry) ? DOCKER_HUB_KEY : registry;
}

/** `https://host:5000/v1/` → `host:5000`, as docker normalises legacy keys. */
export function normaliseKey(key: string): string {
  const noScheme = key.replace(/^[a-z]+:\/\//i, '');
  const host = noScheme.split('/')[0] ?? '';
  return HUB_NAMES.has(host) ? 'docker.io' : host;
}

export async function lookupCredential(
  registry: string,
  o: CredentialOptions = {},
): Promise<Credential | undefined> {
  if (o.credentials) return { kind: 'basic', ...o.credentials };
  const env = o.env ?? process.env;
  const inline = env.DOCKER_AUTH_CONFIG;
  if (inline) {
    const found = await fromConfig(
      parseConfig(inline, 'DOCKER_AUTH_CONFIG'),
      registry,
      'DOCKER_AUTH_CONFIG',
      o,
    );
    if (found) return found;
  }
  const file =
    o.authFile ??
    (env.DOCKER_CONFIG ? join(env.DOCKER_CONFIG, 'config.json') : join(homedir(), '.docker', 'config.json'));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT' && !o.authFile) return undefined;
    throw new VouchError('CREDENTIALS_ERROR', `cannot read auth file ${file}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  return fromConfig(parseConfig(text, file), registry, file, o);
}

function parseConfig(text: string, where: string): DockerConfig {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new VouchError('CREDENTIALS_ERROR', `${where} is not valid JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new VouchError('CREDENTIALS_ERROR', `${where} is not a JSON object`);
  }
  return v as DockerConfig;
}

async function fromConfig(
  cfg: DockerConfig,
  registry: string,
  where: string,
  o: CredentialOptions,
): Promise<Credential | undefined> {
  const key = configKey(registry);
  const helper = cfg.credHelpers?.[key] ?? cfg.credHelpers?.[registry];
  if (helper) {
    const c = await runHelper(helper, key, o);
    if (c) return c;
  }
  if (cfg.credsStore) {
    const c = await runHelper(cfg.credsStore, key, o);
    if (c) return c;
  }
  const auths = cfg.auths ?? {};
  let entry = auths[key] ?? auths[registry];
  if (!entry) {
    const want = normaliseKey(key);
    const k = Object.keys(auths).find((k) => normaliseKey(k) === want);
    entry = k === undefined ? undefined : auths[k];
  }
  return entry ? fromEntry(entry, `${where} auths entry for ${registry}`) : undefined;
}

function fromEntry(e: AuthEntry, where: string): Credential | undefined {
  if (typeof e.identitytoken === 'string' && e.identitytoken) {
    return { kind: 'identity-token', token: e.identitytoken };
  }
  if (typeof e.registrytoken === 'string' && e.registrytoken) {
    return { kind: 'registry-token', token: e.registrytoken };
  }
  if (typeof e.auth === 'string' && e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i <= 0) throw new VouchError('CREDENTIALS_ERROR', `${where}: "auth" is not base64 of user:password`);
    return { kind: 'basic', username: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  if (typeof e.username === 'string' && typeof e.password === 'string' && e.username) {
    return { kind: 'basic', username: e.username, password: e.password };
  }
  return undefined;
}

/** Run `docker-credential-<name> get` with the server URL on stdin. */
async function runHelper(
  name: string,
  server: string,
  o: CredentialOptions,
): Promise<Credential | undefined> {
  const bin = `docker-credential-${name}`;
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new VouchError('CREDENTIALS_ERROR', `invalid credential helper name "${name}"`);
  }
  const { code, stdout, stderr, spawnError } = await execWithInput(
    bin,
    ['get'],
    server,
    o.env ?? process.env,
    o.helperTimeoutMs ?? 30_000,
  );
  if (spawnError) {
    const missing = (spawnError as { code?: string }).code === 'ENOENT';
    throw new VouchError(
      'CREDENTIALS_ERROR',
      missing ? `credential helper ${bin} is not on PATH` : `cannot run ${bin}: ${spawnError.message}`,
      {
        hint: 'install the helper or remove it from credHelpers/credsStore in config.json',
        cause: spawnError,
      },
    );
  }
  if (code !== 0) {
    if (/credentials not found/i.test(stdout + stderr)) return undefined;
    const why = stderr.trim().split('\n')[0]?.slice(0, 200) || `exit code ${code}`;
    throw new VouchError('CREDENTIALS_ERROR', `${bin} get failed for ${server}: ${why}`);
  }
  let v: { Username?: unknown; Secret?: unknown };
  try {
    v = JSON.parse(stdout) as typeof v;
  } catch {
    // do not quote the output: it may hold the secret
    throw new VouchError('CREDENTIALS_ERROR', `${bin} get for ${server} printed something that is not JSON`);
  }
  const user = typeof v.Username === 'string' ? v.Username : '';
  const secret = typeof v.Secret === 'string' ? v.Secret : '';
  if (!secret) return undefined;
  if (user === '<token>') return { kind: 'identity-token', token: secret };
  return { kind: 'basic', username: user, password: secret };
}

async function execWithInput(
  bin: string,
  args: string[],
  input: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; spawnError?: Error }> {
  // Loaded on first use: most runs never start a helper, and child_process costs start-up time.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    // Our own timer: spawn's `timeout` option leaves one behind when the binary is missing.
    const timer = setTimeout(() => {
      stderr = `timed out after ${timeoutMs} ms`;
      child.kill('SIGKILL');
    }, timeoutMs);
    const done = (r: { code: number | null; spawnError?: Error }): void => {
      clearTimeout(timer);
      resolve({ ...r, stdout, stderr });
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', (e) => done({ code: null, spawnError: e }));
    child.on('close', (code) => done({ code }));
    child.stdin.on('error', () => {
      // the helper may exit without reading stdin
    });
    child.stdin.end(input);
  });
}
