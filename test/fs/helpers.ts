/** Test helpers for src/fs: layers from tar entries, temp dirs, tree snapshots. */
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { digestOf } from '../../src/digest/digest.ts';
import type { LayerInput } from '../../src/fs/types.ts';
import { decompress } from '../../src/oci/compression.ts';
import { makeTar, type TarEntry } from '../helpers/random-image.ts';

/** A layer (uncompressed tar in memory) with a count of how often it was opened. */
export interface TestLayer extends LayerInput {
  bytes: Uint8Array;
  opens: number;
}

export async function layer(entries: TarEntry[]): Promise<TestLayer> {
  return layerFromBytes(await makeTar(entries));
}

export function layerFromBytes(bytes: Uint8Array): TestLayer {
  const l: TestLayer = {
    bytes,
    opens: 0,
    digest: digestOf(bytes),
    async open() {
      l.opens++;
      return chunks(l.bytes, 4096);
    },
  };
  return l;
}

/** A gzip layer decompressed on open, with its compressed size (for the ratio limit). */
export function gzipLayer(tarBytes: Uint8Array): LayerInput {
  const gz = gzipSync(tarBytes);
  return {
    digest: digestOf(gz),
    compressedSize: gz.byteLength,
    async open() {
      return decompress(chunks(gz, 4096), 'auto');
    },
  };
}

export async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

export async function tempDir(
  t: { after(fn: () => Promise<void>): void },
  prefix = 'vouch-fs-test-',
): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

/**
 * A directory tree as sorted lines: `path type mode [sha256-prefix|-> target]`, for
 * comparing trees made different ways.
 */
export async function snapshot(dir: string, o: { modes?: boolean } = {}): Promise<string[]> {
  const out: string[] = [];
  async function walk(abs: string, rel: string) {
    for (const name of (await readdir(abs)).sort()) {
      const a = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(a);
      const mode = o.modes === false ? '' : ` ${(st.mode & 0o7777).toString(8)}`;
      if (st.isDirectory()) {
        out.push(`${r} dir${mode}`);
        await walk(a, r);
      } else if (st.isSymbolicLink()) out.push(`${r} symlink -> ${await readlink(a)}`);
      else if (st.isFile()) {
        const h = createHash('sha256')
          .update(await readFile(a))
          .digest('hex')
          .slice(0, 12);
        out.push(`${r} file${mode} ${h}`);
      } else out.push(`${r} other${mode}`);
    }
  }
  await walk(dir, '');
  return out;
}

export async function collect(src: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of src) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}
