/**
 * Test support: the JSON shapes tests build and edit (protobuf-specs' proto3 JSON of a Sigstore
 * bundle and a trusted root), with every field optional so a test can remove one.
 */
export interface TlogEntryJson {
  logIndex?: string;
  logId?: { keyId: string };
  kindVersion?: { kind: string; version: string };
  integratedTime?: string;
  inclusionPromise?: { signedEntryTimestamp: string };
  inclusionProof?: {
    logIndex: string;
    rootHash: string;
    treeSize: string;
    hashes: string[];
    checkpoint?: { envelope: string };
  };
  canonicalizedBody?: string;
}

export interface BundleJson {
  mediaType?: string;
  verificationMaterial: {
    certificate?: { rawBytes: string };
    x509CertificateChain?: { certificates: { rawBytes: string }[] };
    publicKey?: { hint?: string };
    tlogEntries: TlogEntryJson[];
    timestampVerificationData?: { rfc3161Timestamps: { signedTimestamp: string }[] };
  };
  messageSignature?: { messageDigest?: { algorithm: string; digest: string }; signature: string };
  dsseEnvelope?: { payload: string; payloadType: string; signatures: { sig: string; keyid?: string }[] };
}

interface ValidFor {
  start?: string;
  end?: string;
}

export interface LogJson {
  baseUrl?: string;
  hashAlgorithm?: string;
  publicKey?: { rawBytes?: string; keyDetails?: string; validFor?: ValidFor };
  logId?: { keyId?: string };
}

export interface AuthorityJson {
  subject?: { organization?: string; commonName?: string };
  uri?: string;
  certChain?: { certificates: { rawBytes?: string }[] };
  validFor?: ValidFor;
}

export interface TrustedRootJson {
  [key: string]: unknown;
  mediaType: string;
  tlogs: LogJson[];
  ctlogs: LogJson[];
  certificateAuthorities: AuthorityJson[];
  timestampAuthorities: AuthorityJson[];
}
