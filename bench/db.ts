/**
 * Advisory database import benchmark (`node bench/db.ts`): records/s of importOsv over
 *
 *  - the real OSV records in ../shared/data/osv (Go + PyPI, 6,952 records) as directories,
 *  - the same records as all.zip files (what `vouch db update` downloads),
 *  - a synthesized dump of 8 × those records with new ids (55,616), as one zip and as a directory.
 *
 * Each is a fresh import (median of BENCH_ROUNDS, default 3) with the default worker count.
 * Goal (from the issue): ≥ 20,000 records/s. Wall time depends on what else runs, so the CPU
 * time per record (all threads) and the load average are printed too.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { importOsv } from '../src/vuln/db/import.ts';
import { OSV_GO, OSV_PYPI, recordFiles } from '../test/vuln-db/osv-data.ts';
import { writeZip } from '../test/vuln-db/zip-writer.ts';

const GOAL = 20_000;
const COPIES = 8;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** The real records again under new ids (and new alias ids, so alias groups stay separate). */
function* synthesize(copies: number): Generator<{ name: string; data: Buffer }> {
  const records = [...recordFiles(OSV_GO), ...recordFiles(OSV_PYPI)].map(
    (f) => JSON.parse(f.data.toString('utf8')) as { id: string; aliases?: string[] },
  );
  for (let k = 0; k < copies; k++) {
    for (const r of records) {
      const id = k === 0 ? r.id : `${r.id}-S${k}`;
      const aliases = k === 0 ? r.aliases : r.aliases?.map((a) => `${a}-S${k}`);
      yield { name: `${id}.json`, data: Buffer.from(JSON.stringify({ ...r, id, aliases }, null, 2)) };
    }
  }
}

export async function runDbBench(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const work = await mkdtemp(join(tmpdir(), 'vouch-bench-db-'));
  try {
    const goZip = join(work, 'Go-all.zip');
    const pypiZip = join(work, 'PyPI-all.zip');
    await writeZip(goZip, recordFiles(OSV_GO));
    await writeZip(pypiZip, recordFiles(OSV_PYPI));
    const synthZip = join(work, 'synth-all.zip');
    await writeZip(synthZip, synthesize(COPIES));
    const synthDir = join(work, 'synth');
    await mkdir(synthDir);
    for (const e of synthesize(COPIES)) await writeFile(join(synthDir, e.name), e.data);

    const cases: [string, string[]][] = [
      ['real Go + PyPI, directories', [OSV_GO, OSV_PYPI]],
      ['real Go + PyPI, all.zip', [goZip, pypiZip]],
      [`synthesized ×${COPIES}, all.zip`, [synthZip]],
      [`synthesized ×${COPIES}, directory`, [synthDir]],
    ];
    console.log(
      `node ${process.version}, ${availableParallelism()} CPUs, load ${loadavg()[0]!.toFixed(2)}, median of ${rounds}; ` +
        `goal ≥ ${GOAL.toLocaleString('en-US')} records/s`,
    );
    console.log(
      `${'input'.padEnd(34)}${'records'.padStart(9)}${'seconds'.padStart(9)}${'records/s'.padStart(11)}` +
        `${'CPU µs/rec'.padStart(12)}${'db MB'.padStart(8)}`,
    );
    for (const [label, inputs] of cases) {
      const secs: number[] = [];
      const cpus: number[] = [];
      let records = 0;
      let size = 0;
      for (let i = 0; i < rounds; i++) {
        const db = join(work, 'bench.db');
        await rm(db, { force: true });
        const cpu = process.cpuUsage();
        const r = await importOsv(db, inputs, { fresh: true });
        const used = process.cpuUsage(cpu);
        secs.push(r.seconds);
        cpus.push((used.user + used.system) / r.read);
        records = r.read;
        size = (await stat(db)).size;
      }
      const s = median(secs);
      const rate = records / s;
      console.log(
        `${label.padEnd(34)}${records.toLocaleString('en-US').padStart(9)}${s.toFixed(2).padStart(9)}` +
          `${Math.round(rate).toLocaleString('en-US').padStart(11)}${median(cpus).toFixed(1).padStart(12)}` +
          `${(size / 1e6).toFixed(1).padStart(8)}` +
          (rate >= GOAL ? '' : '  (below goal)'),
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.main) await runDbBench();
