/**
 * What a Fulcio certificate says about its signer: the one SAN that identifies it (first URI,
 * else email, else the Fulcio OtherName, as sigstore-go) and the OIDC / CI claims Fulcio copies
 * into extensions under 1.3.6.1.4.1.57264.1.x (sigstore/fulcio docs/oid-info.md).
 *
 * Extensions 1.1-1.6 hold the raw string bytes (the first, deprecated encoding); 1.8 and later
 * hold a DER UTF8String. The issuer is read from 1.8 first, then 1.1.
 */
import { ASN1Obj, X509Certificate } from '@sigstore/core';
import { VouchError } from '../errors.ts';
import type { CertificateClaims } from './types.ts';

const FULCIO = '1.3.6.1.4.1.57264.1';
const SAN_OID = '2.5.29.17';
/** OtherName type Fulcio uses for usernames (e.g. `user!example.com`). */
export const FULCIO_OTHERNAME_SAN_OID = `${FULCIO}.7`;

/** Claims stored as raw bytes (the deprecated encoding), by OID suffix. */
const RAW_CLAIMS = {
  1: 'issuer',
  2: 'githubWorkflowTrigger',
  3: 'githubWorkflowSha',
  4: 'githubWorkflowName',
  5: 'githubWorkflowRepository',
  6: 'githubWorkflowRef',
} as const satisfies Record<number, keyof CertificateClaims>;

/** Claims stored as DER UTF8String, by OID suffix. 8 = issuer (wins over 1). */
const DER_CLAIMS = {
  8: 'issuer',
  9: 'buildSignerURI',
  10: 'buildSignerDigest',
  11: 'runnerEnvironment',
  12: 'sourceRepositoryURI',
  13: 'sourceRepositoryDigest',
  14: 'sourceRepositoryRef',
  15: 'sourceRepositoryIdentifier',
  16: 'sourceRepositoryOwnerURI',
  17: 'sourceRepositoryOwnerIdentifier',
  18: 'buildConfigURI',
  19: 'buildConfigDigest',
  20: 'buildTrigger',
  21: 'runInvocationURI',
  22: 'sourceRepositoryVisibilityAtSigning',
} as const satisfies Record<number, keyof CertificateClaims>;

/** Read the claims of a leaf certificate (DER bytes or a parsed certificate). */
export function certificateClaims(cert: Uint8Array | X509Certificate): CertificateClaims {
  const c = cert instanceof X509Certificate ? cert : parse(cert);
  const extensions = new Map<string, Buffer>();
  for (const ext of c.extensions) {
    const oid = ext.subs[0]?.toOID();
    const value = ext.subs[ext.subs.length - 1]?.value;
    if (oid !== undefined && value !== undefined) extensions.set(oid, value);
  }
  const san = extensions.get(SAN_OID);
  if (san === undefined) throw invalid('has no subject alternative name');
  const claims: CertificateClaims = { subjectAlternativeName: signerSan(san) };
  for (const [n, name] of Object.entries(RAW_CLAIMS)) {
    const v = extensions.get(`${FULCIO}.${n}`);
    if (v !== undefined) claims[name] = v.toString('utf8');
  }
  for (const [n, name] of Object.entries(DER_CLAIMS)) {
    const v = extensions.get(`${FULCIO}.${n}`);
    if (v !== undefined) claims[name] = derString(v, `${FULCIO}.${n}`);
  }
  return claims;
}

function parse(der: Uint8Array): X509Certificate {
  try {
    const c = X509Certificate.parse(Buffer.from(der));
    void c.extensions;
    return c;
  } catch (e) {
    throw invalid('is not a DER X.509 certificate', e);
  }
}

/** GeneralNames: first URI [6], else first rfc822Name [1], else the Fulcio OtherName [0]. */
function signerSan(extnValue: Buffer): string {
  let names: ASN1Obj[];
  try {
    names = ASN1Obj.parseBuffer(Buffer.from(extnValue)).subs;
  } catch (e) {
    throw invalid('has a malformed subject alternative name', e);
  }
  const uri = names.find((n) => n.tag.isContextSpecific(6));
  if (uri) return uri.value.toString('utf8');
  const email = names.find((n) => n.tag.isContextSpecific(1));
  if (email) return email.value.toString('utf8');
  for (const n of names.filter((g) => g.tag.isContextSpecific(0))) {
    // OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY } (implicitly tagged [0])
    const [typeId, value] = n.subs;
    if (typeId?.tag.isOID() && typeId.toOID() === FULCIO_OTHERNAME_SAN_OID && value?.subs[0]) {
      return value.subs[0].value.toString('utf8');
    }
  }
  throw invalid('has no URI, email or Fulcio username subject alternative name');
}

const UTF8_STRING = 0x0c;

function derString(v: Buffer, oid: string): string {
  try {
    const s = ASN1Obj.parseBuffer(Buffer.from(v));
    if (s.tag.isUniversal() && s.tag.number === UTF8_STRING) return s.value.toString('utf8');
  } catch {
    // reported below
  }
  throw invalid(`extension ${oid} is not a DER UTF8String`);
}

function invalid(message: string, cause?: unknown): VouchError {
  return new VouchError(
    'CERTIFICATE_INVALID',
    `signing certificate ${message}`,
    cause === undefined ? {} : { cause },
  );
}
