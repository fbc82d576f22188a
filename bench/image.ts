/**
 * The benchmark image: real files of this machine (/usr/bin, /usr/lib/gcc) packed by GNU tar
 * and gzip (not by vouch, so the bench measures reading, not our writer), cached in .bench/.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';

export interface BenchImage {
  layers: { path: string; digest: string; size: number; diffId: string; rawSize: number }[];
  compressedBytes: number;
  uncompressedBytes: number;
}

const DIRS = ['usr/bin', 'usr/lib/gcc'];

async function sha256File(path: string, gunzip: boolean): Promise<{ hex: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  const s = gunzip ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
  for await (const c of s) {
    h.update(c as Buffer);
    size += (c as Buffer).byteLength;
  }
  return { hex: h.digest('hex'), size };
}

export async function buildBenchImage(layout: string): Promise<BenchImage> {
  const meta = join(layout, 'bench.json');
  if (existsSync(meta)) return JSON.parse(await readFile(meta, 'utf8')) as BenchImage;
  const blobs = join(layout, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const layers: BenchImage['layers'] = [];
  for (const [i, dir] of DIRS.entries()) {
    const tmp = join(layout, `layer${i}.tmp`);
    console.log(`building bench layer from /${dir} ...`);
    execFileSync('sh', [
      '-c',
      `tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C / -cf - ${dir} 2>/dev/null | gzip -6 -n > "${tmp}"`,
    ]);
    const c = await sha256File(tmp, false);
    const u = await sha256File(tmp, true);
    const path = join(blobs, c.hex);
    await rename(tmp, path);
    layers.push({
      path,
      digest: `sha256:${c.hex}`,
      size: c.size,
      diffId: `sha256:${u.hex}`,
      rawSize: u.size,
    });
  }
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/bin'], Cmd: ['/usr/bin/bash'] },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created_by: `tar ${DIRS[i]}` })),
  });
  const put = async (bytes: string) => {
    const hex = createHash('sha256').update(bytes).digest('hex');
    await writeFile(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: Buffer.byteLength(bytes) };
  };
  const cfg = await put(config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
    layers: layers.map((l) => ({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: l.digest,
      size: l.size,
    })),
  });
  const m = await put(manifest);
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...m,
          annotations: { 'org.opencontainers.image.ref.name': 'bench' },
        },
      ],
    }),
  );
  const img: BenchImage = {
    layers,
    compressedBytes: layers.reduce((n, l) => n + l.size, 0),
    uncompressedBytes: layers.reduce((n, l) => n + l.rawSize, 0),
  };
  if ((await stat(blobs)).isDirectory()) await writeFile(meta, JSON.stringify(img));
  return img;
}
