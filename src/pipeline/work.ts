/**
 * The work area of a run, `<config dir>/.vouch/<version>/`: every image is built into a local
 * OCI layout first (so digests are known before anything leaves the machine) and every artifact
 * into a per-architecture directory. It outlives the run: a failed image stays for inspection,
 * and `--stages` subsets pick up where an earlier run stopped.
 *
 *   layout/                 OCI layout: `{version}-{arch}` = the current image, `{version}` = the index
 *   artifacts/{arch}/       SBOMs, scan report, provenance, signed attestation (store file names)
 *   artifacts/{arch}/subject  the image digest the artifacts describe
 *   tmp/                    staging for layers (removed after each stage)
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Digest } from '../digest/digest.ts';
import { imageSlug } from '../store/layout.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import type { PipelineConfig } from './config.ts';

export interface WorkArea {
  root: string;
  layout: string;
  tmp: string;
  artifactsDir(arch: string): string;
  files(arch: string): ArtifactFiles;
}

/** The files of one architecture; names are the store's, so byproduct names match the keys. */
export interface ArtifactFiles {
  cyclonedx: string;
  spdx: string;
  scan: string;
  /** The unsigned in-toto statement (SLSA v1 provenance). */
  provenance: string;
  /** The signed provenance (DSSE envelope, or a Sigstore bundle when keyless). */
  attestation: string;
}

export function workArea(config: PipelineConfig, root?: string): WorkArea {
  const base = root ?? join(dirname(config.file), '.vouch', config.image.version);
  const slug = imageSlug({ name: config.image.name, version: config.image.version });
  const artifactsDir = (arch: string) => join(base, 'artifacts', arch);
  return {
    root: base,
    layout: join(base, 'layout'),
    tmp: join(base, 'tmp'),
    artifactsDir,
    files: (arch) => ({
      cyclonedx: join(artifactsDir(arch), `sbom-${slug}-cyclonedx.json`),
      spdx: join(artifactsDir(arch), `sbom-${slug}-spdx.json`),
      scan: join(artifactsDir(arch), `scan-${slug}.json`),
      provenance: join(artifactsDir(arch), `provenance-${slug}.json`),
      attestation: join(artifactsDir(arch), `attestation-${slug}.json`),
    }),
  };
}

export const archTag = (version: string, arch: string): string => `${version}-${arch}`;

/**
 * Record that `arch`'s image is now `digest`. Artifacts made for another digest describe an
 * image that no longer exists, so they are removed: a later stage can never sign or attach a
 * stale SBOM to the new image.
 */
export async function bindArtifacts(work: WorkArea, arch: string, digest: Digest): Promise<void> {
  const dir = work.artifactsDir(arch);
  const file = join(dir, 'subject');
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current?.trim() === digest) return;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(file, `${digest}\n`);
}

/** The image digest `arch`'s artifacts were made for, if any. */
export async function boundDigest(work: WorkArea, arch: string): Promise<string | undefined> {
  const text = await readFile(join(work.artifactsDir(arch), 'subject'), 'utf8').catch(() => undefined);
  return text?.trim() || undefined;
}
