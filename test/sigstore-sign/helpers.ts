/**
 * Shared by the sigstore-sign tests: independent verification with @sigstore/verify (never
 * vouch's own verifier), openssl, temp dirs and a port nothing listens on.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundleFromJSON } from '@sigstore/bundle';
import { PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';
import {
  type Signer,
  toSignedEntity,
  toTrustMaterial,
  type VerificationPolicy,
  Verifier,
} from '@sigstore/verify';
import type { VerificationKey } from '../../src/sign/keys/types.ts';
import type { TrustedRootDocument } from '../../src/sigstore/types.ts';

const run = promisify(execFile);

export const EMPTY_TRUSTED_ROOT: TrustedRootDocument = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

export interface IndependentVerify {
  trustedRoot?: TrustedRootDocument;
  /** Key-based bundles: the key that must have signed (found by the bundle's hint). */
  key?: VerificationKey;
  /** Message signatures: the artifact bytes. */
  artifact?: Uint8Array;
  tlogThreshold?: number;
  ctlogThreshold?: number;
  timestampThreshold?: number;
  policy?: VerificationPolicy;
}

/** Verify a bundle JSON with @sigstore/verify; throws its VerificationError on failure. */
export function sigstoreVerify(bundle: unknown, o: IndependentVerify): Signer {
  const root = TrustedRoot.fromJSON(o.trustedRoot ?? EMPTY_TRUSTED_ROOT);
  const keys = o.key
    ? {
        [o.key.hint]: {
          rawBytes: o.key.publicKey.export({ type: 'spki', format: 'der' }),
          keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
          validFor: undefined,
        },
      }
    : undefined;
  const verifier = new Verifier(toTrustMaterial(root, keys), {
    tlogThreshold: o.tlogThreshold ?? 0,
    ctlogThreshold: o.ctlogThreshold ?? 0,
    timestampThreshold: o.timestampThreshold ?? 0,
  });
  const artifact = o.artifact ? Buffer.from(o.artifact) : undefined;
  return verifier.verify(toSignedEntity(bundleFromJSON(bundle), artifact), o.policy);
}

/** The value of a certificate extension as @sigstore/verify reports it, as text. */
export function oidValue(signer: Signer, oid: string): string | undefined {
  const found = signer.identity?.oids?.find((o) => o.oid?.id.join('.') === oid);
  if (!found) return undefined;
  const v = Buffer.from(found.value);
  // Fulcio's newer extensions are DER UTF8String (tag 0x0c, short length); older ones raw.
  return v[0] === 0x0c && v[1] === v.length - 2 ? v.subarray(2).toString('utf8') : v.toString('utf8');
}

export async function openssl(args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout, stderr } = await run('openssl', args);
    return { ok: true, out: stdout + stderr };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-sigstore-sign-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A loopback URL on a port that was free a moment ago and has nothing listening now. */
export async function closedPortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
