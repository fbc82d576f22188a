import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { parseStoreUrl } from './url.ts';

test('dir: URLs resolve against the working directory', () => {
  assert.deepEqual(parseStoreUrl('dir:out/artifacts', '/work'), {
    kind: 'directory',
    directory: '/work/out/artifacts',
  });
  assert.deepEqual(parseStoreUrl('dir:/abs', '/work'), { kind: 'directory', directory: '/abs' });
});

test('s3: URLs carry bucket, prefix, endpoint, region and path style', () => {
  assert.deepEqual(parseStoreUrl('s3://releases/team/app?endpoint=http://127.0.0.1:9000', '/'), {
    kind: 's3',
    bucket: 'releases',
    prefix: 'team/app',
    endpoint: 'http://127.0.0.1:9000',
    forcePathStyle: true,
  });
  assert.deepEqual(parseStoreUrl('s3://my.bucket?region=eu-west-1', '/'), {
    kind: 's3',
    bucket: 'my.bucket',
    prefix: '',
    region: 'eu-west-1',
    forcePathStyle: false,
  });
  const vhost = parseStoreUrl('s3://b-1/p/?endpoint=https://s3.example&path-style=false', '/');
  assert.equal(vhost.kind === 's3' && vhost.forcePathStyle, false);
});

test('other URLs are usage errors that say what is accepted', () => {
  const cases: [string, RegExp][] = [
    ['/just/a/path', /neither dir:PATH nor s3:/],
    ['dir:', /names no directory/],
    ['s3://', /bucket/],
    ['s3://bucket:9000/x', /without port/],
    ['s3://key:secret@bucket/x', /without port or credentials/],
    ['s3://bucket/x?endpoint=http://h&bogus=1', /unknown parameter "bogus"/],
    ['s3://bucket/x?path-style=yes', /path-style=yes/],
  ];
  for (const [url, message] of cases) {
    assert.throws(
      () => parseStoreUrl(url, '/'),
      (e) => isVouchError(e, 'USAGE') && message.test(e.message) && /dir:PATH/.test(e.hint ?? ''),
      url,
    );
  }
});
