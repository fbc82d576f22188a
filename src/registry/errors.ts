import type { Readable } from 'node:stream';
import { type ErrorCode, VouchError } from '../errors.ts';

/** What a request was about; decides how a 404 reads (MANIFEST_UNKNOWN vs BLOB_UNKNOWN). */
export type Subject = 'manifest' | 'blob' | 'upload' | 'tags' | 'referrers' | 'ping' | 'token';

/** Whether repeating the request may help: 5xx/429/resets always; a 500 only for idempotent calls. */
export type Retryable = 'always' | 'idempotent' | 'never';

/**
 * A failed registry call. Still a VouchError (same name, same code list) so callers branch on
 * `code`; the extra fields serve retries and diagnostics.
 */
export class RegistryError extends VouchError {
  /** HTTP status, 0 when no response arrived. */
  readonly status: number;
  /** The registry's own error codes (`MANIFEST_UNKNOWN`, `DENIED`, ...). */
  readonly registryCodes: readonly string[];
  /** Request URL with credentials and query values redacted. */
  readonly url: string;
  readonly retryable: Retryable;
  /** From Retry-After, when the registry sent one. */
  readonly retryAfterMs: number | undefined;
  constructor(
    code: ErrorCode,
    message: string,
    o: {
      status: number;
      url: string;
      registryCodes?: readonly string[];
      retryable?: Retryable;
      retryAfterMs?: number | undefined;
      hint?: string;
      cause?: unknown;
    },
  ) {
    super(code, message, { ...(o.hint ? { hint: o.hint } : {}), cause: o.cause });
    this.status = o.status;
    this.url = o.url;
    this.registryCodes = o.registryCodes ?? [];
    this.retryable = o.retryable ?? 'never';
    this.retryAfterMs = o.retryAfterMs;
  }

  withRetryable(retryable: Retryable): RegistryError {
    return new RegistryError(this.code, this.message, {
      status: this.status,
      url: this.url,
      registryCodes: this.registryCodes,
      retryable,
      retryAfterMs: this.retryAfterMs,
      ...(this.hint ? { hint: this.hint } : {}),
      cause: this.cause,
    });
  }
}

/** Query parameters whose values are safe and useful in messages; every other value is hidden. */
const SAFE_QUERY = new Set(['n', 'last', 'digest', 'mount', 'from', 'artifactType', 'service', 'scope']);

/** A URL fit for messages and logs: no user info, no token-like query values (signed storage URLs). */
export function redactUrl(u: URL | string): string {
  let url: URL;
  try {
    url = new URL(String(u));
  } catch {
    return '(invalid URL)';
  }
  url.username = '';
  url.password = '';
  for (const key of [...url.searchParams.keys()]) {
    if (!SAFE_QUERY.has(key)) url.searchParams.set(key, 'REDACTED');
  }
  return url.toString();
}

export const MAX_ERROR_BODY = 64 * 1024;

/** Drop a body we will not read; undici reports the abort as an error nobody needs. */
export function release(body: Readable): void {
  if (body.destroyed) return;
  body.on('error', () => {});
  body.destroy();
}

/** Read at most `max` bytes of a body, then drop the rest of the stream. */
export async function readCapped(
  body: Readable,
  max: number,
): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const parts: Uint8Array[] = [];
  let n = 0;
  let truncated = false;
  try {
    for await (const chunk of body) {
      const c = chunk as Uint8Array;
      if (n + c.byteLength > max) {
        parts.push(c.subarray(0, max - n));
        n = max;
        truncated = true;
        break;
      }
      parts.push(c);
      n += c.byteLength;
    }
  } finally {
    release(body);
  }
  return { bytes: Buffer.concat(parts, n), truncated };
}

export function parseRetryAfter(v: string | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

interface RegistryErrorBody {
  code: string;
  message: string;
}

/** The `{"errors":[{code,message,detail}]}` body of the distribution spec; tolerant of junk. */
export function parseErrorBody(bytes: Uint8Array): { errors: RegistryErrorBody[]; text: string } {
  const text = new TextDecoder().decode(bytes).trim();
  try {
    const v = JSON.parse(text) as { errors?: unknown; details?: unknown; message?: unknown };
    if (Array.isArray(v.errors)) {
      const errors = v.errors
        .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
        .map((e) => ({ code: String(e.code ?? ''), message: String(e.message ?? '') }));
      return { errors, text: '' };
    }
    if (typeof v.message === 'string') return { errors: [{ code: '', message: v.message }], text: '' };
  } catch {
    // not JSON: fall back to the text itself
  }
  return { errors: [], text: text.replace(/\s+/g, ' ').slice(0, 300) };
}

function codeFor(status: number, codes: readonly string[], what: Subject): ErrorCode {
  const has = (c: string): boolean => codes.includes(c);
  if (status === 401 || has('UNAUTHORIZED')) return 'UNAUTHORIZED';
  if (status === 403 || has('DENIED')) return 'DENIED';
  if (status === 429 || has('TOOMANYREQUESTS')) return 'TOO_MANY_REQUESTS';
  if (has('MANIFEST_UNKNOWN')) return 'MANIFEST_UNKNOWN';
  if (has('BLOB_UNKNOWN') || has('MANIFEST_BLOB_UNKNOWN')) return 'BLOB_UNKNOWN';
  if (has('MANIFEST_INVALID')) return 'MANIFEST_INVALID';
  if (status === 404 && what === 'manifest') return 'MANIFEST_UNKNOWN';
  if (status === 404 && what === 'blob') return 'BLOB_UNKNOWN';
  return 'REGISTRY_ERROR';
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  UNAUTHORIZED: 'check the credentials (--creds, DOCKER_AUTH_CONFIG or `docker login` in config.json)',
  DENIED: 'the credentials are valid but lack permission for this repository or action',
  TOO_MANY_REQUESTS: 'the registry is rate limiting: wait, or authenticate for a higher limit',
};

function retryableFor(status: number): Retryable {
  if (status === 429 || status === 502 || status === 503 || status === 504) return 'always';
  if (status === 500) return 'idempotent';
  return 'never';
}

/** Replace every occurrence of a secret (a password, a token) in text meant for people. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}

/**
 * Turn an unexpected response into a RegistryError, reading at most 64 KiB of its body.
 * `secrets` (what we sent as credentials) are scrubbed in case the registry echoes them.
 */
export async function errorFromResponse(
  res: { status: number; headers: Record<string, string | string[] | undefined>; body: Readable },
  method: string,
  url: URL,
  what: Subject,
  secrets: readonly string[] = [],
): Promise<RegistryError> {
  let bytes: Uint8Array = new Uint8Array();
  if (method === 'HEAD') release(res.body);
  else bytes = (await readCapped(res.body, MAX_ERROR_BODY)).bytes;
  const { errors, text } = parseErrorBody(bytes);
  const codes = errors.map((e) => e.code).filter((c) => c !== '');
  const code = codeFor(res.status, codes, what);
  const said = errors.length
    ? errors.map((e) => [e.code, e.message].filter(Boolean).join(' ')).join('; ')
    : text || '(no error body)';
  const safeUrl = redactUrl(url);
  const retryAfter = res.headers['retry-after'];
  const hint = HINTS[code];
  return new RegistryError(code, scrub(`${method} ${safeUrl} returned ${res.status}: ${said}`, secrets), {
    status: res.status,
    url: safeUrl,
    registryCodes: codes,
    retryable: retryableFor(res.status),
    retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter),
    ...(hint ? { hint } : {}),
  });
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
]);
const TRANSIENT = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const TLS_NOT_SPOKEN = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'EPROTO']);

/** Every `code` along an error's cause chain (undici nests the socket error). */
export function errorCodes(e: unknown): string[] {
  const out: string[] = [];
  for (let cur = e, depth = 0; cur && typeof cur === 'object' && depth < 5; depth++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string') out.push(c);
    cur = (cur as { cause?: unknown }).cause;
  }
  return out;
}

export function isCertificateError(e: unknown): boolean {
  return errorCodes(e).some(
    (c) => c.includes('CERT') || c.includes('SELF_SIGNED') || c === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  );
}

/** TLS handshake against a server that speaks plain http. */
export function isTlsNotSpoken(e: unknown): boolean {
  return errorCodes(e).some((c) => TLS_NOT_SPOKEN.has(c)) || /wrong version number/i.test(String(e));
}

/** Nothing listens there at all (refused, unknown host): another scheme will not help. */
export function isUnreachable(e: unknown): boolean {
  return errorCodes(e).some((c) => UNREACHABLE.has(c));
}

export function isAbort(e: unknown): boolean {
  const name = (e as { name?: unknown } | null)?.name;
  return name === 'AbortError' || errorCodes(e).some((c) => c === 'ABORT_ERR' || c === 'UND_ERR_ABORTED');
}

/** Map a failure below HTTP (socket, DNS, TLS) to a VouchError that names the host, never secrets. */
export function transportError(e: unknown, method: string, url: URL): VouchError {
  if (e instanceof VouchError) return e;
  const safeUrl = redactUrl(url);
  const codes = errorCodes(e);
  const detail = `${codes[0] ?? ''} ${(e as Error)?.message ?? String(e)}`.trim();
  if (isAbort(e)) return new VouchError('ABORTED', `${method} ${safeUrl}: aborted`, { cause: e });
  const base = { status: 0, url: safeUrl, cause: e };
  if (isUnreachable(e)) {
    return new RegistryError('REGISTRY_UNREACHABLE', `cannot reach ${url.host} (${detail})`, {
      ...base,
      hint: `is the registry running at ${url.host}? For a registry serving plain http, use --insecure`,
    });
  }
  if (isCertificateError(e)) {
    return new RegistryError('REGISTRY_UNREACHABLE', `TLS certificate of ${url.host} rejected (${detail})`, {
      ...base,
      hint: 'pass the CA with --ca-file, or --insecure to skip verification',
    });
  }
  if (isTlsNotSpoken(e)) {
    return new RegistryError('REGISTRY_UNREACHABLE', `TLS handshake with ${url.host} failed (${detail})`, {
      ...base,
      hint: 'the registry may serve plain http: use --insecure',
    });
  }
  const transient = codes.some((c) => TRANSIENT.has(c)) || /socket hang up|other side closed/i.test(detail);
  return new RegistryError('REGISTRY_ERROR', `${method} ${safeUrl} failed: ${detail}`, {
    ...base,
    retryable: transient ? 'always' : 'never',
  });
}
