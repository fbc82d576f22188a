import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { makeProject, type Project, runIn } from '../../../test/pipeline/project.ts';

let p: Project;
before(async () => {
  p = await makeProject({
    architectures: ['amd64'],
    testFiles: [
      '{ path: /app/hello.sh, mode: "0755", owner: "65532:65532" }',
      '{ path: /bin/sh, absent: true }',
    ],
  });
});
after(async () => {
  await p?.cleanup();
});

test('test: the built-in checks and the declared files pass, each logged with its result', async () => {
  const r = await runIn(p, { stages: ['build', 'test'] });
  assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
  assert.deepEqual(r.stages[1]?.figures.amd64, { passed: 6, failed: 0, skipped: 0 });
  const lines = r.events
    .filter((e) => e.event === 'info' && e.stage === 'test')
    .map((e) => (e.event === 'info' ? e.message : ''));
  assert.ok(
    lines.some((l) => /^pass {2}user is not root/.test(l)),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => /^pass {2}absent: \/bin\/sh/.test(l)),
    lines.join('\n'),
  );
});

test('test: a root user and a wrong mode fail the stage, every failure listed', async () => {
  // No harden stage here, so the config's root user reaches the checks.
  await p.write({ architectures: ['amd64'], testFiles: ['{ path: /app/hello.sh, mode: "0700" }'] });
  await writeFile(p.config, (await readFile(p.config, 'utf8')).replace('user: "65532:65532"', 'user: "0"'));
  const r = await runIn(p, { stages: ['build', 'test'] });
  assert.equal(r.exitCode, 1);
  assert.equal(r.failed?.stage, 'test');
  assert.match(r.failed?.reason ?? '', /^2 image check\(s\) failed$/);
  const details = r.failed?.details.join('\n') ?? '';
  assert.match(details, /amd64: user is not root/);
  assert.match(details, /amd64: .*\/app\/hello\.sh/);
});
