import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonLog, type LogEvent, summaryLines, textLog } from './log.ts';

const EVENTS: LogEvent[] = [
  {
    event: 'run-start',
    config: '/p/vouch.yaml',
    image: 'r/app',
    version: '1',
    architectures: ['amd64'],
    stages: ['build', 'test'],
    skipped: ['push'],
    workDir: '/p/.vouch/1',
    target: 'docker://r/app',
  },
  { event: 'stage-start', stage: 'build' },
  { event: 'info', stage: 'build', arch: 'amd64', message: 'sha256:aa (1 layers)' },
  {
    event: 'stage-end',
    stage: 'build',
    status: 'ok',
    durationMs: 1500,
    figures: { layers: 1, amd64: { digest: 'sha256:aa' } },
  },
  {
    event: 'stage-end',
    stage: 'test',
    status: 'failed',
    durationMs: 12,
    figures: {},
    reason: '1 image check(s) failed',
    details: ['amd64: user is not root: uid 0'],
  },
  {
    event: 'run-end',
    status: 'failed',
    exitCode: 1,
    durationMs: 2000,
    failedStage: 'test',
    reason: 'x',
    summary: { pinned: 'r/app:1@sha256:bb' },
  },
];

test('JSON log: one object per line with time, level and the event fields', () => {
  const lines: string[] = [];
  const log = jsonLog(
    (l) => lines.push(l),
    () => new Date(0),
  );
  for (const e of EVENTS) log.emit(e);
  assert.ok(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(parsed[0]?.time, '1970-01-01T00:00:00.000Z');
  assert.deepEqual(
    parsed.map((p) => p.level),
    ['info', 'info', 'info', 'info', 'error', 'error'],
  );
  assert.deepEqual(parsed[3]?.figures, { layers: 1, amd64: { digest: 'sha256:aa' } });
});

test('text log: readable lines, colours only when asked', () => {
  const plainLines: string[] = [];
  const colouredLines: string[] = [];
  const a = textLog((l) => plainLines.push(l), { color: false });
  const b = textLog((l) => colouredLines.push(l), { color: true });
  for (const e of EVENTS) {
    a.emit(e);
    b.emit(e);
  }
  const plain = plainLines.join('');
  const coloured = colouredLines.join('');
  assert.doesNotMatch(plain, /\u001b\[/);
  assert.match(coloured, /\u001b\[32mok\u001b\[0m/);
  assert.match(plain, /stages: build → test \(skipped: push\)/);
  assert.match(plain, /\[build\] amd64: sha256:aa \(1 layers\)/);
  assert.match(plain, /\[build\] ok in 1\.5 s \(layers 1\)/);
  assert.match(
    plain,
    /\[test\] FAILED after 12 ms: 1 image check\(s\) failed\n {2}✗ amd64: user is not root: uid 0/,
  );
  assert.match(plain, /pipeline failed at stage test \(exit 1\): x\n {2}pinned: r\/app:1@sha256:bb/);
});

test('summary lines: nested objects indent, lists one item per line', () => {
  assert.deepEqual(summaryLines({ amd64: { digest: 'd', artifacts: ['a', 'b'] }, pinned: 'p' }), [
    '  amd64:',
    '    digest: d',
    '    artifacts:',
    '      - a',
    '      - b',
    '  pinned: p',
  ]);
});
