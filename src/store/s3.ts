/**
 * The artifact store in S3-compatible storage (AWS S3, MinIO, Ceph RGW, s3rver, …).
 *
 * - put: one PutObject with ContentType, `x-amz-checksum-sha256` (the server recomputes it and
 *   refuses the upload when the bytes differ, on servers that implement checksums) and
 *   `x-amz-meta-sha256` (hex, kept with the object so any later read can be checked). A single
 *   PUT is atomic in S3: readers see the old object or the new one.
 * - get: GetObject streamed, checked against that SHA-256 at the end (DIGEST_MISMATCH).
 * - head: HeadObject with checksum mode, so the server-verified checksum is used when present.
 * - list: ListObjectsV2, following continuation tokens.
 *
 * Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the
 * SDK's default chain (profiles, web identity, instance roles). They are never put in messages:
 * errors carry a sanitised cause, not the SDK's error object.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { type ErrorCode, isVouchError, VouchError } from '../errors.ts';
import { isValidKey, normalisePrefix, validateKey, validatePrefix } from './key.ts';
import {
  type ArtifactStore,
  bodyBytes,
  checkAborted,
  type ListEntry,
  type ObjectInfo,
  type ObjectReader,
  type PutBody,
  type PutOptions,
  type PutResult,
  type ReadOptions,
  sha256Hex,
  verifiedBody,
} from './store.ts';

export interface S3StoreConfig {
  bucket: string;
  /** Key prefix inside the bucket (`releases/app`); '' for the bucket root. */
  prefix?: string;
  /** S3-compatible endpoint, e.g. `http://127.0.0.1:9000`; AWS S3 when absent. */
  endpoint?: string;
  /** Default AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1. */
  region?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible servers need. */
  forcePathStyle?: boolean;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3StoreOptions {
  /** Where AWS_* variables are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Explicit credentials instead of the environment. */
  credentials?: S3Credentials;
  /** ListObjectsV2 page size (MaxKeys), at most 1000; smaller only to test pagination. */
  pageSize?: number;
  /** Attempts per request, retries included (default 3). */
  maxAttempts?: number;
  /** Milliseconds to connect / to wait for a response (default 10 s / 120 s). */
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** The largest object vouch puts in one request (it holds the bytes in memory to checksum them). */
export const MAX_PUT_BYTES = 1024 * 1024 * 1024;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const HEX64 = /^[0-9a-f]{64}$/;

export class S3Store implements ArtifactStore {
  readonly bucket: string;
  /** '' or `some/prefix/`. */
  readonly prefix: string;
  readonly description: string;
  readonly #client: S3Client;
  readonly #pageSize: number;
  readonly #endpointShown: string;
  /** Secret values to scrub from any message, should a server echo one. */
  readonly #secrets: string[];

  constructor(config: S3StoreConfig, options: S3StoreOptions = {}) {
    const env = options.env ?? process.env;
    if (!BUCKET_NAME.test(config.bucket) || config.bucket.includes('..')) {
      throw new VouchError(
        'STORE_ERROR',
        `S3 bucket name "${config.bucket}" is not valid: 3-63 characters of a-z, 0-9, "." and "-", ` +
          'starting and ending with a letter or digit',
      );
    }
    this.bucket = config.bucket;
    this.prefix = normalisePrefix(config.prefix ?? '');
    const endpoint = config.endpoint === undefined ? undefined : checkEndpoint(config.endpoint);
    this.#endpointShown = endpoint?.shown ?? 'AWS S3';
    this.description = `s3://${this.bucket}/${this.prefix}${endpoint ? ` at ${endpoint.shown}` : ''}`;
    const credentials = options.credentials ?? credentialsFromEnv(env);
    this.#secrets = [credentials?.secretAccessKey, credentials?.sessionToken].filter(
      (s): s is string => typeof s === 'string' && s.length > 0,
    );
    this.#pageSize = Math.max(1, Math.min(1000, options.pageSize ?? 1000));
    this.#client = new S3Client({
      region: config.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
      ...(endpoint ? { endpoint: endpoint.url } : {}),
      forcePathStyle: config.forcePathStyle ?? endpoint !== undefined,
      ...(credentials ? { credentials } : {}),
      maxAttempts: options.maxAttempts ?? 3,
      // vouch sends its own SHA-256 checksum; the SDK's default (CRC32 in an aws-chunked trailer)
      // is refused by many S3-compatible servers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: options.connectTimeoutMs ?? 10_000,
        requestTimeout: options.requestTimeoutMs ?? 120_000,
      },
    });
  }

  async put(key: string, body: PutBody, options: PutOptions): Promise<PutResult> {
    const where = this.#where(validateKey(key));
    checkAborted(options.signal, `writing ${where}`);
    const bytes = await bodyBytes(body, where, MAX_PUT_BYTES);
    checkAborted(options.signal, `writing ${where}`);
    const hex = sha256Hex(bytes);
    const b64 = Buffer.from(hex, 'hex').toString('base64');
    const out = await this.#send('PutObject', where, options.signal, (abortSignal) =>
      this.#client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: bytes,
          ContentLength: bytes.byteLength,
          ContentType: options.contentType,
          ChecksumSHA256: b64,
          Metadata: { sha256: hex },
        }),
        { abortSignal },
      ),
    );
    // A server that implements checksums echoes the one it computed.
    if (out.ChecksumSHA256 !== undefined && out.ChecksumSHA256 !== b64) {
      throw new VouchError(
        'DIGEST_MISMATCH',
        `${where}: the server stored content with checksum ${out.ChecksumSHA256}, vouch sent ${b64}`,
      );
    }
    return { key, size: bytes.byteLength, sha256: hex };
  }

  async get(key: string, options: ReadOptions = {}): Promise<ObjectReader | undefined> {
    const where = this.#where(validateKey(key));
    const out = await this.#sendOrMissing(
      'GetObject',
      where,
      options.signal,
      (abortSignal) =>
        this.#client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }), {
          abortSignal,
        }),
      (name) => name === 'NoSuchKey',
    );
    if (out === undefined) return undefined;
    const size = out.ContentLength;
    const raw = out.Body as AsyncIterable<Uint8Array> | undefined;
    if (size === undefined || raw === undefined) {
      throw new VouchError(
        'STORE_ERROR',
        `GetObject ${where}: the response has no ${raw ? 'length' : 'body'}`,
      );
    }
    const sha256 = checksumHex(out.ChecksumSHA256, out.Metadata?.sha256, where);
    const body = this.#mapStreamErrors(raw, where);
    return {
      key,
      size,
      ...(sha256 ? { sha256 } : {}),
      body: verifiedBody(body, where, size, sha256, options.signal),
    };
  }

  async head(key: string, options: ReadOptions = {}): Promise<ObjectInfo | undefined> {
    const where = this.#where(validateKey(key));
    const out = await this.#sendOrMissing(
      'HeadObject',
      where,
      options.signal,
      (abortSignal) =>
        this.#client.send(
          new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, ChecksumMode: 'ENABLED' }),
          { abortSignal },
        ),
      // HEAD has no body, so a missing bucket is a bare 404 too; the next put names the bucket.
      (_name, status) => status === 404,
    );
    if (out === undefined) return undefined;
    const sha256 = checksumHex(out.ChecksumSHA256, out.Metadata?.sha256, where);
    const md5 = contentMd5(out.ETag, out.ServerSideEncryption, out.SSECustomerAlgorithm);
    return { key, size: out.ContentLength ?? 0, ...(sha256 ? { sha256 } : {}), ...(md5 ? { md5 } : {}) };
  }

  async *list(prefix: string, options: ReadOptions = {}): AsyncGenerator<ListEntry> {
    validatePrefix(prefix);
    const where = this.#where(prefix);
    let token: string | undefined;
    do {
      const page = await this.#send('ListObjectsV2', where, options.signal, (abortSignal) =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            MaxKeys: this.#pageSize,
            ...(token ? { ContinuationToken: token } : {}),
          }),
          { abortSignal },
        ),
      );
      for (const o of page.Contents ?? []) {
        const key = (o.Key ?? '').slice(this.prefix.length);
        // Keys vouch could not read back (folder markers, other tools' odd names) are left out.
        if (o.Key?.startsWith(this.prefix) && isValidKey(key)) yield { key, size: o.Size ?? 0 };
      }
      if (page.IsTruncated && !page.NextContinuationToken) {
        throw new VouchError(
          'STORE_ERROR',
          `ListObjectsV2 ${where}: truncated listing without a continuation token`,
        );
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(key: string, options: ReadOptions = {}): Promise<void> {
    const where = this.#where(validateKey(key));
    await this.#sendOrMissing(
      'DeleteObject',
      where,
      options.signal,
      (abortSignal) =>
        this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }), {
          abortSignal,
        }),
      (name) => name === 'NoSuchKey',
    );
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  #where(key: string): string {
    return `s3://${this.bucket}/${this.prefix}${key}`;
  }

  /** Run one SDK call, turning any failure into a VouchError that names the operation and object. */
  async #send<T>(
    op: string,
    where: string,
    signal: AbortSignal | undefined,
    call: (abortSignal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    return (await this.#sendOrMissing(op, where, signal, call, () => false)) as T;
  }

  /** Like #send, but failures `missing` accepts (by error name and HTTP status) mean "no such object". */
  async #sendOrMissing<T>(
    op: string,
    where: string,
    signal: AbortSignal | undefined,
    call: (abortSignal: AbortSignal | undefined) => Promise<T>,
    missing: (name: string, status: number) => boolean,
  ): Promise<T | undefined> {
    checkAborted(signal, `${op} ${where}`);
    try {
      return await call(signal);
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
      const status = err?.$metadata?.httpStatusCode;
      if (missing && status !== undefined && !signal?.aborted && missing(err?.name ?? '', status))
        return undefined;
      throw this.#error(op, where, e, signal);
    }
  }

  async *#mapStreamErrors(src: AsyncIterable<Uint8Array>, where: string): AsyncGenerator<Uint8Array> {
    try {
      yield* src;
    } catch (e) {
      throw this.#error('GetObject', where, e, undefined);
    }
  }

  #error(op: string, where: string, e: unknown, signal: AbortSignal | undefined): VouchError {
    if (isVouchError(e)) return e;
    const err = (e ?? {}) as {
      name?: string;
      message?: string;
      code?: string;
      $metadata?: { httpStatusCode?: number };
    };
    if (signal?.aborted || err.name === 'AbortError') {
      return new VouchError('ABORTED', `${op} ${where} was aborted`);
    }
    const status = err.$metadata?.httpStatusCode;
    const name = err.name ?? 'Error';
    const detail = this.#scrub(err.message && err.message !== 'UnknownError' ? err.message : '');
    let code: ErrorCode = 'STORE_ERROR';
    let hint: string | undefined;
    let message: string;
    if (status !== undefined) {
      message = `${op} ${where} failed: ${name} (HTTP ${status})${detail ? `: ${detail}` : ''}`;
      hint = hintFor(name, status, this.bucket);
    } else if (name === 'CredentialsProviderError' || /credential/i.test(name)) {
      code = 'CREDENTIALS_ERROR';
      message = `${op} ${where}: no S3 credentials${detail ? `: ${detail}` : ''}`;
      hint =
        'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)';
    } else {
      const sys = err.code ? ` (${err.code})` : '';
      message = `${op} ${where} failed: ${detail || name}${sys && !detail.includes(err.code ?? '') ? sys : ''}`;
      hint = `check that ${this.#endpointShown} is reachable from here`;
    }
    // The cause keeps name and text only: the SDK error object may reference the request.
    const cause = new Error(`${name}: ${detail}`);
    return new VouchError(code, message, { cause, ...(hint ? { hint } : {}) });
  }

  #scrub(s: string): string {
    let out = s;
    for (const secret of this.#secrets) out = out.split(secret).join('***');
    return out;
  }
}

function hintFor(name: string, status: number, bucket: string): string | undefined {
  if (name === 'NoSuchBucket') return `create the bucket "${bucket}" or correct the store's bucket name`;
  if (status === 401 || status === 403) {
    return 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the permissions of that key on the bucket';
  }
  if (name === 'PermanentRedirect' || status === 301) return 'set the region of the bucket (AWS_REGION)';
  return undefined;
}

/**
 * The SHA-256 the store vouches for: the server's checksum (base64) when it sent one, else the
 * metadata vouch wrote. Both present and different means the object was tampered with.
 */
function checksumHex(
  serverB64: string | undefined,
  meta: string | undefined,
  where: string,
): string | undefined {
  const fromServer =
    serverB64 !== undefined && /^[A-Za-z0-9+/]{43}=$/.test(serverB64)
      ? Buffer.from(serverB64, 'base64').toString('hex')
      : undefined;
  const fromMeta = meta !== undefined && HEX64.test(meta) ? meta : undefined;
  if (fromServer && fromMeta && fromServer !== fromMeta) {
    throw new VouchError(
      'DIGEST_MISMATCH',
      `${where}: the server's checksum (sha256 ${fromServer}) differs from the recorded sha256 ${fromMeta}`,
    );
  }
  return fromServer ?? fromMeta;
}

/**
 * The MD5 in an ETag, where S3 documents it as the MD5 of the content: one-part uploads stored
 * unencrypted or with SSE-S3. KMS and customer-key ETags are opaque; multipart ones are `…-N`.
 */
function contentMd5(
  etag: string | undefined,
  sse: string | undefined,
  ssec: string | undefined,
): string | undefined {
  const m = /^"?([0-9a-fA-F]{32})"?$/.exec(etag ?? '');
  if (!m?.[1] || ssec !== undefined || (sse !== undefined && sse !== 'AES256')) return undefined;
  return m[1].toLowerCase();
}

function credentialsFromEnv(env: NodeJS.ProcessEnv): S3Credentials | undefined {
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (!id && !secret) return undefined; // the SDK's default chain (profiles, roles) takes over
  if (!id || !secret) {
    throw new VouchError(
      'CREDENTIALS_ERROR',
      `${id ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'} is not set, but ${id ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'} is`,
      { hint: 'set both, or neither to use the AWS profile or role of this machine' },
    );
  }
  return {
    accessKeyId: id,
    secretAccessKey: secret,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

/** Check an endpoint URL; `shown` has any user:password replaced, for messages. */
function checkEndpoint(s: string): { url: string; shown: string } {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new VouchError(
      'STORE_ERROR',
      `S3 endpoint "${redact(s)}" is not a URL (expected http(s)://host[:port])`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new VouchError('STORE_ERROR', `S3 endpoint ${redact(s)} must be http:// or https://`);
  }
  if (u.username || u.password) {
    throw new VouchError('STORE_ERROR', `S3 endpoint ${redact(s)} must not carry credentials`, {
      hint: 'use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
    });
  }
  if (u.search || u.hash)
    throw new VouchError('STORE_ERROR', `S3 endpoint ${s} must not have a query or fragment`);
  const url = u.toString().replace(/\/$/, '');
  return { url, shown: url };
}

function redact(s: string): string {
  return s.replace(/\/\/[^/@]*@/, '//***@');
}
