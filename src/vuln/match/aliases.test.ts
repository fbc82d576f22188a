import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OsvRecord } from '../osv.ts';
import {
  compareIds,
  IdGroups,
  isUmbrella,
  primaryId,
  upstreamVulnerabilities,
  vulnerabilityKey,
} from './aliases.ts';

const rec = (id: string, upstream: string[]): OsvRecord => ({
  id,
  modified: '2024-01-01T00:00:00Z',
  upstream,
});

describe('ids', () => {
  test('natural order, never the locale', () => {
    const sorted = [
      'CVE-2019-9999',
      'CVE-2019-10223',
      'CVE-2020-01', // equal numbers: then plain order
      'CVE-2020-1',
      'DEBIAN-CVE-2019-1',
      'DLA-3942-1',
      'DLA-3942-2',
      'DSA-5532-1',
      'GHSA-aaaa-bbbb-cccc',
      'GHSA-aaaa-bbbb-ccccd',
      'GO-2024-2687',
      'PYSEC-2023-74',
      'ghsa-lower',
    ];
    const shuffled = [...sorted].reverse();
    assert.deepEqual(shuffled.sort(compareIds), sorted);
    assert.equal(compareIds('CVE-2020-1', 'CVE-2020-1'), 0);
    assert.ok(compareIds('a', 'a1') < 0);
  });

  test('primaryId: the lowest CVE, else the lowest id', () => {
    assert.equal(primaryId(['GHSA-x', 'CVE-2024-10', 'CVE-2024-9', 'DEBIAN-CVE-2024-1']), 'CVE-2024-9');
    assert.equal(primaryId(['PYSEC-2023-74', 'GHSA-j8r2-6x86-q33q']), 'GHSA-j8r2-6x86-q33q');
    assert.equal(primaryId(['DEBIAN-CVE-2024-1', 'DSA-1-1']), 'DEBIAN-CVE-2024-1');
  });

  test('vulnerabilityKey', () => {
    assert.equal(vulnerabilityKey('DEBIAN-CVE-2023-5363'), 'CVE-2023-5363');
    assert.equal(vulnerabilityKey('ALPINE-CVE-2023-5363'), 'CVE-2023-5363');
    assert.equal(vulnerabilityKey('CVE-2023-5363'), 'CVE-2023-5363');
    assert.equal(vulnerabilityKey('DSA-5532-1'), 'DSA-5532-1');
  });
});

describe('umbrellas', () => {
  test('a DSA naming one CVE (and its DEBIAN-CVE twin) is not an umbrella', () => {
    assert.equal(isUmbrella(rec('DSA-5532-1', ['CVE-2023-5363', 'DEBIAN-CVE-2023-5363'])), false);
    assert.equal(isUmbrella(rec('DEBIAN-CVE-1', ['CVE-1'])), false);
    assert.equal(isUmbrella(rec('X-1', [])), false);
  });
  test('a DLA naming six CVEs is', () => {
    const r = rec('DLA-3942-1', [
      'CVE-2023-5678',
      'DEBIAN-CVE-2023-5678',
      'CVE-2024-9143',
      'DEBIAN-CVE-2024-9143',
    ]);
    assert.equal(isUmbrella(r), true);
    assert.deepEqual(
      [...upstreamVulnerabilities(r)],
      [
        ['CVE-2023-5678', ['CVE-2023-5678', 'DEBIAN-CVE-2023-5678']],
        ['CVE-2024-9143', ['CVE-2024-9143', 'DEBIAN-CVE-2024-9143']],
      ],
    );
  });
});

describe('IdGroups', () => {
  test('union is transitive and the root does not depend on the order', () => {
    const a = new IdGroups();
    a.union('GHSA-1', 'CVE-2');
    a.union('PYSEC-3', 'GHSA-1');
    a.union('X-9', 'Y-9');
    const b = new IdGroups();
    b.union('Y-9', 'X-9');
    b.union('GHSA-1', 'PYSEC-3');
    b.union('CVE-2', 'GHSA-1');
    for (const g of [a, b]) {
      assert.equal(g.find('PYSEC-3'), 'CVE-2');
      assert.equal(g.find('X-9'), 'X-9');
      assert.deepEqual([...g.groups()].map(([k, v]) => [k, v.sort()]).sort(), [
        ['CVE-2', ['CVE-2', 'GHSA-1', 'PYSEC-3']],
        ['X-9', ['X-9', 'Y-9']],
      ]);
    }
  });
});
