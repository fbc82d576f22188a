/** `vouch db import | update | status` through main(), with captured output and a local zip server. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type CliResult, runVouch } from '../helpers/cli.ts';
import { OSV_GO, OSV_PYPI, recordFiles } from './osv-data.ts';
import { writeZip } from './zip-writer.ts';

let dir: string;
let server: Server;
let base: string;
let pypiZip: Buffer;
let fail = false;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-dbcli-'));
  const p = join(dir, 'pypi.zip');
  await writeZip(p, recordFiles(OSV_PYPI));
  pypiZip = await readFile(p);
  server = createServer((req, res) => {
    if (fail) return void res.writeHead(503, 'Service Unavailable').end();
    if (req.url !== '/PyPI/all.zip') return void res.writeHead(404).end();
    if (req.headers['if-none-match'] === '"v1"') return void res.writeHead(304).end();
    res.writeHead(200, { etag: '"v1"', 'content-length': String(pypiZip.length) }).end(pypiZip);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

function run(args: string[], env: NodeJS.ProcessEnv = {}, tty = false): Promise<CliResult> {
  return runVouch(args, { env, cwd: dir, tty });
}

test('db import, then status (text and JSON)', async () => {
  const imp = await run(['db', 'import', OSV_GO, '--db', 'osv.db']); // relative to cwd
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stderr, /read 4,291 records in .* s \([\d,]+ records\/s\): 4,291 new/);
  assert.match(
    imp.stderr,
    new RegExp(`${join(dir, 'osv.db')}: 4,291 records \\(17 withdrawn\\) from 1 sources`),
  );
  const st = await run(['db', 'status', '--db', join(dir, 'osv.db')]);
  assert.equal(st.code, 0);
  assert.match(st.stdout, /^database +.*osv\.db \([\d.]+ MiB, schema 1\)$/m);
  assert.match(st.stdout, /^records +4,291 \(17 withdrawn\)/m);
  assert.match(st.stdout, /^ecosystems +Go 4,291$/m);
  assert.match(st.stdout, /^digest +sha256:[0-9a-f]{64}$/m);
  assert.equal(st.stderr, '');
  const js = await run(['db', 'status', '--json'], { VOUCH_DB: join(dir, 'osv.db') });
  const parsed = JSON.parse(js.stdout) as {
    metadata: { records: number };
    warning: string | null;
    ageDays: number;
  };
  assert.equal(parsed.metadata.records, 4291);
  assert.equal(parsed.warning, null);
  assert.ok(parsed.ageDays >= 0 && parsed.ageDays < 1);
  // A zero max age makes any database stale: the warning goes to stderr with the refresh hint.
  const old = await run(['db', 'status', '--db', 'osv.db', '--max-age', '0']);
  assert.match(
    old.stderr,
    /^warning: the advisory database is 0 hours old .*; refresh it with `vouch db update`$/m,
  );
});

test('progress on a terminal: rewritten lines with records/s, cleared at the end', async () => {
  const r = await run(['db', 'import', OSV_GO, '--db', 'tty.db'], {}, true);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /\r\x1b\[Kimporting .*go: [\d,]+\/4,291 records \([\d,]+ records\/s\)/);
  assert.match(r.stderr, /\r\x1b\[Kread 4,291 records/); // cleared before the summary
  const quiet = await run(['db', 'import', OSV_GO, '--db', 'tty.db']);
  assert.doesNotMatch(quiet.stderr, /\r/);
});

test('db update against a local server: updated, then unchanged; a failure exits 1', async () => {
  const db = join(dir, 'up.db');
  let r = await run(['db', 'update', '--db', db, '--ecosystem', 'PyPI', '--base-url', base]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^PyPI: updated \([\d.]+ MiB, 2,661 records\)$/m);
  r = await run(['db', 'update', '--db', db, '--base-url', base]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^PyPI: unchanged \(not modified \(304\)\)$/m);
  fail = true;
  try {
    r = await run(['db', 'update', '--db', db, '--base-url', base]);
  } finally {
    fail = false;
  }
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^PyPI: FAILED: HTTP 503 Service Unavailable$/m);
  assert.match(r.stderr, /1 of 1 ecosystems failed; their previous records \(if any\) are still in use/);
  const st = await run(['db', 'status', '--db', db, '--json']);
  assert.equal((JSON.parse(st.stdout) as { metadata: { records: number } }).metadata.records, 2661);
});

test('usage: --offline refuses update; options must fit the subcommand; subcommand required', async () => {
  const table: [string[], RegExp][] = [
    [['db', 'update', '--offline', '--ecosystem', 'PyPI'], /--offline forbids/],
    [['db'], /missing db subcommand/],
    [['db', 'upgrade'], /unknown db subcommand "upgrade"/],
    [['db', 'import'], /needs at least one PATH/],
    [['db', 'import', OSV_GO, '--ecosystem', 'Go'], /--ecosystem does not apply to vouch db import/],
    [['db', 'status', '--fresh'], /--fresh does not apply to vouch db status/],
    [['db', 'status', 'extra'], /takes no arguments/],
    [['db', 'status', '--max-age', 'week'], /--max-age must be a number of days/],
    [['db', 'update', '--ecosystem', 'Debian:12', '--db', 'x.db'], /one all\.zip per bare ecosystem/],
  ];
  for (const [args, want] of table) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, want, args.join(' '));
  }
});

test('errors: a missing database, a corrupt zip', async () => {
  const st = await run(['db', 'status', '--db', 'missing.db']);
  assert.equal(st.code, 1);
  assert.match(st.stderr, /error \[DB_NOT_FOUND\]: no advisory database at .*missing\.db/);
  assert.match(st.stderr, /hint: create it/);
  const bad = join(dir, 'bad.zip');
  await writeZip(bad, []);
  const buf = await readFile(bad);
  await writeFile(bad, buf.subarray(0, 10));
  const imp = await run(['db', 'import', bad, '--db', 'bad.db']);
  assert.equal(imp.code, 1);
  assert.match(imp.stderr, /error \[DB_INVALID\]: .*bad\.zip: .*too short/);
});

test('bin/vouch.js db --help', async () => {
  const vouch = fileURLToPath(new URL('../../bin/vouch.js', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [vouch, 'db', '--help']);
  assert.match(stdout, /vouch db import PATH/);
  assert.match(stdout, /--ecosystem/);
});
