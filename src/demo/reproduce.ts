/**
 * The reproducibility proof: build the example again from a fresh copy, in another directory,
 * with the same SOURCE_DATE_EPOCH, up to provenance (signatures are randomised, so they are
 * left out), and compare every digest the release is made of: each image, the index, and the
 * SBOMs, scan reports and provenance statements the two runs wrote.
 */
import { createHash } from 'node:crypto';
import { copyFile, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadPipelineConfig } from '../pipeline/config.ts';
import { memoryLog } from '../pipeline/log.ts';
import { type RunResult, runPipeline } from '../pipeline/run.ts';
import type { Stage } from '../pipeline/schema.ts';
import { INDEX_ARTIFACTS } from '../pipeline/stages/provenance.ts';
import { type ArtifactFiles, workArea } from '../pipeline/work.ts';
import { copyExample, type DemoProject } from './project.ts';

/** Everything up to provenance: what decides the digests. */
export const REBUILD_STAGES: readonly Stage[] = [
  'build',
  'harden',
  'flatten',
  'test',
  'sbom',
  'scan',
  'provenance',
];

const COMPARED_FILES: readonly (keyof ArtifactFiles)[] = ['cyclonedx', 'spdx', 'scan', 'provenance'];

export interface Compared {
  /** `image amd64`, `index`, `cyclonedx amd64`, ... */
  what: string;
  first: string;
  second: string;
}

export interface Reproduced {
  identical: boolean;
  compared: Compared[];
  /** The second run's project (removed by the caller once compared). */
  dir: string;
}

async function sha256Of(path: string): Promise<string> {
  const bytes = await readFile(path).catch(() => undefined);
  return bytes ? `sha256:${createHash('sha256').update(bytes).digest('hex')}` : '(missing)';
}

/** Run the build again in `dir` and compare it with `first`, the run of `project`. */
export async function rebuildAndCompare(o: {
  example: string;
  project: DemoProject;
  first: RunResult;
  dir: string;
  env: NodeJS.ProcessEnv;
  now: () => Date;
}): Promise<Reproduced> {
  await copyExample(o.example, o.dir);
  // The same advisories: the scan report records the database by digest.
  await copyFile(o.project.db, join(o.dir, relative(o.project.dir, o.project.db)));
  const config = await loadPipelineConfig(join(o.dir, 'vouch.yaml'));
  const second = await runPipeline({
    config,
    stages: REBUILD_STAGES,
    cwd: o.dir,
    env: o.env,
    log: memoryLog(),
    now: o.now,
  });
  const compared: Compared[] = [];
  const archs = o.project.config.image.architectures;
  for (const arch of archs) {
    compared.push({
      what: `image ${arch}`,
      first: o.first.images[arch] ?? '(none)',
      second: second.images[arch] ?? '(none)',
    });
  }
  compared.push({ what: 'index', first: o.first.index ?? '(none)', second: second.index ?? '(none)' });
  const a = workArea(o.project.config);
  const b = workArea(config);
  for (const arch of archs) {
    for (const f of COMPARED_FILES) {
      compared.push({
        what: `${f} ${arch}`,
        first: await sha256Of(a.files(arch)[f]),
        second: await sha256Of(b.files(arch)[f]),
      });
    }
  }
  compared.push({
    what: 'provenance index',
    first: await sha256Of(a.files(INDEX_ARTIFACTS).provenance),
    second: await sha256Of(b.files(INDEX_ARTIFACTS).provenance),
  });
  const identical =
    second.status === 'ok' && compared.every((c) => c.first === c.second && !c.first.startsWith('('));
  return { identical, compared, dir: o.dir };
}
