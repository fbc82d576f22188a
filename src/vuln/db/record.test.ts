import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { OSV_GO, OSV_PYPI, realRecord, recordBytes, recordFiles } from '../../../test/vuln-db/osv-data.ts';
import {
  checkOsvRecord,
  type EntryProblem,
  isProblem,
  type PreparedRecord,
  prepareRecord,
} from './record.ts';

test('every real Go and PyPI record is valid, keyed by its affected packages, and stored losslessly', () => {
  let withdrawn = 0;
  let n = 0;
  for (const dir of [OSV_GO, OSV_PYPI]) {
    for (const f of recordFiles(dir)) {
      const p = prepareRecord(f.name, f.data);
      assert.ok(!isProblem(p), `${f.name}: ${(p as EntryProblem).message}`);
      const r = JSON.parse(f.data.toString('utf8')) as {
        id: string;
        withdrawn?: string;
        aliases?: string[];
        affected: { package: { ecosystem: string; name: string } }[];
      };
      assert.equal(p.id, r.id);
      assert.equal(`${p.id}.json`, f.name);
      assert.equal(p.withdrawn !== null, r.withdrawn !== undefined);
      if (p.withdrawn) withdrawn++;
      // Keys: the distinct (ecosystem, name) pairs, PyPI names normalised.
      const want = new Set(
        r.affected.map(
          (a) =>
            `${a.package.ecosystem}|${a.package.ecosystem === 'PyPI' ? a.package.name.toLowerCase().replace(/[-_.]+/g, '-') : a.package.name}`,
        ),
      );
      const got = new Set<string>();
      for (let i = 0; i < p.keys.length; i += 2) got.add(`${p.keys[i]}|${p.keys[i + 1]}`);
      assert.equal(got.size, p.keys.length / 2, `${f.name}: duplicate keys`);
      assert.deepEqual(got, want, f.name);
      assert.deepEqual(p.aliases, [...new Set(r.aliases ?? [])]);
      assert.ok(inflateRawSync(p.blob).equals(f.data), `${f.name}: blob round trip`);
      n++;
    }
  }
  assert.equal(n, 6952);
  assert.equal(withdrawn, 27); // 17 Go + 10 PyPI, counted with python over the same files
});

test('a zip member keeps its deflate stream instead of being recompressed', () => {
  const f = recordFiles(OSV_GO)[0]!;
  const deflated = new Uint8Array([1, 2, 3]);
  const p = prepareRecord(f.name, f.data, deflated) as PreparedRecord;
  assert.equal(p.blob, deflated);
});

const base = realRecord(OSV_PYPI, 'PYSEC-2014-8');
const affected0 = (base.affected as Record<string, unknown>[])[0]!;
const withAffected = (a: unknown) => ({ ...base, affected: [affected0, a] });
const range = (events: unknown) => withAffected({ ...affected0, ranges: [{ type: 'ECOSYSTEM', events }] });

test('malformed records: the first problem, with where it is', () => {
  const table: [string, unknown, RegExp][] = [
    ['array', [base], /not a JSON object/],
    ['null', null, /not a JSON object/],
    ['string', 'PYSEC-1', /not a JSON object/],
    ['no id', { ...base, id: undefined }, /^id: expected a non-empty string/],
    ['empty id', { ...base, id: '' }, /^id: expected a non-empty string/],
    ['numeric id', { ...base, id: 42 }, /^id: expected/],
    ['id with a space', { ...base, id: 'PYSEC 1' }, /^id: .* is not a usable id/],
    ['id with a newline', { ...base, id: 'PYSEC-1\n' }, /^id: .* is not a usable id/],
    ['id too long', { ...base, id: 'X'.repeat(300) }, /^id: .* is not a usable id/],
    ['no modified', { ...base, modified: undefined }, /^modified: undefined is not an RFC 3339/],
    ['modified a number', { ...base, modified: 1700000000 }, /^modified: 1700000000 is not/],
    ['modified without zone', { ...base, modified: '2021-01-01T00:00:00' }, /^modified: /],
    ['modified 30 February', { ...base, modified: '2021-02-30T00:00:00Z' }, /^modified: /],
    ['withdrawn not a time', { ...base, withdrawn: 'yes' }, /^withdrawn: "yes" is not/],
    ['withdrawn null', { ...base, withdrawn: null }, /^withdrawn: null is not/],
    ['aliases a string', { ...base, aliases: 'CVE-1' }, /^aliases: expected an array of strings/],
    ['aliases with a number', { ...base, aliases: ['CVE-1', 2] }, /^aliases\[1\]: expected a string/],
    ['affected an object', { ...base, affected: affected0 }, /^affected: expected an array/],
    ['affected entry a string', withAffected('x'), /^affected\[1\]: expected an object/],
    ['package a string', withAffected({ package: 'jinja2' }), /^affected\[1\]\.package: expected an object/],
    [
      'package without ecosystem',
      withAffected({ package: { name: 'x' } }),
      /^affected\[1\]\.package\.ecosystem: expected a non-empty string/,
    ],
    [
      'package with empty name',
      withAffected({ package: { ecosystem: 'PyPI', name: '' } }),
      /^affected\[1\]\.package\.name: /,
    ],
    [
      'versions a string',
      withAffected({ ...affected0, versions: '1.0' }),
      /^affected\[1\]\.versions: expected an array/,
    ],
    [
      'versions with null',
      withAffected({ ...affected0, versions: ['1.0', null] }),
      /^affected\[1\]\.versions\[1\]/,
    ],
    [
      'ranges an object',
      withAffected({ ...affected0, ranges: {} }),
      /^affected\[1\]\.ranges: expected an array/,
    ],
    [
      'range without type',
      withAffected({ ...affected0, ranges: [{ events: [{ introduced: '0' }] }] }),
      /^affected\[1\]\.ranges\[0\]\.type/,
    ],
    [
      'range without events',
      range(undefined),
      /^affected\[1\]\.ranges\[0\]\.events: expected a non-empty array/,
    ],
    ['range with no events', range([]), /events: expected a non-empty array/],
    ['event with two keys', range([{ introduced: '0', fixed: '1' }]), /events\[0\]: expected exactly one of/],
    [
      'event with an unknown key',
      range([{ introduced: '0' }, { fixd: '1' }]),
      /events\[1\]: expected exactly one/,
    ],
    ['event value a number', range([{ introduced: 0 }]), /events\[0\]: expected exactly one/],
    ['event an empty object', range([{}]), /events\[0\]: expected exactly one/],
    ['event a string', range(['introduced']), /events\[0\]: expected exactly one/],
  ];
  for (const [label, value, want] of table) {
    const got = checkOsvRecord(value);
    assert.ok(got, `${label}: expected a problem`);
    assert.match(got, want, label);
    // prepareRecord reports the same problem for the same bytes.
    const p = prepareRecord('x.json', Buffer.from(JSON.stringify(value) ?? 'null'));
    assert.ok(isProblem(p), label);
  }
});

test('valid edge cases: no affected, package-less affected, limit events, extra fields', () => {
  const ok: [string, unknown][] = [
    ['no affected', { id: 'X-1', modified: '2024-01-01T00:00:00Z' }],
    ['empty affected', { id: 'X-1', modified: '2024-01-01T00:00:00Z', affected: [] }],
    [
      'affected without package (GIT-only)',
      { ...base, affected: [{ ranges: [{ type: 'GIT', repo: 'r', events: [{ introduced: 'a' }] }] }] },
    ],
    ['limit and last_affected', range([{ introduced: '0' }, { last_affected: '1' }, { limit: '*' }])],
    ['unknown top-level fields', { ...base, x_vendor: { a: 1 } }],
    ['offset modified', { ...base, modified: '2024-01-01T00:00:00+05:30' }],
  ];
  for (const [label, value] of ok) assert.equal(checkOsvRecord(value), undefined, label);
  const p = prepareRecord('x.json', recordBytes({ ...base, affected: [] })) as PreparedRecord;
  assert.deepEqual(p.keys, []);
});

test('bytes that are not JSON or not UTF-8 are problems; a UTF-8 BOM is fine', () => {
  const notJson = prepareRecord('a.json', Buffer.from('{"id": "X-1",'));
  assert.ok(isProblem(notJson) && /^not JSON/.test(notJson.message) && notJson.entry === 'a.json');
  const latin1 = prepareRecord('b.json', Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
  assert.ok(isProblem(latin1) && latin1.message === 'not UTF-8');
  const bom = prepareRecord('c.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), recordBytes(base)]));
  assert.ok(!isProblem(bom));
  assert.equal(bom.id, 'PYSEC-2014-8');
});

test('duplicate affected packages and self-aliases are stored once / not at all', () => {
  const r = {
    id: 'X-1',
    modified: '2024-01-01T00:00:00Z',
    aliases: ['CVE-1', 'X-1', 'CVE-1', 'GHSA-1'],
    affected: [
      { package: { ecosystem: 'PyPI', name: 'Foo_Bar' } },
      { package: { ecosystem: 'PyPI', name: 'foo.bar' } },
      { package: { ecosystem: 'Debian:12', name: 'foo' } },
      { package: { ecosystem: 'Debian:11', name: 'foo' } },
    ],
  };
  const p = prepareRecord('x.json', recordBytes(r)) as PreparedRecord;
  assert.deepEqual(p.keys, ['PyPI', 'foo-bar', 'Debian:12', 'foo', 'Debian:11', 'foo']);
  assert.deepEqual(p.aliases, ['CVE-1', 'GHSA-1']);
  assert.equal(p.modified, '2024-01-01T00:00:00.000000000Z');
  assert.equal(p.withdrawn, null);
});
