/**
 * Stage 6, provenance: an in-toto Statement v1 with a SLSA v1 predicate for each image, and one
 * for the multi-arch index (computed here, so its digest is known before anything is published).
 * Inputs come from the CI environment (GitHub Actions, GitLab CI) or, outside CI, a generic
 * vouch build type naming vouch.yaml by digest. Byproducts are the SBOMs and scan report, named
 * by their artifact-store keys. No wall-clock times: the same build gives the same statement.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import {
  byproductFromFile,
  ciProvenanceInput,
  detectCiEnvironment,
  genericProvenanceInput,
  type ProvenanceInput,
  provenanceStatement,
} from '../../attest/provenance/index.ts';
import type { ResourceDescriptor, Statement } from '../../attest/statement.ts';
import { imageSubject } from '../../attest/subjects.ts';
import { digestHex, parseDigest } from '../../digest/digest.ts';
import { parseReference } from '../../oci/reference.ts';
import { encodeStatement } from '../../sign/image/payload.ts';
import { dockerReference } from '../../sign/image/target.ts';
import { type ArtifactKind, artifactKey } from '../../store/layout.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import type { PipelineConfig } from '../config.ts';
import type { StageContext } from '../context.ts';
import { currentDescriptor, writeIndex } from '../images.ts';
import type { Figures, StageResult } from '../types.ts';
import { type ArtifactFiles, bindArtifacts, boundDigest } from '../work.ts';

/** The build type of provenance made outside a CI system vouch knows. */
export const VOUCH_BUILD_TYPE = 'https://vouch.dev/pipeline/v1';
/** The builder of such provenance: a machine nobody vouches for (SLSA Build L1 at most). */
export const VOUCH_LOCAL_BUILDER = 'https://vouch.dev/builders/local';
/** Where the index's statement lives in the work area (it has no store key). */
export const INDEX_ARTIFACTS = 'index';

const BYPRODUCTS: readonly { kind: ArtifactKind; file: keyof ArtifactFiles }[] = [
  { kind: 'sbom-cyclonedx', file: 'cyclonedx' },
  { kind: 'sbom-spdx', file: 'spdx' },
  { kind: 'scan', file: 'scan' },
];

/** The repository statements and signature payloads name (cosign's docker-reference). */
export function repositoryOf(config: PipelineConfig): string {
  return dockerReference(parseReference(config.image.name));
}

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** The provenance inputs of this build (without subjects and byproducts). */
export async function buildInput(ctx: StageContext): Promise<ProvenanceInput> {
  const { config } = ctx;
  const base: ResourceDescriptor[] =
    config.base.digest === undefined
      ? []
      : [{ name: config.base.image, digest: { sha256: digestHex(parseDigest(config.base.digest)) } }];
  const ci = detectCiEnvironment(ctx.env);
  if (ci) {
    const input = ciProvenanceInput(ci);
    return { ...input, resolvedDependencies: [...(input.resolvedDependencies ?? []), ...base] };
  }
  const file = relative(dirname(config.file), config.file);
  const input = genericProvenanceInput({
    builderId: VOUCH_LOCAL_BUILDER,
    buildType: VOUCH_BUILD_TYPE,
    parameters: {
      config: { path: file, digest: { sha256: await sha256File(config.file) } },
      image: config.image.name,
      version: config.image.version,
      architectures: config.image.architectures,
    },
  });
  return { ...input, ...(base.length > 0 ? { resolvedDependencies: base } : {}) };
}

/** Byproducts of `arch` present in the work area, named by their store keys. */
async function byproducts(ctx: StageContext, arch: string): Promise<ResourceDescriptor[]> {
  const image = { name: ctx.config.image.name, version: ctx.config.image.version };
  const files = ctx.work.files(arch);
  const out: ResourceDescriptor[] = [];
  for (const b of BYPRODUCTS) {
    if (!(await stat(files[b.file]).catch(() => undefined))) continue;
    out.push({ ...(await byproductFromFile(files[b.file])), name: artifactKey(b.kind, image, arch) });
  }
  return out;
}

async function writeStatement(path: string, statement: Statement): Promise<string> {
  const bytes = encodeStatement(statement);
  await writeFileAtomic(path, bytes);
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export async function provenanceStage(ctx: StageContext): Promise<StageResult> {
  const input = await buildInput(ctx);
  const repository = repositoryOf(ctx.config);
  const figures: Figures = { builder: input.builder.id, buildType: input.buildType };
  const all: ResourceDescriptor[] = [];
  for (const arch of ctx.config.image.architectures) {
    const image = await currentDescriptor(ctx, arch);
    if ((await boundDigest(ctx.work, arch)) !== image.digest)
      await bindArtifacts(ctx.work, arch, image.digest);
    const made = await byproducts(ctx, arch);
    all.push(...made);
    const statement = provenanceStatement([imageSubject(repository, image.digest)], {
      ...input,
      byproducts: made,
    });
    const digest = await writeStatement(ctx.work.files(arch).provenance, statement);
    ctx.log.info(`${made.length} byproducts; statement ${digest}`, { arch });
    figures[arch] = { subject: image.digest, byproducts: made.length, statement: digest };
  }
  const index = await writeIndex(ctx);
  await bindArtifacts(ctx.work, INDEX_ARTIFACTS, index.descriptor.digest);
  const statement = provenanceStatement([imageSubject(repository, index.descriptor.digest)], {
    ...input,
    byproducts: all,
  });
  const digest = await writeStatement(ctx.work.files(INDEX_ARTIFACTS).provenance, statement);
  ctx.log.info(
    `index ${index.descriptor.digest} (${index.index.manifests.length} images); statement ${digest}`,
  );
  figures.index = { subject: index.descriptor.digest, byproducts: all.length, statement: digest };
  return { status: 'ok', figures };
}
