/**
 * HTTP for the registry client, on Node's own http/https clients rather than fetch or undici:
 * - bodies stream as Node Buffers straight from the built-in (native) HTTP parser: no
 *   WHATWG-stream layer and no WebAssembly parser to compile and copy each chunk into, which is
 *   measurably cheaper for 100 MB layers and for start-up; upload bodies are async iterables;
 * - redirects are not followed behind our back, so blob redirects to storage can drop the
 *   Authorization header and upload `Location`s are seen one by one;
 * - one pair of keep-alive Agents carries the trust settings (`caFile`, `insecure`) and pools
 *   sockets for concurrent layer transfers.
 *
 * Transport security: https always, except that plain http is allowed when `insecure` is set or
 * the registry is loopback (localhost, 127.0.0.0/8, [::1]) - as docker does for localhost. Even
 * then https is tried first, and http only when the TLS attempt fails for a reason other than
 * the certificate (typically: the server does not speak TLS). A certificate problem is never
 * "fixed" by falling back to http: it fails with a hint (--ca-file, --insecure).
 */
import { readFile } from 'node:fs/promises';
import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { createRequire } from 'node:module';
import { pipeline, Readable } from 'node:stream';
import { VouchError } from '../errors.ts';
import { registryApiHost } from '../oci/reference.ts';
import { errorFromResponse, isAbort, isCertificateError, isUnreachable, transportError } from './errors.ts';
import { DEFAULT_USER_AGENT, type RegistryOptions } from './options.ts';
import { DEFAULT_RETRY, type RetryPolicy, retryPolicy, withRetry } from './retry.ts';

/** No byte for this long (connecting, waiting for headers, or mid-body) fails the request. */
const IDLE_TIMEOUT_MS = 300_000;
/** A TCP connection not established in this time fails (a retryable ETIMEDOUT). */
const CONNECT_TIMEOUT_MS = 10_000;

type RequestFn = (url: URL, o: RequestOptions) => ClientRequest;

interface Client {
  agent: Agent;
  request: RequestFn;
}

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
  body: Readable;
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
  let n = 0;
  try {
    for await (const c of res.body) {
      n += (c as Uint8Array).byteLength;
      if (n > 64 * 1024) break; // leaving the loop destroys the body and its socket
    }
  } catch {
    // the socket is gone either way
  }
}

/** Response headers: lower-case names; a repeated header (several challenges) becomes an array. */
function headersOf(res: IncomingMessage): Headers {
  const out: Headers = {};
  for (const [name, values] of Object.entries(res.headersDistinct)) {
    if (values) out[name] = values.length === 1 ? values[0] : values;
  }
  return out;
}

function timeoutError(what: string): Error {
  return Object.assign(new Error(what), { code: 'ETIMEDOUT' });
}

export class Transport {
  readonly insecure: boolean;
  readonly userAgent: string;
  readonly retry: RetryPolicy;
  readonly signal: AbortSignal | undefined;
  readonly #caFile: string | undefined;
  #clients: Promise<{ 'http:': Client; 'https:': Client }> | undefined;
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

  #httpClients(): Promise<{ 'http:': Client; 'https:': Client }> {
    this.#clients ??= (async () => {
      let ca: string[] | undefined;
      if (this.#caFile) {
        try {
          // Loaded here: building the root certificate list costs start-up time.
          const { rootCertificates } = await import('node:tls');
          ca = [...rootCertificates, await readFile(this.#caFile, 'utf8')];
        } catch (e) {
          throw new VouchError('IO_ERROR', `cannot read CA file ${this.#caFile}: ${(e as Error).message}`, {
            cause: e,
          });
        }
      }
      // require, not import: an ESM import of node:http also evaluates its lazy WebSocket
      // export, which loads a whole second HTTP stack (~50 ms of start-up).
      const require = createRequire(import.meta.url);
      const http = require('node:http') as typeof import('node:http');
      const https = require('node:https') as typeof import('node:https');
      return {
        'http:': { agent: new http.Agent({ keepAlive: true }), request: http.request },
        'https:': {
          agent: new https.Agent({
            keepAlive: true,
            rejectUnauthorized: !this.insecure,
            ...(ca ? { ca } : {}),
          }),
          request: https.request,
        },
      };
    })();
    return this.#clients;
  }

  /** One HTTP exchange; socket-level failures become VouchErrors naming the host. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const clients = await this.#httpClients();
    if (req.url.protocol === 'http:' && !this.allowsHttp(req.url.host)) {
      throw new VouchError('REGISTRY_ERROR', `refusing plain http to ${req.url.host}`, {
        hint: 'use --insecure to allow http',
      });
    }
    const client = req.url.protocol === 'https:' ? clients['https:'] : clients['http:'];
    // An error thrown by the body itself (a digest check) must win over the socket error it causes.
    let bodyError: unknown;
    const src = req.body;
    try {
      return await new Promise<HttpResponse>((resolve, reject) => {
        const signal = this.signalFor(req.signal);
        const r = client.request(req.url, {
          method: req.method,
          headers: { 'user-agent': this.userAgent, ...req.headers },
          agent: client.agent,
          timeout: IDLE_TIMEOUT_MS,
          ...(signal ? { signal } : {}),
        });
        // Stays attached after the response: a later socket error must not go unhandled.
        r.on('error', reject);
        r.on('timeout', () =>
          r.destroy(timeoutError(`no data from ${req.url.host} for ${IDLE_TIMEOUT_MS / 1000} s`)),
        );
        r.on('socket', (s) => {
          if (!s.connecting) return;
          const t = setTimeout(
            () => r.destroy(timeoutError(`connecting to ${req.url.host} timed out`)),
            CONNECT_TIMEOUT_MS,
          );
          s.once('connect', () => clearTimeout(t));
          s.once('close', () => clearTimeout(t));
        });
        r.on('response', (res: IncomingMessage) =>
          resolve({ status: res.statusCode ?? 0, headers: headersOf(res), body: res, url: req.url }),
        );
        if (src === undefined || src instanceof Uint8Array) {
          r.end(src);
          return;
        }
        const body = Readable.from(
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
        // Errors surface through r ('error' above); the response may also come before the end.
        pipeline(body, r, () => {});
      });
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
    const c = this.#clients;
    this.#clients = undefined;
    if (!c) return;
    const clients = await c.catch(() => undefined);
    clients?.['http:'].agent.destroy();
    clients?.['https:'].agent.destroy();
  }
}
