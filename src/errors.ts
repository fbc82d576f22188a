/**
 * One error type for the whole library. Callers branch on `code` (stable, documented),
 * never on `instanceof` or on message text.
 */
export const ERROR_CODES = [
  // references and arguments
  'REFERENCE_INVALID',
  'TRANSPORT_UNKNOWN',
  'PLATFORM_INVALID',
  'PLATFORM_NOT_FOUND',
  'USAGE',
  // digests and content
  'DIGEST_INVALID',
  'DIGEST_MISMATCH',
  'SIZE_MISMATCH',
  'BLOB_TOO_LARGE',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'MEDIA_TYPE_UNSUPPORTED',
  'CONFIG_INVALID',
  'BLOB_UNKNOWN',
  // local sources
  'LAYOUT_INVALID',
  'ARCHIVE_INVALID',
  'IMAGE_NOT_FOUND',
  'IMAGE_AMBIGUOUS',
  'LAYER_INVALID',
  'UNSAFE_PATH',
  'DECOMPRESSION_BOMB',
  'IO_ERROR',
  // registry
  'REGISTRY_ERROR',
  'REGISTRY_UNREACHABLE',
  'UNAUTHORIZED',
  'DENIED',
  'TOO_MANY_REQUESTS',
  'CREDENTIALS_ERROR',
  'UPLOAD_FAILED',
  // generic
  'ABORTED',
  'NOT_IMPLEMENTED',
  'INTERNAL',
  // image filesystem (src/fs)
  'FILE_NOT_FOUND',
  // SBOM (src/sbom)
  'PURL_INVALID',
  // SBOM documents (src/sbom/format): a CycloneDX / SPDX document vouch cannot read
  'SBOM_INVALID',
  // vulnerability matching (src/vuln/version): a version string its scheme cannot parse
  'VERSION_UNPARSEABLE',
  // CVE gate (src/gate): an ignore file or a VEX document vouch refuses, naming file, line or field
  'IGNOREFILE_INVALID',
  'VEX_INVALID',
  // advisory database (src/vuln/db): missing, unreadable, wrong schema, or a corrupt input (zip) to import
  'DB_NOT_FOUND',
  'DB_INVALID',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface VouchErrorOptions {
  /** The next step a user can take. */
  hint?: string;
  cause?: unknown;
}

export class VouchError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, options: VouchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VouchError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** True for any VouchError, even one from a second copy of this module. */
export function isVouchError(e: unknown, code?: ErrorCode): e is VouchError {
  if (typeof e !== 'object' || e === null) return false;
  const c = (e as { code?: unknown }).code;
  const ok = (e as { name?: unknown }).name === 'VouchError' && typeof c === 'string';
  return ok && (code === undefined || c === code);
}
