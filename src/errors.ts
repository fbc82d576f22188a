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
  // keys (src/sign/keys): unreadable, corrupt or unsupported key files, wrong passphrase
  'KEY_INVALID',
  'KEY_UNSUPPORTED',
  'PASSPHRASE_WRONG',
  'PASSPHRASE_MISSING',
  // DSSE, in-toto statements, provenance documents (src/attest)
  'ENVELOPE_INVALID',
  'STATEMENT_INVALID',
  'PROVENANCE_INVALID',
  // Sigstore bundles and trust roots (src/sigstore)
  'BUNDLE_INVALID',
  'TRUST_ROOT_INVALID',
  // verification failures, one code per reason (src/sigstore, src/verify)
  /** The signature does not verify over the payload (tampered payload or signature). */
  'SIGNATURE_INVALID',
  /** The signature verifies, but not with the key the caller trusts. */
  'KEY_MISMATCH',
  /** The signed payload names another artifact or image digest than the one checked. */
  'SUBJECT_MISMATCH',
  'IDENTITY_MISMATCH',
  'ISSUER_MISMATCH',
  /** A certificate extension (GitHub workflow claims, ...) differs from the one required. */
  'CERTIFICATE_CLAIM_MISMATCH',
  /** Certificate chain not trusted, or not valid at signing time. */
  'CERTIFICATE_INVALID',
  /** Transparency log proof missing or invalid (inclusion proof, SET, checkpoint). */
  'TLOG_INVALID',
  /** Signed timestamp missing, untrusted or inconsistent. */
  'TIMESTAMP_INVALID',
  /** No signature or attestation found where one was looked for. */
  'SIGNATURE_NOT_FOUND',
  /** Provenance names another source, ref, builder or subject than required. */
  'PROVENANCE_MISMATCH',
  /** An attestation policy (CEL) rejected the statement, or could not be compiled. */
  'POLICY_FAILED',
  'POLICY_INVALID',
  // keyless signing (src/sigstore): OIDC token, Fulcio, Rekor, TSA
  'IDENTITY_TOKEN_INVALID',
  'SIGNING_FAILED',
  // the pipeline (src/pipeline): vouch.yaml problems, naming field and line:column
  'PIPELINE_CONFIG_INVALID',
  // the artifact store (src/store): a directory or S3 operation failed (names bucket/key/status)
  'STORE_ERROR',
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
