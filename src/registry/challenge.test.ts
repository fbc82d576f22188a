import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeScopes, parseChallenges, pickChallenge } from './challenge.ts';

test('parseChallenges reads Bearer parameters, quoted commas included', () => {
  const [c] = parseChallenges(
    'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push repository:c:pull",error="insufficient_scope"',
  );
  assert.deepEqual(c, {
    scheme: 'bearer',
    realm: 'https://auth.example/token',
    service: 'registry.example',
    scope: 'repository:a/b:pull,push repository:c:pull',
    error: 'insufficient_scope',
  });
});

test('parseChallenges handles Basic, several challenges, odd spacing and escapes', () => {
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [
    { scheme: 'basic', realm: 'Registry Realm' },
  ]);
  const all = parseChallenges('Basic realm="x", Bearer realm="https://t/\\"q\\"" , service=svc');
  assert.equal(all.length, 2);
  assert.deepEqual(all[1], { scheme: 'bearer', realm: 'https://t/"q"', service: 'svc' });
  assert.equal(pickChallenge('Basic realm="x", Bearer realm="https://t"')?.scheme, 'bearer');
  assert.equal(pickChallenge(undefined), undefined);
  assert.deepEqual(parseChallenges('Negotiate'), [{ scheme: 'other', name: 'Negotiate' }]);
  // Bearer without a realm cannot be answered
  assert.equal(parseChallenges('Bearer service="x"')[0]?.scheme, 'other');
});

test('mergeScopes joins actions per resource and sorts', () => {
  assert.deepEqual(mergeScopes(['repository:a:pull', 'repository:a:push', 'repository:b:pull']), [
    'repository:a:pull,push',
    'repository:b:pull',
  ]);
  assert.deepEqual(mergeScopes(['repository:a:push,pull', 'repository:a:pull repository:c:*']), [
    'repository:a:pull,push',
    'repository:c:*',
  ]);
});
