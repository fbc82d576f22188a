/**
 * Stage 5b, scan and gate: match each image's packages against the OSV database, apply the
 * gate of vouch.yaml (severities, ignore-unfixed, ignore file, VEX) and write a trivy JSON report
 * into the work area. A failed gate stops the run with exit code 4, as `vouch scan` does; every
 * architecture is scanned first, so the log lists all findings over the policy at once.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { isVouchError, VouchError } from '../../errors.ts';
import {
  evaluateGate,
  gateTargetFromSbom,
  loadIgnoreFile,
  loadVexFiles,
  severityCounts,
} from '../../gate/index.ts';
import { type ReportContext, serializeTrivyJson, undecidedPackage } from '../../report/index.ts';
import { catalogImage } from '../../sbom/catalog.ts';
import type { Sbom } from '../../sbom/model.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { checkFreshness, defaultDbPath, openAdvisoryDb } from '../../vuln/db/index.ts';
import { SEVERITIES } from '../../vuln/finding.ts';
import { matchSbom } from '../../vuln/match/index.ts';
import { parseSeverityPrecedence } from '../../vuln/severity/index.ts';
import { isoSeconds, type StageContext } from '../context.ts';
import { currentDescriptor, withImage } from '../images.ts';
import type { Figures, StageResult } from '../types.ts';
import { archTag } from '../work.ts';
import { releaseSbom } from './sbom.ts';

const sha256 = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** Exit code of a failed gate (the same as `vouch scan`). */
export const GATE_EXIT = 4;

function openDb(path: string): ReturnType<typeof openAdvisoryDb> {
  try {
    return openAdvisoryDb(path);
  } catch (e) {
    if (!isVouchError(e, 'DB_NOT_FOUND')) throw e;
    throw new VouchError('DB_NOT_FOUND', e.message, {
      hint: 'set gate.db in vouch.yaml, or make one with `vouch db import` / `vouch db update`',
      cause: e,
    });
  }
}

/** The SBOM the sbom stage made of the current image in this run, else a fresh catalog. */
async function sbomOf(ctx: StageContext, arch: string, tag: string): Promise<Sbom> {
  const image = await currentDescriptor(ctx, arch);
  const made = ctx.state.sboms.get(arch);
  if (made?.digest === image.digest) return made.sbom;
  return withImage(ctx, arch, async (img) =>
    releaseSbom(
      await catalogImage(img, ctx.signal ? { signal: ctx.signal } : {}),
      ctx.config.image.name,
      tag,
      ctx.epoch,
    ),
  );
}

export async function scanStage(ctx: StageContext): Promise<StageResult> {
  const gate = ctx.config.gate;
  // Policy inputs first: a bad ignore file or VEX fails before any expensive work.
  const ignore = gate.ignoreFile ? await loadIgnoreFile(gate.ignoreFile, { required: true }) : undefined;
  const vex = await loadVexFiles(gate.vex);
  const dbPath = gate.db ?? defaultDbPath(ctx.env);
  const db = openDb(dbPath);
  const figures: Figures = {
    db: dbPath,
    severities: gate.severities.join(','),
    ignoreUnfixed: gate.ignoreUnfixed,
  };
  const over: string[] = [];
  try {
    const meta = db.metadata();
    const stale = checkFreshness(meta, undefined, ctx.now());
    if (stale) ctx.log.warn(`${stale}; refresh it with \`vouch db update\``);
    const policyDigest = sha256(
      JSON.stringify({
        ignoreFile: ignore?.file.digest ?? null,
        vex: vex.files.map((v) => v.digest),
        severities: SEVERITIES.filter((s) => gate.severities.includes(s)),
        ignoreUnfixed: gate.ignoreUnfixed,
      }),
    );
    for (const arch of ctx.config.image.architectures) {
      const tag = archTag(ctx.config.image.version, arch);
      const sbom = await sbomOf(ctx, arch, tag);
      const now = ctx.now();
      const matched = matchSbom(sbom, db, { now, severityPrecedence: parseSeverityPrecedence(['auto']) });
      const result = evaluateGate(
        matched.findings,
        {
          severities: gate.severities,
          ignoreUnfixed: gate.ignoreUnfixed,
          exceptions: ignore?.exceptions ?? [],
          vex: vex.statements,
          now,
        },
        gateTargetFromSbom(sbom),
      );
      const report: ReportContext = {
        artifactName: `${ctx.config.image.name}:${tag}`,
        artifactType: 'container_image',
        sbom,
        toolVersion: sbom.tool.version,
        createdAt: isoSeconds(ctx.epoch),
        policy: {
          severities: result.severities,
          ignoreUnfixed: gate.ignoreUnfixed,
          ignoreStatuses: result.ignoredStatuses,
          ...(gate.ignoreFile ? { ignoreFile: basename(gate.ignoreFile) } : {}),
          vex: gate.vex.map((v) => basename(v)),
          severitySources: ['auto'],
          exitCode: GATE_EXIT,
        },
        inputs: {
          ...(sbom.subject.kind === 'image' ? { imageDigest: sbom.subject.digest } : {}),
          dbDigest: meta.contentDigest,
          policyDigest,
          evaluatedOn: now.toISOString().slice(0, 10),
        },
        unknown: matched.unknown.map(undecidedPackage),
        skipped: matched.skipped.map(undecidedPackage),
      };
      const text = serializeTrivyJson(result, report);
      const file = ctx.work.files(arch).scan;
      await writeFileAtomic(file, text);
      for (const e of result.expiredExceptions) {
        ctx.log.warn(
          `exception ${e.exception.id ?? '(any id)'} at ${e.source} expired on ${e.exception.expires}`,
          { arch },
        );
      }
      const c = severityCounts(result.kept);
      const counts = SEVERITIES.filter((s) => c[s] > 0)
        .reverse()
        .map((s) => `${s} ${c[s]}`)
        .join(', ');
      ctx.log.info(
        `${matched.findings.length} findings, ${result.kept.length} over the policy${counts ? ` (${counts})` : ''}, ` +
          `${result.suppressed.length} suppressed: gate ${result.decision.toUpperCase()} → ${file}`,
        { arch },
      );
      for (const f of result.kept) {
        over.push(
          `${arch}: ${f.id} ${f.severity} in ${f.package.name} ${f.installedVersion}` +
            (f.fixedVersion ? ` (fixed in ${f.fixedVersion})` : ' (no fix)'),
        );
      }
      figures[arch] = {
        packages: sbom.packages.length,
        findings: matched.findings.length,
        kept: result.kept.length,
        suppressed: result.suppressed.length,
        unknown: matched.unknown.length,
        decision: result.decision,
        bySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, c[s]])),
        report: sha256(text),
      };
    }
  } finally {
    db.close();
  }
  if (over.length > 0) {
    return {
      status: 'failed',
      reason: `the gate failed: ${over.length} finding(s) over the policy (${gate.severities.join(', ')}${gate.ignoreUnfixed ? ', fixable only' : ''})`,
      details: over,
      figures,
      exitCode: GATE_EXIT,
    };
  }
  return { status: 'ok', figures };
}
