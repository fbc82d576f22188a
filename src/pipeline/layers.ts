/**
 * The layers of `layers:` in vouch.yaml, one per entry, reproducible (src/build/layer.ts: sorted
 * entries, SOURCE_DATE_EPOCH mtimes, fixed owners). A `mode` sets the permission bits of every
 * file and directory added, as Docker's `COPY --chmod` does; without one the modes on disk stay.
 */
import { stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { LayerFile } from '../build/assemble.ts';
import { type LayerResult, layerFromDirectory } from '../build/layer.ts';
import { VouchError } from '../errors.ts';
import type { LayerSpec } from './config.ts';
import { isoSeconds } from './context.ts';

export interface BuiltLayer extends LayerFile {
  entries: number;
}

/** Build every layer of the file into `dir` (layer-<i>.tar.gz). */
export async function buildLayers(
  specs: readonly LayerSpec[],
  o: { dir: string; epoch: number; configDir: string },
): Promise<BuiltLayer[]> {
  const out: BuiltLayer[] = [];
  for (const [i, spec] of specs.entries()) {
    const output = join(o.dir, `layer-${i}.tar.gz`);
    const r = await buildLayer(spec, output, o.epoch);
    // The history names the source relative to vouch.yaml: an absolute path would differ per machine.
    const from = relative(o.configDir, spec.source) || '.';
    const owner = `${spec.uid ?? 0}:${spec.gid ?? 0}`;
    const mode = spec.mode === undefined ? '' : ` mode ${spec.mode.toString(8).padStart(4, '0')}`;
    out.push({
      ...r,
      history: {
        created: isoSeconds(o.epoch),
        created_by: `vouch: add ${from} as ${spec.target} (owner ${owner}${mode})`,
      },
    });
  }
  return out;
}

export async function buildLayer(spec: LayerSpec, output: string, epoch: number): Promise<LayerResult> {
  const common = {
    compression: 'gzip' as const,
    output,
    sourceDateEpoch: epoch,
    ...(spec.uid === undefined ? {} : { uid: spec.uid }),
    ...(spec.gid === undefined ? {} : { gid: spec.gid }),
  };
  const st = await stat(spec.source).catch((e: unknown) => {
    throw new VouchError(
      'FILE_NOT_FOUND',
      `layer source ${spec.source}: ${(e as { code?: string }).code ?? e}`,
      {
        hint: 'layers[].source is relative to vouch.yaml',
      },
    );
  });
  if (!st.isDirectory()) throw new VouchError('USAGE', `layer source ${spec.source} is not a directory`);
  return layerFromDirectory(spec.source, {
    ...common,
    prefix: spec.target,
    ...(spec.mode === undefined ? {} : { mode: spec.mode }),
  });
}
