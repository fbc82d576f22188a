/**
 * @sigstore/verify failures → vouch error codes. The library throws VerificationError with its
 * own codes, and sometimes a bare TypeError or an ASN.1 error on malformed input; callers of
 * vouch must only ever see a VouchError with a verification code, never a library type.
 */
import { VerificationError } from '@sigstore/verify';
import { type ErrorCode, isVouchError, VouchError } from '../errors.ts';

const BY_LIBRARY_CODE: Record<string, { code: ErrorCode; what: string }> = {
  CERTIFICATE_ERROR: { code: 'CERTIFICATE_INVALID', what: 'signing certificate' },
  PUBLIC_KEY_ERROR: { code: 'KEY_MISMATCH', what: 'public key' },
  SIGNATURE_ERROR: { code: 'SIGNATURE_INVALID', what: 'signature' },
  TIMESTAMP_ERROR: { code: 'TIMESTAMP_INVALID', what: 'timestamp' },
  TLOG_ERROR: { code: 'TLOG_INVALID', what: 'transparency log' },
  TLOG_BODY_ERROR: { code: 'TLOG_INVALID', what: 'transparency log entry (does not match the bundle)' },
  TLOG_INCLUSION_PROOF_ERROR: { code: 'TLOG_INVALID', what: 'transparency log inclusion proof' },
  TLOG_INCLUSION_PROMISE_ERROR: { code: 'TLOG_INVALID', what: 'transparency log inclusion promise (SET)' },
  TLOG_MISSING_INCLUSION_ERROR: { code: 'TLOG_INVALID', what: 'transparency log inclusion' },
  NOT_IMPLEMENTED_ERROR: { code: 'BUNDLE_INVALID', what: 'bundle feature' },
};

/**
 * Where an unexpected (non-VerificationError) library failure happened, from the module that
 * threw it: a crash inside the tlog checks is a tlog problem, and so on. Anything else is a
 * bundle the library could not process.
 */
const BY_MODULE: [RegExp, ErrorCode, string][] = [
  [/[\\/]verify[\\/]dist[\\/]tlog[\\/]/, 'TLOG_INVALID', 'transparency log entry'],
  [/[\\/]verify[\\/]dist[\\/]timestamp[\\/]/, 'TIMESTAMP_INVALID', 'timestamp'],
  [/[\\/]verify[\\/]dist[\\/]key[\\/]/, 'CERTIFICATE_INVALID', 'signing certificate'],
  [/[\\/]core[\\/]dist[\\/]rfc3161[\\/]/, 'TIMESTAMP_INVALID', 'timestamp'],
];

/** Turn anything @sigstore/verify threw into a VouchError; VouchErrors pass through. */
export function fromLibraryError(e: unknown, context: string): VouchError {
  if (isVouchError(e)) return e;
  if (e instanceof VerificationError) {
    const m = BY_LIBRARY_CODE[e.code] ?? { code: 'BUNDLE_INVALID' as const, what: 'bundle' };
    return new VouchError(m.code, `${context}: ${m.what}: ${e.message}${causeText(e.cause)}`, { cause: e });
  }
  const stack = e instanceof Error ? (e.stack ?? '') : '';
  const firstFrame = stack.split('\n').find((l) => /^\s+at /.test(l)) ?? '';
  const hit = BY_MODULE.find(([re]) => re.test(firstFrame));
  const [, code, what] = hit ?? [undefined, 'BUNDLE_INVALID' as const, 'bundle could not be processed'];
  return new VouchError(code, `${context}: ${what}: ${e instanceof Error ? e.message : String(e)}`, {
    cause: e,
  });
}

function causeText(cause: unknown): string {
  return cause instanceof Error && cause.message ? ` (${cause.message})` : '';
}
