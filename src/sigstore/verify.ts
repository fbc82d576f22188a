/**
 * Sigstore bundle verification: @sigstore/verify does the cryptography (timestamps, chain to a
 * trusted Fulcio CA, SCTs, tlog inclusion and body, signature); vouch adds what it lacks and
 * reports one code per reason:
 *
 *   1. parse the bundle strictly (BUNDLE_INVALID) and decide how it must be checked: a
 *      certificate needs an identity policy (USAGE without one), a key bundle needs the key;
 *   2. the artifact must be what the bundle covers: messageDigest = the artifact's digest, and a
 *      DSSE in-toto statement must name it as a subject (SUBJECT_MISMATCH; the library does not
 *      look at subjects);
 *   3. the signature is checked first with the signer's key, so a tampered payload is
 *      SIGNATURE_INVALID (or KEY_MISMATCH when the bundle names another key), not a tlog error;
 *   4. the library's Verifier runs with vouch's thresholds; its errors are mapped in errors-map.ts;
 *   5. the identity policy is matched by identity.ts (anchored), never by the library.
 */
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import type { Bundle } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { type SignedEntity, toSignedEntity, Verifier } from '@sigstore/verify';
import { IN_TOTO_PAYLOAD_TYPE, pae } from '../attest/dsse.ts';
import { findSubject, parseStatement } from '../attest/statement.ts';
import { VouchError } from '../errors.ts';
import { hashFor, keyAlgorithm } from '../sign/keys/signing-key.ts';
import type { VerificationKey } from '../sign/keys/types.ts';
import { type ParsedBundle, parseBundle } from './bundle.ts';
import { certificateClaims } from './claims.ts';
import { fromLibraryError } from './errors-map.ts';
import {
  type CompiledIdentityPolicy,
  checkIdentity,
  compileIdentityPolicy,
  hasIdentityPolicy,
} from './identity.ts';
import { trustMaterial } from './trust-material.ts';
import type { Artifact, BundleVerifyOptions, VerifiedBundle } from './types.ts';

/**
 * Verify a Sigstore bundle (v0.1–v0.3 JSON, already parsed, or its text/bytes) for `artifact`.
 * For DSSE bundles with an in-toto payload, one subject must carry the artifact's sha256
 * (SUBJECT_MISMATCH); `artifact` undefined skips that check (the caller checks the statement).
 * Throws VouchError with a code per failure reason (see src/errors.ts); returns what was verified.
 */
export async function verifyBundle(
  bundle: unknown,
  artifact: Artifact | undefined,
  o: BundleVerifyOptions,
): Promise<VerifiedBundle> {
  checkThresholds(o);
  const parsed = parseBundle(bundle);
  const b = parsed.bundle;
  const policy = signerPolicy(parsed, o);
  const bytes = artifactBytes(parsed, artifact);
  let entity: SignedEntity;
  try {
    entity = withKeyAwareSignature(toSignedEntity(b, bytes), b, bytes);
  } catch (e) {
    throw new VouchError('BUNDLE_INVALID', `bundle: ${(e as Error).message}`, { cause: e });
  }
  const leaf = leafCertificate(b);
  checkSignature(entity, b, leaf, o.key);

  const isCert = leaf !== undefined;
  const tlogThreshold = o.tlogThreshold ?? (isCert ? 1 : 0);
  checkTlogEntries(b, tlogThreshold);
  const atNow =
    isCert &&
    o.currentTimeWithoutTimestamps === true &&
    b.verificationMaterial.tlogEntries.length === 0 &&
    entity.timestamps.length === 0;
  const verifier = new Verifier(
    trustMaterial(o.trustedRoot, () => {
      // Asked for key bundles only, whose hint signerPolicy() and checkSignature() already settled.
      if (!o.key)
        throw new VouchError('KEY_MISMATCH', 'bundle is signed with a public key and no key was given');
      return { publicKey: o.key.publicKey, validFor: () => true };
    }),
    {
      tlogThreshold,
      ctlogThreshold: isCert ? (o.ctlogThreshold ?? 1) : 0,
      // A certificate is only checked at a verified time (tlog SET or TSA), so one is required.
      timestampThreshold: isCert && !atNow ? 1 : 0,
    },
  );
  if (atNow) checkCertificateNow(verifier);
  try {
    verifier.verify(entity);
  } catch (e) {
    throw fromLibraryError(e, 'bundle');
  }

  const tsa = entity.timestamps.filter((t) => t.$case === 'timestamp-authority');
  const wantTsa = o.timestampThreshold ?? 0;
  if (tsa.length < wantTsa) {
    throw new VouchError(
      'TIMESTAMP_INVALID',
      `bundle has ${tsa.length} RFC 3161 timestamp${tsa.length === 1 ? '' : 's'}, ${wantTsa} required`,
    );
  }

  const payload =
    b.content.$case === 'dsseEnvelope'
      ? { type: b.content.dsseEnvelope.payloadType, bytes: new Uint8Array(b.content.dsseEnvelope.payload) }
      : undefined;
  if (payload && artifact) checkDsseSubject(payload, artifactSha256(artifact));

  let signer: VerifiedBundle['signer'];
  if (leaf) {
    const claims = certificateClaims(leaf);
    if (policy.kind === 'certificate' && policy.identity) checkIdentity(claims, policy.identity);
    signer = { kind: 'certificate', claims, certificatePem: toPem(leaf) };
  } else {
    signer = { kind: 'key', hint: o.key?.hint };
  }
  return {
    content: parsed.content,
    signer,
    ...(payload ? { payload } : {}),
    timestamps: verifiedTimes(entity),
    tlogEntries: entity.tlogEntries.length,
  };
}

/**
 * The library checks a certificate only at the bundle's verified times; with none at all and the
 * caller's consent (`currentTimeWithoutTimestamps`), the current time stands in, as in cosign's
 * --insecure-ignore-tlog. Replaces this one Verifier's timestamp step (private in @sigstore/verify 4).
 */
function checkCertificateNow(verifier: Verifier): void {
  const lib = verifier as unknown as { verifyTimestamps?: unknown };
  if (typeof lib.verifyTimestamps !== 'function') {
    throw new VouchError(
      'NOT_IMPLEMENTED',
      'this @sigstore/verify cannot check a certificate at the current time',
    );
  }
  lib.verifyTimestamps = (): Date[] => [new Date()];
}

/**
 * Enough distinct entries, said here rather than by the library, which would first complain of
 * a missing timestamp (and counts a repeated entry as a duplicate timestamp).
 */
function checkTlogEntries(b: Bundle, threshold: number): void {
  const entries = b.verificationMaterial.tlogEntries;
  const distinct = new Set(
    entries.map((e) => `${e.logId?.keyId.toString('base64')} ${e.canonicalizedBody.toString('base64')}`),
  );
  if (distinct.size < entries.length) {
    throw new VouchError(
      'TLOG_INVALID',
      'bundle repeats a transparency log entry (a copy does not count twice)',
    );
  }
  if (entries.length < threshold) {
    throw new VouchError(
      'TLOG_INVALID',
      `bundle has ${entries.length} transparency log entr${entries.length === 1 ? 'y' : 'ies'}, ${threshold} required`,
      {
        hint: 'sign with a transparency log (Rekor), or accept unlogged signatures explicitly (--insecure-ignore-tlog)',
      },
    );
  }
}

function checkThresholds(o: BundleVerifyOptions): void {
  for (const k of ['tlogThreshold', 'ctlogThreshold', 'timestampThreshold'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) {
      throw new VouchError('USAGE', `${k} must be a non-negative integer, not ${v}`);
    }
  }
}

type SignerPolicy = { kind: 'certificate'; identity: CompiledIdentityPolicy | undefined } | { kind: 'key' };

/** What the caller must have supplied for this kind of bundle. */
function signerPolicy(parsed: ParsedBundle, o: BundleVerifyOptions): SignerPolicy {
  if (parsed.signer === 'public-key') {
    const hint = publicKeyHint(parsed.bundle);
    if (!o.key) {
      throw new VouchError(
        'KEY_MISMATCH',
        `bundle is signed with a public key${hint ? ` (hint ${hint})` : ''} and no key was given to verify it`,
        { hint: 'pass the signer public key (--key)' },
      );
    }
    if (hasIdentityPolicy(o.identity)) {
      throw new VouchError(
        'IDENTITY_MISMATCH',
        'bundle is signed with a public key, not a certificate: it carries no identity to match the policy',
      );
    }
    return { kind: 'key' };
  }
  if (o.key) {
    throw new VouchError(
      'KEY_MISMATCH',
      'bundle is signed with a certificate, not with the given public key',
      { hint: 'verify keyless bundles with an identity and issuer instead of a key' },
    );
  }
  if (hasIdentityPolicy(o.identity)) {
    return { kind: 'certificate', identity: compileIdentityPolicy(o.identity ?? {}) };
  }
  if (!o.allowAnyIdentity) {
    throw new VouchError(
      'USAGE',
      'bundle is signed with a certificate: say who must have signed it (identity and OIDC issuer)',
      {
        hint: 'pass --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp] (or --insecure-ignore-identity)',
      },
    );
  }
  return { kind: 'certificate', identity: undefined };
}

/** The artifact bytes the library needs (message signatures), after checking messageDigest. */
function artifactBytes(parsed: ParsedBundle, artifact: Artifact | undefined): Buffer | undefined {
  const b = parsed.bundle;
  if (b.content.$case !== 'messageSignature') return undefined;
  if (artifact === undefined) {
    throw new VouchError(
      'USAGE',
      'a message-signature bundle can only be verified against the artifact it signs',
    );
  }
  const md = b.content.messageSignature.messageDigest;
  if (md !== undefined) {
    const alg = NODE_HASH[md.algorithm];
    const bundleHex = Buffer.from(md.digest).toString('hex');
    const found =
      'bytes' in artifact
        ? alg === undefined
          ? undefined
          : createHash(alg).update(artifact.bytes).digest('hex')
        : alg === 'sha256'
          ? artifact.sha256.toLowerCase()
          : undefined;
    if (found === undefined) {
      throw new VouchError(
        'USAGE',
        'the bundle digest algorithm needs the artifact bytes, not only its sha256',
      );
    }
    if (found !== bundleHex) {
      throw new VouchError(
        'SUBJECT_MISMATCH',
        `bundle signs ${alg}:${bundleHex}, but the artifact is ${alg}:${found}`,
        { hint: 'this signature is for another file' },
      );
    }
  }
  if (!('bytes' in artifact)) {
    throw new VouchError(
      'USAGE',
      'a message signature is verified over the artifact bytes; its digest is not enough',
    );
  }
  return Buffer.from(artifact.bytes);
}

/** protobuf-specs HashAlgorithm (numeric enum after fromJSON) → node:crypto name. */
const NODE_HASH: Record<number, string> = {
  1: 'sha256',
  2: 'sha384',
  3: 'sha512',
  4: 'sha3-256',
  5: 'sha3-384',
};

function artifactSha256(a: Artifact): string {
  return 'bytes' in a ? createHash('sha256').update(a.bytes).digest('hex') : a.sha256.toLowerCase();
}

/**
 * @sigstore/verify checks a DSSE signature with the key's default digest (SHA-256 even for
 * P-384 / P-521 keys) and a message signature with the bundle's digest algorithm even for
 * Ed25519 (which takes none). vouch signs as cosign does (src/sign/keys: P-384 over SHA-384,
 * P-521 over SHA-512, Ed25519 pure), so the signature check picks the hash from the key; the
 * tlog comparisons stay the library's.
 */
function withKeyAwareSignature(entity: SignedEntity, b: Bundle, artifact: Buffer | undefined): SignedEntity {
  const lib = entity.signature;
  const content = b.content;
  const signed =
    content.$case === 'dsseEnvelope'
      ? pae(content.dsseEnvelope.payloadType, content.dsseEnvelope.payload)
      : artifact;
  const messageHash =
    content.$case === 'messageSignature'
      ? NODE_HASH[content.messageSignature.messageDigest?.algorithm ?? 1]
      : undefined;
  const signature: SignedEntity['signature'] = {
    signature: lib.signature,
    compareSignature: (sig) => lib.compareSignature(sig),
    compareDigest: (digest) => lib.compareDigest(digest),
    compareSignedDigest: (digest) => lib.compareSignedDigest(digest),
    verifySignature: (key) => {
      if (signed === undefined) return false;
      let hash: string | null;
      try {
        const algorithm = keyAlgorithm(key);
        hash = algorithm === 'ed25519' ? null : (messageHash ?? hashFor(algorithm));
      } catch {
        return false; // a key type vouch does not verify with
      }
      try {
        return nodeVerify(hash, signed, key, lib.signature);
      } catch {
        return false; // malformed signature
      }
    },
  };
  return { ...entity, signature };
}

/** The signature must verify with the signer's key before anything else is worth checking. */
function checkSignature(
  entity: SignedEntity,
  b: Bundle,
  leaf: Buffer<ArrayBuffer> | undefined,
  key: VerificationKey | undefined,
): void {
  let ok: boolean;
  try {
    const publicKey = leaf
      ? createPublicKey({ key: X509Certificate.parse(leaf).publicKey, format: 'der', type: 'spki' })
      : key?.publicKey;
    ok = publicKey !== undefined && entity.signature.verifySignature(publicKey);
  } catch {
    ok = false; // malformed signature or a key type the algorithm cannot use
  }
  if (ok) return;
  const what = b.content.$case === 'dsseEnvelope' ? 'DSSE envelope signature' : 'message signature';
  const hint = publicKeyHint(b);
  if (!leaf && key && hint && hint !== key.hint) {
    throw new VouchError(
      'KEY_MISMATCH',
      `${what} was made with another key (bundle key hint ${hint}, given key ${key.hint})`,
    );
  }
  throw new VouchError(
    'SIGNATURE_INVALID',
    `${what} does not verify with the ${leaf ? "signing certificate's key" : 'given key'}: the payload or the signature was altered`,
  );
}

function checkDsseSubject(payload: { type: string; bytes: Uint8Array }, sha256: string): void {
  if (payload.type !== IN_TOTO_PAYLOAD_TYPE) {
    // Not a statement: the envelope signs the artifact itself.
    const got = createHash('sha256').update(payload.bytes).digest('hex');
    if (got !== sha256) {
      throw new VouchError(
        'SUBJECT_MISMATCH',
        `DSSE payload (${payload.type}) is sha256:${got}, but the artifact is sha256:${sha256}`,
      );
    }
    return;
  }
  const statement = parseStatement(payload.bytes, 'bundle statement');
  if (!findSubject(statement, 'sha256', sha256)) {
    const names = statement.subject
      .slice(0, 5)
      .map((s) => `${s.name ?? '(unnamed)'} sha256:${s.digest?.sha256 ?? '(none)'}`)
      .join(', ');
    throw new VouchError(
      'SUBJECT_MISMATCH',
      `no subject of the attestation has the artifact's digest sha256:${sha256} (subjects: ${names}${
        statement.subject.length > 5 ? ', ...' : ''
      })`,
    );
  }
}

function leafCertificate(b: Bundle): Buffer<ArrayBuffer> | undefined {
  const vm = b.verificationMaterial.content;
  if (vm.$case === 'certificate') return Buffer.from(vm.certificate.rawBytes);
  if (vm.$case === 'x509CertificateChain') {
    const first = vm.x509CertificateChain.certificates[0];
    return first ? Buffer.from(first.rawBytes) : undefined;
  }
  return undefined;
}

function publicKeyHint(b: Bundle): string | undefined {
  const vm = b.verificationMaterial.content;
  return vm.$case === 'publicKey' && vm.publicKey.hint ? vm.publicKey.hint : undefined;
}

/** Times the library verified: SET-backed integrated times and RFC 3161 tokens, oldest first. */
function verifiedTimes(entity: SignedEntity): VerifiedBundle['timestamps'] {
  const out: VerifiedBundle['timestamps'] = [];
  for (const t of entity.timestamps) {
    if (t.$case === 'timestamp-authority') {
      out.push({ source: 'timestamp-authority', time: t.timestamp.signingTime });
    } else if (t.tlogEntry.inclusionPromise) {
      out.push({ source: 'transparency-log', time: new Date(Number(t.tlogEntry.integratedTime) * 1000) });
    }
  }
  return out.sort((a, b) => a.time.getTime() - b.time.getTime());
}

function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
