/** What a pipeline stage returns, and the figures it reports (sizes, counts, digests, findings). */
import type { ErrorCode } from '../errors.ts';
import type { Stage } from './schema.ts';

export type FigureValue =
  | string
  | number
  | boolean
  | null
  | readonly FigureValue[]
  | { readonly [key: string]: FigureValue };

export type Figures = Record<string, FigureValue>;

/** Exit codes of a run: 0 ok, 1 a stage failed, 4 the gate failed (as `vouch scan`). */
export const RUN_EXIT = { ok: 0, failed: 1, gate: 4 } as const;
export type RunExitCode = (typeof RUN_EXIT)[keyof typeof RUN_EXIT];

export type StageResult =
  | { status: 'ok'; figures: Figures }
  | {
      status: 'failed';
      /** One line: why the stage stopped the run. */
      reason: string;
      /** Every offending item (failed checks, findings over the policy), one line each. */
      details: string[];
      figures: Figures;
      exitCode: 1 | 4;
      /** Set when a VouchError stopped the stage. */
      code?: ErrorCode;
    };

export interface StageRecord {
  stage: Stage;
  status: 'ok' | 'failed';
  durationMs: number;
  figures: Figures;
}
