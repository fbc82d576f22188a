/**
 * Stage 1, build: one image per architecture on the pinned base, tagged `{version}-{arch}` in
 * the work layout. Reproducible: the layers are made once (they do not depend on the
 * architecture) with SOURCE_DATE_EPOCH times, and every config field comes from vouch.yaml, the
 * base and the release facts, so the same inputs give the same digests.
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { assembleImage } from '../../build/assemble.ts';
import { openBase } from '../base.ts';
import { ciSourceFacts } from '../ci.ts';
import type { StageContext } from '../context.ts';
import { imageConfig, OCI_LABEL, type ReleaseFacts, releaseLabels } from '../image-config.ts';
import { writeImage } from '../images.ts';
import { buildLayers } from '../layers.ts';
import type { Figures, StageResult } from '../types.ts';
import { archTag } from '../work.ts';

export async function buildStage(ctx: StageContext): Promise<StageResult> {
  const { config } = ctx;
  const tmp = join(ctx.work.tmp, 'build');
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    const layers = await buildLayers(config.layers, {
      dir: tmp,
      epoch: ctx.epoch,
      configDir: dirname(config.file),
    });
    for (const l of layers) {
      ctx.log.info(
        `layer ${l.digest}: ${l.entries} entries, ${l.size} bytes (${l.history?.created_by ?? ''})`,
      );
    }
    const facts: ReleaseFacts = {
      version: config.image.version,
      epoch: ctx.epoch,
      source: ciSourceFacts(ctx.env),
    };
    const figures: Figures = {
      base: config.base.image,
      layersAdded: layers.length,
      ...(facts.source ? { source: facts.source.source, revision: facts.source.revision } : {}),
    };
    for (const arch of config.image.architectures) {
      const base = await openBase(config.base, arch, {
        registry: ctx.registry,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      try {
        const annotations: Record<string, string> = { ...releaseLabels(facts) };
        if (base) {
          annotations[OCI_LABEL.baseDigest] = base.pinned;
          // A layout path differs per machine; only a registry name is worth recording.
          if (!base.reference.startsWith('oci:'))
            annotations[OCI_LABEL.baseName] = base.reference.split('@')[0] ?? '';
        }
        const cfg = imageConfig(config, arch, base?.image.config, facts);
        let size = 0;
        let layerCount = 0;
        const desc = await writeImage(ctx, arch, async (dst) => {
          const out = await assembleImage(dst, {
            ...(base ? { base: base.image } : {}),
            layers,
            config: cfg,
            annotations,
          });
          size = out.manifest.config.size + out.manifest.layers.reduce((n, l) => n + l.size, 0);
          layerCount = out.manifest.layers.length;
          return out.descriptor;
        });
        figures[arch] = {
          digest: desc.digest,
          tag: archTag(config.image.version, arch),
          layers: layerCount,
          size,
        };
        ctx.log.info(
          `${desc.digest} (${layerCount} layers, ${size} bytes) as ${archTag(config.image.version, arch)}`,
          {
            arch,
          },
        );
      } finally {
        await base?.close();
      }
    }
    return { status: 'ok', figures };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
