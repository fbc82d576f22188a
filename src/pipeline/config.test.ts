import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { parsePipelineConfig } from './config.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const GOOD = `apiVersion: vouch.dev/v1
kind: Pipeline
image:
  name: 127.0.0.1:5000/team/app
  version: 1.2.3
  architectures: [amd64, arm64]
base:
  image: debian@${DIGEST}
layers:
  - source: ./app
    target: /app
    owner: "1000:1000"
    mode: "0755"
config:
  user: "1000"
  env: { GREETING: hello }
  entrypoint: [/app/run]
  ports: ["8080/tcp"]
gate:
  severities: [CRITICAL]
signing:
  key: keys/cosign.key
`;

function fails(text: string, pattern: RegExp): void {
  assert.throws(
    () => parsePipelineConfig(text, '/work/p/vouch.yaml'),
    (e: unknown) => isVouchError(e, 'PIPELINE_CONFIG_INVALID') && pattern.test(e.message),
  );
}

test('a valid file is normalised: paths resolved, defaults filled, owner and mode parsed', () => {
  const c = parsePipelineConfig(GOOD, '/work/p/vouch.yaml');
  assert.deepEqual(c.image, {
    name: '127.0.0.1:5000/team/app',
    version: '1.2.3',
    architectures: ['amd64', 'arm64'],
  });
  assert.equal(c.base.digest, DIGEST);
  assert.deepEqual(c.layers, [{ source: '/work/p/app', target: '/app', uid: 1000, gid: 1000, mode: 0o755 }]);
  assert.deepEqual(c.signing, { kind: 'key', key: '/work/p/keys/cosign.key', storage: 'tag' });
  assert.deepEqual(c.gate.severities, ['CRITICAL']);
  assert.equal(c.gate.ignoreUnfixed, true);
  assert.equal(c.harden.user, '1000');
  assert.deepEqual(c.store, { kind: 'directory', directory: '/work/p/vouch-artifacts' });
  assert.equal(c.stages[0], 'build');
});

test('an unpinned or latest base is refused with its position', () => {
  fails(
    GOOD.replace(`debian@${DIGEST}`, 'debian:latest'),
    /vouch\.yaml:8:3: base\.image .*not pinned.*latest/,
  );
  fails(GOOD.replace(`debian@${DIGEST}`, 'debian:12'), /not pinned by digest/);
  fails(GOOD.replace(`debian@${DIGEST}`, 'debian'), /names latest/);
});

test('schema errors name the field and line:column', () => {
  fails(
    GOOD.replace('version: 1.2.3', 'version: latest'),
    /vouch\.yaml:5:\d+: image\.version must not be "latest"/,
  );
  fails(
    GOOD.replace('  user: "1000"', '  usr: "1000"'),
    /vouch\.yaml:15:3: config\.usr is not a known field/,
  );
  fails(GOOD.replace('arm64]', 'sparc]'), /image\.architectures\.1 must be one of/);
  fails(GOOD.replace('    mode: "0755"', '    mode: "0999"'), /vouch\.yaml:13:\d+: layers\.0\.mode/);
  fails(GOOD.replace('kind: Pipeline\n', ''), /needs the field "kind"/);
  fails(
    GOOD.replace('  key: keys/cosign.key', '  key: k\n  keyless: {}'),
    /signing sets fields that exclude/,
  );
});

test('an image name with a tag and broken YAML are refused', () => {
  fails(GOOD.replace('team/app', 'team/app:v1'), /image\.name must not carry a tag/);
  fails(`${GOOD}  bad: [`, /vouch\.yaml:\d+:\d+/);
  fails(GOOD.replace('kind: Pipeline', 'kind: Pipeline\nkind: Pipeline'), /vouch\.yaml:3:1/);
});

test('the file `vouch init` writes is valid as written', async () => {
  const { starterConfig } = await import('./init.ts');
  const c = parsePipelineConfig(starterConfig(), '/w/vouch.yaml');
  assert.equal(c.base.image, 'scratch');
  assert.deepEqual(c.signing, { kind: 'key', key: '/w/cosign.key', storage: 'tag' });
  assert.equal(c.tests.files[0]?.mode, 0o755);
  const pinned = parsePipelineConfig(starterConfig({ base: `debian@${DIGEST}` }), '/w/vouch.yaml');
  assert.equal(pinned.base.digest, DIGEST);
});

test('target: an OCI layout standing in for the registry, resolved against the file; anything else refused', () => {
  const c = parsePipelineConfig(`${GOOD}target: oci:./release\n`, '/work/p/vouch.yaml');
  assert.deepEqual(c.target, { kind: 'layout', dir: '/work/p/release' });
  assert.equal(parsePipelineConfig(GOOD, '/work/p/vouch.yaml').target, undefined);
  fails(`${GOOD}target: docker://reg/app\n`, /target must match pattern/);
});
