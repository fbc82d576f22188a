/**
 * `npm run bench`: vouch beside skopeo and beside the physical floor, on a real image of
 * at least 100 MB built from this machine's own files (cached in .bench/).
 *
 *  1. copy layout → registry: vouch vs `skopeo copy` (fresh repository each, so every blob uploads)
 *  2. copy registry → layout: vouch vs `skopeo copy`
 *  3. read every layer (verify compressed digest, gunzip, verify diff_id) vs `gunzip -c | sha256sum`
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openImage } from '../src/image/describe.ts';
import { openSource } from '../src/transport/open.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import { buildBenchImage } from './image.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const work = join(root, '.bench');
const vouch = join(root, 'bin', 'vouch.js');

function time(_label: string, f: () => void): number {
  const t = performance.now();
  f();
  const s = (performance.now() - t) / 1000;
  return s;
}

/** skopeo remembers where blobs live and mounts them instead of copying: forget between runs. */
function forgetSkopeoCache(): void {
  for (const dir of [
    '/var/lib/containers/cache',
    join(process.env.HOME ?? '/root', '.local/share/containers/cache'),
  ]) {
    rmSync(join(dir, 'blob-info-cache-v1.boltdb'), { force: true });
  }
}

function run(cmd: string, args: string[]): void {
  if (cmd === 'skopeo') forgetSkopeoCache();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function readAllLayers(layout: string): Promise<number> {
  const src = await openSource(`oci:${layout}:bench`);
  const { image } = await openImage(src);
  let n = 0;
  for (const layer of image.layers) {
    for await (const c of await layer.openUncompressed()) n += c.byteLength;
  }
  await src.close();
  return n;
}

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  await mkdir(work, { recursive: true });
  const layout = join(work, 'layout');
  const img = await buildBenchImage(layout);
  const mb = img.compressedBytes / 1e6;
  console.log(
    `image: ${img.layers.length} layers, ${mb.toFixed(1)} MB compressed, ${(img.uncompressedBytes / 1e6).toFixed(1)} MB uncompressed`,
  );
  console.log(
    `node ${process.version}, skopeo ${execFileSync('skopeo', ['--version'], { encoding: 'utf8' }).trim()}`,
  );

  const reg = await startRegistry();
  const rows: [string, number, number | undefined][] = [];
  try {
    const push = { vouch: [] as number[], skopeo: [] as number[] };
    const pull = { vouch: [] as number[], skopeo: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      push.vouch.push(
        time('vouch push', () =>
          run('node', [vouch, 'copy', `oci:${layout}:bench`, `${reg.host}/v${i}:bench`]),
        ),
      );
      push.skopeo.push(
        time('skopeo push', () =>
          run('skopeo', [
            'copy',
            '-q',
            '--dest-tls-verify=false',
            `oci:${layout}:bench`,
            `docker://${reg.host}/s${i}:bench`,
          ]),
        ),
      );
      const vd = join(work, `pull-v${i}`);
      const sd = join(work, `pull-s${i}`);
      await rm(vd, { recursive: true, force: true });
      await rm(sd, { recursive: true, force: true });
      pull.vouch.push(
        time('vouch pull', () => run('node', [vouch, 'copy', `${reg.host}/s${i}:bench`, `oci:${vd}:bench`])),
      );
      pull.skopeo.push(
        time('skopeo pull', () =>
          run('skopeo', [
            'copy',
            '-q',
            '--src-tls-verify=false',
            `docker://${reg.host}/v${i}:bench`,
            `oci:${sd}:bench`,
          ]),
        ),
      );
      await rm(vd, { recursive: true, force: true });
      await rm(sd, { recursive: true, force: true });
    }
    rows.push(['copy layout → registry', median(push.vouch), median(push.skopeo)]);
    rows.push(['copy registry → layout', median(pull.vouch), median(pull.skopeo)]);
  } finally {
    await reg.stop();
  }

  const readV: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    const n = await readAllLayers(layout);
    readV.push((performance.now() - t) / 1000);
    if (n !== img.uncompressedBytes) throw new Error(`read ${n} bytes, expected ${img.uncompressedBytes}`);
    floor.push(
      time('floor', () => {
        for (const l of img.layers) {
          execFileSync('sh', ['-c', `gunzip -c "${l.path}" | sha256sum >/dev/null`]);
        }
      }),
    );
  }
  rows.push(['read all layers', median(readV), undefined]);
  const fl = median(floor);

  console.log('');
  console.log(
    `${'measure (median of ' + rounds + ')'.padEnd(10)}`.padEnd(28) +
      'vouch'.padStart(10) +
      'peer'.padStart(10) +
      'ratio'.padStart(9),
  );
  for (const [label, v, p] of rows) {
    const peer = p ?? fl;
    console.log(
      label.padEnd(28) +
        `${v.toFixed(2)} s`.padStart(10) +
        `${peer.toFixed(2)} s`.padStart(10) +
        `${(v / peer).toFixed(2)}×`.padStart(9) +
        (p === undefined ? '  (peer = gunzip | sha256sum floor)' : '  (peer = skopeo copy)'),
    );
  }
  console.log(
    `throughput: push ${(mb / rows[0]![1]).toFixed(0)} MB/s, pull ${(mb / rows[1]![1]).toFixed(0)} MB/s, read ${(img.uncompressedBytes / 1e6 / rows[2]![1]).toFixed(0)} MB/s uncompressed`,
  );
}

/** Each section prints its own table; BENCH_ONLY=oci,sbom,db,match,sigstore,image-verify picks some. */
const SECTIONS: Record<string, () => Promise<void>> = {
  oci: main,
  sbom: async () => (await import('./sbom.ts')).runSbomBench(),
  db: async () => (await import('./db.ts')).runDbBench(),
  match: async () => {
    await (await import('./match.ts')).runMatchBench();
  },
  sigstore: async () => {
    await (await import('./sigstore.ts')).runSigstoreBench();
  },
  'image-verify': async () => {
    await (await import('./image-verify.ts')).runImageVerifyBench();
  },
};
const only = process.env.BENCH_ONLY?.split(',');
for (const [name, run] of Object.entries(SECTIONS)) {
  if (only && !only.includes(name)) continue;
  console.log(`\n== ${name} ==`);
  await run();
}
