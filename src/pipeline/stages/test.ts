/**
 * Stage 4, test: the static image checks (non-root user, package managers gone, no secret-looking
 * values, needed libraries present) and the files vouch.yaml declares. Any failed check stops the
 * run; the image stays in the work layout to look at.
 */
import { runImageChecks, summariseChecks } from '../../imagetest/index.ts';
import type { StageContext } from '../context.ts';
import { withImage } from '../images.ts';
import type { Figures, StageResult } from '../types.ts';

export async function testStage(ctx: StageContext): Promise<StageResult> {
  const figures: Figures = {};
  const failures: string[] = [];
  for (const arch of ctx.config.image.architectures) {
    const results = await withImage(ctx, arch, (image) =>
      runImageChecks(image, { files: ctx.config.tests.files }, ctx.signal ? { signal: ctx.signal } : {}),
    );
    for (const r of results) {
      const line = `${r.status === 'pass' ? 'pass' : r.status === 'fail' ? 'FAIL' : 'skip'}  ${r.name}: ${r.message}`;
      ctx.log.info(line, { arch });
      if (r.status === 'fail') {
        failures.push(`${arch}: ${r.name}: ${r.message}`);
        for (const d of r.details ?? []) failures.push(`${arch}:   ${d}`);
      }
    }
    const s = summariseChecks(results);
    figures[arch] = { passed: s.passed, failed: s.failed, skipped: s.skipped };
  }
  if (failures.length > 0) {
    const n = failures.filter((f) => !/^\S+: {3}/.test(f)).length;
    return {
      status: 'failed',
      reason: `${n} image check(s) failed`,
      details: failures,
      figures,
      exitCode: 1,
    };
  }
  return { status: 'ok', figures };
}
