/**
 * The main job, shown on the bundled example with no network and no daemon: copy the project,
 * make a throwaway key pair and the advisory database, run every pipeline stage into an OCI
 * layout standing in for the registry and a local artifact store, verify the release as a
 * consumer would, prove the build reproducible and tampering rejected, and say where
 * everything landed.
 */
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { textLog } from '../pipeline/log.ts';
import { type RunResult, runPipeline } from '../pipeline/run.ts';
import { loadVerificationKey } from '../sign/keys/load.ts';
import { type ConsumerResult, verifyAsConsumer } from './consumer.ts';
import { type Landed, whereLanded } from './landed.ts';
import { EXAMPLE_DIR, prepareProject } from './project.ts';
import { renderConsumer, renderPipelineEnd } from './render.ts';
import { type Compared, rebuildAndCompare } from './reproduce.ts';
import { type TamperOutcome, tamperProofs } from './tamper.ts';

export { EXAMPLE_DIR } from './project.ts';

/** The demo's build time: any fixed value makes the digests reproducible. */
export const DEMO_EPOCH = 1700000000;

export interface DemoOptions {
  /** An empty directory, made by the caller (see openWorkDir). */
  workDir: string;
  /** Default: examples/hello of this checkout. */
  exampleDir?: string;
  /** SOURCE_DATE_EPOCH of both builds (default DEMO_EPOCH). */
  sourceDateEpoch?: number;
  /** Progress, one line per call. */
  log: (line: string) => void;
  /** Colour the pipeline's lines (a terminal). */
  color?: boolean;
  /** The wall clock the pipeline's scans record (default: the demo's start, for both builds). */
  now?: () => Date;
}

export interface GateDecision {
  arch: string;
  decision: string;
  findings: number;
  overPolicy: number;
}

interface DemoCommon {
  workDir: string;
  durationMs: number;
  pipeline: { status: RunResult['status']; exitCode: number; stages: string[] };
}

export type DemoResult =
  | (DemoCommon & { status: 'pipeline-failed'; ok: false; reason: string })
  | (DemoCommon & {
      status: 'done';
      /** Verification passed, the rebuild was identical and every tampering was rejected. */
      ok: boolean;
      image: { name: string; version: string; architectures: string[] };
      /** `name:version@sha256:…` of the index. */
      pinned: string;
      images: Record<string, string>;
      index: string;
      keys: { privateKey: string; publicKey: string; passwordFile: string };
      advisories: { db: string; records: number; ecosystems: Record<string, number> };
      gate: GateDecision[];
      consumer: ConsumerResult;
      reproducible: { identical: boolean; compared: Compared[] };
      tamper: TamperOutcome[];
      landed: Landed;
    });

/** Per architecture, what the scan stage decided (from its figures). */
function gateDecisions(r: RunResult): GateDecision[] {
  const figures = r.stages.find((s) => s.stage === 'scan')?.figures ?? {};
  const out: GateDecision[] = [];
  for (const [arch, v] of Object.entries(figures)) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    const f = v as Record<string, unknown>;
    if (typeof f.decision !== 'string') continue;
    out.push({ arch, decision: f.decision, findings: Number(f.findings), overPolicy: Number(f.kept) });
  }
  return out;
}

/** `Alpine, Debian, PyPI` of `Alpine:v3.17`, `Debian:12`, ... (a record may cover several). */
function families(ecosystems: Record<string, number>): string {
  return [...new Set(Object.keys(ecosystems).map((e) => e.split(':')[0] ?? e))].sort().join(', ');
}

export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const t0 = performance.now();
  const started = new Date();
  const now = o.now ?? (() => started);
  const log = o.log;
  const w = o.workDir;
  const example = o.exampleDir ?? EXAMPLE_DIR;
  const epoch = o.sourceDateEpoch ?? DEMO_EPOCH;
  const rel = (p: string) => relative(w, p) || '.';

  log(`1. project   ${example} → ${w}`);
  const project = await prepareProject(example, w);
  const { config } = project;
  log(
    `    demo key pair, made for this run only: ${rel(project.privateKey)} (encrypted; passphrase in ${rel(project.passwordFile)}, mode 0600), ${rel(project.publicKey)}`,
  );
  const meta = project.advisories.metadata;
  log(
    `    advisory database ${rel(project.db)}: ${meta.records} OSV records for ${families(meta.ecosystems)}, imported offline from ${rel(join(w, 'advisories'))}/`,
  );

  // Only what the build needs: a CI job's variables would make the demo claim that CI built it.
  const env: NodeJS.ProcessEnv = { SOURCE_DATE_EPOCH: String(epoch) };
  log(`2. pipeline  SOURCE_DATE_EPOCH=${epoch} vouch pipeline run -c ${rel(config.file)}`);
  const text = textLog(
    (chunk) => {
      for (const line of chunk.replace(/\n$/, '').split('\n')) log(`    ${line}`);
    },
    { color: o.color ?? false },
  );
  const run = await runPipeline({
    config,
    cwd: w,
    env,
    passphrase: { env: { VOUCH_PASSWORD: project.passphrase } },
    now,
    // The run's own summary repeats what "where everything landed" says: only its status line.
    log: { emit: (e) => text.emit(e.event === 'run-end' ? { ...e, summary: {} } : e) },
  });
  const pipeline = {
    status: run.status,
    exitCode: run.exitCode,
    stages: run.stages.map((s) => `${s.stage}:${s.status}`),
  };
  if (run.status !== 'ok' || !run.index) {
    const reason = run.failed ? `stage ${run.failed.stage}: ${run.failed.reason}` : 'no index was made';
    return { status: 'pipeline-failed', ok: false, reason, workDir: w, pipeline, durationMs: ms(t0) };
  }
  const gate = gateDecisions(run);
  for (const line of renderPipelineEnd(gate, meta.records)) log(`    ${line}`);

  const { name, version, architectures } = config.image;
  const { registry } = project;
  const sbomDir = join(w, 'sbom');
  log(`3. verify    as a consumer holding only ${rel(project.publicKey)}: oci:${rel(registry)}:${version}`);
  const consumer = await verifyAsConsumer({
    config,
    publicKey: project.publicKey,
    release: `oci:${registry}:${version}`,
    sbomOutput: sbomDir,
  });
  for (const line of renderConsumer(consumer)) log(`    ${line}`);

  log('4. reproduce the same build again from a fresh copy, in another directory');
  const again = await rebuildAndCompare({ example, project, first: run, dir: join(w, 'rebuild'), env, now });
  const differing = again.compared.filter((c) => c.first !== c.second);
  log(
    again.identical
      ? `    ${again.compared.length} digests compared (images, index, SBOMs, scan reports, provenance): all identical`
      : `    NOT REPRODUCIBLE: ${differing.map((c) => `${c.what} ${c.first} ≠ ${c.second}`).join('; ')}`,
  );
  if (again.identical) await rm(again.dir, { recursive: true, force: true });

  log(`5. tamper    on copies of the published layout`);
  const key = await loadVerificationKey(project.publicKey);
  const tag = `${version}-${architectures[0]}`;
  const tamper = await tamperProofs(registry, join(w, 'tamper'), tag, { kind: 'key', key });
  for (const t of tamper) {
    log(`    ${t.attack}: ${t.what}`);
    log(`      → ${t.rejected ? `rejected [${t.code}] ${t.message}` : `NOT REJECTED: ${t.message}`}`);
  }

  const landed = await whereLanded({ registry, artifacts: project.store, sboms: sbomDir });
  const ok = consumer.ok && again.identical && tamper.every((t) => t.rejected);
  return {
    status: 'done',
    ok,
    workDir: w,
    durationMs: ms(t0),
    pipeline,
    image: { name, version, architectures },
    pinned: `${name}:${version}@${run.index}`,
    images: run.images,
    index: run.index,
    keys: {
      privateKey: project.privateKey,
      publicKey: project.publicKey,
      passwordFile: project.passwordFile,
    },
    advisories: { db: project.db, records: meta.records, ecosystems: meta.ecosystems },
    gate,
    consumer,
    reproducible: { identical: again.identical, compared: again.compared },
    tamper,
    landed,
  };
}

const ms = (t0: number) => Math.round(performance.now() - t0);
