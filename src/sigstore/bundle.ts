/**
 * Sigstore bundles (v0.1, v0.2, v0.3 in both media types) from their proto3 JSON form into the
 * @sigstore/bundle model, refusing anything malformed with BUNDLE_INVALID naming the field (and a
 * log entry without the inclusion proof or promise its version requires with TLOG_INVALID).
 *
 * protobuf-specs' fromJSON is lenient (bad base64 decodes to garbage, numbers become strings,
 * unknown media types pass), so the JSON is checked here first: known media types only,
 * strict base64, non-negative int64 values, one signer and one content.
 */
import { readFile } from 'node:fs/promises';
import {
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  type Bundle,
  bundleFromJSON,
  ValidationError,
} from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { VouchError } from '../errors.ts';

export const BUNDLE_MEDIA_TYPES = {
  [BUNDLE_V01_MEDIA_TYPE]: '0.1',
  [BUNDLE_V02_MEDIA_TYPE]: '0.2',
  [BUNDLE_V03_LEGACY_MEDIA_TYPE]: '0.3',
  [BUNDLE_V03_MEDIA_TYPE]: '0.3',
} as const;
export type BundleVersion = (typeof BUNDLE_MEDIA_TYPES)[keyof typeof BUNDLE_MEDIA_TYPES];

/** Bundles carry a certificate or two and a signature; a statement with an inline SBOM is the big case. */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;

export interface ParsedBundle {
  bundle: Bundle;
  version: BundleVersion;
  mediaType: string;
  content: 'message-signature' | 'dsse-envelope';
  signer: 'certificate' | 'public-key';
}

/** Parse a bundle from JSON text, bytes or an already parsed JSON value. */
export function parseBundle(input: unknown, what = 'bundle'): ParsedBundle {
  let json = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
    if (size > MAX_BUNDLE_BYTES) throw invalid(what, 'is over 64 MiB');
    try {
      json = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
    } catch (e) {
      throw invalid(what, `is not JSON: ${(e as Error).message}`);
    }
  }
  const { version, mediaType, content, signer } = checkJson(json, what);
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (e) {
    if (e instanceof ValidationError) {
      // A log entry without the proof its version requires is a missing tlog proof, not a typo.
      if (e.fields.length > 0 && e.fields.every((f) => INCLUSION_FIELD.test(f))) {
        throw new VouchError(
          'TLOG_INVALID',
          `${what}: ${e.fields.join(', ')} ${e.fields.length === 1 ? 'is' : 'are'} missing: a v${version} bundle proves log inclusion with ${
            version === '0.1'
              ? 'a signed entry timestamp (SET)'
              : 'an inclusion proof and a signed checkpoint'
          }`,
          { cause: e },
        );
      }
      throw invalid(what, `invalid ${version} bundle: ${e.fields.join(', ')}`, e);
    }
    throw invalid(what, (e as Error).message, e);
  }
  if (version === '0.1') dropUnsignedProofs(bundle);
  checkCertificates(bundle, what);
  return { bundle, version, mediaType, content, signer };
}

const INCLUSION_FIELD = /^verificationMaterial\.tlogEntries\[\d+\]\.inclusion(Promise|Proof(\.checkpoint)?)$/;

/** Read and parse a bundle file (`.sigstore.json`; the first line of a `.jsonl` is not handled here). */
export async function readBundleFile(path: string): Promise<ParsedBundle> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new VouchError('FILE_NOT_FOUND', `bundle ${path} does not exist`);
    throw new VouchError('IO_ERROR', `cannot read bundle ${path}${code ? ` (${code})` : ''}`, { cause: e });
  }
  return parseBundle(bytes, path);
}

/**
 * v0.1 bundles only promise inclusion (SET); some writers added an inclusion proof without the
 * signed checkpoint. Such a proof proves nothing (its root is unsigned) and @sigstore/verify
 * crashes on it, so it is dropped and the SET, which v0.1 requires, carries the entry.
 */
function dropUnsignedProofs(bundle: Bundle): void {
  for (const entry of bundle.verificationMaterial.tlogEntries) {
    if (entry.inclusionProof && !entry.inclusionProof.checkpoint?.envelope) entry.inclusionProof = undefined;
  }
}

/**
 * Certificates must be DER X.509, and a chain must not carry its root: the trust anchor comes
 * from the trusted root, never from the bundle (protobuf-specs X509CertificateChain).
 */
function checkCertificates(bundle: Bundle, what: string): void {
  const vm = bundle.verificationMaterial.content;
  const certs =
    vm.$case === 'x509CertificateChain'
      ? vm.x509CertificateChain.certificates.map((c, i) => ({
          der: c.rawBytes,
          path: `verificationMaterial.x509CertificateChain.certificates[${i}]`,
        }))
      : vm.$case === 'certificate'
        ? [{ der: vm.certificate.rawBytes, path: 'verificationMaterial.certificate' }]
        : [];
  for (const { der, path } of certs) {
    let cert: X509Certificate;
    try {
      cert = X509Certificate.parse(Buffer.from(der));
      void cert.subject; // the getters parse lazily: touch the TBS fields now
      void cert.notAfter;
    } catch (e) {
      throw invalid(what, `${path}.rawBytes is not a DER X.509 certificate`, e);
    }
    if (cert.subject.equals(cert.issuer) && safeSelfVerify(cert)) {
      throw invalid(what, `${path} is a self-signed root certificate; roots come from the trusted root only`);
    }
  }
}

function safeSelfVerify(cert: X509Certificate): boolean {
  try {
    return cert.verify();
  } catch {
    return false;
  }
}

// ---- JSON shape ----

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
const BASE64URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$/;
const INT64 = /^(0|[1-9][0-9]{0,18})$/;
const HASH_ALGORITHMS = ['SHA2_256', 'SHA2_384', 'SHA2_512', 'SHA3_256', 'SHA3_384'] as const;

function checkJson(json: unknown, what: string): Omit<ParsedBundle, 'bundle'> {
  const b = obj(json, what, '');
  const mediaType = b.mediaType;
  const version =
    typeof mediaType === 'string'
      ? BUNDLE_MEDIA_TYPES[mediaType as keyof typeof BUNDLE_MEDIA_TYPES]
      : undefined;
  if (version === undefined) {
    throw invalid(
      what,
      `mediaType is ${JSON.stringify(mediaType)}, expected one of ${Object.keys(BUNDLE_MEDIA_TYPES).join(', ')}`,
    );
  }
  const vm = obj(b.verificationMaterial, what, 'verificationMaterial');
  const signer = oneOf(
    vm,
    ['x509CertificateChain', 'certificate', 'publicKey'],
    what,
    'verificationMaterial',
  );
  if (signer === 'x509CertificateChain') {
    const certs = arr(
      obj(vm.x509CertificateChain, what, 'verificationMaterial.x509CertificateChain').certificates,
      what,
      'verificationMaterial.x509CertificateChain.certificates',
    );
    if (certs.length === 0)
      throw invalid(what, 'verificationMaterial.x509CertificateChain.certificates is empty');
    certs.forEach((c, i) => {
      const p = `verificationMaterial.x509CertificateChain.certificates[${i}]`;
      bytes(obj(c, what, p).rawBytes, what, `${p}.rawBytes`);
    });
  } else if (signer === 'certificate') {
    bytes(
      obj(vm.certificate, what, 'verificationMaterial.certificate').rawBytes,
      what,
      'verificationMaterial.certificate.rawBytes',
    );
  } else {
    const pk = obj(vm.publicKey, what, 'verificationMaterial.publicKey');
    if (present(pk.hint) && typeof pk.hint !== 'string')
      throw invalid(what, 'verificationMaterial.publicKey.hint is not a string');
  }
  for (const [i, e] of arr(vm.tlogEntries ?? [], what, 'verificationMaterial.tlogEntries').entries()) {
    checkTlogEntry(e, what, `verificationMaterial.tlogEntries[${i}]`);
  }
  if (present(vm.timestampVerificationData)) {
    const tvd = obj(vm.timestampVerificationData, what, 'verificationMaterial.timestampVerificationData');
    arr(
      tvd.rfc3161Timestamps ?? [],
      what,
      'verificationMaterial.timestampVerificationData.rfc3161Timestamps',
    ).forEach((t, i) => {
      const p = `verificationMaterial.timestampVerificationData.rfc3161Timestamps[${i}]`;
      bytes(obj(t, what, p).signedTimestamp, what, `${p}.signedTimestamp`);
    });
  }
  const content = oneOf(b, ['messageSignature', 'dsseEnvelope'], what, '');
  if (content === 'messageSignature') {
    const ms = obj(b.messageSignature, what, 'messageSignature');
    if (present(ms.messageDigest)) {
      const md = obj(ms.messageDigest, what, 'messageSignature.messageDigest');
      if (!(HASH_ALGORITHMS as readonly unknown[]).includes(md.algorithm)) {
        throw invalid(
          what,
          `messageSignature.messageDigest.algorithm is ${JSON.stringify(md.algorithm)}, expected one of ${HASH_ALGORITHMS.join(', ')}`,
        );
      }
      bytes(md.digest, what, 'messageSignature.messageDigest.digest');
    }
    bytes(ms.signature, what, 'messageSignature.signature');
  } else {
    const env = obj(b.dsseEnvelope, what, 'dsseEnvelope');
    if (typeof env.payloadType !== 'string' || env.payloadType === '')
      throw invalid(what, 'dsseEnvelope.payloadType is missing');
    bytes(env.payload, what, 'dsseEnvelope.payload');
    const sigs = arr(env.signatures, what, 'dsseEnvelope.signatures');
    if (sigs.length !== 1) {
      throw invalid(
        what,
        `dsseEnvelope.signatures has ${sigs.length} entries; a bundle's envelope has exactly one`,
      );
    }
    const sig = obj(sigs[0], what, 'dsseEnvelope.signatures[0]');
    bytes(sig.sig, what, 'dsseEnvelope.signatures[0].sig');
    if (present(sig.keyid) && typeof sig.keyid !== 'string')
      throw invalid(what, 'dsseEnvelope.signatures[0].keyid is not a string');
  }
  return {
    version,
    mediaType: mediaType as string,
    content: content === 'messageSignature' ? 'message-signature' : 'dsse-envelope',
    signer: signer === 'publicKey' ? 'public-key' : 'certificate',
  };
}

function checkTlogEntry(v: unknown, what: string, path: string): void {
  const e = obj(v, what, path);
  // proto3 JSON leaves zero values out: an absent log index is index 0
  if (present(e.logIndex)) int64(e.logIndex, what, `${path}.logIndex`);
  bytes(obj(e.logId, what, `${path}.logId`).keyId, what, `${path}.logId.keyId`);
  const kv = obj(e.kindVersion, what, `${path}.kindVersion`);
  for (const f of ['kind', 'version'] as const) {
    if (typeof kv[f] !== 'string' || kv[f] === '') throw invalid(what, `${path}.kindVersion.${f} is missing`);
  }
  if (present(e.integratedTime)) int64(e.integratedTime, what, `${path}.integratedTime`);
  if (present(e.inclusionPromise)) {
    const p = `${path}.inclusionPromise`;
    bytes(obj(e.inclusionPromise, what, p).signedEntryTimestamp, what, `${p}.signedEntryTimestamp`);
  }
  if (present(e.inclusionProof)) {
    const p = `${path}.inclusionProof`;
    const proof = obj(e.inclusionProof, what, p);
    if (present(proof.logIndex)) int64(proof.logIndex, what, `${p}.logIndex`);
    int64(proof.treeSize, what, `${p}.treeSize`);
    bytes(proof.rootHash, what, `${p}.rootHash`);
    for (const [i, h] of arr(proof.hashes ?? [], what, `${p}.hashes`).entries())
      bytes(h, what, `${p}.hashes[${i}]`);
    if (present(proof.checkpoint)) {
      const env = obj(proof.checkpoint, what, `${p}.checkpoint`).envelope;
      if (typeof env !== 'string' || env === '') throw invalid(what, `${p}.checkpoint.envelope is missing`);
    }
  }
  bytes(e.canonicalizedBody, what, `${path}.canonicalizedBody`);
}

/** proto3 JSON int64: a decimal string (or a JSON number), never negative here. */
function int64(v: unknown, what: string, path: string): void {
  if (!present(v)) throw invalid(what, `${path} is missing`);
  const s = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
  if (typeof s !== 'string' || !INT64.test(s) || BigInt(s) > 0x7fffffffffffffffn) {
    throw invalid(what, `${path} is ${JSON.stringify(v)}, expected a non-negative integer`);
  }
}

/**
 * proto3 JSON bytes: standard or URL-safe base64, padded or not, and not empty. Line breaks
 * are ignored, as Go's decoder (protojson, cosign, sigstore-go) ignores them.
 */
function bytes(v: unknown, what: string, path: string): void {
  if (typeof v !== 'string' || v === '') throw invalid(what, `${path} is missing`);
  const s = v.replace(/\r?\n/g, '');
  if (!BASE64.test(s) && !BASE64URL.test(s)) throw invalid(what, `${path} is not base64`);
}

/** proto3 JSON: null means the field is unset. */
function present(v: unknown): boolean {
  return v !== undefined && v !== null;
}

function obj(v: unknown, what: string, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw invalid(
      what,
      path === '' ? 'is not a JSON object' : `${path} is ${v === undefined ? 'missing' : 'not an object'}`,
    );
  }
  return v as Record<string, unknown>;
}

function arr(v: unknown, what: string, path: string): unknown[] {
  if (!Array.isArray(v)) throw invalid(what, `${path} is ${v === undefined ? 'missing' : 'not a list'}`);
  return v;
}

function oneOf<K extends string>(
  o: Record<string, unknown>,
  keys: readonly K[],
  what: string,
  path: string,
): K {
  const present = keys.filter((k) => o[k] !== undefined && o[k] !== null);
  const where = path === '' ? 'the bundle' : path;
  if (present.length !== 1) {
    throw invalid(
      what,
      present.length === 0
        ? `${where} has none of ${keys.join(', ')}`
        : `${where} has ${present.join(' and ')}; expected exactly one`,
    );
  }
  return present[0]!;
}

function invalid(what: string, message: string, cause?: unknown): VouchError {
  return new VouchError('BUNDLE_INVALID', `${what}: ${message}`, cause === undefined ? {} : { cause });
}
