/**
 * The release checked as a consumer would, holding only the public key, the published layout
 * and the artifact store:
 *  - `verify-release` on the index tag: platforms, signatures, SBOM and scan attestations of the
 *    index and each image, the verified SBOMs written out;
 *  - the provenance of a local build: slsa-verifier's source check needs a source repository,
 *    which a build outside CI does not record, so the provenance is checked against what it does
 *    record: vouch's local builder and build type, the image as subject, vouch.yaml by digest,
 *    and each SBOM and scan report by store key and digest;
 *  - every artifact in the store with its `.sig`, verified with the public key.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readProvenance } from '../attest/provenance/read.ts';
import { SLSA_PROVENANCE_V1 } from '../attest/provenance/types.ts';
import type { Statement } from '../attest/statement.ts';
import type { Digest } from '../digest/digest.ts';
import { type ErrorCode, isVouchError, VouchError } from '../errors.ts';
import type { PipelineConfig } from '../pipeline/config.ts';
import { VOUCH_BUILD_TYPE, VOUCH_LOCAL_BUILDER } from '../pipeline/stages/provenance.ts';
import { outcome } from '../release/checks.ts';
import type { CheckOutcome, ReleaseResult } from '../release/types.ts';
import { verifyRelease } from '../release/verify-release.ts';
import type { AttachmentStore } from '../sign/image/store.ts';
import { openImageTarget } from '../sign/image/target.ts';
import { loadVerificationKey } from '../sign/keys/load.ts';
import type { VerificationKey } from '../sign/keys/types.ts';
import { fetchArtifact } from '../store/fetch.ts';
import { releaseKeys } from '../store/layout.ts';
import { openStore } from '../store/open.ts';
import type { ArtifactStore } from '../store/store.ts';
import { verifyImageAttestations } from '../verify/attestation.ts';
import type { Trust } from '../verify/image.ts';

export interface ProvenanceResult {
  /** `index` or the architecture. */
  subject: string;
  digest: Digest;
  outcome: CheckOutcome;
}

export type ArtifactResult =
  | { key: string; status: 'pass'; sha256: string; bytes: number }
  | { key: string; status: 'fail'; code: ErrorCode; message: string };

export interface ConsumerResult {
  ok: boolean;
  release: ReleaseResult;
  provenance: ProvenanceResult[];
  artifacts: ArtifactResult[];
}

export interface ConsumerOptions {
  /** The project's vouch.yaml: the image, the store, and the file its provenance names by digest. */
  config: PipelineConfig;
  /** The only trust a consumer has. */
  publicKey: string;
  /** `oci:DIR:TAG` of the published release (the layout standing in for the registry). */
  release: string;
  /** Where the verified SBOMs go. */
  sbomOutput: string;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function mismatch(field: string, expected: string, found: unknown): VouchError {
  return new VouchError(
    'PROVENANCE_MISMATCH',
    `provenance ${field}: expected ${expected}, found ${found === undefined ? '(none)' : JSON.stringify(found)}`,
  );
}

/** `externalParameters` of a v1 predicate (readProvenance has checked the predicate's shape). */
function externalParameters(s: Statement): Record<string, unknown> {
  const p = s.predicate as { buildDefinition?: { externalParameters?: Record<string, unknown> } };
  return p.buildDefinition?.externalParameters ?? {};
}

/**
 * What a local build's provenance must say: vouch's local builder and build type, this project's
 * vouch.yaml by digest, this image; and each byproduct is the store's artifact of that key.
 */
function checkLocalProvenance(
  s: Statement,
  o: {
    configSha256: string;
    name: string;
    version: string;
    stored: ReadonlyMap<string, string>;
    /** Store keys the provenance must name as byproducts. */
    required: readonly string[];
  },
): { detail: string; facts: Record<string, string | string[]> } {
  const summary = readProvenance(s);
  if (summary.builderId !== VOUCH_LOCAL_BUILDER)
    throw mismatch('builder id', VOUCH_LOCAL_BUILDER, summary.builderId);
  if (summary.buildType !== VOUCH_BUILD_TYPE)
    throw mismatch('build type', VOUCH_BUILD_TYPE, summary.buildType);
  const ext = externalParameters(s);
  const config = ext.config as { path?: unknown; digest?: { sha256?: unknown } } | undefined;
  if (config?.digest?.sha256 !== o.configSha256) {
    throw mismatch('externalParameters.config.digest.sha256', o.configSha256, config?.digest?.sha256);
  }
  if (ext.image !== o.name) throw mismatch('externalParameters.image', o.name, ext.image);
  if (ext.version !== o.version) throw mismatch('externalParameters.version', o.version, ext.version);
  const byproducts: string[] = [];
  for (const b of summary.byproducts) {
    const name = b.name ?? b.uri ?? '(unnamed)';
    const stored = o.stored.get(name);
    if (stored === undefined)
      throw mismatch(`byproduct ${name}`, 'an artifact of that key in the store', undefined);
    if (b.digest?.sha256 !== stored) throw mismatch(`byproduct ${name} sha256`, stored, b.digest?.sha256);
    byproducts.push(name);
  }
  const missing = o.required.filter((k) => !byproducts.includes(k));
  if (missing.length > 0)
    throw mismatch('byproducts', missing.join(', '), byproducts.join(', ') || undefined);
  return {
    detail:
      `SLSA v1 by ${summary.builderId}, vouch.yaml sha256:${o.configSha256.slice(0, 12)}…` +
      (byproducts.length > 0 ? `, ${byproducts.length} byproducts match the store` : ''),
    facts: {
      builderId: summary.builderId,
      buildType: summary.buildType,
      config: `sha256:${o.configSha256}`,
      byproducts,
    },
  };
}

async function provenanceOf(
  store: AttachmentStore,
  digest: Digest,
  trust: Trust,
  expect: Parameters<typeof checkLocalProvenance>[1],
): Promise<CheckOutcome> {
  return outcome('provenance', async () => {
    const found = await verifyImageAttestations(store, digest, { trust, predicateType: SLSA_PROVENANCE_V1 });
    let first: unknown;
    for (const a of found.verified) {
      try {
        const r = checkLocalProvenance(a.statement, expect);
        return { detail: `${r.detail} (${a.scheme} ${a.location})`, facts: r.facts };
      } catch (e) {
        if (!isVouchError(e)) throw e;
        first ??= e;
      }
    }
    throw first;
  });
}

/** The store keys of the SBOMs and scan report of `arch`: what its provenance names as byproducts. */
function byproductKeys(config: PipelineConfig, arch: string): string[] {
  return releaseKeys(config.image, arch)
    .filter((e) => e.kind !== 'attestation')
    .map((e) => e.key);
}

/** Every artifact of the release with its `.sig`, verified with `key`. */
async function checkArtifacts(
  store: ArtifactStore,
  key: VerificationKey,
  config: PipelineConfig,
): Promise<ArtifactResult[]> {
  const out: ArtifactResult[] = [];
  for (const arch of config.image.architectures) {
    for (const entry of releaseKeys(config.image, arch)) {
      try {
        const a = await fetchArtifact(store, entry.key, { verify: (b, s) => key.verify(b, s) });
        out.push({ key: entry.key, status: 'pass', sha256: a.sha256, bytes: a.bytes.byteLength });
      } catch (e) {
        if (!isVouchError(e)) throw e;
        out.push({ key: entry.key, status: 'fail', code: e.code, message: e.message });
      }
    }
  }
  return out;
}

export async function verifyAsConsumer(o: ConsumerOptions): Promise<ConsumerResult> {
  const { config } = o;
  const key = await loadVerificationKey(o.publicKey);
  const trust: Trust = { kind: 'key', key };
  const store = await openStore(config.store, { create: false });
  let artifacts: ArtifactResult[];
  try {
    artifacts = await checkArtifacts(store, key, config);
  } finally {
    await store.close();
  }
  const stored = new Map(artifacts.flatMap((a) => (a.status === 'pass' ? [[a.key, a.sha256] as const] : [])));
  const common = {
    configSha256: sha256(await readFile(config.file)),
    name: config.image.name,
    version: config.image.version,
    stored,
  };
  const target = await openImageTarget(o.release);
  try {
    const release = await verifyRelease(target, {
      trust,
      provenance: { kind: 'skip' },
      requireVuln: true,
      sbomOutput: o.sbomOutput,
    });
    const provenance: ProvenanceResult[] = [];
    for (const s of release.subjects) {
      // `linux/amd64` → amd64; the index names the byproducts of every architecture.
      const arch = s.platform?.split('/')[1] ?? '';
      const archs =
        s.role === 'index'
          ? config.image.architectures
          : config.image.architectures.filter((a) => a === arch);
      const required = archs.flatMap((a) => byproductKeys(config, a));
      provenance.push({
        subject: s.role === 'index' ? 'index' : (s.platform ?? s.digest),
        digest: s.digest,
        outcome: await provenanceOf(target.store, s.digest, trust, { ...common, required }),
      });
    }
    const ok =
      release.ok &&
      provenance.every((p) => p.outcome.status === 'pass') &&
      artifacts.every((a) => a.status === 'pass');
    return { ok, release, provenance, artifacts };
  } finally {
    await target.store.close();
  }
}
