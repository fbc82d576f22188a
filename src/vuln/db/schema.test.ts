import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bareEcosystem, displayTime, indexName, normalizeTime } from './schema.ts';

test('normalizeTime: RFC 3339 to sortable UTC with nanoseconds; everything else undefined', () => {
  const table: [string, string | undefined][] = [
    ['2024-10-10T17:22:00.587279Z', '2024-10-10T17:22:00.587279000Z'],
    ['2024-10-10T17:22:00Z', '2024-10-10T17:22:00.000000000Z'],
    ['2024-10-10t17:22:00z', '2024-10-10T17:22:00.000000000Z'],
    ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000000000Z'], // every Go record in the snapshot
    ['0099-12-31T23:59:59Z', '0099-12-31T23:59:59.000000000Z'], // not 1999 (Date.UTC would say so)
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000000000Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000000000Z'],
    ['2024-01-01T00:00:00.1234567891Z', '2024-01-01T00:00:00.123456789Z'],
    ['2024-01-01T02:00:00+02:00', '2024-01-01T00:00:00.000000000Z'],
    ['2024-01-01T00:30:00.5+01:00', '2023-12-31T23:30:00.500000000Z'],
    ['2023-12-31T22:15:00-03:45', '2024-01-01T02:00:00.000000000Z'],
    ['2023-02-29T00:00:00Z', undefined], // Date.parse says 1 March
    ['1900-02-29T00:00:00Z', undefined],
    ['2023-04-31T00:00:00Z', undefined],
    ['2023-13-01T00:00:00Z', undefined],
    ['2023-00-10T00:00:00Z', undefined],
    ['2023-01-01T24:00:00Z', undefined],
    ['2023-01-01T23:60:00Z', undefined],
    ['2023-01-01T23:59:60Z', undefined],
    ['2023-01-01T10:00:00+24:00', undefined],
    ['2023-01-01T10:00:00', undefined], // no offset
    ['2023-01-01', undefined],
    ['2023-01-01 10:00:00Z', undefined],
    ['2023-1-01T10:00:00Z', undefined],
    ['2023-01-01T10:00:00.Z', undefined],
    ['0000-01-01T00:30:00+01:00', undefined], // before year 0
    [' 2023-01-01T10:00:00Z', undefined],
    ['', undefined],
  ];
  for (const [input, want] of table) assert.equal(normalizeTime(input), want, input);
});

test('normalised times sort as times (offsets applied, sub-millisecond digits kept)', () => {
  const ordered = [
    '0001-01-01T00:00:00Z',
    '2023-12-31T23:00:00.000001Z',
    '2023-12-31T23:00:00.000002Z', // equal to the one before in Date.parse's milliseconds
    '2023-12-31T23:00:00.4Z',
    '2023-12-31T23:00:00.45Z',
    '2024-01-01T00:00:00.5+01:00', // 23:00:00.5Z
    '2023-12-31T23:30:00-00:29', // 23:59:00Z
  ];
  const shuffled = [3, 6, 0, 5, 1, 4, 2].map((i) => ordered[i]!);
  const sorted = shuffled.map((t) => [normalizeTime(t)!, t] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  assert.deepEqual(
    sorted.map((x) => x[1]),
    ordered,
  );
});

test('displayTime drops trailing zero digits', () => {
  assert.equal(displayTime('2024-10-10T17:22:00.587279000Z'), '2024-10-10T17:22:00.587279Z');
  assert.equal(displayTime('2024-10-10T17:22:00.000000000Z'), '2024-10-10T17:22:00Z');
  assert.equal(displayTime('2024-10-10T17:22:00.100000000Z'), '2024-10-10T17:22:00.1Z');
});

test('bareEcosystem and indexName', () => {
  const bare: [string, string][] = [
    ['Debian:12', 'Debian'],
    ['Debian', 'Debian'],
    ['Ubuntu:Pro:18.04:LTS', 'Ubuntu'],
    ['Alpine:v3.19', 'Alpine'],
    ['Red Hat:enterprise_linux:9::appstream', 'Red Hat'],
    ['', ''],
  ];
  for (const [e, want] of bare) assert.equal(bareEcosystem(e), want, e);
  const names: [string, string, string][] = [
    ['PyPI', 'jw.util', 'jw-util'],
    ['PyPI', 'Jinja2', 'jinja2'],
    ['PyPI', 'zope.interface', 'zope-interface'],
    ['PyPI', 'Foo__Bar-.baz', 'foo-bar-baz'],
    ['PyPI:3', 'Foo_Bar', 'foo-bar'],
    ['Go', 'github.com/BurntSushi/toml', 'github.com/BurntSushi/toml'], // case matters in Go
    ['npm', '@Scope/Pkg', '@Scope/Pkg'],
    ['Debian:12', 'glibc', 'glibc'],
    ['Maven', 'org.apache.logging.log4j:log4j-core', 'org.apache.logging.log4j:log4j-core'],
  ];
  for (const [e, n, want] of names) assert.equal(indexName(e, n), want, `${e} ${n}`);
});
