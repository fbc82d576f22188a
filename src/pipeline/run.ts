/**
 * `vouch pipeline run` as a library call: load vouch.yaml, run the chosen stages in their fixed
 * order (build → harden → flatten → test → sbom → scan → provenance → sign → push), log each
 * one's start, end, duration and figures, and stop at the first stage that fails. The failed
 * image stays in the work layout; the result names the stage and the reason. A failed gate is
 * exit code 4 (as `vouch scan`), any other failure 1.
 */
import { resolve } from 'node:path';
import { type ErrorCode, isVouchError, VouchError } from '../errors.ts';
import type { RegistryOptions } from '../registry/options.ts';
import type { PassphraseSource } from '../sign/keys/types.ts';
import { loadPipelineConfig, type PipelineConfig } from './config.ts';
import type { PipelineContext, PublishTargetSpec, RunState, StageContext } from './context.ts';
import type { PipelineLog } from './log.ts';
import { STAGES, type Stage } from './schema.ts';
import { openSigner, type PipelineSigner } from './signer.ts';
import { STAGE_RUNNERS } from './stages/index.ts';
import { type Figures, RUN_EXIT, type RunExitCode, type StageRecord, type StageResult } from './types.ts';
import { archTag, workArea } from './work.ts';

export interface RunOptions {
  /** vouch.yaml (a path, resolved against `cwd`) or a configuration already loaded. */
  config: string | PipelineConfig;
  /** Run only these (in the fixed order); default: `stages:` of vouch.yaml. */
  stages?: readonly Stage[];
  /** `oci:DIR`: publish into an OCI layout instead of the registry (overrides `target:`). */
  target?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  registry?: RegistryOptions;
  /** Where a key passphrase comes from (default VOUCH_PASSWORD / COSIGN_PASSWORD). */
  passphrase?: PassphraseSource;
  /** Keyless: a token or @FILE (else SIGSTORE_ID_TOKEN or GitHub Actions). */
  identityToken?: string;
  log: PipelineLog;
  /** Work area (default `<config dir>/.vouch/<version>`). */
  workDir?: string;
  now?: () => Date;
  signal?: AbortSignal;
}

export interface RunResult {
  status: 'ok' | 'failed';
  exitCode: RunExitCode;
  failed?: { stage: Stage; reason: string; code?: ErrorCode; details: string[] };
  stages: StageRecord[];
  /** Current image digest per architecture (in the work layout). */
  images: Record<string, string>;
  index?: string;
  /** `name:{version}@sha256:…` of the index, once pushed. */
  pinned?: string;
  workDir: string;
  layout: string;
  summary: Figures;
}

/** SOURCE_DATE_EPOCH in seconds; 0 (1970-01-01) when unset, so builds stay reproducible. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv): { epoch: number; fromEnv: boolean } {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return { epoch: 0, fromEnv: false };
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new VouchError('USAGE', `SOURCE_DATE_EPOCH must be a whole number of seconds, not "${v}"`);
  }
  return { epoch: Number(v), fromEnv: true };
}

/** The stages to run, in pipeline order; USAGE for a name that is not a stage. */
export function selectStages(wanted: readonly string[]): Stage[] {
  for (const s of wanted) {
    if (!(STAGES as readonly string[]).includes(s)) {
      throw new VouchError('USAGE', `unknown stage "${s}": stages are ${STAGES.join(', ')}`);
    }
  }
  return STAGES.filter((s) => wanted.includes(s));
}

export function targetOf(
  config: PipelineConfig,
  override: string | undefined,
  cwd: string,
): PublishTargetSpec {
  if (override !== undefined) {
    if (!/^oci:[^:]+$/.test(override)) {
      throw new VouchError(
        'USAGE',
        `--target must be oci:DIR (an OCI layout standing in for the registry), not "${override}"`,
        {
          hint: 'without --target the image is pushed to the registry image.name names',
        },
      );
    }
    return { kind: 'layout', dir: resolve(cwd, override.slice('oci:'.length)) };
  }
  if (config.target) return config.target;
  return { kind: 'registry', name: config.image.name };
}

export async function runPipeline(o: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const env = o.env ?? process.env;
  const cwd = o.cwd ?? process.cwd();
  const config = typeof o.config === 'string' ? await loadPipelineConfig(resolve(cwd, o.config)) : o.config;
  const stages = selectStages(o.stages ?? config.stages);
  const work = workArea(config, o.workDir);
  const target = targetOf(config, o.target, cwd);
  const { epoch, fromEnv } = sourceDateEpoch(env);
  const state: RunState = { images: new Map(), sboms: new Map(), summary: new Map(), release: {} };

  let signer: Promise<PipelineSigner> | undefined;
  const ctx: PipelineContext = {
    config,
    work,
    epoch,
    env,
    registry: o.registry ?? {},
    target,
    signer: () => {
      signer ??= openSigner(config.signing, {
        env,
        cwd,
        ...(o.passphrase ? { passphrase: o.passphrase } : {}),
        ...(o.identityToken ? { identityToken: o.identityToken } : {}),
      });
      return signer;
    },
    now: o.now ?? (() => new Date()),
    ...(o.signal ? { signal: o.signal } : {}),
    state,
  };

  o.log.emit({
    event: 'run-start',
    config: config.file,
    image: config.image.name,
    version: config.image.version,
    architectures: config.image.architectures,
    stages,
    skipped: STAGES.filter((s) => !stages.includes(s)),
    workDir: work.root,
    target: target.kind === 'layout' ? `oci:${target.dir}` : `docker://${target.name}`,
  });
  if (!fromEnv && stages.includes('build')) {
    o.log.emit({
      event: 'warning',
      message: 'SOURCE_DATE_EPOCH is not set: images and SBOMs record 1970-01-01T00:00:00Z',
    });
  }

  const records: StageRecord[] = [];
  let failed: RunResult['failed'];
  let exitCode: RunExitCode = RUN_EXIT.ok;
  for (const stage of stages) {
    const t0 = performance.now();
    o.log.emit({ event: 'stage-start', stage });
    const sctx: StageContext = {
      ...ctx,
      stage,
      log: {
        info: (message, x = {}) => o.log.emit({ event: 'info', stage, message, ...x }),
        warn: (message, x = {}) => o.log.emit({ event: 'warning', stage, message, ...x }),
      },
    };
    let result: StageResult;
    try {
      result = await STAGE_RUNNERS[stage](sctx);
    } catch (e) {
      if (!isVouchError(e)) {
        o.log.emit({
          event: 'stage-end',
          stage,
          status: 'failed',
          durationMs: Math.round(performance.now() - t0),
          figures: {},
          reason: `internal error: ${e instanceof Error ? e.message : String(e)}`,
        });
        throw e;
      }
      result = {
        status: 'failed',
        reason: e.hint ? `${e.message} (hint: ${e.hint})` : e.message,
        details: [],
        figures: {},
        exitCode: RUN_EXIT.failed,
        code: e.code,
      };
    }
    const durationMs = Math.round(performance.now() - t0);
    records.push({ stage, status: result.status, durationMs, figures: result.figures });
    if (result.status === 'ok') {
      o.log.emit({ event: 'stage-end', stage, status: 'ok', durationMs, figures: result.figures });
      continue;
    }
    o.log.emit({
      event: 'stage-end',
      stage,
      status: 'failed',
      durationMs,
      figures: result.figures,
      reason: result.reason,
      ...(result.code ? { code: result.code } : {}),
      details: result.details,
    });
    failed = {
      stage,
      reason: result.reason,
      details: result.details,
      ...(result.code ? { code: result.code } : {}),
    };
    exitCode = result.exitCode;
    break;
  }

  const summary = summarise(ctx, failed);
  const images = Object.fromEntries([...state.images].map(([a, d]) => [a, d.digest]));
  const pinned = typeof state.release.pinned === 'string' ? state.release.pinned : undefined;
  o.log.emit({
    event: 'run-end',
    status: failed ? 'failed' : 'ok',
    exitCode,
    durationMs: Math.round(performance.now() - started),
    ...(failed ? { failedStage: failed.stage, reason: failed.reason } : {}),
    summary,
  });
  return {
    status: failed ? 'failed' : 'ok',
    exitCode,
    ...(failed ? { failed } : {}),
    stages: records,
    images,
    ...(state.index ? { index: state.index.digest } : {}),
    ...(pinned ? { pinned } : {}),
    workDir: work.root,
    layout: work.layout,
    summary,
  };
}

/** Per architecture: digest, tag, where the artifacts and signatures landed; then the release. */
function summarise(ctx: PipelineContext, failed: RunResult['failed']): Figures {
  const { version } = ctx.config.image;
  const out: Figures = {};
  for (const arch of ctx.config.image.architectures) {
    const d = ctx.state.images.get(arch);
    if (!d) continue;
    const tag = archTag(version, arch);
    out[arch] = {
      digest: d.digest,
      tag,
      local: `oci:${ctx.work.layout}:${tag}`,
      ...(ctx.state.summary.get(arch) ?? {}),
    };
  }
  if (ctx.state.index) {
    out.index = { digest: ctx.state.index.digest, tag: version, ...(ctx.state.summary.get('index') ?? {}) };
  }
  Object.assign(out, ctx.state.release);
  if (failed)
    out.kept = `the images stay in oci:${ctx.work.layout} (tags ${ctx.config.image.architectures.map((a) => archTag(version, a)).join(', ')})`;
  return out;
}
