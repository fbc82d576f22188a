/**
 * cosign's legacy formats next to Sigstore bundles: what the `.sig` tag layers and sign-blob's
 * side files hold (raw signature base64, certificate PEM, the `dev.sigstore.cosign/bundle`
 * annotation built from a Rekor entry), and the old sign-blob `--bundle` JSON
 * `{"base64Signature","cert","rekorBundle"}` with a converter to a Sigstore bundle.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { type Bundle, bundleFromJSON, bundleToJSON, type TransparencyLogEntry } from '@sigstore/bundle';
import { VouchError } from '../errors.ts';
import { type Artifact, BUNDLE_V03_MEDIA_TYPE, type SerializedBundle } from './types.ts';

/** Layer annotations of cosign's legacy signature and attestation manifests. */
export const COSIGN_ANNOTATIONS = {
  signature: 'dev.cosignproject.cosign/signature',
  certificate: 'dev.sigstore.cosign/certificate',
  chain: 'dev.sigstore.cosign/chain',
  bundle: 'dev.sigstore.cosign/bundle',
  rfc3161Timestamp: 'dev.sigstore.cosign/rfc3161timestamp',
} as const;

export const BUNDLE_V01_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.1';

/** cosign's RekorBundle (`dev.sigstore.cosign/bundle`, sign-blob `rekorBundle`). */
export interface RekorBundle {
  /** Rekor's signature over the canonical JSON of Payload (base64). */
  SignedEntryTimestamp: string;
  Payload: {
    /** The canonicalized entry body (base64). */
    body: string;
    integratedTime: number;
    logIndex: number;
    /** SHA-256 of the log's public key, hex. */
    logID: string;
  };
}

/** What cosign sign-blob `--bundle` wrote before bundle v0.3 (`--new-bundle-format=false`). */
export interface LegacyBlobBundle {
  base64Signature: string;
  /** base64 of the signing certificate PEM (or of the public key PEM). */
  cert?: string;
  rekorBundle?: RekorBundle;
}

export interface LegacyMaterial {
  content: 'message-signature' | 'dsse-envelope';
  /** Standard base64 of the raw signature: the `.sig` file, the signature annotation. */
  signature: string;
  /** The leaf certificate PEM (keyless), for `--output-certificate` and the certificate annotation. */
  certificatePem?: string;
  /** Further certificates of a v0.1/v0.2 chain, PEM (the chain annotation). */
  chainPem?: string;
  /** From the first tlog entry with an inclusion promise (cosign needs the SET). */
  rekorBundle?: RekorBundle;
  /** The first RFC 3161 timestamp, base64 DER. */
  rfc3161Timestamp?: string;
}

function parseBundle(bundle: unknown): Bundle {
  try {
    return bundleFromJSON(bundle);
  } catch (e) {
    const fields = (e as { fields?: unknown }).fields;
    const detail = Array.isArray(fields) && fields.length > 0 ? fields.join(', ') : (e as Error).message;
    throw new VouchError('BUNDLE_INVALID', `Sigstore bundle is invalid: ${detail}`, { cause: e });
  }
}

export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b = Buffer.from(der).toString('base64');
  const lines = b.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** cosign's RekorBundle for a tlog entry; undefined without an inclusion promise (SET). */
export function rekorBundleFromEntry(entry: TransparencyLogEntry): RekorBundle | undefined {
  const set = entry.inclusionPromise?.signedEntryTimestamp;
  if (!set || set.byteLength === 0) return undefined;
  return {
    SignedEntryTimestamp: set.toString('base64'),
    Payload: {
      body: entry.canonicalizedBody.toString('base64'),
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex),
      logID: entry.logId?.keyId.toString('hex') ?? '',
    },
  };
}

/** Everything cosign's legacy storage and sign-blob's side files need, read from a bundle. */
export function legacyFromBundle(bundle: unknown): LegacyMaterial {
  const b = parseBundle(bundle);
  const signature =
    b.content.$case === 'messageSignature'
      ? b.content.messageSignature.signature
      : (b.content.dsseEnvelope.signatures[0]?.sig ?? Buffer.alloc(0));
  const out: LegacyMaterial = {
    content: b.content.$case === 'messageSignature' ? 'message-signature' : 'dsse-envelope',
    signature: signature.toString('base64'),
  };
  const vm = b.verificationMaterial.content;
  if (vm.$case === 'certificate') {
    out.certificatePem = derToPem(vm.certificate.rawBytes);
  } else if (vm.$case === 'x509CertificateChain') {
    const [leaf, ...rest] = vm.x509CertificateChain.certificates;
    if (leaf) out.certificatePem = derToPem(leaf.rawBytes);
    if (rest.length > 0) out.chainPem = rest.map((c) => derToPem(c.rawBytes)).join('');
  }
  for (const entry of b.verificationMaterial.tlogEntries) {
    const rb = rekorBundleFromEntry(entry);
    if (rb) {
      out.rekorBundle = rb;
      break;
    }
  }
  const ts = b.verificationMaterial.timestampVerificationData?.rfc3161Timestamps[0];
  if (ts) out.rfc3161Timestamp = ts.signedTimestamp.toString('base64');
  return out;
}

/**
 * The layer annotations cosign writes on a legacy `.sig`/`.att` layer for this material. The
 * RFC 3161 annotation is `{"SignedRFC3161Timestamp":"<b64>"}`; its imprint covers the raw
 * signature (as in bundles) - what cosign's legacy verifier expects there is unconfirmed.
 */
export function cosignAnnotations(m: LegacyMaterial): Record<string, string> {
  const a: Record<string, string> = { [COSIGN_ANNOTATIONS.signature]: m.signature };
  if (m.certificatePem) a[COSIGN_ANNOTATIONS.certificate] = m.certificatePem;
  if (m.chainPem) a[COSIGN_ANNOTATIONS.chain] = m.chainPem;
  if (m.rekorBundle) a[COSIGN_ANNOTATIONS.bundle] = JSON.stringify(m.rekorBundle);
  if (m.rfc3161Timestamp) {
    a[COSIGN_ANNOTATIONS.rfc3161Timestamp] = JSON.stringify({ SignedRFC3161Timestamp: m.rfc3161Timestamp });
  }
  return a;
}

/**
 * The old sign-blob `--bundle` JSON for a message-signature bundle. `publicKeyPem` fills
 * `cert` for key-based bundles (they carry only a key hint), as cosign did.
 */
export function toLegacyBlobBundle(bundle: unknown, publicKeyPem?: string): LegacyBlobBundle {
  const m = legacyFromBundle(bundle);
  if (m.content !== 'message-signature') {
    throw new VouchError('BUNDLE_INVALID', 'only message-signature bundles have a legacy sign-blob form');
  }
  const pem = m.certificatePem ?? publicKeyPem;
  return {
    base64Signature: m.signature,
    ...(pem ? { cert: Buffer.from(pem).toString('base64') } : {}),
    ...(m.rekorBundle ? { rekorBundle: m.rekorBundle } : {}),
  };
}

const STD_B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function b64Field(v: unknown, field: string, what: string): Buffer {
  if (typeof v !== 'string' || v === '' || !STD_B64.test(v) || v.length % 4 === 1) {
    throw new VouchError('BUNDLE_INVALID', `${what}: ${field} is not base64`);
  }
  return Buffer.from(v, 'base64');
}

function intField(v: unknown, field: string, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new VouchError('BUNDLE_INVALID', `${what}: ${field} is not a non-negative integer`);
  }
  return v;
}

function parseRekorBundle(v: unknown, what: string): RekorBundle {
  if (typeof v !== 'object' || v === null) throw new VouchError('BUNDLE_INVALID', `${what}: not an object`);
  const r = v as Record<string, unknown>;
  const set = b64Field(r.SignedEntryTimestamp, 'SignedEntryTimestamp', what);
  const p = r.Payload;
  if (typeof p !== 'object' || p === null)
    throw new VouchError('BUNDLE_INVALID', `${what}: Payload is missing`);
  const pl = p as Record<string, unknown>;
  const body = b64Field(pl.body, 'Payload.body', what);
  if (typeof pl.logID !== 'string' || !/^[0-9a-fA-F]{64}$/.test(pl.logID)) {
    throw new VouchError('BUNDLE_INVALID', `${what}: Payload.logID is not 64 hex characters`);
  }
  return {
    SignedEntryTimestamp: set.toString('base64'),
    Payload: {
      body: body.toString('base64'),
      integratedTime: intField(pl.integratedTime, 'Payload.integratedTime', what),
      logIndex: intField(pl.logIndex, 'Payload.logIndex', what),
      logID: pl.logID.toLowerCase(),
    },
  };
}

/** True for JSON that looks like an old sign-blob bundle rather than a Sigstore bundle. */
export function isLegacyBlobBundle(json: unknown): boolean {
  return (
    typeof json === 'object' &&
    json !== null &&
    typeof (json as { base64Signature?: unknown }).base64Signature === 'string' &&
    (json as { mediaType?: unknown }).mediaType === undefined
  );
}

/** Check an old sign-blob bundle's shape; BUNDLE_INVALID names the bad field. */
export function parseLegacyBlobBundle(json: unknown, what = 'legacy cosign bundle'): LegacyBlobBundle {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new VouchError('BUNDLE_INVALID', `${what} is not a JSON object`);
  }
  const o = json as Record<string, unknown>;
  const sig = b64Field(o.base64Signature, 'base64Signature', what);
  const out: LegacyBlobBundle = { base64Signature: sig.toString('base64') };
  if (o.cert !== undefined && o.cert !== null && o.cert !== '') {
    const pem = b64Field(o.cert, 'cert', what).toString('utf8');
    if (!/-----BEGIN (CERTIFICATE|PUBLIC KEY)-----/.test(pem)) {
      throw new VouchError('BUNDLE_INVALID', `${what}: cert is not a base64 PEM certificate or public key`);
    }
    out.cert = o.cert as string;
  }
  if (o.rekorBundle !== undefined && o.rekorBundle !== null) {
    out.rekorBundle = parseRekorBundle(o.rekorBundle, `${what}: rekorBundle`);
  }
  return out;
}

interface RekorBody {
  kind: string;
  apiVersion: string;
  /** hashedrekord only: the artifact digest it logged. */
  sha256?: string;
}

function readRekorBody(body: Buffer, what: string): RekorBody {
  let j: unknown;
  try {
    j = JSON.parse(body.toString('utf8'));
  } catch {
    throw new VouchError('BUNDLE_INVALID', `${what}: rekorBundle.Payload.body is not JSON`);
  }
  const o = j as {
    kind?: unknown;
    apiVersion?: unknown;
    spec?: { data?: { hash?: Record<string, unknown> } };
  };
  if (typeof o.kind !== 'string' || typeof o.apiVersion !== 'string') {
    throw new VouchError('BUNDLE_INVALID', `${what}: the Rekor entry body has no kind/apiVersion`);
  }
  const h = o.spec?.data?.hash;
  const sha256 =
    h?.algorithm === 'sha256' && typeof h.value === 'string' && /^[0-9a-f]{64}$/.test(h.value)
      ? h.value
      : undefined;
  return { kind: o.kind, apiVersion: o.apiVersion, ...(sha256 ? { sha256 } : {}) };
}

/**
 * A Sigstore bundle holding what an old sign-blob bundle holds. Its Rekor entry has a SET but no
 * inclusion proof, which bundles from v0.2 on require: with an entry the result is a v0.1
 * bundle (certificate as a one-element chain), without one a v0.3 bundle. The message digest
 * comes from `artifact`, else from the logged hashedrekord entry.
 */
export function legacyBlobBundleToBundle(
  legacy: LegacyBlobBundle,
  artifact?: Artifact,
  what = 'legacy cosign bundle',
): SerializedBundle {
  const l = parseLegacyBlobBundle(legacy, what);
  const body = l.rekorBundle ? Buffer.from(l.rekorBundle.Payload.body, 'base64') : undefined;
  const rekor = body ? readRekorBody(body, what) : undefined;
  let digestHex: string | undefined;
  if (artifact && 'bytes' in artifact) digestHex = createHash('sha256').update(artifact.bytes).digest('hex');
  else if (artifact) digestHex = artifact.sha256.toLowerCase();
  else digestHex = rekor?.sha256;
  if (!digestHex || !/^[0-9a-f]{64}$/.test(digestHex)) {
    throw new VouchError('BUNDLE_INVALID', `${what}: no artifact digest (pass the artifact)`);
  }

  let key: Record<string, unknown> = { publicKey: { hint: '' } };
  let certDer: Buffer | undefined;
  if (l.cert) {
    const pem = Buffer.from(l.cert, 'base64').toString('utf8');
    try {
      if (pem.includes('-----BEGIN CERTIFICATE-----')) {
        certDer = new X509Certificate(pem).raw;
      } else {
        const spki = createPublicKey(pem).export({ type: 'spki', format: 'der' });
        key = { publicKey: { hint: createHash('sha256').update(spki).digest('base64') } };
      }
    } catch (e) {
      throw new VouchError('BUNDLE_INVALID', `${what}: cert does not parse: ${(e as Error).message}`);
    }
  }
  const v01 = l.rekorBundle !== undefined;
  if (certDer) {
    const raw = { rawBytes: certDer.toString('base64') };
    key = v01 ? { x509CertificateChain: { certificates: [raw] } } : { certificate: raw };
  }
  const tlogEntries =
    l.rekorBundle && rekor
      ? [
          {
            logIndex: String(l.rekorBundle.Payload.logIndex),
            logId: { keyId: Buffer.from(l.rekorBundle.Payload.logID, 'hex').toString('base64') },
            kindVersion: { kind: rekor.kind, version: rekor.apiVersion },
            integratedTime: String(l.rekorBundle.Payload.integratedTime),
            inclusionPromise: { signedEntryTimestamp: l.rekorBundle.SignedEntryTimestamp },
            canonicalizedBody: l.rekorBundle.Payload.body,
          },
        ]
      : [];
  const json = {
    mediaType: v01 ? BUNDLE_V01_MEDIA_TYPE : BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: { ...key, tlogEntries, timestampVerificationData: { rfc3161Timestamps: [] } },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: Buffer.from(digestHex, 'hex').toString('base64') },
      signature: l.base64Signature,
    },
  };
  return explicitDefaults(bundleToJSON(parseBundle(json)));
}

/**
 * proto3 JSON leaves out zero numbers and empty lists (a one-entry tree's proof has
 * `logIndex` 0 and no `hashes`); readers must take both forms, but not all do. vouch writes
 * them out, which also makes the JSON match its TypeScript type.
 */
export function explicitDefaults(json: SerializedBundle): SerializedBundle {
  const vm = json.verificationMaterial;
  vm.tlogEntries ??= [];
  for (const e of vm.tlogEntries) {
    e.logIndex ??= '0';
    e.integratedTime ??= '0';
    if (e.inclusionProof) {
      e.inclusionProof.logIndex ??= '0';
      e.inclusionProof.hashes ??= [];
    }
  }
  vm.timestampVerificationData ??= { rfc3161Timestamps: [] };
  vm.timestampVerificationData.rfc3161Timestamps ??= [];
  return json;
}
