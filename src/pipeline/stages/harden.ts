/**
 * Stage 2, harden: remove package managers, docs and caches (as `harden:` of vouch.yaml asks)
 * through a whiteout layer, and set the non-root user. Reports what was removed per category.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type HardenCategory, hardenImage } from '../../build/harden.ts';
import type { PipelineConfig } from '../config.ts';
import type { StageContext } from '../context.ts';
import { withImage, writeImage } from '../images.ts';
import type { Figures, StageResult } from '../types.ts';

export function hardenCategories(h: PipelineConfig['harden']): HardenCategory[] {
  return [
    ...(h.removePackageManagers ? (['package-managers'] as const) : []),
    ...(h.removeDocs ? (['docs'] as const) : []),
    ...(h.removeCaches ? (['caches'] as const) : []),
  ];
}

export async function hardenStage(ctx: StageContext): Promise<StageResult> {
  const categories = hardenCategories(ctx.config.harden);
  const figures: Figures = { categories: categories.join(',') || 'none', user: ctx.config.harden.user };
  for (const arch of ctx.config.image.architectures) {
    const work = join(ctx.work.tmp, `harden-${arch}`);
    await mkdir(work, { recursive: true });
    try {
      await withImage(ctx, arch, async (image) => {
        let result: Awaited<ReturnType<typeof hardenImage>> | undefined;
        const desc = await writeImage(ctx, arch, async (dst) => {
          result = await hardenImage(image, dst, {
            categories,
            user: ctx.config.harden.user,
            workDir: work,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
          return result.descriptor;
        });
        if (!result) return;
        for (const s of result.summary) {
          if (s.paths > 0)
            ctx.log.info(`removed ${s.category}: ${s.paths} paths, ${s.entries} entries, ${s.bytes} bytes`, {
              arch,
            });
        }
        if (result.keptDatabases.length > 0) {
          ctx.log.info(`kept package databases for scanners: ${result.keptDatabases.join(', ')}`, { arch });
        }
        ctx.log.info(`user ${result.user.before || '(none)'} → ${result.user.after}: ${result.user.reason}`, {
          arch,
        });
        for (const p of result.problems) ctx.log.warn(`skipped ${p.path}: ${p.reason}`, { arch });
        figures[arch] = {
          digest: desc.digest,
          removedPaths: result.total.paths,
          removedEntries: result.total.entries,
          removedBytes: result.total.bytes,
          byCategory: Object.fromEntries(result.summary.map((s) => [s.category, s.paths])),
          userBefore: result.user.before,
          userAfter: result.user.after,
          layers: result.after.layers,
        };
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  return { status: 'ok', figures };
}
