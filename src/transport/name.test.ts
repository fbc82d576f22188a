import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { formatImageName, type ImageName, isLayoutRefName, parseImageName } from './name.ts';

const D = `sha256:${'c'.repeat(64)}`;
const hub = (repository: string, tag?: string) => ({
  registry: 'docker.io',
  repository,
  ...(tag === undefined ? {} : { tag }),
});

const valid: [string, ImageName, string][] = [
  ['oci:out', { transport: 'oci', path: 'out' }, 'oci:out'],
  ['oci:./out:v1', { transport: 'oci', path: './out', tag: 'v1' }, 'oci:./out:v1'],
  ['oci:/abs/dir:latest', { transport: 'oci', path: '/abs/dir', tag: 'latest' }, 'oci:/abs/dir:latest'],
  // skopeo splits at the first ':' — the rest is the ref name, which may contain ':'
  ['oci:dir:a:b', { transport: 'oci', path: 'dir', tag: 'a:b' }, 'oci:dir:a:b'],
  [
    'oci:dir:example.com/app:v1',
    { transport: 'oci', path: 'dir', tag: 'example.com/app:v1' },
    'oci:dir:example.com/app:v1',
  ],
  ['oci:dir:', { transport: 'oci', path: 'dir' }, 'oci:dir'],
  ['oci:dir:Tag_1.0', { transport: 'oci', path: 'dir', tag: 'Tag_1.0' }, 'oci:dir:Tag_1.0'],
  ['oci-archive:img.tar', { transport: 'oci-archive', path: 'img.tar' }, 'oci-archive:img.tar'],
  [
    'oci-archive:/t/img.tar:v2',
    { transport: 'oci-archive', path: '/t/img.tar', tag: 'v2' },
    'oci-archive:/t/img.tar:v2',
  ],
  ['docker-archive:a.tar', { transport: 'docker-archive', path: 'a.tar' }, 'docker-archive:a.tar'],
  [
    'docker-archive:a.tar:foo',
    { transport: 'docker-archive', path: 'a.tar', ref: hub('library/foo', 'latest') },
    'docker-archive:a.tar:docker.io/library/foo:latest',
  ],
  [
    'docker-archive:a.tar:localhost:5000/x:1',
    {
      transport: 'docker-archive',
      path: 'a.tar',
      ref: { registry: 'localhost:5000', repository: 'x', tag: '1' },
    },
    'docker-archive:a.tar:localhost:5000/x:1',
  ],
  [
    'docker-archive:a.tar:@2',
    { transport: 'docker-archive', path: 'a.tar', index: 2 },
    'docker-archive:a.tar:@2',
  ],
  [
    'docker://debian:12',
    { transport: 'docker', ref: hub('library/debian', '12') },
    'docker://docker.io/library/debian:12',
  ],
  [
    `docker://127.0.0.1:5000/a/b@${D}`,
    { transport: 'docker', ref: { registry: '127.0.0.1:5000', repository: 'a/b', digest: D as never } },
    `docker://127.0.0.1:5000/a/b@${D}`,
  ],
  ['debian', { transport: 'docker', ref: hub('library/debian') }, 'docker://docker.io/library/debian'],
  [
    'localhost:5000/a',
    { transport: 'docker', ref: { registry: 'localhost:5000', repository: 'a' } },
    'docker://localhost:5000/a',
  ],
  // a word before ':' that is not a transport but forms a valid reference is a reference
  ['foo:bar', { transport: 'docker', ref: hub('library/foo', 'bar') }, 'docker://docker.io/library/foo:bar'],
  [
    'ghcr.io/o/x:v1',
    { transport: 'docker', ref: { registry: 'ghcr.io', repository: 'o/x', tag: 'v1' } },
    'docker://ghcr.io/o/x:v1',
  ],
];

for (const [input, want, formatted] of valid) {
  test(`parseImageName(${JSON.stringify(input)})`, () => {
    const got = parseImageName(input);
    assert.deepEqual(got, want);
    assert.equal(formatImageName(got), formatted);
    assert.deepEqual(parseImageName(formatted), got, 'formatted name parses back');
  });
}

const invalid: [string, 'REFERENCE_INVALID' | 'TRANSPORT_UNKNOWN', string][] = [
  ['foo:/x', 'TRANSPORT_UNKNOWN', 'unknown transport "foo"'],
  ['s3:bucket/Key', 'TRANSPORT_UNKNOWN', 'docker:, oci:, oci-archive:, docker-archive:'],
  ['dir:/tmp/x', 'TRANSPORT_UNKNOWN', 'transport "dir" is not supported'],
  ['containers-storage:foo', 'TRANSPORT_UNKNOWN', 'not supported'],
  ['docker-daemon:debian:12', 'TRANSPORT_UNKNOWN', 'not supported'],
  ['docker:debian', 'REFERENCE_INVALID', 'docker://REFERENCE'],
  ['docker://Debian', 'REFERENCE_INVALID', 'must be lowercase'],
  ['oci:', 'REFERENCE_INVALID', 'missing path'],
  ['oci::tag', 'REFERENCE_INVALID', 'missing path'],
  ['oci:dir:-bad', 'REFERENCE_INVALID', '"-bad" is not a valid image name'],
  ['oci:dir:a b', 'REFERENCE_INVALID', 'not a valid image name'],
  ['oci-archive:f.tar:a//b', 'REFERENCE_INVALID', 'not a valid image name'],
  ['docker-archive:a.tar:@x', 'REFERENCE_INVALID', 'invalid source index "@x"'],
  ['docker-archive:a.tar:@-1', 'REFERENCE_INVALID', 'invalid source index'],
  [`docker-archive:a.tar:foo@${D}`, 'REFERENCE_INVALID', 'cannot contain a digest'],
  ['docker-archive:a.tar:Foo', 'REFERENCE_INVALID', 'must be lowercase'],
  ['Debian', 'REFERENCE_INVALID', 'must be lowercase'],
  ['ghcr.io/x:bad tag', 'REFERENCE_INVALID', 'invalid tag'],
];

for (const [input, code, fragment] of invalid) {
  test(`parseImageName rejects ${JSON.stringify(input)} with ${code}`, () => {
    assert.throws(
      () => parseImageName(input),
      (e) => isVouchError(e, code) && e.message.includes(fragment),
    );
  });
}

test('isLayoutRefName follows the OCI ref.name grammar', () => {
  for (const ok of ['v1', 'latest', 'a:b', 'example.com/app:v1.0', 'a--b', 'a+b@c', 'UP_case']) {
    assert.ok(isLayoutRefName(ok), ok);
  }
  for (const bad of ['', '-a', 'a-', 'a//b', '/a', 'a b', 'a---b', 'a#b'])
    assert.ok(!isLayoutRefName(bad), bad);
});
