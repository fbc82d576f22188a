/**
 * oci-archive: an OCI image layout in a tar file (what `skopeo copy ... oci-archive:F`
 * writes). Reading indexes the tar once and reads members in place; a gzip or zstd tar is
 * first decompressed to a private temp file (as containers/image does), removed by close().
 * Writing builds the layout in a temp directory next to FILE and, on commit, writes a
 * deterministic tar (sorted names, mtime 0, uid/gid 0, no user names) to a temp file renamed
 * over FILE.
 *
 * Like skopeo, writing REPLACES an existing FILE: other images in it are not kept.
 */
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import tar from 'tar-stream';
import { VouchError } from '../../errors.ts';
import { writeStreamAtomic } from '../../util/atomic.ts';
import { indexTar } from '../../util/tar-index.ts';
import type { ImageDestination, ImageSource, WriteOptions } from '../types.ts';
import { type LayoutDestinationOptions, openLayoutDestination } from './destination.ts';
import { READ_CHUNK, tarIndexFiles } from './files.ts';
import { INDEX_FILE, LAYOUT_FILE } from './index-json.ts';
import { type LayoutSourceOptions, layoutSource } from './source.ts';

export async function openOciArchiveSource(
  file: string,
  opts: LayoutSourceOptions = {},
): Promise<ImageSource> {
  const files = tarIndexFiles(await indexTar(file));
  try {
    return await layoutSource(files, `oci-archive:${file}`, opts);
  } catch (e) {
    await files.close();
    throw e;
  }
}

interface TarItem {
  name: string;
  /** absent for directories */
  path?: string;
  size: number;
}

/** Files of a layout directory to archive: metadata, blobs/<alg>/<hex>; temp files skipped. */
async function layoutItems(dir: string): Promise<TarItem[]> {
  const items: TarItem[] = [];
  for (const f of [LAYOUT_FILE, INDEX_FILE]) {
    const path = join(dir, f);
    items.push({ name: f, path, size: (await stat(path)).size });
  }
  items.push({ name: 'blobs/', size: 0 });
  for (const alg of await readdir(join(dir, 'blobs'), { withFileTypes: true })) {
    if (!alg.isDirectory()) continue;
    items.push({ name: `blobs/${alg.name}/`, size: 0 });
    for (const f of await readdir(join(dir, 'blobs', alg.name), { withFileTypes: true })) {
      if (!f.isFile() || f.name.endsWith('.tmp')) continue;
      const path = join(dir, 'blobs', alg.name, f.name);
      items.push({ name: `blobs/${alg.name}/${f.name}`, path, size: (await stat(path)).size });
    }
  }
  return items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Write the layout in `dir` as a deterministic tar at `file` (atomically): the same layout
 * always gives the same bytes.
 */
export async function writeLayoutTar(
  dir: string,
  file: string,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  const items = await layoutItems(dir);
  const pack = tar.pack();
  const stop = new AbortController();
  const writing = writeStreamAtomic(file, pack as AsyncIterable<Uint8Array>, opts).catch((e: unknown) => {
    stop.abort(e);
    throw e;
  });
  const producing = (async () => {
    for (const it of items) {
      const header = {
        name: it.name,
        type: it.path === undefined ? ('directory' as const) : ('file' as const),
        mode: it.path === undefined ? 0o755 : 0o644,
        size: it.size,
        mtime: new Date(0),
        uid: 0,
        gid: 0,
      };
      if (it.path === undefined) {
        pack.entry(header);
        continue;
      }
      let done!: (err?: Error | null) => void;
      const finished = new Promise<void>((resolve, reject) => {
        done = (err) => (err ? reject(err) : resolve());
      });
      const entry = pack.entry(header, (err) => done(err));
      for await (const chunk of createReadStream(it.path, { highWaterMark: READ_CHUNK })) {
        if (!entry.write(chunk as Uint8Array)) await once(entry, 'drain', { signal: stop.signal });
      }
      entry.end(undefined);
      await finished;
    }
    pack.finalize();
  })().catch((e: unknown) => {
    pack.destroy(e as Error);
    throw e;
  });
  const [w, p] = await Promise.allSettled([writing, producing]);
  if (w.status === 'rejected') throw w.reason;
  if (p.status === 'rejected') {
    throw new VouchError('IO_ERROR', `cannot write ${file}: ${(p.reason as Error).message}`, {
      cause: p.reason,
    });
  }
}

/**
 * Destination for `oci-archive:FILE[:TAG]`. Blobs are staged in `.<name>.<random>` beside FILE
 * (same filesystem, so the final rename is atomic); close() removes the staging directory
 * whether or not commit() ran.
 */
export async function openOciArchiveDestination(
  file: string,
  opts: LayoutDestinationOptions = {},
): Promise<ImageDestination> {
  let work: string;
  try {
    work = await mkdtemp(join(dirname(file), `.${basename(file)}.`));
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new VouchError(
      'IO_ERROR',
      `cannot create a staging directory next to ${file}${code ? ` (${code})` : ''}`,
      {
        cause: e,
      },
    );
  }
  let layout: ImageDestination;
  try {
    layout = await openLayoutDestination(work, opts);
  } catch (e) {
    await rm(work, { recursive: true, force: true });
    throw e;
  }
  const name = `oci-archive:${file}${opts.tag !== undefined ? `:${opts.tag}` : ''}`;
  return {
    name,
    capabilities: layout.capabilities,
    hasBlob: (desc, o) => layout.hasBlob(desc, o),
    putBlob: (desc, open, o) => layout.putBlob(desc, open, o),
    putManifest: (desc, bytes, o) => layout.putManifest(desc, bytes, o),
    async commit(root, o: WriteOptions = {}) {
      await layout.commit(root, o);
      await writeLayoutTar(work, file, o.signal ? { signal: o.signal } : {});
    },
    async close() {
      await layout.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}
