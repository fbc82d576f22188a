import assert from 'node:assert/strict';
import { test } from 'node:test';
import { vouchErrorWith } from '../../../test/helpers/errors.ts';
import { SOURCE_FLAGS, sourceRequirements } from './source-options.ts';

const MISSING = '--source-uri is required';

test('the source flags become provenance requirements; only those given', () => {
  assert.deepEqual(sourceRequirements({ 'source-uri': 'github.com/o/app' }, 'verify-provenance', MISSING), {
    sourceUri: 'github.com/o/app',
  });
  assert.deepEqual(
    sourceRequirements(
      {
        'source-uri': 'https://github.com/o/app',
        'source-branch': 'main',
        'source-versioned-tag': 'v1.2',
        'builder-id': 'https://github.com/o/app/.github/workflows/b.yml@refs/tags/v1',
      },
      'verify-release',
      MISSING,
    ),
    {
      sourceUri: 'https://github.com/o/app',
      sourceBranch: 'main',
      sourceVersionedTag: 'v1.2',
      builderId: 'https://github.com/o/app/.github/workflows/b.yml@refs/tags/v1',
    },
  );
  assert.deepEqual(SOURCE_FLAGS, [
    'source-uri',
    'source-tag',
    'source-branch',
    'source-versioned-tag',
    'builder-id',
  ]);
});

test('every mistake is a USAGE error naming the flag', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /^--source-uri is required$/],
    [{ 'source-uri': 'github.com/o/app@refs/tags/v1' }, /must not name a ref/],
    [
      { 'source-uri': 'github.com/o/app', 'source-tag': 'v1', 'source-versioned-tag': 'v1' },
      /exclude each other/,
    ],
    [
      { 'source-uri': 'github.com/o/app', 'builder-id': 'a@b@c' },
      /--builder-id "a@b@c" is not NAME\[@VERSION\]/,
    ],
    [{ 'source-uri': 'github.com/o/app', 'builder-id': '' }, /is not NAME\[@VERSION\]/],
  ];
  for (const [values, message] of cases) {
    assert.throws(
      () => sourceRequirements(values, 'verify-provenance', MISSING),
      vouchErrorWith('USAGE', message),
    );
  }
  assert.throws(
    () =>
      sourceRequirements({ 'source-uri': 'github.com/o/app', 'source-versioned-tag': 'main' }, 'x', MISSING),
    vouchErrorWith('USAGE'),
  );
});
