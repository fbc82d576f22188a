/**
 * Proof on the real OSV data (../shared/data/osv/go: 4,291 Go records, /pypi: 2,661 PyPI
 * records, read in place, never copied): with the real comparators,
 *  - every version a record lists in `versions` is affected;
 *  - every `fixed` event is not affected by its own range, every `introduced` and
 *    `last_affected` event is affected by it;
 *  - and, ranges alone (the `versions` list removed), every listed version is affected.
 * The few records where the data contradicts itself are listed by name below, with why; the
 * test fails if one more (or one less) appears.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readRecords, SHARED_OSV } from '../../../test/fixtures/osv/memory-db.ts';
import type { OsvRecord } from '../osv.ts';
import { schemeForEcosystem } from '../version/index.ts';
import { compileAffected } from './range.ts';

type Kind = 'affected' | 'not-affected' | 'unknown';
interface Tally {
  counts: Record<string, number>;
  /** `<check> <record> <version> → <kind>` for every result that is not the expected one */
  exceptions: string[];
}

function prove(records: OsvRecord[]): Tally {
  const t: Tally = { counts: {}, exceptions: [] };
  const check = (name: string, id: string, v: string, got: Kind, want: Kind) => {
    t.counts[name] = (t.counts[name] ?? 0) + 1;
    if (got === want) t.counts[`${name} ok`] = (t.counts[`${name} ok`] ?? 0) + 1;
    else t.exceptions.push(`${name} ${id} ${v} → ${got}`);
  };
  for (const r of records) {
    for (const a of r.affected ?? []) {
      const scheme = schemeForEcosystem(a.package?.ecosystem ?? '');
      assert.ok(scheme, `${r.id}: no scheme for ${a.package?.ecosystem}`);
      const full = compileAffected(a, scheme);
      const rangesOnly = compileAffected({ ...a, versions: [] }, scheme);
      for (const v of a.versions ?? []) {
        check('listed', r.id, v, full.evaluate(v).kind, 'affected');
        check('listed, ranges only', r.id, v, rangesOnly.evaluate(v).kind, 'affected');
      }
      for (const range of a.ranges ?? []) {
        if (range.type === 'GIT') continue;
        const own = compileAffected({ ranges: [range] }, scheme);
        for (const e of range.events) {
          if (e.fixed !== undefined)
            check('fixed', r.id, e.fixed, own.evaluate(e.fixed).kind, 'not-affected');
          if (e.introduced !== undefined && e.introduced !== '0') {
            check('introduced', r.id, e.introduced, own.evaluate(e.introduced).kind, 'affected');
          }
          if (e.last_affected !== undefined) {
            check('last_affected', r.id, e.last_affected, own.evaluate(e.last_affected).kind, 'affected');
          }
        }
      }
    }
  }
  return t;
}

function report(eco: string, t: Tally): void {
  const names = [...new Set(Object.keys(t.counts).filter((k) => !k.endsWith(' ok')))].sort();
  for (const n of names) console.log(`# ${eco} ${n}: ${t.counts[`${n} ok`] ?? 0}/${t.counts[n]} as expected`);
}

const present = existsSync(join(SHARED_OSV, 'go')) && existsSync(join(SHARED_OSV, 'pypi'));

describe('real OSV records', { skip: present ? false : `no OSV data at ${SHARED_OSV}` }, () => {
  test('Go: every fixed event closes its range, every introduced event opens it', () => {
    const records = readRecords(join(SHARED_OSV, 'go'));
    assert.equal(records.length, 4291);
    const t = prove(records);
    report('Go', t);
    assert.deepEqual(t.exceptions, []);
    assert.equal(t.counts.fixed, 5309);
    assert.equal(t.counts.introduced, 2433);
  });

  test('PyPI: listed versions are affected; ranges agree except where the data contradicts itself', () => {
    const records = readRecords(join(SHARED_OSV, 'pypi'));
    assert.equal(records.length, 2661);
    const t = prove(records);
    report('PyPI', t);
    assert.equal(t.counts.listed, 140847);
    assert.equal(t.counts['listed ok'], 140847, 'every listed version is affected');
    assert.equal(t.counts.fixed, 4917);
    assert.equal(t.counts.introduced, 3009);
    assert.equal(t.counts.last_affected, 1);

    // Listed versions that are not PEP 440 at all ('2.0.0-final', '0.7.1.fix1', '0.3m1', 'a3', ...)
    // match only by their exact string; ranges cannot order them, so alone they are unknown.
    const unknownListed = t.exceptions.filter(
      (x) => x.startsWith('listed, ranges only') && x.endsWith('→ unknown'),
    );
    assert.equal(unknownListed.length, 108);

    const rest = t.exceptions.filter((x) => !unknownListed.includes(x)).sort();
    assert.deepEqual(
      rest,
      [
        // One ECOSYSTEM range holding several branches whose intervals overlap or touch
        // ([0, 3.1.1), [3.2.0, 3.2.2), [3.1.1, 3.1.3)): OSV's evaluation sorts all events into one
        // walk, so the fix of one branch and the opening of the next meet at the same version and
        // the record's own order decides. The versions lists of these records name the versions
        // as affected, so a scan reports them (listed wins).
        'fixed PYSEC-2022-236 3.1.1 → affected',
        'fixed PYSEC-2023-72 3.1.1 → affected',
        // Fixed versions that are not PEP 440 versions: bad data stays unknown, never "fixed".
        'fixed PYSEC-2019-125 2019-09-12 → unknown',
        'fixed PYSEC-2021-371 0.2.0-n653 → unknown',
        // Same overlapping-branch records seen from the introduced side ([0.13.0, 0.14.0rc1) and
        // [0.12.2, 0.13.0) in apache-iotdb; [3.1.1, 3.2.0) and [3.2.0, 3.2.2) in pyspark).
        'introduced PYSEC-2022-42972 0.13.0 → not-affected',
        'introduced PYSEC-2023-72 3.2.0 → not-affected',
        // wagtail lists [2.11, 2.11.7) and [0, 2.11.6) in one range: sorted, 2.11.6 closes both.
        'listed, ranges only PYSEC-2021-114 2.11.6 → not-affected',
        // gevent: the range says fixed in 23.9.0, the versions list (from the GIT range) names
        // 23.9.0 and its post-release as affected.
        'listed, ranges only PYSEC-2023-177 23.9.0 → not-affected',
        'listed, ranges only PYSEC-2023-177 23.9.0.post1 → not-affected',
        // Django: the ranges start at the final releases (3.2, 4.2); the list also names their
        // pre-releases, which PEP 440 orders below them.
        'listed, ranges only PYSEC-2023-61 3.2a1 → not-affected',
        'listed, ranges only PYSEC-2023-61 3.2b1 → not-affected',
        'listed, ranges only PYSEC-2023-61 3.2rc1 → not-affected',
        'listed, ranges only PYSEC-2023-61 4.2a1 → not-affected',
        'listed, ranges only PYSEC-2023-61 4.2b1 → not-affected',
        'listed, ranges only PYSEC-2023-61 4.2rc1 → not-affected',
      ].sort(),
    );
  });
});
