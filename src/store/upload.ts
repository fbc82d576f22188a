/**
 * Upload one release's artifacts for one architecture: each SBOM, scan report and attestation,
 * and beside each its detached signature `<key>.sig` (cosign sign-blob's base64 format).
 *
 * Idempotent: an artifact whose stored bytes already have the same SHA-256 is left alone
 * (`unchanged`), and so is its `.sig` when it still verifies (or, without a `verify` check,
 * when it is a well-formed signature); different bytes are overwritten atomically (`replaced`).
 * Running the upload twice therefore leaves the same store and reports everything `unchanged`.
 *
 * Order, and what a crash leaves: a `.sig` must never sit beside bytes it does not sign. So
 * for a new or changed artifact vouch (1) signs the bytes first (a signer failure changes
 * nothing), (2) deletes the old `.sig`, (3) writes the artifact, (4) writes the new `.sig`.
 * Stopped after 2 or 3, the store holds an artifact without a signature: readers fail closed
 * with SIGNATURE_NOT_FOUND (fetch.ts) and the next run writes the missing `.sig`. At no point
 * does a stored `.sig` belong to other bytes than the artifact beside it. (Two uploads of the
 * same release at the same time can still interleave; verification then fails closed.)
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isVouchError, VouchError } from '../errors.ts';
import {
  ARTIFACT_KINDS,
  type ArtifactKind,
  artifactKey,
  CONTENT_TYPES,
  type ImageId,
  imageSlug,
  isArtifactKind,
  SIGNATURE_CONTENT_TYPE,
  signatureKey,
} from './layout.ts';
import { decodeSignature, encodeSignature } from './signature.ts';
import { type ArtifactStore, readAll, sha256Hex } from './store.ts';

export interface ArtifactFile {
  kind: ArtifactKind;
  /** The file to upload. */
  path: string;
}

/** Signs the artifact's bytes and returns the raw signature (DER for ECDSA), as cosign sign-blob. */
export type BlobSigner = (bytes: Uint8Array) => Promise<Uint8Array>;
/** True when `signature` is a valid signature of `bytes` by the key the release is signed with. */
export type SignatureCheck = (bytes: Uint8Array, signature: Uint8Array) => boolean | Promise<boolean>;

export interface UploadRequest {
  image: ImageId;
  arch: string;
  files: ArtifactFile[];
  sign: BlobSigner;
  /**
   * Checks an existing `.sig` of unchanged bytes before keeping it. Without it, a well-formed
   * existing signature is kept: after a key rotation pass `verify`, or the old key's signatures stay.
   */
  verify?: SignatureCheck;
  signal?: AbortSignal;
}

export const UPLOAD_STATUSES = ['created', 'unchanged', 'replaced'] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

export interface UploadedObject {
  kind: ArtifactKind | 'signature';
  key: string;
  /** Hex SHA-256 of the stored bytes. */
  sha256: string;
  size: number;
  status: UploadStatus;
}

/** What the upload did, for the pipeline log. */
export interface UploadManifest {
  store: string;
  image: string;
  arch: string;
  /** For each file in the order given: the artifact, then its `.sig`. */
  objects: UploadedObject[];
}

export async function uploadArtifacts(store: ArtifactStore, req: UploadRequest): Promise<UploadManifest> {
  const image = imageSlug(req.image);
  const seen = new Set<ArtifactKind>();
  for (const f of req.files) {
    if (!isArtifactKind(f.kind)) {
      throw new VouchError(
        'USAGE',
        `unknown artifact kind "${f.kind}" (known: ${ARTIFACT_KINDS.join(', ')})`,
      );
    }
    if (seen.has(f.kind)) throw new VouchError('USAGE', `artifact kind ${f.kind} is given twice (${f.path})`);
    seen.add(f.kind);
  }
  // Read every file and compute every key first, so a bad request writes nothing.
  const prepared: Prepared[] = [];
  for (const f of req.files) {
    const key = artifactKey(f.kind, req.image, req.arch);
    const bytes = await readArtifact(f.path);
    prepared.push({ kind: f.kind, key, sigKey: signatureKey(key), bytes, sha256: sha256Hex(bytes) });
  }
  const objects: UploadedObject[] = [];
  for (const p of prepared) objects.push(...(await uploadOne(store, req, p)));
  return { store: store.description, image, arch: req.arch, objects };
}

interface Prepared {
  kind: ArtifactKind;
  key: string;
  sigKey: string;
  bytes: Uint8Array;
  sha256: string;
}

async function uploadOne(
  store: ArtifactStore,
  req: UploadRequest,
  { kind, key, sigKey, bytes, sha256 }: Prepared,
): Promise<[UploadedObject, UploadedObject]> {
  const { signal } = req;
  const before = await storedState(store, key, bytes, sha256, signal);

  if (before === 'same') {
    const artifact: UploadedObject = { kind, key, sha256, size: bytes.byteLength, status: 'unchanged' };
    const existing = await existingSignature(store, sigKey, bytes, req.verify, signal);
    if (existing.kept) return [artifact, existing.kept];
    const signature = await signBytes(req.sign, bytes, sigKey);
    return [artifact, await putSignature(store, sigKey, signature, existing.existed, signal)];
  }

  const signature = await signBytes(req.sign, bytes, key);
  const sigBefore = await store.head(sigKey, { signal });
  if (sigBefore !== undefined) await store.delete(sigKey, { signal });
  const put = await store.put(key, bytes, { contentType: CONTENT_TYPES[kind], signal });
  const artifact: UploadedObject = {
    kind,
    key,
    sha256: put.sha256,
    size: put.size,
    status: before === 'absent' ? 'created' : 'replaced',
  };
  return [artifact, await putSignature(store, sigKey, signature, sigBefore !== undefined, signal)];
}

/**
 * Whether `key` already holds `bytes`: by the store's SHA-256, cross-checked with the server's
 * MD5 when it has one (an S3 ETag), and by reading the object only when the store knows neither.
 */
async function storedState(
  store: ArtifactStore,
  key: string,
  bytes: Uint8Array,
  sha256: string,
  signal: AbortSignal | undefined,
): Promise<'absent' | 'same' | 'different'> {
  const info = await store.head(key, { signal });
  if (info === undefined) return 'absent';
  if (info.size !== bytes.byteLength) return 'different';
  if (info.md5 !== undefined && info.md5 !== createHash('md5').update(bytes).digest('hex'))
    return 'different';
  if (info.sha256 !== undefined) return info.sha256 === sha256 ? 'same' : 'different';
  // Written by another tool without a checksum: read it and compare.
  const obj = await store.get(key, { signal });
  if (obj === undefined) return 'absent';
  return sha256Hex(await readAll(obj)) === sha256 ? 'same' : 'different';
}

/**
 * The `.sig` already stored for unchanged bytes: kept (as an unchanged entry) when it is intact,
 * well-formed and, if `verify` is given, verifies; else it will be signed again.
 */
async function existingSignature(
  store: ArtifactStore,
  sigKey: string,
  bytes: Uint8Array,
  verify: SignatureCheck | undefined,
  signal: AbortSignal | undefined,
): Promise<{ existed: boolean; kept?: UploadedObject }> {
  const obj = await store.get(sigKey, { signal });
  if (obj === undefined) return { existed: false };
  let text: Uint8Array;
  let signature: Uint8Array;
  try {
    text = await readAll(obj, MAX_SIGNATURE_FILE);
    signature = decodeSignature(text, `${store.description}/${sigKey}`);
  } catch (e) {
    if (REWRITE_ON.some((code) => isVouchError(e, code))) return { existed: true };
    throw e;
  }
  if (verify && !(await verify(bytes, signature))) return { existed: true };
  const kept: UploadedObject = {
    kind: 'signature',
    key: sigKey,
    sha256: sha256Hex(text),
    size: text.byteLength,
    status: 'unchanged',
  };
  return { existed: true, kept };
}

/** A `.sig` that fails these checks is replaced rather than reported. */
const REWRITE_ON = ['BLOB_TOO_LARGE', 'SIGNATURE_INVALID', 'DIGEST_MISMATCH', 'SIZE_MISMATCH'] as const;
const MAX_SIGNATURE_FILE = 64 * 1024;

async function putSignature(
  store: ArtifactStore,
  sigKey: string,
  signature: Uint8Array,
  existed: boolean,
  signal: AbortSignal | undefined,
): Promise<UploadedObject> {
  const text = new TextEncoder().encode(encodeSignature(signature));
  const put = await store.put(sigKey, text, { contentType: SIGNATURE_CONTENT_TYPE, signal });
  return {
    kind: 'signature',
    key: sigKey,
    sha256: put.sha256,
    size: put.size,
    status: existed ? 'replaced' : 'created',
  };
}

async function signBytes(sign: BlobSigner, bytes: Uint8Array, key: string): Promise<Uint8Array> {
  let sig: unknown;
  try {
    sig = await sign(bytes);
  } catch (e) {
    if (isVouchError(e)) throw e;
    throw new VouchError(
      'SIGNING_FAILED',
      `signing ${key} failed: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
  if (!(sig instanceof Uint8Array) || sig.byteLength === 0) {
    throw new VouchError('SIGNING_FAILED', `signing ${key} returned no signature bytes`);
  }
  return sig;
}

async function readArtifact(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VouchError(
      code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_ERROR',
      `cannot read artifact ${path}: ${code ?? e}`,
      {
        cause: e,
      },
    );
  }
}
