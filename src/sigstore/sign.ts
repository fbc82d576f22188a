/**
 * Producing Sigstore bundles (v0.3 JSON) over @sigstore/sign: key-based with vouch's SigningKey,
 * or keyless with an ephemeral P-256 key and a Fulcio certificate bound to an OIDC token; an
 * optional Rekor (v1 API) entry and RFC 3161 timestamp. Service failures become SIGNING_FAILED
 * naming the service and its URL; the identity token never appears in a message or a cause.
 */
import { createHash, verify as cryptoVerify, type KeyObject, X509Certificate } from 'node:crypto';
import {
  type BundleWithMessageSignature,
  bundleToJSON,
  type MessageSignature,
  toMessageSignatureBundle,
} from '@sigstore/bundle';
import {
  type Artifact as BuilderArtifact,
  type BundleBuilderOptions,
  DSSEBundleBuilder,
  FulcioSigner,
  MessageSignatureBundleBuilder,
  RekorWitness,
  type Signature,
  type Signer,
  TSAWitness,
  type Witness,
} from '@sigstore/sign';
import { pae } from '../attest/dsse.ts';
import { isVouchError, VouchError } from '../errors.ts';
import { hashFor } from '../sign/keys/signing-key.ts';
import type { SigningKey } from '../sign/keys/types.ts';
import { explicitDefaults } from './legacy.ts';
import { parseIdentityToken } from './oidc.ts';
import type { SerializedBundle } from './types.ts';

/** Sigstore's public-good instances (keyless defaults). */
export const DEFAULT_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev';

export type SigningIdentity =
  | { kind: 'key'; key: SigningKey }
  | {
      kind: 'keyless';
      fulcioUrl: string;
      /** The OIDC identity token (see oidc.ts for where it comes from). */
      identityToken: () => Promise<string>;
    };

export interface BundleSigningOptions {
  identity: SigningIdentity;
  /** Upload to this Rekor (v1 API) and put the entry in the bundle; undefined = no tlog entry. */
  rekorUrl?: string | undefined;
  /** Get an RFC 3161 timestamp from this TSA; undefined = none. */
  tsaUrl?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Retries per service request on network errors, 408, 429 and 5xx (default 2). */
  retries?: number | undefined;
  /** Per-request timeout in milliseconds (default 30 s). */
  timeoutMs?: number | undefined;
}

const SERVICES = { fulcio: 'Fulcio', rekor: 'Rekor', tsa: 'TSA' } as const;
type Service = keyof typeof SERVICES;

/** A bundle with a messageSignature over `data` (what cosign sign-blob --bundle writes). */
export async function signMessage(data: Uint8Array, o: BundleSigningOptions): Promise<SerializedBundle> {
  const digest = messageDigestFor(o.identity);
  const { signer, witnesses, context } = prepare(o, 'message');
  const builder = new V03MessageBuilder({ signer, witnesses }, digest);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const bundle = await run(() => builder.create({ data: bytes }), o.signal, context);
  const json = explicitDefaults(bundleToJSON(bundle));
  selfCheck(json, bytes, context);
  return json;
}

/** A bundle with a DSSE envelope over `payload` (attestations, cosign v3 image signatures). */
export async function signDsse(
  payload: Uint8Array,
  payloadType: string,
  o: BundleSigningOptions,
): Promise<SerializedBundle> {
  if (payloadType === '') throw new VouchError('ENVELOPE_INVALID', 'DSSE payloadType is empty');
  const { signer, witnesses, context } = prepare(o, 'dsse');
  // certificateChain false: v0.3 media type, the leaf alone as `certificate`.
  const builder = new DSSEBundleBuilder({ signer, witnesses, certificateChain: false });
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const bundle = await run(() => builder.create({ data: bytes, type: payloadType }), o.signal, context);
  const json = explicitDefaults(bundleToJSON(bundle));
  selfCheck(json, pae(payloadType, bytes), context);
  return json;
}

/** @sigstore/sign's Signer over a vouch SigningKey: bundles then carry `publicKey.hint`. */
export function keySigner(key: SigningKey): Signer {
  return {
    sign: async (data: Buffer): Promise<Signature> => ({
      signature: key.sign(data),
      key: { $case: 'publicKey', publicKey: key.publicKeyPem, hint: key.hint },
    }),
  };
}

type DigestName = 'sha256' | 'sha384' | 'sha512';
type HashAlgorithm = NonNullable<MessageSignature['messageDigest']>['algorithm'];
// protobuf-specs HashAlgorithm values (sigstore_common.proto).
const HASH_ALGORITHM: Record<DigestName, number> = { sha256: 1, sha384: 2, sha512: 3 };

/** The digest a message bundle records: the one the key signs over (Ed25519: SHA-256, informative). */
function messageDigestFor(identity: SigningIdentity): DigestName {
  if (identity.kind === 'keyless') return 'sha256';
  const h = hashFor(identity.key.algorithm);
  return h === 'sha384' || h === 'sha512' ? h : 'sha256';
}

/**
 * @sigstore/sign's message builder writes v0.2 bundles (a certificate chain); vouch writes v0.3:
 * the leaf alone, and a messageDigest in the hash the key signs with.
 */
class V03MessageBuilder extends MessageSignatureBundleBuilder {
  readonly #digest: DigestName;
  constructor(options: BundleBuilderOptions, digest: DigestName) {
    super(options);
    this.#digest = digest;
  }
  protected override async package(
    artifact: BuilderArtifact,
    signature: Signature,
  ): Promise<BundleWithMessageSignature> {
    const bundle = toMessageSignatureBundle({
      digest: createHash(this.#digest).update(artifact.data).digest(),
      signature: signature.signature,
      ...(signature.key.$case === 'x509Certificate'
        ? { certificate: pemToDer(signature.key.certificate) }
        : { keyHint: signature.key.hint ?? '' }),
      certificateChain: false,
    });
    const md = bundle.content.messageSignature.messageDigest;
    if (md) md.algorithm = HASH_ALGORITHM[this.#digest] as HashAlgorithm;
    return bundle;
  }
}

interface Context {
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  /** The last identity token handed to Fulcio, to scrub from any message. */
  token?: string;
  key?: SigningKey;
}

function prepare(
  o: BundleSigningOptions,
  content: 'message' | 'dsse',
): { signer: Signer; witnesses: Witness[]; context: Context } {
  if (o.identity.kind === 'keyless' && o.rekorUrl === undefined && o.tsaUrl === undefined) {
    // Fulcio certificates live minutes: without a witnessed signing time nothing can verify.
    throw new VouchError('USAGE', 'keyless signing needs a Rekor or a TSA URL to witness the signing time');
  }
  const context: Context = {};
  const fetchOptions = {
    retry: { retries: o.retries ?? 2, factor: 2, minTimeout: 250, maxTimeout: 4000 },
    timeout: o.timeoutMs ?? 30_000,
  };
  let signer: Signer;
  if (o.identity.kind === 'key') {
    context.key = o.identity.key;
    signer = keySigner(o.identity.key);
  } else {
    const fulcioUrl = serviceUrl(o.identity.fulcioUrl, 'fulcio');
    context.fulcioUrl = fulcioUrl;
    const getToken = o.identity.identityToken;
    const fulcio = new FulcioSigner({
      fulcioBaseURL: fulcioUrl,
      identityProvider: {
        getToken: async () => {
          const token = await getToken();
          context.token = token;
          // Refuse a malformed or expired token here, with a message that never shows it.
          parseIdentityToken(token, 'the identity provider');
          return token;
        },
      },
      ...fetchOptions,
    });
    signer = { sign: (data) => guard('fulcio', fulcioUrl, context, () => fulcio.sign(data)) };
  }
  const witnesses: Witness[] = [];
  if (o.rekorUrl !== undefined) {
    if (o.identity.kind === 'key') checkRekorKey(o.identity.key, content);
    const rekorUrl = serviceUrl(o.rekorUrl, 'rekor');
    context.rekorUrl = rekorUrl;
    const rekor = new RekorWitness({ rekorBaseURL: rekorUrl, entryType: 'dsse', ...fetchOptions });
    witnesses.push({ testify: (c, k) => guard('rekor', rekorUrl, context, () => rekor.testify(c, k)) });
  }
  if (o.tsaUrl !== undefined) {
    const tsaUrl = serviceUrl(o.tsaUrl, 'tsa');
    context.tsaUrl = tsaUrl;
    const tsa = new TSAWitness({ tsaBaseURL: tsaUrl, ...fetchOptions });
    witnesses.push({ testify: (c) => guard('tsa', tsaUrl, context, () => tsa.testify(c)) });
  }
  return { signer, witnesses, context };
}

/**
 * Rekor checks what it logs with SHA-256 (hashedrekord: a SHA-256 digest; dsse: the PAE hashed
 * with SHA-256, or pure Ed25519), so keys signing over another hash cannot be logged.
 */
function checkRekorKey(key: SigningKey, content: 'message' | 'dsse'): void {
  const hash = hashFor(key.algorithm);
  if (hash === 'sha256' || (hash === null && content === 'dsse')) return;
  const signs = hash === null ? 'the raw bytes (pure Ed25519)' : hash.toUpperCase();
  throw new VouchError(
    'KEY_UNSUPPORTED',
    `a ${key.algorithm} key signs over ${signs}, but Rekor checks ${content === 'message' ? 'hashedrekord' : 'dsse'} entries with SHA-256`,
    { hint: 'upload to Rekor with an ECDSA P-256 or RSA key, or sign without a transparency log' },
  );
}

/** An http(s) URL without trailing slashes (the clients append `/api/...`). */
function serviceUrl(url: string, service: Service): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new VouchError('USAGE', `${SERVICES[service]} URL "${url}" is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new VouchError('USAGE', `${SERVICES[service]} URL "${url}" is not http(s)`);
  }
  return url.replace(/\/+$/, '');
}

/** Run one service call, turning its failure into a VouchError that names the service. */
async function guard<T>(service: Service, url: string, context: Context, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw serviceError(service, url, context, e);
  }
}

interface SigstoreInternalError {
  code: string;
  message: string;
  cause?: unknown;
}

function isInternalError(e: unknown): e is SigstoreInternalError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}

function serviceError(service: Service, url: string, context: Context, e: unknown): VouchError {
  if (isVouchError(e)) return e;
  const name = SERVICES[service];
  if (isInternalError(e)) {
    if (e.code === 'IDENTITY_TOKEN_READ_ERROR') {
      // Our own provider threw (no token, malformed, expired): its error already says why.
      if (isVouchError(e.cause)) return e.cause;
      return new VouchError(
        'IDENTITY_TOKEN_INVALID',
        `could not get an identity token: ${describe(e.cause, context)}`,
      );
    }
    if (e.code === 'IDENTITY_TOKEN_PARSE_ERROR') {
      // sigstore-js puts the whole token in this message: never pass it (or it) on.
      return new VouchError('IDENTITY_TOKEN_INVALID', 'the identity token has no usable subject for Fulcio');
    }
  }
  const inner = isInternalError(e) && e.cause !== undefined ? e.cause : e;
  const status = (inner as { statusCode?: unknown }).statusCode;
  const detail = describe(inner, context);
  // HTTPError messages read `(<status>) <text>`.
  const message =
    typeof status === 'number'
      ? `${name} at ${url} refused the request (HTTP ${status}: ${detail.replace(/^\(\d+\)\s*/, '')})`
      : `${name} at ${url} failed: ${detail}`;
  return new VouchError('SIGNING_FAILED', message, {
    cause: new Error(detail),
    ...(typeof status === 'number' && (status === 401 || status === 403) && service === 'fulcio'
      ? { hint: 'Fulcio did not accept the identity token: check its issuer, audience and expiry' }
      : {}),
  });
}

const JWT_LIKE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/** An error's message with anything token-like removed. */
function describe(e: unknown, context: Context): string {
  let text = e instanceof Error ? e.message : String(e);
  if (context.token) text = text.split(context.token).join('[token]');
  return text.replace(JWT_LIKE, '[token]').slice(0, 500) || 'unknown error';
}

async function run<T>(
  create: () => Promise<T>,
  signal: AbortSignal | undefined,
  context: Context,
): Promise<T> {
  if (signal?.aborted) throw aborted(signal);
  const work = create().catch((e: unknown) => {
    throw isVouchError(e)
      ? e
      : new VouchError('SIGNING_FAILED', `signing failed: ${describe(e, context)}`, {
          cause: new Error(describe(e, context)),
        });
  });
  if (!signal) return work;
  // The HTTP clients of @sigstore/sign take no signal: stop waiting, let the request finish.
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    onAbort = () => reject(aborted(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, stop]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    work.catch(() => {});
  }
}

function aborted(signal: AbortSignal): VouchError {
  return new VouchError('ABORTED', 'signing was aborted', { cause: signal.reason });
}

/**
 * Check the bundle before handing it out: the signature verifies with the key it names (a
 * Fulcio certificate for another key would otherwise surface only at verification), and a
 * requested Rekor entry came back with a proof or promise of inclusion.
 */
function selfCheck(json: SerializedBundle, signed: Buffer, context: Context): void {
  const vm = json.verificationMaterial;
  const sigB64 = json.messageSignature?.signature ?? json.dsseEnvelope?.signatures[0]?.sig;
  if (!sigB64) throw new VouchError('INTERNAL', 'bundle without a signature');
  const signature = Buffer.from(sigB64, 'base64');
  if (vm.certificate) {
    // Keyless signatures come from the ephemeral P-256 key: SHA-256.
    const cert = new X509Certificate(Buffer.from(vm.certificate.rawBytes, 'base64'));
    if (!verifyWith(cert.publicKey, signed, signature)) {
      throw new VouchError(
        'SIGNING_FAILED',
        `Fulcio at ${context.fulcioUrl ?? '?'} issued a certificate for another key than the one that signed`,
      );
    }
  } else if (context.key && !context.key.verify(signed, signature)) {
    throw new VouchError('SIGNING_FAILED', 'the signing key produced a signature it cannot verify');
  }
  if (context.rekorUrl) {
    const entry = vm.tlogEntries[0];
    if (!entry || (!entry.inclusionPromise && !entry.inclusionProof)) {
      throw new VouchError(
        'SIGNING_FAILED',
        `Rekor at ${context.rekorUrl} returned an entry without inclusion proof or promise`,
      );
    }
  }
}

function verifyWith(key: KeyObject, data: Buffer, signature: Buffer): boolean {
  try {
    return cryptoVerify(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key, signature);
  } catch {
    return false;
  }
}

function pemToDer(pem: string): Buffer {
  return new X509Certificate(pem).raw;
}
