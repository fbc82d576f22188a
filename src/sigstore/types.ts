/**
 * What Sigstore bundle verification takes and returns. Trust material (trusted root, keys)
 * and the identity policy are separate inputs, as in @sigstore/verify.
 */
import type { SerializedBundle } from '@sigstore/bundle';
import type { VerificationKey } from '../sign/keys/types.ts';

export type { SerializedBundle };

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/**
 * Who must have signed (keyless). Strings match the whole value exactly; regexps are anchored
 * (`^(?:re)$`) so `user@example.com` never admits `evil-user@example.com`.
 */
export interface IdentityPolicy {
  identity?: string;
  identityRegexp?: string;
  issuer?: string;
  issuerRegexp?: string;
  /** GitHub workflow claims from the Fulcio certificate extensions (OIDs 1.3.6.1.4.1.57264.1.x). */
  github?: {
    /** `owner/repo` (1.5) */
    repository?: string;
    /** `refs/heads/main`, `refs/tags/v1` (1.6) */
    ref?: string;
    /** workflow name (1.4) */
    workflowName?: string;
    /** commit sha (1.3) */
    sha?: string;
    /** event (1.2), e.g. push */
    trigger?: string;
  };
}

/** The claims read from a Fulcio certificate (names as in sigstore-go's summarize). */
export interface CertificateClaims {
  /** The SAN that identifies the signer: first URI, else email, else OtherName. */
  subjectAlternativeName: string;
  issuer?: string;
  githubWorkflowTrigger?: string;
  githubWorkflowSha?: string;
  githubWorkflowName?: string;
  githubWorkflowRepository?: string;
  githubWorkflowRef?: string;
  buildSignerURI?: string;
  buildSignerDigest?: string;
  runnerEnvironment?: string;
  sourceRepositoryURI?: string;
  sourceRepositoryDigest?: string;
  sourceRepositoryRef?: string;
  sourceRepositoryIdentifier?: string;
  sourceRepositoryOwnerURI?: string;
  sourceRepositoryOwnerIdentifier?: string;
  buildConfigURI?: string;
  buildConfigDigest?: string;
  buildTrigger?: string;
  runInvocationURI?: string;
  sourceRepositoryVisibilityAtSigning?: string;
}

/** The artifact a bundle must cover: its bytes, or its digest (sha256 hex). DSSE: the statement's subject. */
export type Artifact = { bytes: Uint8Array } | { sha256: string };

export interface BundleVerifyOptions {
  /** Parsed trusted_root.json (see trust-root.ts); needed for keyless, tlog and TSA checks. */
  trustedRoot: TrustedRootDocument;
  /** Key-based: the public key that must have signed (no certificate). */
  key?: VerificationKey;
  /** Keyless: who must have signed. Required for certificates unless `allowAnyIdentity`. */
  identity?: IdentityPolicy;
  /** Require at least this many verified transparency-log entries (keyless default 1, key-based 0). */
  tlogThreshold?: number;
  /** Require at least this many verified RFC 3161 timestamps (default 0). */
  timestampThreshold?: number;
  /** Keyless: require at least this many verified SCTs in the certificate (default 1). */
  ctlogThreshold?: number;
  /**
   * Keyless: accept any signer the trusted CA certified, without an identity policy. Off by
   * default; without it a certificate bundle and no `identity` is a USAGE error.
   */
  allowAnyIdentity?: boolean;
  /**
   * Keyless, when the bundle holds no verified time at all (no tlog entry, no RFC 3161 token):
   * check the certificate at the current time instead of failing, as cosign does with
   * `--insecure-ignore-tlog`. Only meaningful with `tlogThreshold: 0`. Off by default.
   */
  currentTimeWithoutTimestamps?: boolean;
}

export interface VerifiedBundle {
  content: 'message-signature' | 'dsse-envelope';
  signer:
    | { kind: 'key'; hint: string | undefined }
    | { kind: 'certificate'; claims: CertificateClaims; certificatePem: string };
  /** DSSE only: the verified payload (the bytes the signature covers, never a re-encoding). */
  payload?: { type: string; bytes: Uint8Array };
  /** Verified times (tlog integrated time, TSA), oldest first. */
  timestamps: { source: 'transparency-log' | 'timestamp-authority'; time: Date }[];
  tlogEntries: number;
}

/** A trusted_root.json (protobuf-specs TrustedRoot, JSON form). */
export type TrustedRootDocument = Record<string, unknown> & { mediaType?: string };
