import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergedEntries } from '../fs/flatten.ts';
import { openMergedView } from '../fs/merged.ts';
import type { Problem } from '../fs/types.ts';
import { type Image, layerInputs } from '../image/image.ts';
import type { Compression } from '../oci/media-types.ts';
import { MediaType } from '../oci/media-types.ts';
import type { Descriptor, HistoryEntry } from '../oci/types.ts';
import type { ImageDestination } from '../source/types.ts';
import { assembleImage } from './assemble.ts';
import { writeLayer } from './layer.ts';

export interface FlattenOptions {
  compression?: Compression;
  signal?: AbortSignal;
  /** Where the merged layer is staged (default: a temp dir, removed after). */
  workDir?: string;
}

export interface FlattenResult {
  descriptor: Descriptor;
  before: { layers: number; size: number };
  after: { layers: number; size: number };
  /** Entries the merged view skipped (unsafe paths, bad whiteouts), with reasons. */
  problems: Problem[];
}

/**
 * Squash an image into one layer holding its merged filesystem. Every config field (User, Env,
 * Entrypoint, Cmd, WorkingDir, ExposedPorts, Volumes, StopSignal, Labels, and any other) is kept;
 * the old history entries stay, marked empty_layer, followed by one entry for the squash.
 * Deterministic: the same input gives the same output digest.
 */
export async function flattenImage(
  image: Image,
  dst: ImageDestination,
  o: FlattenOptions = {},
): Promise<FlattenResult> {
  const signal = o.signal;
  const work = o.workDir ?? (await mkdtemp(join(tmpdir(), 'vouch-flatten-')));
  const view = await openMergedView(layerInputs(image, signal));
  try {
    const layer = await writeLayer(mergedEntries(view), {
      compression: o.compression ?? 'gzip',
      output: join(work, 'layer.blob'),
    });
    const { rootfs: _rootfs, history: oldHistory, ...config } = image.config;
    const history: HistoryEntry[] = (oldHistory ?? []).map((h) => ({ ...h, empty_layer: true }));
    const created = image.config.created;
    const squash: HistoryEntry = {
      ...(created ? { created } : {}),
      created_by: `vouch flatten: ${image.layers.length} layers squashed into one`,
      comment: `squashed from ${image.layers.map((l) => l.diffId).join(', ')}`,
    };
    const flavour = image.descriptor.mediaType === MediaType.DockerManifest ? 'docker' : 'oci';
    const out = await assembleImage(
      dst,
      {
        layers: [{ ...layer, history: squash }],
        config: { ...config, history },
        flavour,
        ...(image.manifest.annotations ? { annotations: image.manifest.annotations } : {}),
      },
      signal ? { signal } : {},
    );
    const before = image.manifest.config.size + image.layers.reduce((n, l) => n + l.descriptor.size, 0);
    return {
      descriptor: out.descriptor,
      before: { layers: image.layers.length, size: before },
      after: { layers: 1, size: out.manifest.config.size + layer.size },
      problems: [...view.problems],
    };
  } finally {
    await view.close();
    if (!o.workDir) await rm(work, { recursive: true, force: true });
  }
}
