/** What every stage is given: the checked configuration, the work area, the run's clock and log. */
import type { Descriptor } from '../oci/types.ts';
import type { RegistryOptions } from '../registry/options.ts';
import type { Sbom } from '../sbom/model.ts';
import type { PipelineConfig } from './config.ts';
import type { Stage } from './schema.ts';
import type { PipelineSigner } from './signer.ts';
import type { Figures } from './types.ts';
import type { WorkArea } from './work.ts';

/** Where `push` publishes. */
export type PublishTargetSpec = { kind: 'registry'; name: string } | { kind: 'layout'; dir: string };

/** What the run learned, for later stages and the summary. */
export interface RunState {
  /** The current image of each architecture (also the layout's `{version}-{arch}` tag). */
  images: Map<string, Descriptor>;
  index?: Descriptor;
  /** The SBOM made of each image in this run (scan reuses it rather than cataloging again). */
  sboms: Map<string, { digest: string; sbom: Sbom }>;
  /** Per-architecture facts for the summary (store keys, signatures, sizes). */
  summary: Map<string, Figures>;
  /** Release-wide facts for the summary (pinned references, store). */
  release: Figures;
}

export interface StageLog {
  info(message: string, o?: { arch?: string; fields?: Figures }): void;
  warn(message: string, o?: { arch?: string }): void;
}

export interface PipelineContext {
  config: PipelineConfig;
  work: WorkArea;
  /** SOURCE_DATE_EPOCH (seconds): the time every image, SBOM and report records. */
  epoch: number;
  env: NodeJS.ProcessEnv;
  registry: RegistryOptions;
  target: PublishTargetSpec;
  /** The signer, loaded on first use (a passphrase is asked only when something is signed). */
  signer(): Promise<PipelineSigner>;
  /** Wall clock (scan exceptions expire by date). */
  now(): Date;
  signal?: AbortSignal;
  state: RunState;
}

export interface StageContext extends PipelineContext {
  stage: Stage;
  log: StageLog;
}

/** RFC 3339 UTC of whole seconds, as image configs and SBOMs record times. */
export function isoSeconds(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
