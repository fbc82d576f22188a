/**
 * `vouch scan` end to end: a real OCI layout with Python packages, a database imported from the
 * real OSV PyPI records in ../shared/data, the CLI run as a process. Proves that scanning an
 * image and scanning its CycloneDX or SPDX SBOM give the same findings, the exit codes (pass,
 * gate fail, error, usage), several reports from one run, exceptions and VEX, and that the same
 * inputs give byte-identical reports.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseScanOptions } from '../../src/cli/commands/scan.ts';
import { isVouchError } from '../../src/errors.ts';
import { importOsv } from '../../src/vuln/db/import.ts';
import { randomImage, writeLayout } from '../helpers/random-image.ts';

const run = promisify(execFile);
const VOUCH = fileURLToPath(new URL('../../bin/vouch.js', import.meta.url));
const OSV_PYPI = fileURLToPath(new URL('../../../shared/data/osv/pypi', import.meta.url));
const skip = existsSync(OSV_PYPI) ? false : `no OSV PyPI data at ${OSV_PYPI}`;

let dir: string;
let db: string;
let staleDb: string;
let image: string;

const METADATA = (name: string, version: string) =>
  `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: test\n`;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'vouch-scan-e2e-'));
  db = join(dir, 'osv.db');
  staleDb = join(dir, 'stale.db');
  await importOsv(db, [OSV_PYPI]);
  await importOsv(staleDb, [OSV_PYPI], { now: () => new Date('2020-01-01T00:00:00Z') });
  const img = await randomImage({
    layers: [
      [
        { name: 'etc/', type: 'directory' },
        {
          name: 'etc/os-release',
          content:
            'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
        },
        {
          name: 'usr/lib/python3/dist-packages/requests-2.19.0.dist-info/METADATA',
          content: METADATA('requests', '2.19.0'),
        },
        {
          name: 'usr/lib/python3/dist-packages/Jinja2-2.10.dist-info/METADATA',
          content: METADATA('Jinja2', '2.10'),
        },
        {
          name: 'usr/lib/python3/dist-packages/urllib3-1.26.18.dist-info/METADATA',
          content: METADATA('urllib3', '1.26.18'),
        },
      ],
    ],
  });
  image = join(dir, 'layout');
  await writeLayout(image, [{ descriptor: img.descriptor, tag: '1.0' }], img.blobs);
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function vouch(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [VOUCH, ...args], {
      cwd: dir,
      env: { ...process.env, HOME: dir, SOURCE_DATE_EPOCH: '1767225600', ...env },
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

type J = Record<string, unknown>;

/** The findings of a trivy JSON report, comparable across artifact kinds. */
function findingsOf(report: J): string[] {
  const out: string[] = [];
  for (const r of (report.Results as J[]) ?? []) {
    for (const v of (r.Vulnerabilities as J[]) ?? []) {
      out.push(
        [
          v.VulnerabilityID,
          v.PkgName,
          v.InstalledVersion,
          v.FixedVersion,
          v.Severity,
          v.Status,
          r.Class,
        ].join(' '),
      );
    }
  }
  return out.sort();
}

test(
  'scanning the image and scanning its CycloneDX and SPDX SBOMs give the same findings',
  { skip },
  async () => {
    const ref = `oci:${image}:1.0`;
    for (const [fmt, file] of [
      ['cyclonedx', 'sbom.cdx.json'],
      ['spdx', 'sbom.spdx.json'],
    ] as const) {
      const s = await vouch(['sbom', ref, '--format', fmt, '--output', file]);
      assert.equal(s.code, 0, s.stderr);
    }
    const img = await vouch(['scan', ref, '--db', db, '--format', 'json']);
    assert.equal(img.code, 4, img.stderr);
    const fromImage = JSON.parse(img.stdout) as J;
    assert.equal(fromImage.ArtifactType, 'container_image');
    const found = findingsOf(fromImage);
    assert.ok(
      found.some((f) => f.startsWith('CVE-2018-18074 requests 2.19.0 2.20.0')),
      found.join('\n'),
    );
    assert.ok(
      found.some((f) => f.startsWith('CVE-2023-32681 requests 2.19.0 2.31.0')),
      found.join('\n'),
    );
    assert.ok(
      found.some((f) => / [Jj]inja2 2\.10 /.test(f)),
      found.join('\n'),
    );
    for (const [file, type] of [
      ['sbom.cdx.json', 'cyclonedx'],
      ['sbom.spdx.json', 'spdx'],
    ]) {
      const r = await vouch(['scan', file as string, '--db', db, '--format', 'json']);
      assert.equal(r.code, 4, r.stderr);
      const rep = JSON.parse(r.stdout) as J;
      assert.equal(rep.ArtifactType, type);
      assert.deepEqual(findingsOf(rep), found, `${file} vs image`);
      const inputs = (rep.VouchGate as J).inputs as J;
      assert.match(String(inputs.sbomDigest), /^sha256:[0-9a-f]{64}$/);
      assert.equal(inputs.dbDigest, ((fromImage.VouchGate as J).inputs as J).dbDigest);
    }
    assert.match(String(((fromImage.VouchGate as J).inputs as J).imageDigest), /^sha256:[0-9a-f]{64}$/);
  },
);

test('exit codes: gate fail, pass, --exit-code, error, usage', { skip }, async () => {
  const ref = `oci:${image}:1.0`;
  const table: { args: string[]; code: number; err?: RegExp; out?: RegExp }[] = [
    {
      args: ['scan', ref, '--db', db],
      code: 4,
      out: /Gate: FAIL/,
      err: /gate: FAIL: \d+ finding\(s\).*exit 4/,
    },
    { args: ['scan', ref, '--db', db, '--exit-code', '9'], code: 9 },
    { args: ['scan', ref, '--db', db, '--exit-code', '0'], code: 0, err: /gate: FAIL/ },
    {
      args: ['scan', ref, '--db', db, '--severity', 'CRITICAL', '--severity-source', 'nvd'],
      code: 0,
      out: /Gate: PASS/,
    },
    { args: ['scan', ref, '--db', join(dir, 'missing.db')], code: 1, err: /no advisory database/ },
    { args: ['scan', join(dir, 'nothing-here.json'), '--db', db], code: 1 },
    {
      args: ['scan', ref, '--db', db, '--ignorefile', 'missing.trivyignore'],
      code: 1,
      err: /missing\.trivyignore does not exist/,
    },
    {
      args: ['scan', ref, '--db', db, '--format', 'xml'],
      code: 2,
      err: /--format must be one of table, json, sarif/,
    },
    {
      args: ['scan', ref, '--db', db, '--exit-code', 'x'],
      code: 2,
      err: /--exit-code must be a whole number/,
    },
    { args: ['scan', ref, '--db', db, '--severity', 'SEVERE'], code: 2, err: /"SEVERE" is not one of/ },
    { args: ['scan', ref, '--db', db, '--severity-source', 'n v d'], code: 2, err: /is not a source name/ },
    { args: ['scan', ref, '--db', db, '--nope'], code: 2 },
    { args: ['scan', '--db', db], code: 2, err: /expected one IMAGE or SBOM-FILE/ },
    { args: ['scan', '127.0.0.1:1/app:1', '--db', db, '--offline'], code: 2, err: /--offline/ },
  ];
  for (const c of table) {
    const r = await vouch(c.args);
    assert.equal(r.code, c.code, `${c.args.join(' ')}\n${r.stderr}`);
    if (c.err) assert.match(r.stderr, c.err, c.args.join(' '));
    if (c.out) assert.match(r.stdout, c.out, c.args.join(' '));
  }
  const help = await vouch(['scan', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /4 {3}the gate failed/);
});

test('one run, several reports; the same inputs give byte-identical reports', { skip }, async () => {
  const ref = `oci:${image}:1.0`;
  const args = (n: string) => [
    'scan',
    ref,
    '--db',
    db,
    '-f',
    'json',
    '-o',
    `${n}.json`,
    '-f',
    'sarif',
    '-o',
    `${n}.sarif`,
    '-f',
    'table',
    '-o',
    '-',
  ];
  const a = await vouch(args('a'));
  const b = await vouch(args('b'));
  assert.equal(a.code, 4, a.stderr);
  assert.match(a.stdout, /Gate: FAIL/);
  assert.equal(a.stdout, b.stdout);
  for (const ext of ['json', 'sarif']) {
    assert.equal(
      await readFile(join(dir, `a.${ext}`), 'utf8'),
      await readFile(join(dir, `b.${ext}`), 'utf8'),
      ext,
    );
  }
  const json = JSON.parse(await readFile(join(dir, 'a.json'), 'utf8')) as J;
  const sarif = JSON.parse(await readFile(join(dir, 'a.sarif'), 'utf8')) as {
    version: string;
    runs: { results: J[] }[];
  };
  assert.equal(json.CreatedAt, '2026-01-01T00:00:00Z', 'from SOURCE_DATE_EPOCH');
  assert.equal(sarif.version, '2.1.0');
  assert.equal(sarif.runs[0]?.results.length, findingsOf(json).length, 'same result in both');
  // the policy digest follows the flags
  const c = await vouch(['scan', ref, '--db', db, '-f', 'json', '--severity', 'HIGH,CRITICAL']);
  const pd = (r: J) => ((r.VouchGate as J).inputs as J).policyDigest;
  assert.notEqual(pd(JSON.parse(c.stdout) as J), pd(json));
  const noEpoch = await vouch(['scan', ref, '--db', db, '-f', 'json'], { SOURCE_DATE_EPOCH: '' });
  assert.equal(
    (JSON.parse(noEpoch.stdout) as J).CreatedAt,
    undefined,
    'no timestamp without SOURCE_DATE_EPOCH',
  );
});

test('exceptions and VEX suppress with their reasons; statements are required', { skip }, async () => {
  const ref = `oci:${image}:1.0`;
  const base = JSON.parse((await vouch(['scan', ref, '--db', db, '-f', 'json'])).stdout) as J;
  const all = findingsOf(base).map((f) => f.split(' ').slice(0, 2));
  // one YAML exception per finding except Jinja2's, and a VEX statement for Jinja2
  const yaml = [
    'vulnerabilities:',
    ...all
      .filter(([, pkg]) => pkg === 'requests' || pkg === 'urllib3')
      .flatMap(([id, pkg]) => [
        `  - id: ${id}`,
        `    purls: ["pkg:pypi/${pkg}"]`,
        '    statement: accepted for the test',
        '    expired_at: 2999-01-01',
      ]),
    '  - id: CVE-1999-0001',
    '    statement: never matches',
  ].join('\n');
  await writeFile(join(dir, '.trivyignore.yaml'), `${yaml}\n`);
  const jinja = all.filter(([, pkg]) => /jinja2/i.test(pkg ?? '')).map(([id]) => id);
  await writeFile(
    join(dir, 'app.vex.json'),
    JSON.stringify({
      '@context': 'https://openvex.dev/ns/v0.2.0',
      timestamp: '2025-01-01T00:00:00Z',
      statements: jinja.map((id) => ({
        vulnerability: { name: id },
        products: [{ '@id': 'pkg:pypi/jinja2' }],
        status: 'not_affected',
        justification: 'vulnerable_code_not_in_execute_path',
      })),
    }),
  );
  const r = await vouch([
    'scan',
    ref,
    '--db',
    db,
    '-f',
    'json',
    '--ignorefile',
    '.trivyignore.yaml',
    '--vex',
    'app.vex.json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as J;
  const gate = rep.VouchGate as J;
  assert.equal(gate.decision, 'pass');
  const kinds = (gate.suppressed as J[]).map((s) => (s.Reason as J).Kind);
  assert.equal(kinds.length, all.length);
  assert.ok(kinds.includes('ignorefile') && kinds.includes('vex'), kinds.join());
  assert.deepEqual(
    (gate.unusedExceptions as J[]).map((u) => u.Source),
    [`.trivyignore.yaml:${yaml.split('\n').length - 1}`],
  );
  assert.equal((gate.policy as J).ignoreFile, '.trivyignore.yaml');

  // a plain .trivyignore in the working directory is picked up by default; its lines need statements
  await writeFile(join(dir, '.trivyignore'), `${all[0]?.[0]}\n`);
  const bad = await vouch(['scan', ref, '--db', db]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /IGNOREFILE_INVALID.*\.trivyignore:1: .* has no statement/);
  await writeFile(join(dir, '.trivyignore'), `${all[0]?.[0]} exp:2020-01-01 # lapsed\n`);
  const lapsed = await vouch(['scan', ref, '--db', db]);
  assert.equal(lapsed.code, 4);
  assert.match(lapsed.stderr, /using ignore file \.trivyignore/);
  assert.match(lapsed.stderr, /exception .* at \.trivyignore:1 expired on 2020-01-01/);
  await rm(join(dir, '.trivyignore'));

  // VEX without justification is refused
  await writeFile(
    join(dir, 'bad.vex.json'),
    JSON.stringify({
      '@context': 'https://openvex.dev/ns/v0.2.0',
      statements: [
        { vulnerability: { name: 'CVE-1' }, products: ['pkg:pypi/jinja2'], status: 'not_affected' },
      ],
    }),
  );
  const badVex = await vouch(['scan', ref, '--db', db, '--vex', 'bad.vex.json']);
  assert.equal(badVex.code, 1);
  assert.match(
    badVex.stderr,
    /VEX_INVALID.*bad\.vex\.json#\/statements\/0: not_affected statement about CVE-1 has neither/,
  );
});

test(
  'an old database is scanned with a warning; --offline leaves out the update hint',
  { skip },
  async () => {
    const ref = `oci:${image}:1.0`;
    const r = await vouch(['scan', ref, '--db', staleDb, '--exit-code', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*vouch db update/);
    const off = await vouch(['scan', ref, '--db', staleDb, '--exit-code', '0', '--offline']);
    assert.match(off.stderr, /warning: /);
    assert.doesNotMatch(off.stderr, /vouch db update/);
    const fresh = await vouch(['scan', ref, '--db', db, '--exit-code', '0']);
    assert.doesNotMatch(fresh.stderr, /warning: .*old/);
  },
);

test('parseScanOptions: format/output pairing and defaults', () => {
  const p = (values: Record<string, unknown>, pos = ['img']) => parseScanOptions(values, pos, '/w');
  assert.deepEqual(p({}).outputs, [{ format: 'table' }]);
  assert.deepEqual(p({ format: ['json'] }).outputs, [{ format: 'json' }]);
  assert.deepEqual(p({ format: ['json', 'sarif'], output: ['a.json', '-'] }).outputs, [
    { format: 'json', path: 'a.json' },
    { format: 'sarif' },
  ]);
  assert.equal(p({}).exitCode, 4);
  assert.equal(p({ 'exit-code': '0' }).exitCode, 0);
  assert.deepEqual(p({}).severities, ['UNKNOWN', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);
  assert.deepEqual(p({ severity: 'high, critical' }).severities, ['HIGH', 'CRITICAL']);
  assert.deepEqual(p({}).severitySources, ['auto']);
  assert.deepEqual(p({}).ignoreFile, { path: '.trivyignore', explicit: false });
  assert.deepEqual(p({ ignorefile: 'x.yaml' }).ignoreFile, { path: 'x.yaml', explicit: true });
  assert.equal(p({}).maxDbAgeDays, 7);
  const usage = (values: Record<string, unknown>, msg: RegExp, pos = ['img']) =>
    assert.throws(
      () => p(values, pos),
      (e: unknown) => isVouchError(e, 'USAGE') && msg.test(e.message),
    );
  usage({ format: ['json', 'sarif'] }, /one --output each/);
  usage({ format: ['json'], output: ['a', 'b'] }, /one --format per --output/);
  usage({ format: ['json', 'sarif'], output: ['-', '-'] }, /only one --output may be "-"/);
  usage({ format: ['json', 'sarif'], output: ['a', './a'] }, /given twice/);
  usage({ 'ignore-status': 'fixed,unknown' }, /"unknown" is not one of/);
  usage({ 'exit-code': '256' }, /0 to 255/);
  usage({ 'max-db-age': '-1' }, /--max-db-age/);
  usage({}, /expected one/, ['a', 'b']);
});
