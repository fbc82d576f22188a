/**
 * The run's audit trail: one event per stage start and end (with its duration and figures), the
 * lines stages write while they work, and the summary. Two renderings of the same events: JSON
 * lines for machines (`--log-format json`) and readable lines for people (coloured only on a
 * terminal). Nothing secret is ever passed in: stages log digests, sizes, counts and paths.
 */
import type { Stage } from './schema.ts';
import type { Figures, FigureValue } from './types.ts';

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogEvent =
  | {
      event: 'run-start';
      config: string;
      image: string;
      version: string;
      architectures: string[];
      stages: Stage[];
      skipped: Stage[];
      workDir: string;
      target: string;
    }
  | { event: 'stage-start'; stage: Stage }
  | { event: 'info'; stage: Stage; arch?: string; message: string; fields?: Figures }
  | { event: 'warning'; stage?: Stage; arch?: string; message: string }
  | {
      event: 'stage-end';
      stage: Stage;
      status: 'ok' | 'failed';
      durationMs: number;
      figures: Figures;
      reason?: string;
      code?: string;
      details?: string[];
    }
  | {
      event: 'run-end';
      status: 'ok' | 'failed';
      exitCode: number;
      durationMs: number;
      failedStage?: Stage;
      reason?: string;
      summary: Figures;
    };

export interface PipelineLog {
  emit(e: LogEvent): void;
}

/** Collects events in memory (tests, and callers that render their own output). */
export function memoryLog(): PipelineLog & { events: LogEvent[] } {
  const events: LogEvent[] = [];
  return { events, emit: (e) => events.push(e) };
}

/** One JSON object per line: `time`, `level`, then the event's fields. */
export function jsonLog(write: (line: string) => void, now: () => Date = () => new Date()): PipelineLog {
  return {
    emit(e) {
      const failed = (e.event === 'stage-end' || e.event === 'run-end') && e.status === 'failed';
      const level = e.event === 'warning' ? 'warn' : failed ? 'error' : 'info';
      write(`${JSON.stringify({ time: now().toISOString(), level, ...e })}\n`);
    },
  };
}

const COLOURS = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;
type Colour = keyof typeof COLOURS;

/** Readable lines; ANSI colours only when `color` (a terminal that did not ask for NO_COLOR). */
export function textLog(write: (line: string) => void, o: { color: boolean }): PipelineLog {
  const paint = (c: Colour, s: string) => (o.color ? `\u001b[${COLOURS[c]}m${s}\u001b[0m` : s);
  const line = (s: string) => write(`${s}\n`);
  const tag = (stage: string) => paint('bold', `[${stage}]`);
  return {
    emit(e) {
      switch (e.event) {
        case 'run-start':
          line(
            `${paint('bold', 'vouch pipeline')} ${e.image}:${e.version} for ${e.architectures.join(', ')} (${e.config})`,
          );
          line(
            `  stages: ${e.stages.join(' → ')}${e.skipped.length ? paint('dim', ` (skipped: ${e.skipped.join(', ')})`) : ''}`,
          );
          line(`  work area: ${e.workDir}`);
          line(`  target: ${e.target}`);
          return;
        case 'stage-start':
          line(`${tag(e.stage)} start`);
          return;
        case 'info':
          line(`${tag(e.stage)} ${e.arch ? `${e.arch}: ` : ''}${e.message}`);
          return;
        case 'warning':
          line(
            `${e.stage ? `${tag(e.stage)} ` : ''}${paint('yellow', 'warning:')} ${e.arch ? `${e.arch}: ` : ''}${e.message}`,
          );
          return;
        case 'stage-end': {
          const took = seconds(e.durationMs);
          if (e.status === 'ok') {
            line(`${tag(e.stage)} ${paint('green', 'ok')} in ${took}${scalars(e.figures)}`);
            return;
          }
          line(
            `${tag(e.stage)} ${paint('red', 'FAILED')} after ${took}: ${e.code ? `[${e.code}] ` : ''}${e.reason ?? ''}`,
          );
          for (const d of e.details ?? []) line(`  ${paint('red', '✗')} ${d}`);
          return;
        }
        case 'run-end':
          line(
            e.status === 'ok'
              ? paint('green', `pipeline ok in ${seconds(e.durationMs)}`)
              : paint(
                  'red',
                  `pipeline failed at stage ${e.failedStage ?? '?'} (exit ${e.exitCode}): ${e.reason ?? ''}`,
                ),
          );
          for (const l of summaryLines(e.summary)) line(l);
          return;
      }
    },
  };
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Top-level scalar figures as ` (k v, k v)`; nested ones were logged as lines already. */
function scalars(f: Figures): string {
  const parts = Object.entries(f)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    .map(([k, v]) => `${k} ${String(v)}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** The summary as indented lines: nested objects become headings, lists one item per line. */
export function summaryLines(value: FigureValue, indent = '  '): string[] {
  if (value === null || typeof value !== 'object') return [`${indent}${String(value)}`];
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const v of value as readonly FigureValue[]) {
      if (v !== null && typeof v === 'object') out.push(...summaryLines(v, indent));
      else out.push(`${indent}- ${String(v)}`);
    }
    return out;
  }
  for (const [k, v] of Object.entries(value as Record<string, FigureValue>)) {
    if (v !== null && typeof v === 'object') {
      out.push(`${indent}${k}:`);
      out.push(...summaryLines(v, `${indent}  `));
    } else out.push(`${indent}${k}: ${String(v)}`);
  }
  return out;
}
