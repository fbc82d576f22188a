/**
 * The scan proof on a real image: the Debian 12 test image (build.ts; real packages from
 * Debian's mirror, a real dpkg database) scanned with the CLI against Debian OSV records
 * written at test time from the image's own installed versions (templates in
 * test/fixtures/osv/debian/image/), so the test keeps working when the mirror moves on.
 *
 * It proves: exactly the findings the records imply and no others (a fix above the installed
 * version is a fixable finding, a fix below is none, an open issue is `affected` and goes with
 * --ignore-unfixed, binaries whose names differ from their source match through it, a kernel
 * CVE on linux-libc-dev is set aside and named); every finding explains itself in the JSON
 * report (records, range or versions list, installed vs compared vs fixed version, the severity
 * source that decided); the OS is named by its point release as trivy names it; scanning the
 * image's CycloneDX and SPDX SBOMs gives the same report.
 *
 * Runs with the image suite only (VOUCH_TEST_IMAGES=1, `npm run build:test-images` first).
 * Versions are computed and checked with the real `dpkg --compare-versions`, never with the
 * comparator under test.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SEVERITY_NUMBER } from '../../src/report/trivy-json.ts';
import { parsePurl } from '../../src/sbom/purl.ts';
import type { Severity } from '../../src/vuln/finding.ts';
import { type BuiltImage, buildTestImage } from './build.ts';
import type { RecipeName } from './recipes.ts';
import type { DebTruth } from './truth.ts';

const enabled = process.env.VOUCH_TEST_IMAGES === '1';
const hasDpkg = enabled && spawnSync('dpkg', ['--version']).error === undefined;
/** minbase by default (smallest); VOUCH_SCAN_IMAGE=rich scans the other recipe the same way. */
const IMAGE = (process.env.VOUCH_SCAN_IMAGE ?? 'minbase') as RecipeName;
const run = promisify(execFile);
const VOUCH = fileURLToPath(new URL('../../bin/vouch.js', import.meta.url));
const TEMPLATES = fileURLToPath(new URL('../fixtures/osv/debian/image/', import.meta.url));

type J = Record<string, unknown>;

/** The real dpkg's answer, so expectations never rest on vouch's own comparator. */
function dpkg(a: string, op: 'lt' | 'gt' | 'eq', b: string): boolean {
  const r = spawnSync('dpkg', ['--compare-versions', a, op, b]);
  if (r.error) throw r.error;
  return r.status === 0;
}

/** A later upload of the same source, as a security update would number it. */
function above(v: string): string {
  const m = /\+deb(\d+)u(\d+)$/.exec(v);
  const next = m ? v.replace(/u\d+$/, `u${Number(m[2]) + 1}`) : `${v}+deb12u1`;
  assert.ok(dpkg(next, 'gt', v), `${next} > ${v}`);
  return next;
}

/** An earlier upload (the release's own before its security updates), when dpkg agrees it is lower. */
function below(v: string): string | undefined {
  const m = /^(.*)\+deb\d+u\d+$/.exec(v);
  const cut = v.lastIndexOf('-');
  const prev = m ? m[1]! : cut > 0 ? `${v.slice(0, cut)}-0~` : `${v}~`;
  return dpkg(prev, 'lt', v) ? prev : undefined;
}

interface Source {
  name: string;
  version: string;
  binaries: DebTruth[];
}

function sourcesOf(debs: DebTruth[]): Source[] {
  const by = new Map<string, Source>();
  for (const d of debs) {
    const s = by.get(d.sourceName) ?? { name: d.sourceName, version: d.sourceVersion, binaries: [] };
    assert.equal(s.version, d.sourceVersion, `${d.name}: one version per source`);
    s.binaries.push(d);
    by.set(d.sourceName, s);
  }
  return [...by.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The first preferred source that fits, else the first that fits: stable across mirror updates. */
function pick(all: Source[], used: Set<string>, prefer: string[], fits: (s: Source) => boolean): Source {
  const ok = (s: Source | undefined): s is Source => s !== undefined && !used.has(s.name) && fits(s);
  const chosen =
    prefer.map((n) => all.find((s) => s.name === n)).find(ok) ?? all.find((s) => ok(s) && s.name !== 'linux');
  assert.ok(chosen, `no source package fits (preferred: ${prefer.join(', ')})`);
  used.add(chosen.name);
  return chosen;
}

const single = (s: Source) => s.binaries.length === 1 && s.binaries[0]!.name === s.name;

/** What the report must say for each binary of a case's source. */
interface Expected {
  id: string;
  vendorIds: string[];
  source: Source;
  fixed?: string;
  status: 'fixed' | 'affected';
  severity: Severity;
  severitySource: string;
  range: string;
  cvss?: { vector: string; score: number };
}

async function vouch(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [VOUCH, ...args], {
      cwd,
      env: { ...process.env, HOME: cwd, SOURCE_DATE_EPOCH: '1767225600' },
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

async function readJson(path: string): Promise<J> {
  return JSON.parse(await readFile(path, 'utf8')) as J;
}

const osResult = (report: J): J => {
  const r = (report.Results as J[]).find((x) => x.Class === 'os-pkgs');
  assert.ok(r, 'an os-pkgs result');
  return r;
};
const vulns = (report: J): J[] => (osResult(report).Vulnerabilities as J[] | undefined) ?? [];

describe(
  'scanning the real Debian image against Debian OSV records',
  {
    skip: !enabled
      ? 'set VOUCH_TEST_IMAGES=1 (npm run build:test-images first)'
      : !hasDpkg
        ? 'needs dpkg (dpkg --compare-versions is the reference for every version the test computes)'
        : false,
  },
  () => {
    let img: BuiltImage;
    let dir: string;
    let db: string;
    let ref: string;
    let debianVersion: string;
    let report: J;
    let table: string;
    let expected: Expected[];
    let unfixed: Source;
    let belowCase: { source: Source; fixed: string };
    let kernel: DebTruth[];
    const recordIds = new Set<string>();

    before(async () => {
      img = await buildTestImage(IMAGE, { log: (l) => console.log(l) });
      ref = img.layoutRef;
      debianVersion = (await readFile(join(img.rootfs, 'etc/debian_version'), 'utf8')).trim();
      dir = await mkdtemp(join(tmpdir(), 'vouch-scan-debian-'));
      db = join(dir, 'osv.db');

      // The cases, from dpkg's own view of the image (the ground truth build.ts recorded).
      const sources = sourcesOf(img.truth.deb);
      const used = new Set<string>(['linux']);
      const fixable = pick(sources, used, ['tar', 'sed', 'gzip', 'grep', 'dpkg'], single);
      const low = pick(
        sources,
        used,
        ['sed', 'grep', 'gzip', 'dpkg', 'tar'],
        (s) => single(s) && !!below(s.version),
      );
      unfixed = pick(sources, used, ['bash', 'grep', 'gzip', 'dpkg'], single);
      const renamed = pick(
        sources,
        used,
        ['glibc', 'pam'],
        (s) => s.binaries.length >= 2 && s.binaries.every((b) => b.name !== s.name),
      );
      kernel = img.truth.deb.filter((d) => d.sourceName === 'linux' && /^linux-libc-dev/.test(d.name));
      belowCase = { source: low, fixed: below(low.version)! };
      const fill: Record<string, { source: string; fixed?: string; installed?: string }> = {
        'DSA-5990-1': { source: fixable.name, fixed: above(fixable.version) },
        'DEBIAN-CVE-2024-99001': { source: fixable.name, fixed: above(fixable.version) },
        'DSA-5991-1': { source: low.name, fixed: belowCase.fixed },
        'DEBIAN-CVE-2024-99003': { source: unfixed.name },
        'DLA-3990-1': { source: renamed.name, fixed: above(renamed.version), installed: renamed.version },
        'DEBIAN-CVE-2024-99004': {
          source: renamed.name,
          fixed: above(renamed.version),
          installed: renamed.version,
        },
        'DEBIAN-CVE-2024-99005': { source: 'linux' },
      };
      const records = join(dir, 'records');
      await mkdir(records);
      for (const f of (await readdir(TEMPLATES)).filter((n) => n.endsWith('.json'))) {
        const id = f.slice(0, -'.json'.length);
        const v = fill[id];
        assert.ok(v, `template ${f} has a case`);
        const text = (await readFile(join(TEMPLATES, f), 'utf8'))
          .replaceAll('@SOURCE@', v.source)
          .replaceAll('@FIXED@', v.fixed ?? '@FIXED@')
          .replaceAll('@INSTALLED@', v.installed ?? '@INSTALLED@');
        assert.doesNotMatch(text, /@[A-Z]+@/, `${f}: every token filled`);
        assert.equal((JSON.parse(text) as { id: string }).id, id);
        await writeFile(join(records, f), text);
        recordIds.add(id);
      }
      assert.equal(recordIds.size, Object.keys(fill).length);

      expected = [
        {
          id: 'CVE-2024-99001',
          vendorIds: ['DEBIAN-CVE-2024-99001', 'DSA-5990-1'],
          source: fixable,
          fixed: above(fixable.version),
          status: 'fixed',
          severity: 'HIGH',
          severitySource: 'debian',
          range: `introduced 0, fixed ${above(fixable.version)}`,
          cvss: { vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H', score: 6.5 },
        },
        {
          id: 'CVE-2024-99003',
          vendorIds: ['DEBIAN-CVE-2024-99003'],
          source: unfixed,
          status: 'affected',
          severity: 'HIGH',
          severitySource: 'cvss_v3',
          range: 'introduced 0',
          cvss: { vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H', score: 7.5 },
        },
        {
          id: 'CVE-2024-99004',
          vendorIds: ['DEBIAN-CVE-2024-99004', 'DLA-3990-1'],
          source: renamed,
          fixed: above(renamed.version),
          status: 'fixed',
          severity: 'MEDIUM',
          severitySource: 'debian',
          range: 'listed version',
        },
      ];
      console.log(
        `[scan-debian] ${IMAGE}: debian ${debianVersion}; fixable ${fixable.name} ${fixable.version}, ` +
          `fixed below ${low.name} ${low.version} (fix ${belowCase.fixed}), unfixed ${unfixed.name}, ` +
          `through the source ${renamed.name} (${renamed.binaries.map((b) => b.name).join(', ')}), ` +
          `linux-libc-dev ${kernel.length > 0 ? 'present' : 'absent'}`,
      );

      const imported = await vouch(dir, ['db', 'import', records, '--db', db]);
      assert.equal(imported.code, 0, imported.stderr);
      const scanned = await vouch(dir, [
        'scan',
        ref,
        '--db',
        db,
        '--format',
        'json',
        '--output',
        'image.json',
        '--format',
        'table',
        '--output',
        'image.txt',
      ]);
      assert.equal(scanned.code, 4, `findings fail the gate: ${scanned.stderr}`);
      report = await readJson(join(dir, 'image.json'));
      table = await readFile(join(dir, 'image.txt'), 'utf8');
    });

    after(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('the OS is named by its point release (/etc/debian_version) as trivy names it', () => {
      assert.match(debianVersion, /^12\.\d+$/, 'a Debian 12 point release');
      assert.notEqual(debianVersion, img.truth.os.VERSION_ID);
      assert.deepEqual((report.Metadata as J).OS, { Family: 'debian', Name: debianVersion });
      assert.equal(osResult(report).Target, `${ref} (debian ${debianVersion})`);
      assert.ok(table.startsWith(`${ref} (debian ${debianVersion})\n`), table.slice(0, 200));
      // the advisories still come from the major release's ecosystem
      for (const v of vulns(report)) assert.equal((v.VouchMatch as J).Ecosystem, 'Debian:12');
    });

    test('exactly the findings the records imply: one per binary of each affected source, no others', () => {
      const want = expected
        .flatMap((e) => e.source.binaries.map((b) => `${e.id} ${b.name} ${b.version}`))
        .sort();
      const got = vulns(report)
        .map((v) => `${v.VulnerabilityID} ${v.PkgName} ${v.InstalledVersion}`)
        .sort();
      assert.deepEqual(got, want);
      // the fix below the installed version names the source but never reaches the report
      const all = JSON.stringify(report);
      assert.ok(!all.includes('CVE-2024-99002') && !all.includes('DSA-5991-1'), 'no trace of DSA-5991-1');
      assert.ok(dpkg(belowCase.fixed, 'lt', belowCase.source.version));
      // binaries named otherwise than their source matched through it
      const renamed = expected.find((e) => e.id === 'CVE-2024-99004')!.source;
      assert.ok(renamed.binaries.length >= 2);
      for (const b of renamed.binaries) assert.notEqual(b.name, renamed.name);
    });

    test('every finding explains itself: records, range, installed/compared/fixed versions, severity source', () => {
      const truth = new Map(img.truth.deb.map((d) => [d.name, d]));
      const all = [
        ...vulns(report),
        ...((osResult(report).ExperimentalModifiedFindings as J[] | undefined) ?? []).map(
          (m) => m.Finding as J,
        ),
      ];
      assert.ok(all.length >= 3);
      for (const v of all) {
        const what = `${v.VulnerabilityID} on ${v.PkgName}`;
        const m = v.VouchMatch as J;
        const deb = truth.get(v.PkgName as string);
        assert.ok(deb, `${what}: a package dpkg knows`);
        // which records: each is one of the finding's ids and one the database holds
        const ids = [v.VulnerabilityID, ...((v.VendorIDs as string[] | undefined) ?? [])];
        assert.ok((m.Records as string[]).length > 0, what);
        for (const r of m.Records as string[]) {
          assert.ok(ids.includes(r), `${what}: record ${r} is among its ids`);
          assert.ok(recordIds.has(r), `${what}: record ${r} was imported`);
        }
        // which package and version were looked up: the source, at the source version
        assert.equal(m.Via, 'source-package', what);
        assert.equal(m.PkgName, deb.sourceName, what);
        assert.equal(v.InstalledVersion, deb.version, what);
        assert.equal(m.ComparedVersion, deb.sourceVersion, what);
        // which range held it, and the fix above it
        assert.match(
          m.Range as string,
          /^(introduced \S+(, (fixed|last_affected) \S+)?(, limit \S+)*|listed version)$/,
          what,
        );
        if (v.Status === 'fixed') {
          assert.ok(dpkg(v.FixedVersion as string, 'gt', deb.sourceVersion), `${what}: fix above`);
          const rangeFix = /, fixed (\S+)/.exec(m.Range as string)?.[1];
          if (rangeFix !== undefined) assert.equal(rangeFix, v.FixedVersion, what);
        } else assert.equal(v.FixedVersion, undefined, what);
        // which severity source decided, consistent with the per-source ratings
        const vendor = v.VendorSeverity as Record<string, number>;
        assert.ok(typeof v.SeveritySource === 'string', `${what}: a severity source`);
        assert.equal(vendor[v.SeveritySource as string], SEVERITY_NUMBER[v.Severity as Severity], what);
      }
      // and the exact explanation of each case
      for (const e of expected) {
        for (const b of e.source.binaries) {
          const v = vulns(report).find((x) => x.VulnerabilityID === e.id && x.PkgName === b.name);
          assert.ok(v, `${e.id} on ${b.name}`);
          assert.deepEqual(v.VendorIDs, e.vendorIds);
          assert.equal(v.Status, e.status);
          assert.equal(v.FixedVersion, e.fixed);
          assert.equal(v.Severity, e.severity);
          assert.equal(v.SeveritySource, e.severitySource);
          const purl = parsePurl(String((v.PkgIdentifier as J).PURL));
          assert.deepEqual([purl.type, purl.namespace, purl.name], ['deb', 'debian', b.name]);
          const m = v.VouchMatch as J;
          assert.deepEqual(m.Records, [...e.vendorIds, e.id].filter((id) => recordIds.has(id)).sort());
          assert.equal(m.Range, e.range);
          if (e.cvss) {
            assert.deepEqual((v.CVSS as J).nvd, { V3Vector: e.cvss.vector, V3Score: e.cvss.score });
          } else assert.equal(v.CVSS, undefined);
        }
      }
    });

    test('--ignore-unfixed drops the open issue from the gate but keeps it in the audit trail', async () => {
      const r = await vouch(dir, ['scan', ref, '--db', db, '--format', 'json', '--ignore-unfixed']);
      assert.equal(r.code, 4, 'the fixable findings still fail the gate');
      const rep = JSON.parse(r.stdout) as J;
      const ids = vulns(rep).map((v) => v.VulnerabilityID);
      assert.ok(!ids.includes('CVE-2024-99003'), ids.join(' '));
      assert.ok(ids.includes('CVE-2024-99001') && ids.includes('CVE-2024-99004'));
      const gate = rep.VouchGate as J;
      const dropped = (gate.suppressed as J[]).filter((s) => s.VulnerabilityID === 'CVE-2024-99003');
      assert.deepEqual(
        dropped.map((s) => [s.PkgName, (s.Reason as J).Kind]),
        unfixed.binaries.map((b) => [b.name, 'status']),
      );
      assert.ok(((gate.policy as J).ignoreStatuses as string[]).includes('affected'));
    });

    test('a kernel CVE on linux-libc-dev is set aside by the built-in rule and named in the report', (t) => {
      const named = vulns(report).filter((v) => v.VulnerabilityID === 'CVE-2024-99005');
      assert.deepEqual(named, [], 'never among the kept findings');
      const mod = ((osResult(report).ExperimentalModifiedFindings as J[] | undefined) ?? []).filter(
        (m) => (m.Finding as J).VulnerabilityID === 'CVE-2024-99005',
      );
      if (kernel.length === 0) {
        // The record names source `linux`; with no binary of it installed nothing can match.
        assert.deepEqual(mod, []);
        t.diagnostic(`${IMAGE} has no linux-libc-dev: the set-aside path is covered by src/vuln/match tests`);
        return;
      }
      assert.deepEqual(
        mod.map((m) => [(m.Finding as J).PkgName, m.Status, m.Source]),
        kernel.map((k) => [k.name, 'ignored', 'vouch:set-aside/kernel-headers']),
      );
      const aside = (mod[0]!.Finding as J).VouchMatch as J;
      assert.equal((aside.SetAside as J).Rule, 'kernel-headers');
      const suppressed = ((report.VouchGate as J).suppressed as J[]).filter(
        (s) => s.VulnerabilityID === 'CVE-2024-99005',
      );
      assert.deepEqual(
        suppressed.map((s) => (s.Reason as J).Kind),
        kernel.map(() => 'set-aside'),
      );
    });

    test("scanning the image's CycloneDX and SPDX SBOMs gives the same findings, explanations and OS", async () => {
      for (const [format, file, type] of [
        ['cyclonedx', 'sbom.cdx.json', 'cyclonedx'],
        ['spdx', 'sbom.spdx.json', 'spdx'],
      ] as const) {
        const s = await vouch(dir, ['sbom', ref, '--format', format, '--output', file]);
        assert.equal(s.code, 0, s.stderr);
        const r = await vouch(dir, ['scan', file, '--db', db, '--format', 'json']);
        assert.equal(r.code, 4, r.stderr);
        const rep = JSON.parse(r.stdout) as J;
        assert.equal(rep.ArtifactType, type);
        assert.deepEqual((rep.Metadata as J).OS, (report.Metadata as J).OS, `${format}: OS`);
        const strip = (vs: J[]) => vs.map((v) => ({ ...v }));
        assert.deepEqual(strip(vulns(rep)), strip(vulns(report)), `${format}: findings`);
        assert.deepEqual(
          osResult(rep).ExperimentalModifiedFindings,
          osResult(report).ExperimentalModifiedFindings,
          `${format}: set-aside findings`,
        );
      }
    });
  },
);
