/**
 * HTTP for the registry client, on undici's `Agent.request()` rather than built-in fetch:
 * - bodies stream as Node Buffers with no WHATWG-stream layer in between, which is measurably
 *   cheaper per chunk for 100 MB layers, and upload bodies are plain async iterables;
 * - redirects are not followed behind our back, so blob redirects to storage can drop the
 *   Authorization header and upload `Location`s are seen one by one;
 * - one Agent carries the trust settings (`caFile`, `insecure`) and pools keep-alive sockets
 *   for concurrent layer uploads.
 *
 * Transport security: https always, except that plain http is allowed when `insecure` is set or
 * the registry is loopback (localhost, 127.0.0.0/8, [::1]) - as docker does for localhost. Even
 * then https is tried first, and http only when the TLS attempt fails for a reason other than
 * the certificate (typically: the server does not speak TLS). A certificate problem is never
 * "fixed" by falling back to http: it fails with a hint (--ca-file, --insecure).
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { VouchError } from '../errors.ts';
import { registryApiHost } from '../oci/reference.ts';
import { errorFromResponse, isAbort, isCertificateError, isUnreachable, transportError } from './errors.ts';
import { DEFAULT_USER_AGENT, type RegistryOptions } from './options.ts';
import { DEFAULT_RETRY, type RetryPolicy, retryPolicy, withRetry } from './retry.ts';

export type Headers = Record<string, string | string[] | undefined>;

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  body?: Uint8Array | AsyncIterable<Uint8Array>;
  signal?: AbortSignal | undefined;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** Must be consumed, discarded or destroyed. */
  body: Dispatcher.ResponseData['body'];
  url: URL;
  /** The Authorization header the request carried, if any (to keep it out of messages). */
  authorization?: string;
}

export interface Endpoint {
  /** `https://host[:port]` or `http://...` */
  base: URL;
  /** WWW-Authenticate of the `GET /v2/` probe, when it answered 401. */
  challenge: string | undefined;
}

export function isLoopback(host: string): boolean {
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name);
}

export function header(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Drop a response body we do not need, keeping the socket for reuse when it is small. */
export async function discard(res: HttpResponse): Promise<void> {
  try {
    await res.body.dump({ limit: 64 * 1024 });
  } catch {
    // the socket is gone either way
  }
}

export class Transport {
  readonly insecure: boolean;
  readonly userAgent: string;
  readonly retry: RetryPolicy;
  readonly signal: AbortSignal | undefined;
  readonly #caFile: string | undefined;
  #agent: Promise<Agent> | undefined;
  readonly #endpoints = new Map<string, Promise<Endpoint>>();

  constructor(o: RegistryOptions = {}) {
    this.insecure = o.insecure ?? false;
    this.userAgent = o.userAgent ?? DEFAULT_USER_AGENT;
    this.retry = o.retry ? retryPolicy(o.retry) : DEFAULT_RETRY;
    this.signal = o.signal;
    this.#caFile = o.caFile;
  }

  /** May requests to this host use plain http? */
  allowsHttp(host: string): boolean {
    return this.insecure || isLoopback(host);
  }

  /** Combine the client-wide signal with a per-call one. */
  signalFor(s?: AbortSignal): AbortSignal | undefined {
    if (!s) return this.signal;
    if (!this.signal) return s;
    return AbortSignal.any([this.signal, s]);
  }

  #dispatcher(): Promise<Agent> {
    this.#agent ??= (async () => {
      let ca: string[] | undefined;
      if (this.#caFile) {
        try {
          ca = [...rootCertificates, await readFile(this.#caFile, 'utf8')];
        } catch (e) {
          throw new VouchError('IO_ERROR', `cannot read CA file ${this.#caFile}: ${(e as Error).message}`, {
            cause: e,
          });
        }
      }
      return new Agent({
        connect: { ...(ca ? { ca } : {}), rejectUnauthorized: !this.insecure },
        keepAliveTimeout: 30_000,
      });
    })();
    return this.#agent;
  }

  /** One HTTP exchange; socket-level failures become VouchErrors naming the host. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const agent = await this.#dispatcher();
    if (req.url.protocol === 'http:' && !this.allowsHttp(req.url.host)) {
      throw new VouchError('REGISTRY_ERROR', `refusing plain http to ${req.url.host}`, {
        hint: 'use --insecure to allow http',
      });
    }
    // An error thrown by the body itself (a digest check) must win over the socket error it causes.
    let bodyError: unknown;
    let body: Uint8Array | Readable | undefined;
    if (req.body instanceof Uint8Array) body = req.body;
    else if (req.body) {
      const src = req.body;
      body = Readable.from(
        (async function* () {
          try {
            yield* src;
          } catch (e) {
            bodyError = e;
            throw e;
          }
        })(),
        { objectMode: false },
      );
    }
    try {
      const res = await agent.request({
        origin: req.url.origin,
        path: req.url.pathname + req.url.search,
        method: req.method,
        headers: { 'user-agent': this.userAgent, ...req.headers },
        body: body ?? null,
        signal: this.signalFor(req.signal) ?? null,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body, url: req.url };
    } catch (e) {
      if (bodyError !== undefined) throw bodyError;
      throw transportError(e, req.method, req.url);
    }
  }

  /**
   * Where the registry's API lives and how it challenges, found once per registry with
   * `GET /v2/` (https first; plain http only when allowed and the server does not speak TLS).
   */
  endpoint(registry: string, signal?: AbortSignal): Promise<Endpoint> {
    let p = this.#endpoints.get(registry);
    if (!p) {
      p = this.#probe(registry, signal);
      this.#endpoints.set(registry, p);
      p.catch(() => this.#endpoints.delete(registry));
    }
    return p;
  }

  /** Remember a challenge learned later (a registry whose /v2/ was open but a repository is not). */
  setChallenge(registry: string, challenge: string): void {
    const p = this.#endpoints.get(registry);
    if (p)
      this.#endpoints.set(
        registry,
        p.then((ep) => ({ ...ep, challenge })),
      );
  }

  async #probe(registry: string, signal?: AbortSignal): Promise<Endpoint> {
    const host = registryApiHost(registry);
    try {
      return await this.#ping(new URL(`https://${host}`), signal);
    } catch (e) {
      // Certificate problems and closed ports are reported as they are, never "fixed" with http.
      if (!this.allowsHttp(host) || isCertificateError(e) || isUnreachable(e) || isAbort(e)) throw e;
    }
    return this.#ping(new URL(`http://${host}`), signal);
  }

  #ping(base: URL, signal?: AbortSignal): Promise<Endpoint> {
    const url = new URL('/v2/', base);
    return withRetry(
      this.retry,
      async () => {
        const res = await this.send({ method: 'GET', url, signal });
        if (res.status === 200 || res.status === 401) {
          await discard(res);
          return {
            base,
            challenge: res.status === 401 ? header(res.headers, 'www-authenticate') : undefined,
          };
        }
        throw await errorFromResponse(res, 'GET', url, 'ping');
      },
      { idempotent: true, signal: this.signalFor(signal) },
    );
  }

  async close(): Promise<void> {
    const a = this.#agent;
    this.#agent = undefined;
    if (a) await (await a).close();
  }
}
