/** Stage 3, flatten: squash each image into one layer, every config field kept; sizes before and after. */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { flattenImage } from '../../build/flatten.ts';
import type { StageContext } from '../context.ts';
import { withImage, writeImage } from '../images.ts';
import type { Figures, StageResult } from '../types.ts';

export async function flattenStage(ctx: StageContext): Promise<StageResult> {
  const figures: Figures = {};
  for (const arch of ctx.config.image.architectures) {
    const work = join(ctx.work.tmp, `flatten-${arch}`);
    await mkdir(work, { recursive: true });
    try {
      await withImage(ctx, arch, async (image) => {
        let r: Awaited<ReturnType<typeof flattenImage>> | undefined;
        const desc = await writeImage(ctx, arch, async (dst) => {
          r = await flattenImage(image, dst, {
            workDir: work,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
          return r.descriptor;
        });
        if (!r) return;
        for (const p of r.problems) ctx.log.warn(`skipped ${p.path}: ${p.reason}`, { arch });
        ctx.log.info(
          `${r.before.layers} layers, ${r.before.size} bytes → ${r.after.layers} layer, ${r.after.size} bytes: ${desc.digest}`,
          { arch },
        );
        figures[arch] = {
          digest: desc.digest,
          layersBefore: r.before.layers,
          sizeBefore: r.before.size,
          layersAfter: r.after.layers,
          sizeAfter: r.after.size,
        };
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  return { status: 'ok', figures };
}
