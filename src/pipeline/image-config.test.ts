import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PipelineConfig } from './config.ts';
import { containerConfig, imageConfig, mergeEnv, portKey, releaseLabels } from './image-config.ts';

const C: PipelineConfig['config'] = { env: {}, ports: [], volumes: [], labels: {} };
const FACTS = { version: '1.0.0', epoch: 1700000000 };

test('ports get /tcp when they name no protocol', () => {
  assert.equal(portKey('8080'), '8080/tcp');
  assert.equal(portKey('53/udp'), '53/udp');
});

test('env: base variables replaced in place, new ones appended in file order', () => {
  assert.deepEqual(mergeEnv(['PATH=/bin', 'A=1', 'EMPTY'], { B: '2', PATH: '/app:/bin', EMPTY: 'x' }), [
    'PATH=/app:/bin',
    'A=1',
    'EMPTY=x',
    'B=2',
  ]);
  assert.deepEqual(mergeEnv(undefined, {}), []);
});

test('the config applies vouch.yaml over the base as a Dockerfile would', () => {
  const base = {
    User: 'root',
    Env: ['PATH=/usr/bin'],
    Entrypoint: ['/docker-entrypoint.sh'],
    Cmd: ['nginx'],
    ExposedPorts: { '80/tcp': {} },
    Labels: { vendor: 'base', 'org.opencontainers.image.version': '9.9' },
  };
  const c = containerConfig(
    {
      ...C,
      user: '65532',
      entrypoint: ['/app/run'],
      ports: ['8080'],
      labels: { team: 'a', 'org.opencontainers.image.created': 'lie' },
    },
    base,
    FACTS,
  );
  assert.equal(c.User, '65532');
  assert.deepEqual(c.Entrypoint, ['/app/run']);
  assert.equal(c.Cmd, undefined, 'an ENTRYPOINT without CMD clears the base CMD');
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '8080/tcp': {} });
  assert.deepEqual(c.Labels, {
    vendor: 'base',
    team: 'a',
    'org.opencontainers.image.version': '1.0.0',
    'org.opencontainers.image.created': '2023-11-14T22:13:20Z',
  });
  // Without entrypoint or cmd in vouch.yaml, the base's are kept.
  const kept = containerConfig(C, base, FACTS);
  assert.deepEqual([kept.Entrypoint, kept.Cmd, kept.User], [['/docker-entrypoint.sh'], ['nginx'], 'root']);
});

test('release labels: version and created always; source and revision from CI', () => {
  assert.deepEqual(releaseLabels({ version: '2', epoch: 0 }), {
    'org.opencontainers.image.version': '2',
    'org.opencontainers.image.created': '1970-01-01T00:00:00Z',
  });
  assert.equal(
    releaseLabels({ version: '2', epoch: 0, source: { source: 'https://g/o/r', revision: 'abc' } })[
      'org.opencontainers.image.revision'
    ],
    'abc',
  );
});

test('image config: platform by architecture (arm is v7), blank history for a base without one', () => {
  const config = { config: C } as PipelineConfig;
  const arm = imageConfig(config, 'arm', undefined, FACTS);
  assert.deepEqual(
    [arm.os, arm.architecture, arm.variant, arm.created],
    ['linux', 'arm', 'v7', '2023-11-14T22:13:20Z'],
  );
  const base = {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers' as const, diff_ids: [] as never[] },
  };
  base.rootfs.diff_ids.length = 2;
  assert.deepEqual(imageConfig(config, 'amd64', base, FACTS).history, [{}, {}]);
});
