/**
 * Stage 5a, SBOM: catalog each image and write CycloneDX 1.6 and SPDX 2.3 JSON into the work
 * area. The subject is named as the release (`name:{version}-{arch}`), never as the local work
 * layout, and stamped with SOURCE_DATE_EPOCH, so the same image gives the same documents on any
 * machine.
 */
import { createHash } from 'node:crypto';
import { parseReference } from '../../oci/reference.ts';
import { catalogImage } from '../../sbom/catalog.ts';
import { serializeCycloneDx, serializeSpdx } from '../../sbom/format/index.ts';
import type { Sbom } from '../../sbom/model.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { isoSeconds, type StageContext } from '../context.ts';
import { currentDescriptor, withImage } from '../images.ts';
import type { Figures, StageResult } from '../types.ts';
import { archTag } from '../work.ts';

const sha256 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** The SBOM as the release names it: the image repository and tag, the run's time. */
export function releaseSbom(sbom: Sbom, name: string, tag: string, epoch: number): Sbom {
  if (sbom.subject.kind !== 'image') return { ...sbom, created: isoSeconds(epoch) };
  const repository = parseReference(name).repository.split('/').at(-1) ?? name;
  return {
    ...sbom,
    created: isoSeconds(epoch),
    subject: { ...sbom.subject, name: `${name}:${tag}`, repository, tag },
  };
}

export async function sbomStage(ctx: StageContext): Promise<StageResult> {
  const figures: Figures = {};
  const { name, version } = ctx.config.image;
  for (const arch of ctx.config.image.architectures) {
    const image = await currentDescriptor(ctx, arch);
    const sbom = await withImage(ctx, arch, (img) =>
      catalogImage(img, ctx.signal ? { signal: ctx.signal } : {}),
    );
    const doc = releaseSbom(sbom, name, archTag(version, arch), ctx.epoch);
    ctx.state.sboms.set(arch, { digest: image.digest, sbom: doc });
    const files = ctx.work.files(arch);
    const cdx = serializeCycloneDx(doc);
    const spdx = serializeSpdx(doc);
    await writeFileAtomic(files.cyclonedx, cdx);
    await writeFileAtomic(files.spdx, spdx);
    for (const p of doc.problems) ctx.log.warn(`${p.cataloger}: ${p.path}: ${p.message}`, { arch });
    const os = doc.os ? `${doc.os.id ?? ''} ${doc.os.versionId ?? ''}`.trim() : 'unknown';
    ctx.log.info(`${doc.packages.length} packages (os ${os}) → ${files.cyclonedx}, ${files.spdx}`, { arch });
    figures[arch] = {
      packages: doc.packages.length,
      os,
      problems: doc.problems.length,
      cyclonedx: sha256(cdx),
      spdx: sha256(spdx),
    };
  }
  return { status: 'ok', figures };
}
