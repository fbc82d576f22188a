/**
 * Advisory database import benchmark (`node bench/db.ts`): records/s of importOsv over
 *
 *  - the real OSV records in ../shared/data/osv (Go + PyPI, 6,952 records) as directories,
 *  - the same records as all.zip files (what `vouch db update` downloads),
 *  - a synthesized dump of 8 × those records with new ids (55,616), as one zip and as a directory.
 *
 * Each is a fresh import (median of BENCH_ROUNDS, default 3) with the default worker count,
 * measured twice: in this process (warm: its code is already optimised after the first round)
 * and in a new process per round (cold, as `vouch db import` runs; process start-up excluded).
 * Goal (from the issue): ≥ 20,000 records/s. Wall time depends on what else runs, so the CPU
 * time per record (all threads) and the load average are printed too.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { importOsv } from '../src/vuln/db/import.ts';
import { OSV_GO, OSV_PYPI, recordFiles } from '../test/vuln-db/osv-data.ts';
import { writeZip } from '../test/vuln-db/zip-writer.ts';

const GOAL = 20_000;
const COPIES = 8;
const IMPORT_TS = new URL('../src/vuln/db/import.ts', import.meta.url).href;

/** One import in a new node process, as the CLI runs it (compile cache on, as bin/vouch.js does). */
async function coldImport(
  db: string,
  inputs: string[],
): Promise<{ seconds: number; read: number; cpu: number }> {
  const code = `
    import module from 'node:module';
    module.enableCompileCache?.();
    const { importOsv } = await import(${JSON.stringify(IMPORT_TS)});
    const cpu = process.cpuUsage();
    const r = await importOsv(${JSON.stringify(db)}, ${JSON.stringify(inputs)}, { fresh: true });
    const u = process.cpuUsage(cpu);
    console.log(JSON.stringify({ seconds: r.seconds, read: r.read, cpu: u.user + u.system }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code]);
  return JSON.parse(stdout) as { seconds: number; read: number; cpu: number };
}

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
      `${'input'.padEnd(42)}${'records'.padStart(9)}${'seconds'.padStart(9)}${'records/s'.padStart(11)}` +
        `${'CPU µs/rec'.padStart(12)}${'db MB'.padStart(8)}`,
    );
    for (const [label, inputs] of cases) {
      for (const mode of ['warm', 'cold'] as const) {
        const secs: number[] = [];
        const cpus: number[] = [];
        let records = 0;
        let size = 0;
        for (let i = 0; i < rounds; i++) {
          const db = join(work, 'bench.db');
          await rm(db, { force: true });
          if (mode === 'cold') {
            const r = await coldImport(db, inputs);
            secs.push(r.seconds);
            cpus.push(r.cpu / r.read);
            records = r.read;
          } else {
            const cpu = process.cpuUsage();
            const r = await importOsv(db, inputs, { fresh: true });
            const used = process.cpuUsage(cpu);
            secs.push(r.seconds);
            cpus.push((used.user + used.system) / r.read);
            records = r.read;
          }
          size = (await stat(db)).size;
        }
        const s = median(secs);
        const rate = records / s;
        console.log(
          `${`${label}, ${mode}`.padEnd(42)}${records.toLocaleString('en-US').padStart(9)}${s.toFixed(2).padStart(9)}` +
            `${Math.round(rate).toLocaleString('en-US').padStart(11)}${median(cpus).toFixed(1).padStart(12)}` +
            `${(size / 1e6).toFixed(1).padStart(8)}` +
            (rate >= GOAL ? '' : '  (below goal)'),
        );
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.main) await runDbBench();
