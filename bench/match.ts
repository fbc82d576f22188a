/**
 * Match bench: 2,000 packages (1,000 Go modules and 1,000 PyPI projects named by the real OSV
 * records in ../shared/data/osv, half at a version the records call affected, half at a fixed
 * one) against a SQLite advisory database imported from those records (4,291 Go + 2,661 PyPI).
 *
 * Cold = the first scan on a freshly opened database (every query and range compiled);
 * warm = the median of later scans on the same open database (what a second image, or a
 * re-scan after `db update` of other ecosystems, costs). Goal: warm under 100 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Package } from '../src/sbom/model.ts';
import { importOsv, openAdvisoryDb } from '../src/vuln/db/index.ts';
import { matchSbom } from '../src/vuln/match/index.ts';
import type { OsvRecord } from '../src/vuln/osv.ts';
import { readRecords, SHARED_OSV } from '../test/fixtures/osv/memory-db.ts';
import { pkg, sbomOf } from '../test/fixtures/osv/packages.ts';

export interface MatchBenchResult {
  packages: number;
  records: number;
  importSeconds: number;
  coldMs: number;
  warmMs: number;
  findings: number;
  unknown: number;
}

/**
 * `perEcosystem` Go and PyPI packages named by the records, alternately at a version the record
 * calls affected and at its last fix; names repeat (another binary, another venv) once every
 * name of an ecosystem is used.
 */
export function benchPackages(records: OsvRecord[], perEcosystem = 1000): Package[] {
  const seen = new Set<string>();
  const byEco: Record<'Go' | 'PyPI', { name: string; affected: string; fixed?: string }[]> = {
    Go: [],
    PyPI: [],
  };
  for (const r of [...records].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    if (r.withdrawn) continue;
    for (const a of r.affected ?? []) {
      const eco = a.package?.ecosystem;
      if (eco !== 'Go' && eco !== 'PyPI') continue;
      const name = a.package!.name;
      if (seen.has(`${eco}\0${name}`)) continue;
      seen.add(`${eco}\0${name}`);
      const events = (a.ranges ?? []).filter((x) => x.type !== 'GIT').flatMap((x) => x.events);
      const intro = events.find((e) => e.introduced && e.introduced !== '0')?.introduced;
      const fixed = events.filter((e) => e.fixed).at(-1)?.fixed;
      byEco[eco].push({ name, affected: a.versions?.[0] ?? intro ?? '0.0.1', ...(fixed ? { fixed } : {}) });
    }
  }
  const out: Package[] = [];
  for (const eco of ['Go', 'PyPI'] as const) {
    const names = byEco[eco];
    for (let i = 0; i < perEcosystem && names.length > 0; i++) {
      const n = names[i % names.length]!;
      const round = Math.floor(i / names.length);
      const version = (i + round) % 2 === 0 || !n.fixed ? n.affected : n.fixed;
      const where = { locations: [{ path: `/bench/${eco}/${round}/${n.name}` }] };
      if (eco === 'Go') {
        const stdlib = n.name === 'stdlib' || n.name === 'toolchain';
        out.push(
          pkg({ type: 'golang', name: n.name, version: stdlib ? `go${version}` : `v${version}`, ...where }),
        );
      } else {
        out.push(pkg({ type: 'pypi', name: n.name, version, ...where }));
      }
      out.at(-1)!.id += `-${round}`;
    }
  }
  return out;
}

export async function runMatchBench(o: { rounds?: number; quiet?: boolean } = {}): Promise<MatchBenchResult> {
  const rounds = o.rounds ?? Number(process.env.BENCH_ROUNDS ?? 5);
  const dirs = [join(SHARED_OSV, 'go'), join(SHARED_OSV, 'pypi')];
  const records = readRecords(...dirs);
  const sbom = sbomOf(benchPackages(records));
  const work = mkdtempSync(join(tmpdir(), 'vouch-match-bench-'));
  try {
    const dbPath = join(work, 'osv.db');
    const imported = await importOsv(dbPath, dirs);
    const db = openAdvisoryDb(dbPath);
    try {
      let t = performance.now();
      const first = matchSbom(sbom, db);
      const coldMs = performance.now() - t;
      const warm: number[] = [];
      for (let i = 0; i < rounds; i++) {
        t = performance.now();
        const again = matchSbom(sbom, db);
        warm.push(performance.now() - t);
        if (again.findings.length !== first.findings.length)
          throw new Error('a warm scan found something else');
      }
      warm.sort((a, b) => a - b);
      const result: MatchBenchResult = {
        packages: sbom.packages.length,
        records: records.length,
        importSeconds: imported.seconds,
        coldMs,
        warmMs: warm[Math.floor(warm.length / 2)]!,
        findings: first.findings.length,
        unknown: first.unknown.length,
      };
      if (!o.quiet) {
        console.log(
          `match: ${result.packages} packages × ${result.records} OSV records (SQLite, imported in ${result.importSeconds.toFixed(1)} s)`,
        );
        console.log(
          `  cold ${result.coldMs.toFixed(0)} ms, warm ${result.warmMs.toFixed(1)} ms (median of ${rounds}; goal < 100 ms)`,
        );
        console.log(`  ${result.findings} findings, ${result.unknown} unknown`);
      }
      return result;
    } finally {
      db.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) await runMatchBench();
