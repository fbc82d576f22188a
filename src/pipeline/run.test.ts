import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { parsePipelineConfig } from './config.ts';
import { selectStages, sourceDateEpoch, targetOf } from './run.ts';

const CONFIG = parsePipelineConfig(
  'apiVersion: vouch.dev/v1\nkind: Pipeline\nimage: { name: reg.example/team/app, version: "1.0" }\nbase: { image: scratch }\n',
  '/p/vouch.yaml',
);

test('stages run in pipeline order whatever order they are named in; unknown names are USAGE', () => {
  assert.deepEqual(selectStages(['push', 'build', 'scan']), ['build', 'scan', 'push']);
  assert.throws(
    () => selectStages(['build', 'deploy']),
    (e: unknown) => isVouchError(e, 'USAGE') && /unknown stage "deploy"/.test(e.message),
  );
});

test('SOURCE_DATE_EPOCH: whole seconds; unset is 0; anything else is USAGE', () => {
  assert.deepEqual(sourceDateEpoch({ SOURCE_DATE_EPOCH: '1700000000' }), {
    epoch: 1700000000,
    fromEnv: true,
  });
  assert.deepEqual(sourceDateEpoch({}), { epoch: 0, fromEnv: false });
  for (const bad of ['-1', '1.5', 'yesterday']) {
    assert.throws(
      () => sourceDateEpoch({ SOURCE_DATE_EPOCH: bad }),
      (e: unknown) => isVouchError(e, 'USAGE'),
    );
  }
});

test('the target: the registry of image.name, the file target:, or --target oci:DIR (relative to cwd)', () => {
  assert.deepEqual(targetOf(CONFIG, undefined, '/cwd'), { kind: 'registry', name: 'reg.example/team/app' });
  assert.deepEqual(targetOf(CONFIG, 'oci:out', '/cwd'), { kind: 'layout', dir: '/cwd/out' });
  assert.deepEqual(targetOf({ ...CONFIG, target: { kind: 'layout', dir: '/p/rel' } }, undefined, '/cwd'), {
    kind: 'layout',
    dir: '/p/rel',
  });
  assert.throws(
    () => targetOf(CONFIG, 'docker://x/y', '/cwd'),
    (e: unknown) => isVouchError(e, 'USAGE'),
  );
});
