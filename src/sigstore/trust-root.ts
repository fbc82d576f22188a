/**
 * Sigstore trusted roots (protobuf-specs TrustedRoot, JSON form): the Fulcio CAs, Rekor and CT
 * log keys and timestamp authorities a bundle is checked against.
 *
 * - publicGoodTrustedRoot(): the public-good root embedded in @sigstore/tuf's seeds.json. It is
 *   read from the installed package, never fetched, so verification works offline; it is as fresh
 *   as the installed @sigstore/tuf.
 * - loadTrustedRoot(path): a file (e.g. from `cosign trusted-root create`, a private instance).
 * - refreshTrustedRoot(cacheDir): the ONLY online path. It runs a TUF update against a mirror
 *   (default https://tuf-repo-cdn.sigstore.dev, bootstrapped from the seeds' root.json), checks the
 *   signed trusted_root.json target, and writes it to `<cacheDir>/trusted_root.json`; pass that
 *   file as --trusted-root afterwards. Nothing in vouch calls it implicitly.
 *
 * Every document is validated here with vouch's own rule on top of the library's: each log,
 * CA and TSA must state `validFor.start` (@sigstore/verify treats a missing start as "since
 * the beginning of time", which would let a key vouch for signatures made before it existed).
 */
import { createPublicKey } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { VouchError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import type { TrustedRootDocument } from './types.ts';

export const TRUSTED_ROOT_MEDIA_TYPES = [
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  'application/vnd.dev.sigstore.trustedroot.v0.2+json',
] as const;

/** Where the public-good TUF repository lives; refreshTrustedRoot's default mirror. */
export const PUBLIC_GOOD_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

/** trusted_root.json files are a few KiB; anything this large is not one. */
const MAX_TRUSTED_ROOT_BYTES = 16 * 1024 * 1024;

let publicGood: Promise<TrustedRootDocument> | undefined;

/** The Sigstore public-good trusted root that ships with @sigstore/tuf (works offline). */
export async function publicGoodTrustedRoot(): Promise<TrustedRootDocument> {
  publicGood ??= readSeedTrustedRoot().catch((e: unknown) => {
    publicGood = undefined; // let a later call retry (e.g. after a reinstall)
    throw e;
  });
  return publicGood;
}

async function readSeedTrustedRoot(): Promise<TrustedRootDocument> {
  const path = new URL(import.meta.resolve('@sigstore/tuf/seeds.json'));
  let seeds: unknown;
  try {
    seeds = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new VouchError(
      'TRUST_ROOT_INVALID',
      `cannot read @sigstore/tuf seeds.json: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  const target = (seeds as Record<string, { targets?: Record<string, unknown> }> | null)?.[
    PUBLIC_GOOD_TUF_MIRROR
  ]?.targets?.['trusted_root.json'];
  if (typeof target !== 'string') {
    throw new VouchError(
      'TRUST_ROOT_INVALID',
      `@sigstore/tuf seeds.json has no ${PUBLIC_GOOD_TUF_MIRROR} target trusted_root.json`,
    );
  }
  const doc = parseTrustedRoot(
    Buffer.from(target, 'base64'),
    'public-good trusted root (@sigstore/tuf seeds.json)',
  );
  return deepFreeze(doc);
}

/** A trusted_root.json file, validated (TRUST_ROOT_INVALID naming the bad field). */
export async function loadTrustedRoot(path: string): Promise<TrustedRootDocument> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new VouchError('FILE_NOT_FOUND', `trusted root ${path} does not exist`);
    throw new VouchError('IO_ERROR', `cannot read trusted root ${path}${code ? ` (${code})` : ''}`, {
      cause: e,
    });
  }
  return parseTrustedRoot(bytes, path);
}

/** Parse and validate a trusted root from JSON text, bytes or an already parsed value. */
export function parseTrustedRoot(
  input: Uint8Array | string | unknown,
  what = 'trusted root',
): TrustedRootDocument {
  let json: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
    if (size > MAX_TRUSTED_ROOT_BYTES) throw invalid(what, 'is over 16 MiB');
    try {
      json = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
    } catch (e) {
      throw invalid(what, `is not JSON: ${(e as Error).message}`);
    }
  }
  validateTrustedRoot(json, what);
  return json as TrustedRootDocument;
}

/**
 * Check every field vouch and @sigstore/verify rely on. Unknown fields are ignored (newer
 * protobuf-specs add some); missing or malformed known ones name their path.
 */
export function validateTrustedRoot(
  json: unknown,
  what = 'trusted root',
): asserts json is TrustedRootDocument {
  const root = object(json, what, '');
  const mediaType = root.mediaType;
  if (typeof mediaType !== 'string' || !(TRUSTED_ROOT_MEDIA_TYPES as readonly string[]).includes(mediaType)) {
    throw invalid(
      what,
      `mediaType is ${JSON.stringify(mediaType)}, expected one of ${TRUSTED_ROOT_MEDIA_TYPES.join(', ')}`,
    );
  }
  for (const field of ['tlogs', 'ctlogs'] as const) {
    for (const [i, log] of list(root[field], what, field).entries()) validateLog(log, what, `${field}[${i}]`);
  }
  for (const field of ['certificateAuthorities', 'timestampAuthorities'] as const) {
    for (const [i, ca] of list(root[field], what, field).entries())
      validateAuthority(ca, what, `${field}[${i}]`);
  }
  const counts = ['tlogs', 'ctlogs', 'certificateAuthorities', 'timestampAuthorities'].map(
    (f) => (root[f] as unknown[] | undefined)?.length ?? 0,
  );
  if (counts.every((n) => n === 0)) throw invalid(what, 'lists no logs, CAs or timestamp authorities');
  // The library's own parse must accept what passed here (it never throws on JSON shape, but
  // keep the two in step: a future protobuf-specs that does should surface as TRUST_ROOT_INVALID).
  try {
    TrustedRoot.fromJSON(root);
  } catch (e) {
    throw invalid(what, `is not a TrustedRoot: ${(e as Error).message}`, e);
  }
}

function validateLog(v: unknown, what: string, path: string): void {
  const log = object(v, what, path);
  if (typeof log.baseUrl !== 'string' || log.baseUrl === '')
    throw invalid(what, `${path}.baseUrl is missing`);
  const key = object(log.publicKey, what, `${path}.publicKey`);
  const raw = base64(key.rawBytes, what, `${path}.publicKey.rawBytes`);
  if (key.keyDetails !== undefined && key.keyDetails !== null && typeof key.keyDetails !== 'string') {
    throw invalid(what, `${path}.publicKey.keyDetails is not a string`);
  }
  if (!isPublicKey(raw)) throw invalid(what, `${path}.publicKey.rawBytes is not a DER public key`);
  validity(key.validFor, what, `${path}.publicKey.validFor`);
  base64(object(log.logId, what, `${path}.logId`).keyId, what, `${path}.logId.keyId`);
  if (log.checkpointKeyId !== undefined && log.checkpointKeyId !== null) {
    base64(
      object(log.checkpointKeyId, what, `${path}.checkpointKeyId`).keyId,
      what,
      `${path}.checkpointKeyId.keyId`,
    );
  }
}

function validateAuthority(v: unknown, what: string, path: string): void {
  const ca = object(v, what, path);
  const certs = list(
    object(ca.certChain, what, `${path}.certChain`).certificates,
    what,
    `${path}.certChain.certificates`,
  );
  if (certs.length === 0) throw invalid(what, `${path}.certChain.certificates is empty`);
  certs.forEach((c, i) => {
    const p = `${path}.certChain.certificates[${i}].rawBytes`;
    const der = base64(object(c, what, p.replace(/\.rawBytes$/, '')).rawBytes, what, p);
    try {
      X509Certificate.parse(der);
    } catch (e) {
      throw invalid(what, `${p} is not a DER X.509 certificate`, e);
    }
  });
  validity(ca.validFor, what, `${path}.validFor`);
}

/** SPKI, or PKCS#1 for the RSA keyDetails @sigstore/verify reads that way. */
function isPublicKey(der: Buffer): boolean {
  for (const type of ['spki', 'pkcs1'] as const) {
    try {
      createPublicKey({ key: der, format: 'der', type });
      return true;
    } catch {
      // try the next encoding
    }
  }
  return false;
}

/** validFor with a mandatory start (vouch's rule) and an optional end not before it. */
function validity(v: unknown, what: string, path: string): void {
  if (v === undefined || v === null) {
    throw invalid(what, `${path} is missing: a trust root must say since when each key is trusted`);
  }
  const range = object(v, what, path);
  if (range.start === undefined || range.start === null) {
    throw invalid(what, `${path}.start is missing: a trust root must say since when each key is trusted`);
  }
  const start = timestamp(range.start, what, `${path}.start`);
  if (range.end !== undefined && range.end !== null) {
    const end = timestamp(range.end, what, `${path}.end`);
    if (end < start)
      throw invalid(what, `${path}.end (${String(range.end)}) is before its start (${String(range.start)})`);
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function timestamp(v: unknown, what: string, path: string): number {
  const t = typeof v === 'string' && RFC3339.test(v) ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(t)) throw invalid(what, `${path} is ${JSON.stringify(v)}, expected an RFC 3339 time`);
  return t;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;

function base64(v: unknown, what: string, path: string): Buffer<ArrayBuffer> {
  if (typeof v !== 'string' || v === '') throw invalid(what, `${path} is missing`);
  const s = v.replace(/\r?\n/g, ''); // Go's decoder ignores line breaks; so does this one
  if (!BASE64.test(s)) throw invalid(what, `${path} is not base64`);
  return Buffer.from(s, 'base64');
}

function object(v: unknown, what: string, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw invalid(
      what,
      path === '' ? 'is not a JSON object' : `${path} is ${v === undefined ? 'missing' : 'not an object'}`,
    );
  }
  return v as Record<string, unknown>;
}

function list(v: unknown, what: string, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(what, `${path} is not a list`);
  return v;
}

function invalid(what: string, message: string, cause?: unknown): VouchError {
  return new VouchError('TRUST_ROOT_INVALID', `${what}: ${message}`, {
    hint: 'use a trusted_root.json from a Sigstore TUF repository or `cosign trusted-root create`',
    ...(cause === undefined ? {} : { cause }),
  });
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}

export interface RefreshOptions {
  /** TUF mirror (default the public-good one). */
  mirrorUrl?: string;
  /** The mirror's initial root.json; needed for any mirror but the public-good one. */
  rootPath?: string;
  /** Per-request timeout in milliseconds (default 5000). */
  timeoutMs?: number;
}

/**
 * Online: update the TUF metadata cached in `cacheDir` from the mirror, fetch the signed
 * trusted_root.json target, validate it and write it to `<cacheDir>/trusted_root.json`
 * (atomically). Returns the file and the document. Never called implicitly by vouch.
 */
export async function refreshTrustedRoot(
  cacheDir: string,
  o: RefreshOptions = {},
): Promise<{ path: string; trustedRoot: TrustedRootDocument }> {
  const mirrorURL = o.mirrorUrl ?? PUBLIC_GOOD_TUF_MIRROR;
  await mkdir(cacheDir, { recursive: true });
  const { initTUF } = await import('@sigstore/tuf');
  let text: string;
  try {
    const tuf = await initTUF({
      cachePath: join(cacheDir, 'tuf'),
      mirrorURL,
      ...(o.rootPath ? { rootPath: o.rootPath } : {}),
      timeout: o.timeoutMs ?? 5000,
      retry: false,
    });
    text = await tuf.getTarget('trusted_root.json');
  } catch (e) {
    throw new VouchError(
      'TRUST_ROOT_INVALID',
      `cannot refresh the trusted root from TUF mirror ${mirrorURL}: ${(e as Error).message}`,
      {
        cause: e,
        hint: 'check the network and the mirror URL; offline, keep using the cached trusted_root.json',
      },
    );
  }
  // The target's bytes, as signed in the TUF repository, are what gets written.
  const trustedRoot = parseTrustedRoot(text, `trusted_root.json from ${mirrorURL}`);
  const path = join(cacheDir, 'trusted_root.json');
  await writeFileAtomic(path, text);
  return { path, trustedRoot };
}
