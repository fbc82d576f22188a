/**
 * Stage 8, push: publish the images and the index from the work layout to the target (the
 * registry of image.name, or an OCI layout), signatures and attestations (provenance, SBOMs,
 * scan as cosign predicate types) first, tags last (publish/release.ts).
 */
import { readFile } from 'node:fs/promises';
import { COSIGN_VULN_PREDICATE, sbomPredicate, vulnPredicateFromReport } from '../../attest/predicates.ts';
import { SLSA_PROVENANCE_V1 } from '../../attest/provenance/index.ts';
import { parseStatement } from '../../attest/statement.ts';
import { VouchError } from '../../errors.ts';
import { parseManifest } from '../../oci/manifest.ts';
import { openLayoutSource } from '../../source/layout/layout.ts';
import type { StageContext } from '../context.ts';
import { currentDescriptor, manifestBytes, writeIndex } from '../images.ts';
import type { AttestationInput } from '../publish/attach.ts';
import { publishRelease, type ReleaseSubject } from '../publish/release.ts';
import { layoutTarget, type PublishTarget, registryTarget } from '../publish/target.ts';
import type { Figures, StageResult } from '../types.ts';
import { type ArtifactFiles, archTag, boundDigest } from '../work.ts';
import { INDEX_ARTIFACTS, repositoryOf } from './provenance.ts';

async function readJson(path: string): Promise<unknown | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new VouchError('IO_ERROR', `${path} in the work area is not JSON (${(e as Error).message})`, {
      hint: 'run the stage that makes it again (sbom or scan)',
    });
  }
}

/** The attestations the work area holds for a subject (only those made for its digest). */
async function attestationsFor(files: ArtifactFiles, bound: boolean): Promise<AttestationInput[]> {
  if (!bound) return [];
  const out: AttestationInput[] = [];
  const statement = await readFile(files.provenance).catch(() => undefined);
  if (statement) {
    const s = parseStatement(statement, files.provenance);
    out.push({
      what: 'provenance',
      predicateType: s.predicateType || SLSA_PROVENANCE_V1,
      predicate: s.predicate,
    });
  }
  for (const [what, file] of [
    ['sbom (CycloneDX)', files.cyclonedx],
    ['sbom (SPDX)', files.spdx],
  ] as const) {
    const doc = await readJson(file);
    if (doc !== undefined) out.push({ what, ...sbomPredicate(doc) });
  }
  const report = await readJson(files.scan);
  if (report !== undefined) {
    out.push({
      what: 'scan',
      predicateType: COSIGN_VULN_PREDICATE,
      predicate: vulnPredicateFromReport(report),
    });
  }
  return out;
}

export async function openTarget(ctx: StageContext): Promise<PublishTarget> {
  return ctx.target.kind === 'layout'
    ? layoutTarget(ctx.target.dir, ctx.config.image.name)
    : registryTarget(ctx.target.name, ctx.registry, ctx.signal);
}

export async function pushStage(ctx: StageContext): Promise<StageResult> {
  const { config, work } = ctx;
  const signer = await ctx.signer();
  const images: ReleaseSubject[] = [];
  for (const arch of config.image.architectures) {
    const descriptor = await currentDescriptor(ctx, arch);
    const bytes = await manifestBytes(ctx, descriptor);
    const parsed = parseManifest(bytes, descriptor.mediaType, `${arch} image ${descriptor.digest}`);
    const blobs = parsed.kind === 'manifest' ? [parsed.manifest.config, ...parsed.manifest.layers] : [];
    const bound = (await boundDigest(work, arch)) === descriptor.digest;
    const attestations = await attestationsFor(work.files(arch), bound);
    if (attestations.length === 0)
      ctx.log.warn('no attestations to attach (run sbom, scan and provenance)', { arch });
    images.push({
      name: arch,
      tag: archTag(config.image.version, arch),
      descriptor,
      bytes,
      blobs,
      attestations,
    });
  }
  const index = await writeIndex(ctx);
  const indexBound = (await boundDigest(work, INDEX_ARTIFACTS)) === index.descriptor.digest;
  const release = {
    repository: repositoryOf(config),
    images,
    index: {
      name: 'index',
      tag: config.image.version,
      descriptor: index.descriptor,
      bytes: index.bytes,
      blobs: [],
      attestations: (await attestationsFor(work.files(INDEX_ARTIFACTS), indexBound)).filter(
        (a) => a.what === 'provenance',
      ),
    },
  };
  const target = await openTarget(ctx);
  const source = await openLayoutSource(work.layout);
  try {
    const report = await publishRelease(target, release, {
      source,
      signer,
      now: ctx.now(),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      progress: (line) => ctx.log.info(line),
    });
    const figures: Figures = {
      target: report.target,
      signer: signer.description,
      storage: signer.storage,
      blobsUploaded: report.blobs.uploaded,
      blobsExisting: report.blobs.exists + report.blobs.mounted,
      bytesUploaded: report.blobs.bytes,
      order: report.manifestsFirst
        ? 'blobs, manifests, signatures, tags'
        : 'blobs, signatures, manifests, tags',
    };
    for (const s of report.subjects) {
      const attached = s.attached.map((a) => `${a.what}: ${a.location}${a.added ? '' : ' (already there)'}`);
      figures[s.name] = { digest: s.digest, tag: s.tag, pinned: s.pinned, attached };
      const summary = ctx.state.summary.get(s.name) ?? {};
      ctx.state.summary.set(s.name, { ...summary, pinned: s.pinned, signatures: attached });
    }
    const top = report.subjects.at(-1);
    if (top) ctx.state.release.pinned = top.pinned;
    ctx.state.release.target = report.target;
    return { status: 'ok', figures };
  } finally {
    await source.close();
    await target.close();
  }
}
