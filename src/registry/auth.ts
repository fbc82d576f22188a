/**
 * Authorization headers for registry requests: anonymous, Basic, or a Bearer token from the
 * registry's token service (docker token spec; OAuth2 refresh-token POST for identity tokens).
 * Tokens are cached per registry + scope set until shortly before they expire; concurrent
 * requests for the same scopes share one token request.
 */
import { VouchError } from '../errors.ts';
import { type Challenge, mergeScopes, pickChallenge } from './challenge.ts';
import { type Credential, lookupCredential } from './credentials.ts';
import { errorFromResponse, MAX_ERROR_BODY, readCapped, redactUrl } from './errors.ts';
import type { RegistryOptions } from './options.ts';
import { withRetry } from './retry.ts';
import type { Transport } from './transport.ts';

interface Token {
  value: string;
  expiresAt: number;
}

const DEFAULT_EXPIRES_IN_S = 60;
/** OAuth2 needs a client id; the token spec leaves it free. */
const CLIENT_ID = 'vouch';

export class Authenticator {
  readonly #transport: Transport;
  readonly #opts: RegistryOptions;
  readonly #credentials = new Map<string, Promise<Credential | undefined>>();
  readonly #tokens = new Map<string, Promise<Token>>();
  /** Scope sets a registry asked us to widen (insufficient_scope), so later calls ask wide at once. */
  readonly #widened = new Map<string, string[]>();
  readonly now: () => number;

  constructor(transport: Transport, opts: RegistryOptions, now: () => number = Date.now) {
    this.#transport = transport;
    this.#opts = opts;
    this.now = now;
  }

  credential(registry: string): Promise<Credential | undefined> {
    let p = this.#credentials.get(registry);
    if (!p) {
      p = lookupCredential(registry, { credentials: this.#opts.credentials, authFile: this.#opts.authFile });
      this.#credentials.set(registry, p);
      p.catch(() => this.#credentials.delete(registry));
    }
    return p;
  }

  /** What must never show in messages for this registry: passwords and tokens. */
  async secrets(registry: string): Promise<string[]> {
    return credentialSecrets(await this.credential(registry).catch(() => undefined));
  }

  /** The Authorization header value for a request needing `scopes`, or undefined (anonymous). */
  async authorization(
    registry: string,
    challengeHeader: string | undefined,
    scopes: readonly string[],
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const ch = pickChallenge(challengeHeader);
    if (!ch || ch.scheme === 'other') return undefined;
    const cred = await this.credential(registry);
    if (ch.scheme === 'basic') {
      if (cred?.kind !== 'basic') return undefined;
      return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
    }
    if (cred?.kind === 'registry-token') return `Bearer ${cred.token}`;
    const asked = mergeScopes(scopes);
    const want = this.#widened.get(tokenKey(registry, ch, asked)) ?? asked;
    const token = await this.#token(registry, ch, want, cred, signal);
    return `Bearer ${token.value}`;
  }

  /**
   * After a 401 carrying `challengeHeader`: drop cached tokens for these scopes and widen them
   * with any scope the registry named (insufficient_scope). Returns the scopes to retry with,
   * or undefined when asking again cannot help (Basic: the credentials are simply wrong).
   */
  forget(
    registry: string,
    challengeHeader: string | undefined,
    scopes: readonly string[],
  ): string[] | undefined {
    const ch = pickChallenge(challengeHeader);
    if (!ch || ch.scheme !== 'bearer') return undefined;
    const asked = mergeScopes(scopes);
    const wider = mergeScopes([...scopes, ...(ch.scope ? [ch.scope] : [])]);
    for (const s of [asked, wider]) this.#tokens.delete(tokenKey(registry, ch, s));
    if (wider.join(' ') !== asked.join(' ')) this.#widened.set(tokenKey(registry, ch, asked), wider);
    return wider;
  }

  #token(
    registry: string,
    ch: Extract<Challenge, { scheme: 'bearer' }>,
    scopes: string[],
    cred: Credential | undefined,
    signal?: AbortSignal,
  ): Promise<Token> {
    const key = tokenKey(registry, ch, scopes);
    const cached = this.#tokens.get(key);
    if (cached) {
      return cached.then((t) =>
        this.now() < t.expiresAt ? t : this.#refetch(key, ch, scopes, cred, signal),
      );
    }
    return this.#refetch(key, ch, scopes, cred, signal);
  }

  #refetch(
    key: string,
    ch: Extract<Challenge, { scheme: 'bearer' }>,
    scopes: string[],
    cred: Credential | undefined,
    signal?: AbortSignal,
  ): Promise<Token> {
    // Share one in-flight request between concurrent callers that all found the token stale.
    const current = this.#tokens.get(key);
    const p = (async () => {
      if (current) {
        const t = await current.catch(() => undefined);
        if (t && this.now() < t.expiresAt) return t;
      }
      return this.#fetchToken(ch, scopes, cred, signal);
    })();
    this.#tokens.set(key, p);
    p.catch(() => {
      if (this.#tokens.get(key) === p) this.#tokens.delete(key);
    });
    return p;
  }

  async #fetchToken(
    ch: Extract<Challenge, { scheme: 'bearer' }>,
    scopes: string[],
    cred: Credential | undefined,
    signal?: AbortSignal,
  ): Promise<Token> {
    let realm: URL;
    try {
      realm = new URL(ch.realm);
    } catch {
      throw new VouchError('REGISTRY_ERROR', `the registry's token realm "${ch.realm}" is not a URL`);
    }
    if (
      realm.protocol !== 'https:' &&
      !(realm.protocol === 'http:' && this.#transport.allowsHttp(realm.host))
    ) {
      throw new VouchError('REGISTRY_ERROR', `refusing token realm ${redactUrl(realm)}: not https`, {
        hint: 'use --insecure to allow http',
      });
    }
    const started = this.now();
    const t = this.#transport;
    return withRetry(
      t.retry,
      async () => {
        const oauth = cred?.kind === 'identity-token';
        const url = new URL(realm);
        const headers: Record<string, string> = { accept: 'application/json' };
        let body: Uint8Array | undefined;
        if (oauth) {
          const form = new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: cred.token,
            client_id: CLIENT_ID,
            ...(ch.service ? { service: ch.service } : {}),
            scope: scopes.join(' '),
          });
          body = new TextEncoder().encode(form.toString());
          headers['content-type'] = 'application/x-www-form-urlencoded';
        } else {
          if (ch.service) url.searchParams.set('service', ch.service);
          for (const s of scopes) url.searchParams.append('scope', s);
          if (cred?.kind === 'basic') {
            headers.authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
          }
        }
        const res = await t.send({
          method: oauth ? 'POST' : 'GET',
          url,
          headers,
          ...(body ? { body } : {}),
          signal,
        });
        if (res.status !== 200) {
          const secrets = credentialSecrets(cred);
          const err = await errorFromResponse(res, oauth ? 'POST' : 'GET', url, 'token', secrets);
          if (err.code === 'UNAUTHORIZED' || err.code === 'DENIED') {
            const who =
              cred?.kind === 'basic'
                ? `user "${cred.username}"`
                : cred
                  ? 'the identity token'
                  : 'anonymous access';
            throw new VouchError(
              err.code,
              `token service ${redactUrl(realm)} refused ${who}: ${err.message}`,
              {
                hint: err.hint ?? 'check the credentials',
                cause: err,
              },
            );
          }
          throw err;
        }
        const { bytes } = await readCapped(res.body, MAX_ERROR_BODY);
        return parseTokenResponse(bytes, realm, started);
      },
      { idempotent: true, signal: t.signalFor(signal) },
    );
  }
}

function credentialSecrets(c: Credential | undefined): string[] {
  if (!c) return [];
  if (c.kind !== 'basic') return [c.token];
  return [c.password, Buffer.from(`${c.username}:${c.password}`).toString('base64')];
}

function tokenKey(
  registry: string,
  ch: { realm: string; service?: string },
  scopes: readonly string[],
): string {
  return [registry, ch.realm, ch.service ?? '', ...scopes].join('\n');
}

export function parseTokenResponse(bytes: Uint8Array, realm: URL, started: number): Token {
  let v: { token?: unknown; access_token?: unknown; expires_in?: unknown };
  try {
    v = JSON.parse(new TextDecoder().decode(bytes)) as typeof v;
  } catch {
    throw new VouchError(
      'REGISTRY_ERROR',
      `token service ${redactUrl(realm)} answered with something not JSON`,
    );
  }
  const value = typeof v.token === 'string' && v.token ? v.token : v.access_token;
  if (typeof value !== 'string' || !value) {
    throw new VouchError('REGISTRY_ERROR', `token service ${redactUrl(realm)} returned no token`);
  }
  const expiresIn =
    typeof v.expires_in === 'number' && v.expires_in > 0 ? v.expires_in : DEFAULT_EXPIRES_IN_S;
  // Renew a little early so a token does not expire in flight.
  const margin = Math.min(5_000, (expiresIn * 1000) / 10);
  return { value, expiresAt: started + expiresIn * 1000 - margin };
}
