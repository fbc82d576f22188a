import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { flipBytes } from '../../../test/vuln-db/corrupt.ts';
import { OSV_GO, OSV_PYPI, recordFiles } from '../../../test/vuln-db/osv-data.ts';
import { writeZip } from '../../../test/vuln-db/zip-writer.ts';
import { isVouchError } from '../../errors.ts';
import { importOsv } from './import.ts';
import { openAdvisoryDb } from './open.ts';
import { type UpdateProgress, updateDb, zipUrl } from './update.ts';

type Mode = 'ok' | '500' | 'truncate' | 'garbage' | 'hang';
interface Served {
  body: Buffer;
  etag: string;
  lastModified: string;
  mode: Mode;
}

let dir: string;
let server: Server;
let base: string;
const served = new Map<string, Served>();
const log: { url: string; headers: IncomingHttpHeaders; status: number }[] = [];
let zips: Record<'go' | 'pypi' | 'pypi2' | 'corrupt', Buffer>;
let dirDigest: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-dbupdate-'));
  const make = async (name: string, files: { name: string; data: Buffer }[]) => {
    const p = join(dir, `${name}.zip`);
    await writeZip(p, files);
    return readFile(p);
  };
  const pypi = recordFiles(OSV_PYPI);
  zips = {
    go: await make('go', recordFiles(OSV_GO)),
    pypi: await make('pypi', pypi),
    pypi2: await make('pypi2', pypi.slice(10)),
    corrupt: await make('corrupt', pypi),
  };
  flipBytes(zips.corrupt, 300_000, 64); // member data, not the directory
  dirDigest = (await importOsv(join(dir, 'dirs.db'), [OSV_GO, OSV_PYPI])).metadata.contentDigest;

  server = createServer((req, res) => {
    const eco = decodeURIComponent(req.url?.split('/')[1] ?? '');
    const s = served.get(eco);
    const answer = (status: number) => log.push({ url: req.url ?? '', headers: req.headers, status });
    if (!s || !req.url?.endsWith('/all.zip')) {
      answer(404);
      res.writeHead(404).end('not found');
      return;
    }
    if (s.mode === '500') {
      answer(500);
      res.writeHead(500, 'Internal Server Error').end('oops');
      return;
    }
    if (
      req.headers['if-none-match'] === s.etag ||
      (!req.headers['if-none-match'] && req.headers['if-modified-since'] === s.lastModified)
    ) {
      answer(304);
      res.writeHead(304, { etag: s.etag }).end();
      return;
    }
    answer(200);
    const body = s.mode === 'garbage' ? Buffer.from('<html>captive portal</html>') : s.body;
    res.writeHead(200, {
      'content-type': 'application/zip',
      'content-length': String(body.length),
      etag: s.etag,
      'last-modified': s.lastModified,
    });
    if (s.mode === 'truncate' || s.mode === 'hang') {
      res.write(body.subarray(0, body.length >> 1));
      if (s.mode === 'truncate') setTimeout(() => res.destroy(), 20);
      return; // 'hang': the rest never comes
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

function serve(eco: string, body: Buffer, mode: Mode = 'ok', etag?: string): void {
  const sha = createHash('sha256').update(body).digest('hex').slice(0, 16);
  served.set(eco, { body, etag: etag ?? `"${sha}"`, lastModified: 'Wed, 01 Jan 2025 00:00:00 GMT', mode });
}

async function temps(): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.download') || f.endsWith('.tmp'));
}

function meta(path: string) {
  const db = openAdvisoryDb(path);
  try {
    return db.metadata();
  } finally {
    db.close();
  }
}

const T0 = new Date('2025-03-01T00:00:00Z');
const at = (days: number) => () => new Date(T0.getTime() + days * 86_400_000);

test('update: download, skip unchanged (304 and same sha256), replace changed, keep failed ones', async () => {
  const db = join(dir, 'osv.db');
  serve('Go', zips.go);
  serve('PyPI', zips.pypi);
  log.length = 0;
  const progress: UpdateProgress[] = [];

  // 1. First update: everything downloaded, same content as importing the directories.
  let r = await updateDb(db, {
    baseUrl: `${base}/`,
    ecosystems: ['Go', 'PyPI'],
    now: at(0),
    onProgress: (p) => progress.push(p),
  });
  assert.deepEqual(
    r.ecosystems.map((e) => [e.ecosystem, e.status, e.records]),
    [
      ['Go', 'updated', 4291],
      ['PyPI', 'updated', 2661],
    ],
  );
  assert.deepEqual(r.failed, []);
  assert.equal(r.metadata?.contentDigest, dirDigest);
  assert.equal(r.metadata?.records, 6952);
  assert.ok(log.every((l) => !l.headers['if-none-match'] && !l.headers['if-modified-since']));
  assert.ok(
    progress.some((p) => p.phase === 'download' && p.ecosystem === 'Go' && p.bytes === zips.go.length),
  );
  assert.ok(progress.some((p) => p.phase === 'import'));
  const goSource = r.metadata?.sources.find((s) => s.location === `${base}/Go/all.zip`);
  assert.equal(goSource?.etag, served.get('Go')!.etag);
  assert.equal(goSource?.lastModified, 'Wed, 01 Jan 2025 00:00:00 GMT');
  assert.equal(goSource?.sha256, createHash('sha256').update(zips.go).digest('hex'));
  assert.equal(goSource?.ecosystem, 'Go');

  // 2. No ecosystems named: the ones already there; conditional requests; 304 rebuilds nothing.
  log.length = 0;
  r = await updateDb(db, { baseUrl: base, now: at(3) });
  assert.deepEqual(
    r.ecosystems.map((e) => [e.ecosystem, e.status, e.detail]),
    [
      ['Go', 'unchanged', 'not modified (304)'],
      ['PyPI', 'unchanged', 'not modified (304)'],
    ],
  );
  assert.equal(r.import, undefined);
  assert.deepEqual(
    log.map((l) => [l.url, l.headers['if-none-match'], l.headers['if-modified-since'], l.status]),
    [
      ['/Go/all.zip', served.get('Go')!.etag, 'Wed, 01 Jan 2025 00:00:00 GMT', 304],
      ['/PyPI/all.zip', served.get('PyPI')!.etag, 'Wed, 01 Jan 2025 00:00:00 GMT', 304],
    ],
  );
  let m = meta(db);
  assert.equal(m.importedAt, T0.toISOString()); // not rebuilt
  assert.deepEqual(
    m.sources.map((s) => s.checkedAt),
    [at(3)().toISOString(), at(3)().toISOString()],
  );

  // 3. New ETag, same bytes: downloaded, recognised by sha256, not imported; the new ETag is kept.
  serve('Go', zips.go, 'ok', '"rotated"');
  r = await updateDb(db, { baseUrl: base, ecosystems: ['Go'], now: at(4) });
  assert.deepEqual(
    r.ecosystems.map((e) => [e.status, e.detail]),
    [['unchanged', 'same content']],
  );
  assert.equal(r.import, undefined);
  m = meta(db);
  assert.equal(m.sources.find((s) => s.ecosystem === 'Go')?.etag, '"rotated"');
  assert.equal(m.sources.find((s) => s.ecosystem === 'Go')?.checkedAt, at(4)().toISOString());

  // 4. PyPI changes (ten records fewer): PyPI replaced whole, Go carried over.
  serve('PyPI', zips.pypi2);
  r = await updateDb(db, { baseUrl: base, now: at(5) });
  assert.deepEqual(
    r.ecosystems.map((e) => [e.ecosystem, e.status, e.records]),
    [
      ['Go', 'unchanged', undefined],
      ['PyPI', 'updated', 2651],
    ],
  );
  assert.equal(r.metadata?.records, 6942);
  assert.deepEqual(r.metadata?.ecosystems, { Go: 4291, PyPI: 2651 });
  const goAfter = r.metadata?.sources.find((s) => s.ecosystem === 'Go');
  assert.equal(goAfter?.importedAt, T0.toISOString()); // carried over, not re-imported
  assert.equal(goAfter?.checkedAt, at(5)().toISOString());
  const before = meta(db);

  // 5. Failures, one per kind: each reported, each ecosystem keeps its previous records.
  for (const [mode, why] of [
    ['500', /^HTTP 500 Internal Server Error$/],
    ['truncate', /interrupted|truncated/],
    ['garbage', /no end of central directory/],
  ] as const) {
    serve('PyPI', zips.pypi, mode);
    r = await updateDb(db, { baseUrl: base, now: at(6) });
    assert.equal(r.failed.length, 1, mode);
    assert.equal(r.failed[0]!.ecosystem, 'PyPI');
    assert.match(r.failed[0]!.detail, why, mode);
    const after = meta(db);
    assert.equal(after.contentDigest, before.contentDigest, mode);
    assert.equal(after.ecosystems.PyPI, 2651, mode);
    assert.deepEqual(await temps(), [], mode);
  }

  // 6. A corrupt member is only found while importing: that ecosystem fails, the other still updates.
  serve('PyPI', zips.corrupt);
  serve('Go', await rezip(recordFiles(OSV_GO).slice(1))); // one record fewer
  r = await updateDb(db, { baseUrl: base, now: at(7) });
  assert.deepEqual(
    r.ecosystems.map((e) => [e.ecosystem, e.status]),
    [
      ['Go', 'updated'],
      ['PyPI', 'failed'],
    ],
  );
  assert.match(r.failed[0]!.detail, /PyPI\/all\.zip: .*(corrupt|CRC-32)/);
  assert.deepEqual(r.metadata?.ecosystems, { Go: 4290, PyPI: 2651 });
  assert.deepEqual(await temps(), []);
});

async function rezip(files: { name: string; data: Buffer }[]): Promise<Buffer> {
  const p = join(dir, `re-${files.length}.zip`);
  await writeZip(p, files);
  return readFile(p);
}

test('an interrupted update (abort mid-download) is ABORTED and leaves the database as it was', async () => {
  const db = join(dir, 'abort.db');
  serve('Go', zips.go);
  await updateDb(db, { baseUrl: base, ecosystems: ['Go'] });
  const before = meta(db);
  serve('Go', zips.pypi, 'hang');
  const ac = new AbortController();
  await assert.rejects(
    updateDb(db, {
      baseUrl: base,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.phase === 'download' && p.bytes > 0) ac.abort();
      },
    }),
    (e: unknown) => isVouchError(e, 'ABORTED') && /previous database is unchanged/.test(e.message),
  );
  assert.deepEqual(meta(db), before);
  assert.deepEqual(await temps(), []);
});

test('nothing downloadable and no database: failures reported, no file written', async () => {
  const db = join(dir, 'never.db');
  served.delete('npm');
  const r = await updateDb(db, { baseUrl: base, ecosystems: ['npm'] });
  assert.deepEqual(
    r.failed.map((f) => [f.ecosystem, f.detail]),
    [['npm', 'HTTP 404 Not Found']],
  );
  assert.equal(r.metadata, undefined);
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.startsWith('never.db')),
    [],
  );
});

test('an unreachable server is a reported failure, not a crash', async () => {
  const r = await updateDb(join(dir, 'unreachable.db'), {
    baseUrl: 'http://127.0.0.1:1',
    ecosystems: ['Go'],
  });
  assert.equal(r.failed.length, 1);
  assert.match(r.failed[0]!.detail, /^request failed: /);
});

test('usage errors: release-suffixed or odd ecosystem names, none at all, a bad base URL', async () => {
  const db = join(dir, 'usage.db');
  const table: [Parameters<typeof updateDb>[1], RegExp][] = [
    [{ baseUrl: base, ecosystems: ['Debian:12'] }, /one all\.zip per bare ecosystem/],
    [{ baseUrl: base, ecosystems: ['../etc'] }, /not an OSV ecosystem name/],
    [{ baseUrl: base, ecosystems: ['a/b'] }, /not an OSV ecosystem name/],
    [{ baseUrl: base, ecosystems: [''] }, /no ecosystems|not an OSV ecosystem/],
    [{ baseUrl: base }, /no ecosystems to update/],
    [{ baseUrl: 'ftp://example.test', ecosystems: ['Go'] }, /must be http/],
    [{ baseUrl: 'not a url', ecosystems: ['Go'] }, /not a URL/],
  ];
  for (const [o, want] of table) {
    await assert.rejects(
      updateDb(db, o),
      (e: unknown) => isVouchError(e, 'USAGE') && want.test(e.message),
      want.source,
    );
  }
  await assert.rejects(
    updateDb(db, { baseUrl: base, ecosystems: ['Debian:12'] }),
    (e: unknown) => isVouchError(e) && e.hint === 'use --ecosystem Debian; its all.zip holds every release',
  );
});

test('zipUrl escapes ecosystem names with spaces', () => {
  assert.equal(zipUrl('https://x.test/', 'Rocky Linux'), 'https://x.test/Rocky%20Linux/all.zip');
  assert.equal(zipUrl('https://x.test', 'PyPI'), 'https://x.test/PyPI/all.zip');
});
