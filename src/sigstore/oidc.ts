/**
 * OIDC identity tokens for keyless signing: where they come from (a flag value or `@file`,
 * SIGSTORE_ID_TOKEN, GitHub Actions' ambient credentials) and a shape check before one is sent
 * to Fulcio. The signature of the token is Fulcio's to check; vouch only refuses tokens that
 * cannot work (not a JWT, no issuer or subject, expired) so the user hears why early.
 * The token itself never appears in a message.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { VouchError } from '../errors.ts';

/** Audience GitHub Actions tokens are requested for: the one Fulcio's public instance accepts. */
export const SIGSTORE_AUDIENCE = 'sigstore';

export const TOKEN_SOURCES = ['flag', 'file', 'env', 'github-actions'] as const;
export type TokenSource = (typeof TOKEN_SOURCES)[number];

export interface IdentityClaims {
  iss: string;
  sub?: string;
  email?: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
  aud?: string | string[];
  /** What Fulcio binds the certificate to and the proof of possession signs: email, else sub. */
  subject: string;
  /** Every claim, as decoded (GitHub workflow claims and the like). */
  all: Readonly<Record<string, unknown>>;
}

export interface IdentityToken {
  token: string;
  source: TokenSource;
  /** Human words for the source, safe for messages ("SIGSTORE_ID_TOKEN", "file ./t.jwt"). */
  origin: string;
  claims: IdentityClaims;
}

export interface TokenLookup {
  /** `--identity-token`: the token itself, or `@FILE` to read it from a file. */
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Base for a relative `@FILE` (default process.cwd()). */
  cwd?: string | undefined;
  /** Audience for GitHub Actions tokens (default `sigstore`). */
  audience?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Clock for the expiry check (tests). */
  now?: Date | undefined;
}

const B64URL = /^[A-Za-z0-9_-]+={0,2}$/;

function invalid(origin: string, problem: string, hint?: string): VouchError {
  return new VouchError('IDENTITY_TOKEN_INVALID', `identity token from ${origin}: ${problem}`, {
    ...(hint ? { hint } : {}),
  });
}

function decodeJsonPart(part: string, name: string, origin: string): Record<string, unknown> {
  if (!B64URL.test(part)) throw invalid(origin, `the ${name} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw invalid(origin, `the ${name} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(origin, `the ${name} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Check a compact JWT's shape and claims: three base64url parts, JSON header and payload,
 * `iss`, `sub` or `email` (an email must be verified, as Fulcio requires), `exp` in the future.
 */
export function parseIdentityToken(token: string, origin: string, now: Date = new Date()): IdentityClaims {
  const parts = token.split('.');
  if (parts.length !== 3) {
    throw invalid(origin, `not a JWT (expected 3 dot-separated parts, found ${parts.length})`);
  }
  const [header, payload, signature] = parts as [string, string, string];
  decodeJsonPart(header, 'header', origin);
  const claims = decodeJsonPart(payload, 'payload', origin);
  if (signature === '' || !B64URL.test(signature)) throw invalid(origin, 'the signature part is missing');
  const { iss, sub, email, exp, aud } = claims;
  if (typeof iss !== 'string' || iss === '') throw invalid(origin, 'no "iss" (issuer) claim');
  if (sub !== undefined && typeof sub !== 'string') throw invalid(origin, '"sub" is not a string');
  if (email !== undefined && typeof email !== 'string') throw invalid(origin, '"email" is not a string');
  if (!sub && !email) throw invalid(origin, 'neither a "sub" nor an "email" claim');
  if (email && claims.email_verified !== true) {
    throw invalid(origin, `email ${email} is not verified by the issuer ("email_verified" is not true)`);
  }
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid(origin, 'no numeric "exp" claim');
  if (exp * 1000 <= now.getTime()) {
    throw invalid(
      origin,
      `expired at ${new Date(exp * 1000).toISOString()}`,
      'OIDC tokens live minutes; fetch a fresh one right before signing',
    );
  }
  const audience =
    typeof aud === 'string' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string'))
      ? (aud as string | string[])
      : undefined;
  return {
    iss,
    ...(sub ? { sub } : {}),
    ...(email ? { email } : {}),
    exp,
    ...(audience !== undefined ? { aud: audience } : {}),
    subject: email || (sub as string),
    all: claims,
  };
}

/** True when GitHub Actions offers an OIDC token (the job has `permissions: id-token: write`). */
export function githubActionsTokenAvailable(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN);
}

const GITHUB_FETCH_TIMEOUT_MS = 30_000;

/**
 * Ask the GitHub Actions runtime for an OIDC token: GET ACTIONS_ID_TOKEN_REQUEST_URL with
 * `audience=<aud>` added, bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN; the answer is `{"value": jwt}`.
 * Only the endpoint's origin appears in messages (its path names the job).
 */
export async function fetchGithubActionsToken(
  env: NodeJS.ProcessEnv,
  o: { audience?: string | undefined; signal?: AbortSignal | undefined } = {},
): Promise<string> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) {
    throw new VouchError(
      'IDENTITY_TOKEN_INVALID',
      'no GitHub Actions OIDC credentials (ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN are not set)',
      { hint: 'give the job `permissions: id-token: write`' },
    );
  }
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    throw new VouchError('IDENTITY_TOKEN_INVALID', 'ACTIONS_ID_TOKEN_REQUEST_URL is not a URL');
  }
  url.searchParams.append('audience', o.audience ?? SIGSTORE_AUDIENCE);
  const where = `GitHub Actions OIDC endpoint ${url.origin}`;
  const timeout = AbortSignal.timeout(GITHUB_FETCH_TIMEOUT_MS);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json', authorization: `bearer ${requestToken}` },
      signal,
    });
  } catch (e) {
    if (o.signal?.aborted) {
      throw new VouchError('ABORTED', `request to ${where} was aborted`, { cause: o.signal.reason });
    }
    const reason = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new VouchError('SIGNING_FAILED', `${where} is unreachable (${reason})`);
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) {
    throw new VouchError('SIGNING_FAILED', `${where} answered HTTP ${res.status}`, {
      hint: 'check that the job has `permissions: id-token: write`',
    });
  }
  let value: unknown;
  try {
    value = (JSON.parse(text) as { value?: unknown }).value;
  } catch {
    throw new VouchError('IDENTITY_TOKEN_INVALID', `${where} did not answer JSON`);
  }
  if (typeof value !== 'string' || value === '') {
    throw new VouchError('IDENTITY_TOKEN_INVALID', `${where} answered without a "value" token`);
  }
  return value;
}

async function readTokenFile(path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT')
      throw new VouchError('FILE_NOT_FOUND', `identity token file ${path} does not exist`);
    throw new VouchError('IO_ERROR', `cannot read identity token file ${path}${code ? ` (${code})` : ''}`);
  }
}

/**
 * The identity token to sign with, checked, or undefined when no source offers one.
 * Order: `--identity-token` (value or @file), SIGSTORE_ID_TOKEN, GitHub Actions ambient.
 */
export async function findIdentityToken(o: TokenLookup = {}): Promise<IdentityToken | undefined> {
  const env = o.env ?? process.env;
  const now = o.now ?? new Date();
  let found: { token: string; source: TokenSource; origin: string } | undefined;
  if (o.flag !== undefined) {
    if (o.flag.startsWith('@')) {
      const path = resolve(o.cwd ?? process.cwd(), o.flag.slice(1));
      found = { token: await readTokenFile(path), source: 'file', origin: `file ${path}` };
    } else {
      found = { token: o.flag.trim(), source: 'flag', origin: '--identity-token' };
    }
  } else if (env.SIGSTORE_ID_TOKEN) {
    found = { token: env.SIGSTORE_ID_TOKEN.trim(), source: 'env', origin: 'SIGSTORE_ID_TOKEN' };
  } else if (githubActionsTokenAvailable(env)) {
    const token = await fetchGithubActionsToken(env, { audience: o.audience, signal: o.signal });
    found = { token, source: 'github-actions', origin: 'GitHub Actions' };
  }
  if (!found) return undefined;
  if (found.token === '') throw invalid(found.origin, 'it is empty');
  return { ...found, claims: parseIdentityToken(found.token, found.origin, now) };
}

/** Like findIdentityToken, but no token is an error naming every place that was looked at. */
export async function requireIdentityToken(o: TokenLookup = {}): Promise<IdentityToken> {
  const t = await findIdentityToken(o);
  if (t) return t;
  throw new VouchError('IDENTITY_TOKEN_INVALID', 'no OIDC identity token for keyless signing', {
    hint: 'pass --identity-token TOKEN|@FILE, set SIGSTORE_ID_TOKEN, or run in GitHub Actions with `permissions: id-token: write`',
  });
}

/**
 * A token provider for signing: looks the token up on first use and again once it expires
 * (a long signing run may outlive a GitHub token).
 */
export function identityTokenProvider(o: TokenLookup = {}): () => Promise<string> {
  let cached: IdentityToken | undefined;
  return async () => {
    const now = o.now ?? new Date();
    if (!cached || cached.claims.exp * 1000 <= now.getTime()) cached = await requireIdentityToken(o);
    return cached.token;
  };
}
