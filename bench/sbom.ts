/**
 * SBOM benchmark on the real `rich` test image (test/images: Debian bookworm + Python, Java,
 * Go and npm packages, three layers with whiteouts), as a docker-archive tarball:
 *
 *  - vouch: `node bin/vouch.js sbom docker-archive:FILE --format cyclonedx` (stdout to /dev/null),
 *    and the same on the OCI layout;
 *  - @cyclonedx/cdxgen `-t docker` on the same tarball (installed for the bench only, into
 *    .bench/cdxgen, never into the project's dependencies);
 *  - the floor: `gunzip -c | sha256sum` of the gzip layers, and `sha256sum` of the tarball
 *    (whose layers are uncompressed, as `docker save` writes them).
 *
 * Time is wall clock (median of BENCH_ROUNDS, default 3; cdxgen CDXGEN_ROUNDS, default 1), peak
 * RSS from `/usr/bin/time -f %M` (the largest process of the tree); CDXGEN_ROUNDS=0 skips cdxgen. Recall is measured against the
 * ground truth of the real tools (dpkg-query, METADATA, pom.properties, go version -m, npm ls).
 * Goals (from the issue): within 1.5× of the floor, peak RSS under 300 MB, faster than cdxgen
 * with at least its recall.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Package, PackageType, Sbom } from '../src/sbom/model.ts';
import { parsePurl } from '../src/sbom/purl.ts';
import { type BuiltImage, buildTestImage } from '../test/images/build.ts';
import { compareWithTruth, type Report } from '../test/images/compare.ts';
import { ECOSYSTEMS } from '../test/images/truth.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const work = join(root, '.bench', 'sbom');
const cdxgenDir = join(root, '.bench', 'cdxgen');
const cdxgenBin = join(cdxgenDir, 'node_modules', '.bin', 'cdxgen');
const vouch = join(root, 'bin', 'vouch.js');
/** The version the bench installs when .bench/cdxgen is empty (pinned: figures must be comparable). */
const CDXGEN_VERSION = '12.8.4';

interface Measure {
  seconds: number;
  rssMb: number;
}

interface Row {
  label: string;
  m?: Measure;
  packages?: number;
  report?: Report;
  note?: string;
}

/** Run a command under /usr/bin/time; stdout is discarded. Throws with stderr on failure. */
function timed(cmd: string, args: string[], o: { cwd?: string } = {}): Measure {
  const out = join(work, 'time.txt');
  const argv = [cmd, ...args];
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', out, ...argv], {
    cwd: o.cwd ?? root,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const [e, m] = execFileSync('tail', ['-n', '1', out], { encoding: 'utf8' }).trim().split(' ');
  return { seconds: Number(e), rssMb: Number(m) / 1024 };
}

function median(ms: Measure[]): Measure {
  const s = [...ms].sort((a, b) => a.seconds - b.seconds);
  const mid = s[Math.floor(s.length / 2)]!;
  return { seconds: mid.seconds, rssMb: Math.max(...ms.map((m) => m.rssMb)) };
}

function repeat(n: number, f: () => Measure): Measure {
  const ms: Measure[] = [];
  for (let i = 0; i < n; i++) ms.push(f());
  return median(ms);
}

function layerBlobs(img: BuiltImage): string[] {
  return img.info.layers.map((l) => join(img.layout, 'blobs', 'sha256', l.digest.slice('sha256:'.length)));
}

/** Packages of any CycloneDX document (nested components included), from their purls. */
export function packagesOfCycloneDx(doc: unknown): Package[] {
  const out: Package[] = [];
  const walk = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const c of list as Record<string, unknown>[]) {
      walk(c.components);
      if (typeof c.purl !== 'string') continue;
      let parts: ReturnType<typeof parsePurl>;
      try {
        parts = parsePurl(c.purl);
      } catch {
        continue;
      }
      const type = parts.type as PackageType;
      const evidence = c.evidence as { occurrences?: { location?: string }[] } | undefined;
      const props = (c.properties as { name?: string; value?: string }[] | undefined) ?? [];
      const paths = [
        ...(evidence?.occurrences ?? []).map((o) => o.location),
        ...props.filter((p) => p.name === 'SrcFile').map((p) => p.value),
      ].filter((p): p is string => typeof p === 'string');
      const name =
        type === 'npm' || type === 'golang'
          ? [parts.namespace, parts.name].filter(Boolean).join('/')
          : parts.name;
      out.push({
        id: String(c['bom-ref'] ?? c.purl),
        type,
        name,
        version: parts.version ?? String(c.version ?? ''),
        purl: c.purl,
        licenses: [],
        locations: paths.map((path) => ({ path })),
        foundBy: 'cdxgen',
      });
    }
  };
  walk((doc as { components?: unknown }).components);
  return out;
}

function sbomOf(packages: Package[]): Sbom {
  return {
    subject: { kind: 'directory', name: 'bench', path: '/' },
    packages,
    relationships: [],
    problems: [],
    unowned: [],
    created: '1970-01-01T00:00:00Z',
    tool: { name: 'vouch', version: 'bench' },
  };
}

async function ensureCdxgen(): Promise<boolean> {
  if (existsSync(cdxgenBin)) return true;
  console.log(`installing @cyclonedx/cdxgen@${CDXGEN_VERSION} into ${cdxgenDir} (bench only) ...`);
  await mkdir(cdxgenDir, { recursive: true });
  const r = spawnSync(
    'npm',
    [
      'install',
      '--prefix',
      cdxgenDir,
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `@cyclonedx/cdxgen@${CDXGEN_VERSION}`,
    ],
    { stdio: 'inherit' },
  );
  return r.status === 0 && existsSync(cdxgenBin);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(0)}%`;
}

function recallCells(r: Report | undefined, byLocation: boolean): string[] {
  if (!r) return ['', '', '', '', ''];
  const deb = r.deb.expected ? r.deb.found / r.deb.expected : 1;
  return [
    pct(deb),
    ...ECOSYSTEMS.map((e) => {
      const x = r.ecosystems[e];
      return pct(x.expected === 0 ? 1 : (byLocation ? x.found : x.foundByNameVersion) / x.expected);
    }),
  ];
}

export async function runSbomBench(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const cdxRounds = Number(process.env.CDXGEN_ROUNDS ?? 1);
  await mkdir(work, { recursive: true });
  const img = await buildTestImage('rich', { log: (l) => console.log(l) });
  const blobs = layerBlobs(img);
  const compressed = img.info.layers.reduce((n, l) => n + l.size, 0);
  console.log(
    `\nSBOM bench: rich test image, ${img.info.layers.length} layers, ${(compressed / 1e6).toFixed(1)} MB gzip, ` +
      `docker-archive ${(img.info.archiveBytes / 1e6).toFixed(1)} MB; truth: ${img.truth.deb.length} deb, ` +
      ECOSYSTEMS.map((e) => `${img.truth[e].length} ${e}`).join(', '),
  );

  const rows: Row[] = [];
  const floor = repeat(rounds, () =>
    timed('sh', ['-c', blobs.map((b) => `gunzip -c "${b}" | sha256sum >/dev/null`).join(' && ')]),
  );
  rows.push({ label: 'floor: gunzip | sha256sum', m: floor, note: 'gzip layers of the OCI layout' });
  rows.push({
    label: 'floor: sha256sum tarball',
    m: repeat(rounds, () => timed('sha256sum', [img.archive])),
    note: 'uncompressed layers',
  });

  // vouch: timed runs write CycloneDX to /dev/null through stdout (never --output /dev/null:
  // an atomic write renames a temp file over its target); one more run gives the model for recall.
  for (const [label, ref] of [
    ['vouch sbom docker-archive', img.archiveRef],
    ['vouch sbom oci layout', img.layoutRef],
  ] as const) {
    try {
      const m = repeat(rounds, () => timed('node', [vouch, 'sbom', ref, '--format', 'cyclonedx']));
      const json = join(work, 'vouch.json');
      await rm(json, { force: true });
      timed('node', [vouch, 'sbom', ref, '--format', 'json', '--output', json]);
      const sbom = JSON.parse(await readFile(json, 'utf8')) as Sbom;
      rows.push({ label, m, packages: sbom.packages.length, report: compareWithTruth(sbom, img.truth) });
    } catch (e) {
      rows.push({ label, note: `failed: ${(e as Error).message.split('\n')[0]}` });
    }
  }

  if (cdxRounds === 0) {
    rows.push({ label: 'cdxgen', note: 'skipped (CDXGEN_ROUNDS=0)' });
  } else if (await ensureCdxgen()) {
    const out = join(work, 'cdxgen.json');
    try {
      const m = repeat(cdxRounds, () =>
        timed(cdxgenBin, ['-t', 'docker', '-o', out, img.archive], { cwd: work }),
      );
      const pkgs = packagesOfCycloneDx(JSON.parse(await readFile(out, 'utf8')));
      const manifest = join(cdxgenDir, 'node_modules', '@cyclonedx', 'cdxgen', 'package.json');
      const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
      rows.push({
        label: `cdxgen ${version} -t docker`,
        m,
        packages: pkgs.length,
        report: compareWithTruth(sbomOf(pkgs), img.truth),
      });
    } catch (e) {
      rows.push({ label: 'cdxgen -t docker', note: `failed: ${(e as Error).message.split('\n')[0]}` });
    }
  } else {
    rows.push({ label: 'cdxgen', note: 'not installed (npm install failed)' });
  }

  const head = ['measure', 'time', '×floor', 'peak RSS', 'pkgs', 'deb', ...ECOSYSTEMS, 'deleted'];
  const widths = [34, 9, 8, 10, 6, 6, 7, 6, 6, 6, 8];
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('');
  console.log(
    '\nrecall = share of the truth found with the right version, by name+version (vouch also by location below);' +
      '\ndeleted = packages removed by the whiteout layer but still reported at their path',
  );
  console.log(line(head));
  for (const r of rows) {
    const cells = r.m
      ? [
          r.label,
          `${r.m.seconds.toFixed(2)} s`,
          `${(r.m.seconds / floor.seconds).toFixed(2)}×`,
          `${r.m.rssMb.toFixed(0)} MB`,
        ]
      : [r.label, '-', '-', '-'];
    cells.push(
      r.packages === undefined ? '' : String(r.packages),
      ...recallCells(r.report, false),
      r.report ? String(r.report.deletedStillThere.length) : '',
    );
    console.log(line(cells) + (r.note ? `  (${r.note})` : ''));
  }
  for (const r of rows) {
    if (r.report && r.label.startsWith('vouch')) {
      console.log(line([`  ${r.label} by location`, '', '', '', '', ...recallCells(r.report, true)]));
    }
  }
  const v = rows.find((r) => r.label === 'vouch sbom docker-archive');
  const c = rows.find((r) => r.label.startsWith('cdxgen'));
  if (v?.m) {
    const goals = [
      `time ${(v.m.seconds / floor.seconds).toFixed(2)}× floor (goal ≤ 1.5×)`,
      `peak RSS ${v.m.rssMb.toFixed(0)} MB (goal < 300 MB)`,
    ];
    if (c?.m) goals.push(`${(c.m.seconds / v.m.seconds).toFixed(1)}× faster than cdxgen`);
    console.log(`goals: ${goals.join('; ')}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runSbomBench();
