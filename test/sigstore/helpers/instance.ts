/**
 * Test support: a private, in-process Sigstore instance (Fulcio-like CA with root and
 * intermediate, a CT log issuing embedded SCTs, a Rekor-v1-like transparency log with SETs,
 * Merkle inclusion proofs and signed checkpoints) plus its trusted_root.json, so bundles with any
 * identity can be made and verified offline. Bundles are built exactly as Sigstore clients
 * write them (bundle v0.3 JSON, hashedrekord / dsse 0.0.1 entries).
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { json as canonicalJson } from '@sigstore/core';
import { pae } from '../../../src/attest/dsse.ts';
import {
  hashFor,
  signingKeyFromKeyObject,
  verificationKeyFromKeyObject,
} from '../../../src/sign/keys/signing-key.ts';
import {
  bool,
  certificate,
  ctx,
  ctxPrim,
  extension,
  int,
  keyId,
  name,
  namedBits,
  octet,
  oid,
  pem,
  seq,
  spki,
  tbs,
  utf8,
} from './der.ts';
import type { BundleJson, TlogEntryJson, TrustedRootJson } from './json.ts';

/** Fixed clock: everything happens on 2026-01-01, so tests never depend on the real time. */
export const T0 = new Date('2026-01-01T00:00:00Z');

const FULCIO = '1.3.6.1.4.1.57264.1';

export interface KeyPair {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export function ecKeyPair(): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();

export type San = { uri: string } | { email: string } | { otherName: string };

export interface LeafOptions {
  san: San;
  /** OIDC issuer in the current DER form (1.8); null leaves it out. */
  issuer?: string | null;
  /** Issuer in the deprecated raw form (1.1). */
  issuerV1?: string;
  /** Raw GitHub claims 1.2-1.6 by OID suffix. */
  rawClaims?: Partial<Record<2 | 3 | 4 | 5 | 6, string>>;
  /** DER claims 1.9-1.22 by OID suffix. */
  derClaims?: Partial<Record<number, string>>;
  notBefore?: Date;
  notAfter?: Date;
  /** Leave out the embedded SCT. */
  noSct?: boolean;
}

interface CertAuthority {
  rootKey: KeyPair;
  root: Buffer;
  intermediateKey: KeyPair;
  intermediate: Buffer;
}

/** RFC 6962 Merkle tree over the entries logged so far. */
function leafHash(b: Uint8Array): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0]))
    .update(b)
    .digest();
}
function nodeHash(l: Buffer, r: Buffer): Buffer {
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(l)
    .update(r)
    .digest();
}
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  const k = 2 ** Math.floor(Math.log2(leaves.length - 1));
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
/** Audit path for leaf m in leaves (RFC 6962 2.1.1), lowest level first. */
function auditPath(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = 2 ** Math.floor(Math.log2(leaves.length - 1));
  return m < k
    ? [...auditPath(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...auditPath(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

export class TestLog {
  readonly key = ecKeyPair();
  readonly logId = sha256(spki(this.key.publicKey));
  readonly host: string;
  readonly leaves: Buffer[] = [];

  constructor(host = 'rekor.vouch.test') {
    this.host = host;
  }

  get baseUrl(): string {
    return `https://${this.host}`;
  }

  /** Append `body` and return the bundle entry (SET + proof against a signed checkpoint). */
  append(body: object, integratedTime: Date): Required<TlogEntryJson> {
    const bodyBytes = Buffer.from(canonicalJson.canonicalize(body), 'utf8');
    this.leaves.push(leafHash(bodyBytes));
    const index = this.leaves.length - 1;
    const size = this.leaves.length;
    const time = Math.floor(integratedTime.getTime() / 1000);
    const set = sign(
      'sha256',
      Buffer.from(
        canonicalJson.canonicalize({
          body: bodyBytes.toString('base64'),
          integratedTime: time,
          logIndex: index,
          logID: this.logId.toString('hex'),
        }),
      ),
      this.key.privateKey,
    );
    const root = mth(this.leaves);
    const note = `${this.host} - 1\n${size}\n${root.toString('base64')}\n`;
    const noteSig = sign('sha256', Buffer.from(note), this.key.privateKey);
    const envelope = `${note}\n\u2014 ${this.host} ${Buffer.concat([this.logId.subarray(0, 4), noteSig]).toString('base64')}\n`;
    return {
      logIndex: String(index),
      logId: { keyId: this.logId.toString('base64') },
      kindVersion: {
        kind: (body as { kind: string }).kind,
        version: (body as { apiVersion: string }).apiVersion,
      },
      integratedTime: String(time),
      inclusionPromise: { signedEntryTimestamp: set.toString('base64') },
      inclusionProof: {
        logIndex: String(index),
        rootHash: root.toString('base64'),
        treeSize: String(size),
        hashes: auditPath(index, this.leaves).map((h) => h.toString('base64')),
        checkpoint: { envelope },
      },
      canonicalizedBody: bodyBytes.toString('base64'),
    };
  }
}

export class TestCTLog {
  readonly key = ecKeyPair();
  readonly logId = sha256(spki(this.key.publicKey));

  /** A v1 SCT over the precertificate TBS, issued by the CA whose key is `issuerKey`. */
  sct(tbsWithoutSct: Buffer, issuerKey: KeyObject, at: Date): Buffer {
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(BigInt(at.getTime()));
    const len24 = Buffer.alloc(3);
    len24.writeUIntBE(tbsWithoutSct.length, 0, 3);
    const signed = Buffer.concat([
      Buffer.from([0, 0]), // v1, certificate_timestamp
      ts,
      Buffer.from([0, 1]), // precert_entry
      sha256(spki(issuerKey)),
      len24,
      tbsWithoutSct,
      Buffer.from([0, 0]), // no extensions
    ]);
    const sig = sign('sha256', signed, this.key.privateKey);
    const sigLen = Buffer.alloc(2);
    sigLen.writeUInt16BE(sig.length);
    return Buffer.concat([Buffer.from([0]), this.logId, ts, Buffer.from([0, 0, 4, 3]), sigLen, sig]);
  }
}

export interface Instance {
  ca: CertAuthority;
  ct: TestCTLog;
  log: TestLog;
  /** trusted_root.json for this instance (fresh object each call). */
  trustedRoot(): TrustedRootJson;
  /** A Fulcio-style leaf for `publicKey`, valid 10 minutes from `at`. */
  issue(publicKey: KeyObject, o: LeafOptions, at?: Date): Buffer;
}

export function createInstance(): Instance {
  const rootKey = ecKeyPair();
  const intermediateKey = ecKeyPair();
  const rootName = name({ org: 'vouch.test', cn: 'vouch-test-root' });
  const intName = name({ org: 'vouch.test', cn: 'vouch-test-intermediate' });
  const caStart = new Date(T0.getTime() - 365 * 86400_000);
  const caEnd = new Date(T0.getTime() + 365 * 86400_000);
  const caExts = (key: KeyObject, issuer: KeyObject | undefined, pathLen: number) => [
    extension('2.5.29.15', true, namedBits([5, 6])),
    extension('2.5.29.19', true, seq(bool(true), int(pathLen))),
    extension('2.5.29.14', false, octet(keyId(key))),
    ...(issuer ? [extension('2.5.29.35', false, seq(ctxPrim(0, keyId(issuer))))] : []),
  ];
  const root = certificate(
    tbs({
      serial: 1n,
      issuer: rootName,
      subject: rootName,
      notBefore: caStart,
      notAfter: caEnd,
      publicKey: rootKey.publicKey,
      extensions: caExts(rootKey.publicKey, undefined, 1),
    }),
    rootKey.privateKey,
  );
  const intermediate = certificate(
    tbs({
      serial: 2n,
      issuer: rootName,
      subject: intName,
      notBefore: caStart,
      notAfter: caEnd,
      publicKey: intermediateKey.publicKey,
      extensions: caExts(intermediateKey.publicKey, rootKey.publicKey, 0),
    }),
    rootKey.privateKey,
  );
  const ca: CertAuthority = { rootKey, root, intermediateKey, intermediate };
  const ct = new TestCTLog();
  const log = new TestLog();
  let serial = 100n;

  const issue = (publicKey: KeyObject, o: LeafOptions, at: Date = T0): Buffer => {
    const notBefore = o.notBefore ?? new Date(at.getTime() - 60_000);
    const notAfter = o.notAfter ?? new Date(at.getTime() + 10 * 60_000);
    const san =
      'uri' in o.san
        ? ctxPrim(6, Buffer.from(o.san.uri))
        : 'email' in o.san
          ? ctxPrim(1, Buffer.from(o.san.email))
          : ctx(0, oid(`${FULCIO}.7`), ctx(0, utf8(o.san.otherName)));
    const exts = [
      extension('2.5.29.15', true, namedBits([0])),
      extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.3'))),
      extension('2.5.29.14', false, octet(keyId(publicKey))),
      extension('2.5.29.35', false, seq(ctxPrim(0, keyId(intermediateKey.publicKey)))),
      extension('2.5.29.17', true, seq(san)),
    ];
    if (o.issuerV1 !== undefined) exts.push(extension(`${FULCIO}.1`, false, Buffer.from(o.issuerV1)));
    for (const [n, v] of Object.entries(o.rawClaims ?? {})) {
      exts.push(extension(`${FULCIO}.${n}`, false, Buffer.from(v)));
    }
    const issuer = o.issuer === undefined ? 'https://issuer.vouch.test' : o.issuer;
    if (issuer !== null) exts.push(extension(`${FULCIO}.8`, false, utf8(issuer)));
    for (const [n, v] of Object.entries(o.derClaims ?? {})) {
      if (v !== undefined) exts.push(extension(`${FULCIO}.${n}`, false, utf8(v)));
    }
    const spec = {
      serial: serial++,
      issuer: intName,
      subject: name({}),
      notBefore,
      notAfter,
      publicKey,
      extensions: exts,
    };
    if (!o.noSct) {
      const sct = ct.sct(tbs(spec), intermediateKey.publicKey, at);
      const list = Buffer.alloc(4);
      list.writeUInt16BE(sct.length + 2, 0);
      list.writeUInt16BE(sct.length, 2);
      spec.extensions = [
        ...exts,
        extension('1.3.6.1.4.1.11129.2.4.2', false, octet(Buffer.concat([list, sct]))),
      ];
    }
    return certificate(tbs(spec), intermediateKey.privateKey);
  };

  const validFor = { start: new Date(T0.getTime() - 365 * 86400_000).toISOString() };
  const trustedRoot = (): TrustedRootJson => ({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: log.baseUrl,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: spki(log.key.publicKey).toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { ...validFor },
        },
        logId: { keyId: log.logId.toString('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'vouch.test', commonName: 'vouch-test-root' },
        uri: 'https://fulcio.vouch.test',
        certChain: {
          certificates: [
            { rawBytes: intermediate.toString('base64') },
            { rawBytes: root.toString('base64') },
          ],
        },
        validFor: { ...validFor },
      },
    ],
    ctlogs: [
      {
        baseUrl: 'https://ctfe.vouch.test',
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: spki(ct.key.publicKey).toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { ...validFor },
        },
        logId: { keyId: ct.logId.toString('base64') },
      },
    ],
    timestampAuthorities: [],
  });
  return { ca, ct, log, trustedRoot, issue };
}

// ---- bundles ----

export type Signer =
  | { kind: 'certificate'; cert: Buffer; key: KeyObject }
  | { kind: 'key'; key: KeyObject; publicKey: KeyObject; hint?: string };

/** Base64 SHA-256 of the DER SPKI: the hint vouch (and cosign) put in key bundles. */
export function keyHint(publicKey: KeyObject): string {
  return sha256(spki(publicKey)).toString('base64');
}

function verificationMaterial(signer: Signer, entries: TlogEntryJson[]): BundleJson['verificationMaterial'] {
  const content =
    signer.kind === 'certificate'
      ? { certificate: { rawBytes: signer.cert.toString('base64') } }
      : { publicKey: { hint: signer.hint ?? keyHint(signer.publicKey) } };
  return { ...content, tlogEntries: entries };
}

function signerPem(signer: Signer): string {
  return signer.kind === 'certificate' ? pem(signer.cert) : pem(spki(signer.publicKey), 'PUBLIC KEY');
}

export interface BundleOptions {
  /** Log the signature here (omit for a bundle without tlog entries). */
  log?: TestLog;
  at?: Date;
}

/** A v0.3 messageSignature bundle over `artifact` (what `cosign sign-blob --bundle` writes). */
export function messageBundle(artifact: Uint8Array, signer: Signer, o: BundleOptions = {}): BundleJson {
  // Sign as cosign (and src/sign/keys) do: P-384 over SHA-384, P-521 over SHA-512, Ed25519 pure.
  const hash = hashFor(verificationKeyFromKeyObject(createPublicKey(signer.key)).algorithm) ?? 'sha256';
  const digest = createHash(hash).update(artifact).digest();
  const sig = signingKeyFromKeyObject(signer.key).sign(artifact);
  const entries = o.log
    ? [
        o.log.append(
          {
            apiVersion: '0.0.1',
            kind: 'hashedrekord',
            spec: {
              data: { hash: { algorithm: hash, value: digest.toString('hex') } },
              signature: {
                content: sig.toString('base64'),
                publicKey: { content: Buffer.from(signerPem(signer)).toString('base64') },
              },
            },
          },
          o.at ?? T0,
        ),
      ]
    : [];
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: verificationMaterial(signer, entries),
    messageSignature: {
      messageDigest: { algorithm: `SHA2_${hash.slice(3)}`, digest: digest.toString('base64') },
      signature: sig.toString('base64'),
    },
  };
}

/** A v0.3 DSSE bundle (attestations, cosign v3 image signatures), logged as a dsse 0.0.1 entry. */
export function dsseBundle(
  payloadType: string,
  payload: Uint8Array,
  signer: Signer,
  o: BundleOptions = {},
): BundleJson {
  const sig = signingKeyFromKeyObject(signer.key).sign(pae(payloadType, payload));
  const envelope = {
    payload: Buffer.from(payload).toString('base64'),
    payloadType,
    signatures: [{ sig: sig.toString('base64'), keyid: '' }],
  };
  const entries = o.log
    ? [
        o.log.append(
          {
            apiVersion: '0.0.1',
            kind: 'dsse',
            spec: {
              envelopeHash: {
                algorithm: 'sha256',
                value: sha256(Buffer.from(JSON.stringify(envelope))).toString('hex'),
              },
              payloadHash: { algorithm: 'sha256', value: sha256(payload).toString('hex') },
              signatures: [
                {
                  signature: sig.toString('base64'),
                  verifier: Buffer.from(signerPem(signer)).toString('base64'),
                },
              ],
            },
          },
          o.at ?? T0,
        ),
      ]
    : [];
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: verificationMaterial(signer, entries),
    dsseEnvelope: envelope,
  };
}

/** Keyless signing on this instance: a fresh key, a leaf for `leaf`, the entry in the log. */
export function keylessSigner(inst: Instance, leaf: LeafOptions, at: Date = T0): Signer {
  const key = ecKeyPair();
  return { kind: 'certificate', cert: inst.issue(key.publicKey, leaf, at), key: key.privateKey };
}
