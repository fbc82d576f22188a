/**
 * From cosign's legacy layer annotations (certificate, chain, Rekor SET, RFC 3161 timestamp) back
 * to a Sigstore bundle, so keyless `.sig` and `.att` layers are verified by verifyBundle like any
 * bundle. (The other direction, bundle to annotations, is src/sigstore/legacy.ts.)
 */
import { createHash, X509Certificate } from 'node:crypto';
import { type Envelope, envelopeToJson } from '../../attest/dsse.ts';
import { VouchError } from '../../errors.ts';
import { BUNDLE_V01_MEDIA_TYPE } from '../../sigstore/legacy.ts';
import type { SerializedBundle } from '../../sigstore/types.ts';
import { CosignAnnotation } from './cosign-tags.ts';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(what: string, problem: string, cause?: unknown): VouchError {
  return new VouchError('BUNDLE_INVALID', `${what}: ${problem}`, cause === undefined ? {} : { cause });
}

function pemBlocks(pem: string, what: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => {
    try {
      return new X509Certificate(b).raw.toString('base64');
    } catch (e) {
      throw invalid(what, 'a certificate in it cannot be parsed', e);
    }
  });
}

type TlogEntry = SerializedBundle['verificationMaterial']['tlogEntries'][number];

/** The transparency-log entry of a `dev.sigstore.cosign/bundle` annotation. */
function tlogEntryFromAnnotation(text: string, what: string): TlogEntry {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw invalid(what, `${CosignAnnotation.Bundle} is not JSON`, e);
  }
  const p = isObject(v) ? v.Payload : undefined;
  if (!isObject(v) || typeof v.SignedEntryTimestamp !== 'string' || !isObject(p)) {
    throw invalid(what, `${CosignAnnotation.Bundle} needs SignedEntryTimestamp and Payload`);
  }
  const { body, integratedTime, logIndex, logID } = p;
  if (typeof body !== 'string' || typeof logID !== 'string' || !/^[0-9a-f]+$/i.test(logID)) {
    throw invalid(what, `${CosignAnnotation.Bundle}: Payload needs body and a hex logID`);
  }
  if (!Number.isSafeInteger(integratedTime) || !Number.isSafeInteger(logIndex)) {
    throw invalid(what, `${CosignAnnotation.Bundle}: Payload needs integer integratedTime and logIndex`);
  }
  // The body says which kind of entry it is (hashedrekord for signatures; dsse or intoto for attestations).
  let kind: unknown;
  let version: unknown;
  try {
    const b = JSON.parse(Buffer.from(body, 'base64').toString('utf8')) as Record<string, unknown>;
    kind = b.kind;
    version = b.apiVersion;
  } catch (e) {
    throw invalid(what, `${CosignAnnotation.Bundle}: the entry body is not base64 JSON`, e);
  }
  if (typeof kind !== 'string' || typeof version !== 'string') {
    throw invalid(what, `${CosignAnnotation.Bundle}: the entry body has no kind and apiVersion`);
  }
  return {
    logIndex: String(logIndex),
    logId: { keyId: Buffer.from(logID, 'hex').toString('base64') },
    kindVersion: { kind, version },
    integratedTime: String(integratedTime),
    inclusionPromise: { signedEntryTimestamp: v.SignedEntryTimestamp },
    inclusionProof: undefined,
    canonicalizedBody: body,
  };
}

function timestampFromAnnotation(text: string, what: string): string {
  try {
    const v = JSON.parse(text) as { SignedRFC3161Timestamp?: unknown };
    if (typeof v.SignedRFC3161Timestamp === 'string') return v.SignedRFC3161Timestamp;
  } catch {
    // reported below
  }
  throw invalid(what, `${CosignAnnotation.Timestamp} has no SignedRFC3161Timestamp`);
}

export type LegacyContent =
  | { kind: 'message'; payload: Uint8Array; signature: string }
  | { kind: 'dsse'; envelope: Envelope };

/**
 * A v0.1 bundle from a keyless legacy layer: the certificate (and chain) annotations, the Rekor
 * SET and timestamp when present, and the signed content. Undefined when the layer carries no
 * certificate (a key-based signature).
 */
export function bundleFromAnnotations(
  annotations: Record<string, string> | undefined,
  content: LegacyContent,
  what: string,
): SerializedBundle | undefined {
  const certPem = annotations?.[CosignAnnotation.Certificate];
  if (!annotations || !certPem) return undefined;
  const certificates = [
    ...pemBlocks(certPem, `${what} ${CosignAnnotation.Certificate}`),
    ...pemBlocks(annotations[CosignAnnotation.Chain] ?? '', `${what} ${CosignAnnotation.Chain}`),
  ].map((rawBytes) => ({ rawBytes }));
  if (certificates.length === 0)
    throw invalid(what, `${CosignAnnotation.Certificate} holds no PEM certificate`);
  const setText = annotations[CosignAnnotation.Bundle];
  const tsText = annotations[CosignAnnotation.Timestamp];
  const verificationMaterial: SerializedBundle['verificationMaterial'] = {
    x509CertificateChain: { certificates },
    publicKey: undefined,
    certificate: undefined,
    tlogEntries: setText ? [tlogEntryFromAnnotation(setText, what)] : [],
    timestampVerificationData: tsText
      ? { rfc3161Timestamps: [{ signedTimestamp: timestampFromAnnotation(tsText, what) }] }
      : undefined,
  };
  if (content.kind === 'message') {
    return {
      mediaType: BUNDLE_V01_MEDIA_TYPE,
      verificationMaterial,
      dsseEnvelope: undefined,
      messageSignature: {
        messageDigest: {
          algorithm: 'SHA2_256',
          digest: createHash('sha256').update(content.payload).digest('base64'),
        },
        signature: content.signature,
      },
    };
  }
  if (content.envelope.signatures.length !== 1) {
    throw invalid(
      what,
      `a keyless attestation needs exactly one signature, found ${content.envelope.signatures.length}`,
    );
  }
  return {
    mediaType: BUNDLE_V01_MEDIA_TYPE,
    verificationMaterial,
    messageSignature: undefined,
    dsseEnvelope: envelopeToJson(content.envelope),
  };
}
