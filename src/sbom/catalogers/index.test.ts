import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../../errors.ts';
import { globToRegExp } from '../../fs/glob.ts';
import { ALL_CATALOGERS, OS_CATALOGERS, selectCatalogers } from './index.ts';

test('the list: unique ids, OS catalogers first, every pattern a valid glob', () => {
  const ids = ALL_CATALOGERS.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(
    ALL_CATALOGERS.slice(0, OS_CATALOGERS.length).map((c) => c.id),
    ['dpkg-db', 'apk-db', 'rpm-db'],
  );
  for (const c of ALL_CATALOGERS) {
    assert.ok(c.patterns.length > 0, `${c.id} has patterns`);
    assert.ok(Number.isInteger(c.version) && c.version > 0, `${c.id} has a version`);
    for (const p of c.patterns) globToRegExp(p);
  }
});

test('selectCatalogers keeps list order and refuses unknown ids', () => {
  assert.deepEqual(
    selectCatalogers(['rpm-db', 'dpkg-db']).map((c) => c.id),
    ['dpkg-db', 'rpm-db'],
  );
  assert.throws(
    () => selectCatalogers(['dpkg-db', 'nope']),
    (e: unknown) => isVouchError(e, 'USAGE') && /unknown cataloger nope/.test(e.message),
  );
});
