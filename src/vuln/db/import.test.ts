import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { flipBytes } from '../../../test/vuln-db/corrupt.ts';
import { OSV_GO, OSV_PYPI, realRecord, recordBytes, recordFiles } from '../../../test/vuln-db/osv-data.ts';
import { writeZip } from '../../../test/vuln-db/zip-writer.ts';
import { isVouchError } from '../../errors.ts';
import { failedSource, type ImportResult, type ImportSource, importOsv } from './import.ts';
import { openAdvisoryDb } from './open.ts';

let dir: string;
let realDb: string;
let real: ImportResult;
let goZip: string;
let pypiZip: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-dbimport-'));
  realDb = join(dir, 'real.db');
  real = await importOsv(realDb, [OSV_GO, OSV_PYPI]);
  goZip = join(dir, 'go.zip');
  pypiZip = join(dir, 'pypi.zip');
  await writeZip(goZip, recordFiles(OSV_GO));
  await writeZip(pypiZip, recordFiles(OSV_PYPI));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Rec = Record<string, unknown>;
const rec = (id: string, modified: string, affected: [string, string][], extra: Rec = {}): Rec => ({
  id,
  modified,
  affected: affected.map(([ecosystem, name]) => ({
    package: { ecosystem, name },
    ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }],
  })),
  ...extra,
});

/** A source of records from memory; `failAfter` throws after that many, like a crash mid-import. */
function memory(location: string, records: (Rec | Buffer)[], failAfter?: number): ImportSource {
  return {
    location,
    async *entries() {
      for (const [i, r] of records.entries()) {
        if (i === failAfter) throw new Error('simulated crash while reading input');
        yield { name: `${i}.json`, data: Buffer.isBuffer(r) ? r : recordBytes(r) };
      }
    },
  };
}

async function fresh(name: string): Promise<string> {
  const p = join(dir, name);
  await copyFile(realDb, p);
  return p;
}

const ids = (rs: { id: string }[]) => rs.map((r) => r.id);

async function leftovers(prefix: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.startsWith(prefix) && f !== prefix);
}

function rawCount(path: string, sql: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number(Object.values(db.prepare(sql).get() as Record<string, number>)[0]);
  } finally {
    db.close();
  }
}

test('imports the real Go and PyPI records: counts, ecosystems, sources, digest', () => {
  assert.equal(real.read, 6952);
  assert.equal(real.inserted, 6952);
  assert.equal(real.replaced + real.ignored + real.problemCount, 0);
  const m = real.metadata;
  assert.equal(m.schemaVersion, 1);
  assert.equal(m.records, 6952);
  assert.equal(m.withdrawn, 27);
  assert.deepEqual(m.ecosystems, { Go: 4291, PyPI: 2661 });
  assert.deepEqual(
    m.sources.map((s) => [s.location, s.ecosystem, s.records]),
    [
      [OSV_GO, 'Go', 4291],
      [OSV_PYPI, 'PyPI', 2661],
    ],
  );
  for (const s of m.sources) assert.match(s.sha256 ?? '', /^[0-9a-f]{64}$/);
  assert.match(m.contentDigest, /^sha256:[0-9a-f]{64}$/);
  assert.equal(m.newestModified, '2024-10-10T17:22:00.587279Z');
  const db = openAdvisoryDb(realDb);
  try {
    assert.deepEqual(db.metadata(), m);
  } finally {
    db.close();
  }
});

test('recordsFor finds real records by package, whole and sorted; get returns them intact', () => {
  const db = openAdvisoryDb(realDb);
  try {
    const gin = db.recordsFor('Go', 'github.com/gin-gonic/gin');
    assert.ok(ids(gin).includes('GO-2020-0001'));
    assert.deepEqual(ids(gin), [...ids(gin)].sort());
    assert.deepEqual(
      gin.find((r) => r.id === 'GO-2020-0001'),
      realRecord(OSV_GO, 'GO-2020-0001'),
    );
    assert.deepEqual(db.get('PYSEC-2014-8'), realRecord(OSV_PYPI, 'PYSEC-2014-8'));
    assert.equal(db.get('NOPE-1'), undefined);
    // Every record that names a package is found through it.
    for (const f of recordFiles(OSV_PYPI).slice(0, 200)) {
      const r = JSON.parse(f.data.toString()) as {
        id: string;
        withdrawn?: string;
        affected: { package: { name: string } }[];
      };
      if (r.withdrawn) continue;
      assert.ok(ids(db.recordsFor('PyPI', r.affected[0]!.package.name)).includes(r.id), r.id);
    }
    // PyPI names are PEP 503-normalised on both sides; others are exact.
    const jw = ids(db.recordsFor('PyPI', 'jw.util'));
    assert.ok(jw.length > 0);
    for (const spelling of ['jw-util', 'JW_Util', 'jw..util'])
      assert.deepEqual(ids(db.recordsFor('PyPI', spelling)), jw);
    assert.deepEqual(ids(db.recordsFor('PyPI', 'Jinja2')), ids(db.recordsFor('PyPI', 'jinja2')));
    assert.ok(db.recordsFor('PyPI', 'jinja2').length >= 5);
    assert.deepEqual(db.recordsFor('Go', 'github.com/GIN-gonic/gin'), []);
    assert.deepEqual(db.recordsFor('pypi', 'jinja2'), []);
    assert.deepEqual(db.recordsFor('npm', 'jinja2'), []);
  } finally {
    db.close();
  }
});

test('withdrawn records are stored and flagged, never matched', () => {
  const withdrawn = recordFiles(OSV_GO)
    .map(
      (f) =>
        JSON.parse(f.data.toString()) as {
          id: string;
          withdrawn?: string;
          affected: { package: { name: string } }[];
        },
    )
    .filter((r) => r.withdrawn);
  assert.equal(withdrawn.length, 17);
  const db = openAdvisoryDb(realDb);
  try {
    for (const w of withdrawn) {
      assert.equal(db.get(w.id)?.withdrawn, w.withdrawn);
      assert.ok(!ids(db.recordsFor('Go', w.affected[0]!.package.name)).includes(w.id), w.id);
    }
  } finally {
    db.close();
  }
  assert.equal(rawCount(realDb, 'SELECT COUNT(*) FROM records WHERE withdrawn IS NOT NULL'), 27);
});

test('aliases: the table holds every alias; aliasGroup is symmetric and transitive', () => {
  let want = 0;
  const byAlias = new Map<string, string[]>();
  for (const dirPath of [OSV_GO, OSV_PYPI]) {
    for (const f of recordFiles(dirPath)) {
      const r = JSON.parse(f.data.toString()) as { id: string; aliases?: string[] };
      const as = [...new Set(r.aliases ?? [])].filter((a) => a !== r.id);
      want += as.length;
      for (const a of as) byAlias.set(a, [...(byAlias.get(a) ?? []), r.id]);
    }
  }
  assert.equal(rawCount(realDb, 'SELECT COUNT(*) FROM aliases'), want);
  const db = openAdvisoryDb(realDb);
  try {
    assert.deepEqual(db.aliasGroup('GO-2020-0001'), [
      'CVE-2020-36567',
      'GHSA-6vm3-jj99-7229',
      'GO-2020-0001',
    ]);
    // From the alias side too (no record has that id).
    assert.ok(db.aliasGroup('CVE-2020-36567').includes('GO-2020-0001'));
    // Two records sharing an alias are one group, from either end.
    const shared = [...byAlias].find(([, rs]) => rs.length >= 2);
    assert.ok(shared, 'the data has an alias shared by two records');
    const [alias, [a, b]] = shared as [string, [string, string]];
    const group = db.aliasGroup(a);
    assert.ok(group.includes(alias) && group.includes(b));
    assert.deepEqual(db.aliasGroup(b), group);
    assert.deepEqual(db.aliasGroup('NOT-AN-ID'), ['NOT-AN-ID']);
  } finally {
    db.close();
  }
});

test('zip inputs give the same database as directories; so do 0, 1 and 2 decode workers', async () => {
  for (const workers of [0, 1, 2]) {
    const p = join(dir, `zip-${workers}.db`);
    const r = await importOsv(p, [goZip, pypiZip], { workers });
    assert.equal(r.metadata.contentDigest, real.metadata.contentDigest, `workers ${workers}`);
    assert.deepEqual(r.metadata.ecosystems, real.metadata.ecosystems);
    assert.equal(r.read, 6952);
    const db = openAdvisoryDb(p);
    try {
      assert.deepEqual(db.get('GO-2020-0001'), realRecord(OSV_GO, 'GO-2020-0001'));
      assert.deepEqual(ids(db.recordsFor('PyPI', 'jinja2')), ids(openAndQuery(realDb, 'PyPI', 'jinja2')));
    } finally {
      db.close();
    }
    assert.deepEqual(await leftovers(`zip-${workers}.db`), []);
  }
});

function openAndQuery(path: string, eco: string, name: string) {
  const db = openAdvisoryDb(path);
  try {
    return db.recordsFor(eco, name);
  } finally {
    db.close();
  }
}

test('re-importing the same inputs is idempotent', async () => {
  const p = await fresh('again.db');
  const before = rawCount(p, 'SELECT COUNT(*) FROM affected');
  const r = await importOsv(p, [OSV_PYPI, OSV_GO]);
  assert.equal(r.metadata.contentDigest, real.metadata.contentDigest);
  assert.equal(r.metadata.records, 6952);
  assert.equal(r.inserted, 6952); // each source replaces its own previous records
  assert.equal(r.metadata.sources.length, 2);
  assert.deepEqual(
    r.metadata.sources.map((s) => s.sha256),
    real.metadata.sources.map((s) => s.sha256),
  );
  assert.equal(rawCount(p, 'SELECT COUNT(*) FROM affected'), before);
  assert.equal(rawCount(p, 'SELECT COUNT(*) FROM aliases'), rawCount(realDb, 'SELECT COUNT(*) FROM aliases'));
});

test('other sources are kept; a source imported again is replaced whole; fresh keeps only the inputs', async () => {
  const p = await fresh('merge.db');
  const a = rec('X-1', '2024-01-01T00:00:00Z', [['npm', 'left-pad']]);
  const b = rec('X-2', '2024-01-01T00:00:00Z', [['npm', 'right-pad']]);
  let r = await importOsv(p, [memory('mem:npm', [a, b])]);
  assert.equal(r.metadata.records, 6954);
  assert.equal(r.metadata.sources.length, 3);
  assert.equal(r.metadata.ecosystems.npm, 2);
  // mem:npm again without X-2: X-2 is gone, Go and PyPI untouched.
  r = await importOsv(p, [memory('mem:npm', [a])]);
  assert.equal(r.metadata.records, 6953);
  assert.equal(r.metadata.ecosystems.npm, 1);
  assert.deepEqual(ids(openAndQuery(p, 'npm', 'right-pad')), []);
  assert.equal(r.metadata.ecosystems.Go, 4291);
  const db = openAdvisoryDb(p);
  try {
    assert.deepEqual(db.get('GO-2020-0001'), realRecord(OSV_GO, 'GO-2020-0001'));
  } finally {
    db.close();
  }
  r = await importOsv(p, [memory('mem:npm', [a, b])], { fresh: true });
  assert.equal(r.metadata.records, 2);
  assert.deepEqual(
    r.metadata.sources.map((s) => [s.location, s.ecosystem]),
    [['mem:npm', 'npm']],
  );
});

test('a repeated id replaces the stored record only when its modified time is newer', async () => {
  const p = join(dir, 'newer.db');
  const v1 = rec('X-1', '2024-01-01T00:00:00Z', [['PyPI', 'old-name']], { aliases: ['CVE-1'] });
  const older = rec('X-1', '2023-06-01T00:00:00Z', [['PyPI', 'older-name']]);
  const same = rec('X-1', '2024-01-01T01:00:00+01:00', [['PyPI', 'same-time']]); // same instant
  const v2 = rec('X-1', '2024-01-01T00:00:00.000001Z', [['PyPI', 'new-name']], { aliases: ['CVE-2'] });
  let r = await importOsv(p, [memory('m:a', [v1]), memory('m:b', [older, same])]);
  assert.deepEqual([r.inserted, r.replaced, r.ignored], [1, 0, 2]);
  assert.deepEqual(ids(openAndQuery(p, 'PyPI', 'old-name')), ['X-1']);
  assert.deepEqual(ids(openAndQuery(p, 'PyPI', 'same-time')), []);
  r = await importOsv(p, [memory('m:c', [v2])]);
  assert.deepEqual([r.inserted, r.replaced, r.ignored], [0, 1, 0]);
  const db = openAdvisoryDb(p);
  try {
    assert.deepEqual(db.get('X-1')?.modified, '2024-01-01T00:00:00.000001Z');
    // The replaced version's keys and aliases are gone with it.
    assert.deepEqual(db.recordsFor('PyPI', 'old-name'), []);
    assert.deepEqual(ids(db.recordsFor('PyPI', 'new-name')), ['X-1']);
    assert.deepEqual(db.aliasGroup('X-1'), ['CVE-2', 'X-1']);
    assert.equal(db.metadata().records, 1);
  } finally {
    db.close();
  }
  assert.equal(rawCount(p, 'SELECT COUNT(*) FROM affected'), 1);
  assert.equal(rawCount(p, 'SELECT COUNT(*) FROM aliases'), 1);
});

test('ecosystem keys: exact by default, bare ones too with includeBare, each record once', async () => {
  const p = join(dir, 'bare.db');
  await importOsv(p, [
    memory('m:deb', [
      rec('D-12', '2024-01-01T00:00:00Z', [['Debian:12', 'glibc']]),
      rec('D-bare', '2024-01-01T00:00:00Z', [['Debian', 'glibc']]),
      rec('D-11', '2024-01-01T00:00:00Z', [['Debian:11', 'glibc']]),
      rec('D-both', '2024-01-01T00:00:00Z', [
        ['Debian:12', 'glibc'],
        ['Debian', 'glibc'],
      ]),
      rec('U-1', '2024-01-01T00:00:00Z', [['Ubuntu:22.04:LTS', 'glibc']]),
      rec('D-other', '2024-01-01T00:00:00Z', [['Debian:12', 'openssl']]),
    ]),
  ]);
  const db = openAdvisoryDb(p);
  try {
    const table: [string, boolean, string[]][] = [
      ['Debian:12', false, ['D-12', 'D-both']],
      ['Debian:12', true, ['D-12', 'D-both', 'D-bare']],
      ['Debian', false, ['D-bare', 'D-both']],
      ['Debian', true, ['D-bare', 'D-both']], // bare never widens to releases
      ['Debian:11', true, ['D-11', 'D-bare', 'D-both']],
      ['Debian:13', false, []],
      ['Debian:13', true, ['D-bare', 'D-both']],
      ['Ubuntu:22.04:LTS', false, ['U-1']],
      ['Ubuntu:22.04', true, []],
    ];
    for (const [eco, includeBare, want] of table) {
      assert.deepEqual(
        ids(db.recordsFor(eco, 'glibc', { includeBare })),
        [...want].sort(),
        `${eco} ${includeBare}`,
      );
    }
    assert.deepEqual(db.metadata().ecosystems, {
      Debian: 2,
      'Debian:11': 1,
      'Debian:12': 3,
      'Ubuntu:22.04:LTS': 1,
    });
    assert.equal(db.metadata().sources[0]!.ecosystem, '*'); // Debian and Ubuntu: mixed
  } finally {
    db.close();
  }
});

test('malformed records are counted and the first ones listed, never a crash', async () => {
  const p = join(dir, 'bad-records.db');
  const good = [0, 1, 2].map((i) => rec(`OK-${i}`, '2024-01-01T00:00:00Z', [['npm', `p${i}`]]));
  const bad: (Rec | Buffer)[] = [];
  for (let i = 0; i < 25; i++)
    bad.push(i % 2 ? Buffer.from(`{"id": "B-${i}"`) : rec(`B-${i}`, 'yesterday', []));
  const r = await importOsv(p, [memory('m:bad', [...bad.slice(0, 10), ...good, ...bad.slice(10)])]);
  assert.equal(r.problemCount, 25);
  assert.equal(r.problems.length, 20);
  assert.equal(r.read, 3);
  assert.equal(r.metadata.records, 3);
  assert.deepEqual(r.problems[0], {
    location: 'm:bad',
    entry: '0.json',
    message: 'modified: "yesterday" is not an RFC 3339 timestamp',
  });
  assert.match(r.problems[1]!.message, /^not JSON/);
  const few = await importOsv(p, [memory('m:bad', bad)], { maxProblems: 5 });
  assert.equal(few.problems.length, 5);
  assert.equal(few.problemCount, 25);
  assert.equal(few.metadata.sources.find((s) => s.location === 'm:bad')?.records, 0);
});

test('directories are searched recursively for *.json; one .json file is an input too', async () => {
  const tree = join(dir, 'tree');
  await mkdir(join(tree, 'a', 'b'), { recursive: true });
  await writeFile(join(tree, 'top.json'), recordBytes(rec('T-1', '2024-01-01T00:00:00Z', [['npm', 'x']])));
  await writeFile(
    join(tree, 'a', 'b', 'deep.json'),
    recordBytes(rec('T-2', '2024-01-01T00:00:00Z', [['npm', 'x']])),
  );
  await writeFile(join(tree, 'a', 'README.md'), '# not a record');
  await writeFile(join(tree, 'a', 'broken.json'), '{');
  const p = join(dir, 'tree.db');
  const r = await importOsv(p, [tree, join(OSV_GO, 'GO-2020-0001.json')]);
  assert.equal(r.read, 3);
  assert.deepEqual(r.problems, [
    { location: tree, entry: join('a', 'broken.json'), message: r.problems[0]!.message },
  ]);
  assert.deepEqual(ids(openAndQuery(p, 'npm', 'x')), ['T-1', 'T-2']);
  assert.deepEqual(ids(openAndQuery(p, 'Go', 'github.com/gin-gonic/gin')), ['GO-2020-0001']);
  // The directory digest follows content: change a file, the source's sha256 changes.
  const before = r.metadata.sources.find((s) => s.location === tree)!.sha256;
  await writeFile(join(tree, 'top.json'), recordBytes(rec('T-1', '2024-02-01T00:00:00Z', [['npm', 'x']])));
  const r2 = await importOsv(p, [tree]);
  assert.notEqual(r2.metadata.sources.find((s) => s.location === tree)!.sha256, before);
});

test('a corrupt zip fails the import with DB_INVALID naming it; the previous database is untouched', async () => {
  const p = await fresh('corrupt.db');
  const bad = join(dir, 'corrupt.zip');
  const bytes = Buffer.from(await readFile(pypiZip));
  flipBytes(bytes, 200_000, 64); // inside some member's deflate data
  await writeFile(bad, bytes);
  await assert.rejects(importOsv(p, [goZip, bad]), (e: unknown) => {
    assert.ok(isVouchError(e, 'DB_INVALID'), String(e));
    assert.match(e.message, /corrupt\.zip: .*(corrupt|CRC-32)/);
    assert.equal(failedSource(e), bad);
    return true;
  });
  const truncated = join(dir, 'truncated.zip');
  await writeFile(truncated, bytes.subarray(0, 1000));
  await assert.rejects(
    importOsv(p, [truncated]),
    (e: unknown) => isVouchError(e, 'DB_INVALID') && failedSource(e) === truncated,
  );
  const db = openAdvisoryDb(p);
  try {
    assert.equal(db.metadata().contentDigest, real.metadata.contentDigest);
  } finally {
    db.close();
  }
  assert.deepEqual(await leftovers('corrupt.db'), []);
});

test('a crash mid-import (input iterator throws) leaves the previous database opening with its old counts', async () => {
  const p = await fresh('crash.db');
  const many = Array.from({ length: 500 }, (_, i) =>
    rec(`C-${i}`, '2024-01-01T00:00:00Z', [['npm', `c${i}`]]),
  );
  await assert.rejects(importOsv(p, [OSV_GO, memory('m:crash', many, 300)]), /simulated crash/);
  const db = openAdvisoryDb(p);
  try {
    const m = db.metadata();
    assert.equal(m.records, 6952);
    assert.deepEqual(m.ecosystems, { Go: 4291, PyPI: 2661 });
    assert.equal(db.recordsFor('npm', 'c1').length, 0);
  } finally {
    db.close();
  }
  assert.deepEqual(await leftovers('crash.db'), []);
});

test('abort: before or during, ABORTED and nothing changes', async () => {
  const p = await fresh('abort.db');
  const early = new AbortController();
  early.abort();
  await assert.rejects(importOsv(p, [OSV_GO], { signal: early.signal }), (e: unknown) =>
    isVouchError(e, 'ABORTED'),
  );
  const mid = new AbortController();
  await assert.rejects(
    importOsv(p, [OSV_GO], {
      signal: mid.signal,
      workers: 0,
      onProgress: (x) => {
        if (x.done > 500) mid.abort();
      },
    }),
    (e: unknown) => isVouchError(e, 'ABORTED') && /previous database is unchanged/.test(e.message),
  );
  assert.equal(openAndQuery(p, 'Go', 'github.com/gin-gonic/gin').length, 3);
  assert.deepEqual(await leftovers('abort.db'), []);
});

test('schema version mismatch: open refuses with DB_INVALID and a hint; import rebuilds with a note', async () => {
  const p = await fresh('old-schema.db');
  const w = new DatabaseSync(p);
  w.exec('PRAGMA user_version = 99');
  w.close();
  assert.throws(
    () => openAdvisoryDb(p),
    (e: unknown) =>
      isVouchError(e, 'DB_INVALID') &&
      /schema version 99, but this vouch reads version 1/.test(e.message) &&
      /vouch db/.test(e.hint ?? ''),
  );
  const r = await importOsv(p, [memory('m:x', [rec('X-1', '2024-01-01T00:00:00Z', [['npm', 'x']])])]);
  assert.equal(r.metadata.records, 1); // the old-schema content could not be carried over
  assert.match(r.notes[0] ?? '', /schema version 99 .* rebuilt from these inputs only/);
});

test('files that are not vouch databases: never opened as one, never overwritten', async () => {
  assert.throws(
    () => openAdvisoryDb(join(dir, 'missing.db')),
    (e: unknown) => isVouchError(e, 'DB_NOT_FOUND') && /vouch db update/.test(e.hint ?? ''),
  );
  const text = join(dir, 'notes.txt');
  await writeFile(text, 'my precious notes\n'.repeat(100));
  assert.throws(
    () => openAdvisoryDb(text),
    (e: unknown) => isVouchError(e, 'DB_INVALID'),
  );
  await assert.rejects(
    importOsv(text, [OSV_GO]),
    (e: unknown) => isVouchError(e, 'DB_INVALID') && /refusing/.test(e.message),
  );
  await assert.rejects(importOsv(text, [OSV_GO], { fresh: true }), (e: unknown) =>
    isVouchError(e, 'DB_INVALID'),
  );
  assert.equal(await readFile(text, 'utf8'), 'my precious notes\n'.repeat(100));
  const other = join(dir, 'other.sqlite');
  const o = new DatabaseSync(other);
  o.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
  o.close();
  assert.throws(
    () => openAdvisoryDb(other),
    (e: unknown) => isVouchError(e, 'DB_INVALID') && /not a vouch advisory database/.test(e.message),
  );
  await assert.rejects(importOsv(other, [OSV_GO]), (e: unknown) => isVouchError(e, 'DB_INVALID'));
  assert.equal(rawCount(other, 'SELECT COUNT(*) FROM t'), 1);
});

test('a damaged database file is DB_INVALID on open or on query, never a raw SQLite error', async () => {
  const p = await fresh('damaged.db');
  const bytes = await readFile(p);
  await writeFile(p, bytes.subarray(0, bytes.length >> 1)); // half the pages gone
  const isInvalid = (e: unknown) => isVouchError(e, 'DB_INVALID') && e.message.startsWith(p);
  let db: ReturnType<typeof openAdvisoryDb> | undefined;
  try {
    db = openAdvisoryDb(p);
  } catch (e) {
    assert.ok(isInvalid(e), String(e));
    return;
  }
  try {
    assert.throws(() => {
      db.metadata();
      for (const f of recordFiles(OSV_PYPI)) db.recordsFor('PyPI', f.name.replace(/\.json$/, ''));
      for (const f of recordFiles(OSV_PYPI)) db.get(f.name.replace(/\.json$/, ''));
    }, isInvalid);
  } finally {
    db.close();
  }
});

test('bad inputs: a path given twice is a usage error, a missing one FILE_NOT_FOUND', async () => {
  const p = join(dir, 'inputs.db');
  await assert.rejects(
    importOsv(p, [OSV_GO, `${OSV_GO}/`]),
    (e: unknown) => isVouchError(e, 'USAGE') && /given twice/.test(e.message),
  );
  await assert.rejects(importOsv(p, [join(dir, 'nope.zip')]), (e: unknown) =>
    isVouchError(e, 'FILE_NOT_FOUND'),
  );
  assert.deepEqual(await leftovers('inputs.db'), []);
});
