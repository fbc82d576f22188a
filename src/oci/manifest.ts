import { parseDigest } from '../digest/digest.ts';
import { VouchError } from '../errors.ts';
import { isIndexMediaType, isManifestMediaType, MediaType } from './media-types.ts';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, Platform } from './types.ts';

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; index: ImageIndex }
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest };

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_JSON_BYTES = MAX_MANIFEST_BYTES;

function parseJson(bytes: Uint8Array, what: string): unknown {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new VouchError('MANIFEST_INVALID', `${what}: ${bytes.byteLength} bytes is over the 4 MiB limit`);
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new VouchError('MANIFEST_INVALID', `${what}: not valid UTF-8 JSON (${(e as Error).message})`, {
      cause: e,
    });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Check a descriptor's shape; collect every problem under `at`. */
export function checkDescriptor(v: unknown, at: string, problems: string[]): Descriptor | undefined {
  if (!isObject(v)) {
    problems.push(`${at}: not an object`);
    return undefined;
  }
  const start = problems.length;
  if (typeof v.mediaType !== 'string' || v.mediaType === '') problems.push(`${at}.mediaType: missing`);
  if (typeof v.digest !== 'string') problems.push(`${at}.digest: missing`);
  else {
    try {
      parseDigest(v.digest);
    } catch (e) {
      problems.push(`${at}.digest: ${(e as Error).message}`);
    }
  }
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) {
    problems.push(`${at}.size: must be a non-negative integer`);
  }
  if (v.platform !== undefined) {
    const p = v.platform;
    if (!isObject(p) || typeof p.os !== 'string' || typeof p.architecture !== 'string') {
      problems.push(`${at}.platform: needs os and architecture strings`);
    }
  }
  return problems.length === start ? (v as unknown as Descriptor) : undefined;
}

/**
 * Parse manifest or index bytes. `mediaTypeHint` is what the transport said (Content-Type,
 * a descriptor); when both exist they must agree.
 */
export function parseManifest(bytes: Uint8Array, mediaTypeHint?: string, what = 'manifest'): ParsedManifest {
  const v = parseJson(bytes, what);
  if (!isObject(v)) throw new VouchError('MANIFEST_INVALID', `${what}: not a JSON object`);
  const problems: string[] = [];
  if (v.schemaVersion !== 2)
    problems.push(`schemaVersion: expected 2, found ${JSON.stringify(v.schemaVersion)}`);
  const declared = typeof v.mediaType === 'string' ? v.mediaType : undefined;
  if (declared && mediaTypeHint && declared !== mediaTypeHint && isKnown(mediaTypeHint)) {
    problems.push(`mediaType: the content says ${declared} but it was served as ${mediaTypeHint}`);
  }
  let mt = declared ?? mediaTypeHint;
  if (!mt || !isKnown(mt)) {
    // OCI allows an absent mediaType: decide by shape.
    if (Array.isArray(v.manifests)) mt = MediaType.OciIndex;
    else if (isObject(v.config)) mt = MediaType.OciManifest;
    else throw new VouchError('MEDIA_TYPE_UNSUPPORTED', `${what}: unsupported media type ${mt ?? '(none)'}`);
  }
  if (isIndexMediaType(mt)) {
    if (!Array.isArray(v.manifests)) problems.push('manifests: must be an array');
    else
      v.manifests.forEach((d, i) => {
        checkDescriptor(d, `manifests[${i}]`, problems);
      });
    if (v.subject !== undefined) checkDescriptor(v.subject, 'subject', problems);
    fail(problems, what);
    return { kind: 'index', mediaType: mt, index: v as unknown as ImageIndex };
  }
  checkDescriptor(v.config, 'config', problems);
  if (!Array.isArray(v.layers)) problems.push('layers: must be an array');
  else
    v.layers.forEach((d, i) => {
      checkDescriptor(d, `layers[${i}]`, problems);
    });
  if (v.subject !== undefined) checkDescriptor(v.subject, 'subject', problems);
  fail(problems, what);
  return { kind: 'manifest', mediaType: mt, manifest: v as unknown as ImageManifest };
}

function isKnown(mt: string): boolean {
  return isIndexMediaType(mt) || isManifestMediaType(mt);
}

function fail(problems: string[], what: string): void {
  if (problems.length > 0) {
    throw new VouchError('MANIFEST_INVALID', `${what} is invalid: ${problems.join('; ')}`);
  }
}

/** Parse an image config, checking what later stages rely on. Unknown keys are kept. */
export function parseConfig(bytes: Uint8Array, what = 'image config'): ImageConfig {
  const v = parseJson(bytes, what);
  const problems: string[] = [];
  if (!isObject(v)) throw new VouchError('CONFIG_INVALID', `${what}: not a JSON object`);
  if (typeof v.architecture !== 'string') problems.push('architecture: missing');
  if (typeof v.os !== 'string') problems.push('os: missing');
  const rootfs = v.rootfs;
  if (!isObject(rootfs) || !Array.isArray(rootfs.diff_ids)) problems.push('rootfs.diff_ids: missing');
  else {
    rootfs.diff_ids.forEach((d, i) => {
      try {
        parseDigest(String(d));
      } catch (e) {
        problems.push(`rootfs.diff_ids[${i}]: ${(e as Error).message}`);
      }
    });
  }
  if (v.config !== undefined && v.config !== null && !isObject(v.config))
    problems.push('config: not an object');
  if (problems.length > 0) {
    throw new VouchError('CONFIG_INVALID', `${what} is invalid: ${problems.join('; ')}`);
  }
  return v as unknown as ImageConfig;
}

export function platformOf(c: Pick<ImageConfig, 'os' | 'architecture' | 'variant' | 'os.version'>): Platform {
  const p: Platform = { os: c.os, architecture: c.architecture };
  if (c.variant) p.variant = c.variant;
  if (c['os.version']) p['os.version'] = c['os.version'];
  return p;
}

/** Canonical JSON bytes for manifests vouch creates (stable key order as written, no spaces). */
export function encodeJson(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}
