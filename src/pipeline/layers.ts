/**
 * The layers of `layers:` in vouch.yaml, one per entry, reproducible (src/build/layer.ts: sorted
 * entries, SOURCE_DATE_EPOCH mtimes, fixed owners). A `mode` sets the permission bits of every
 * file and directory added, as Docker's `COPY --chmod` does; layerFromDirectory keeps the modes
 * on disk, so that case walks the tree here and hands the entries to the same writer.
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { LayerFile } from '../build/assemble.ts';
import { type LayerResult, layerFromDirectory, writeLayer } from '../build/layer.ts';
import { VouchError } from '../errors.ts';
import { cleanTarPath, compareBytes, joinPath } from '../fs/path.ts';
import type { LayerEntry } from '../fs/tar-write.ts';
import type { LayerSpec } from './config.ts';
import { isoSeconds } from './context.ts';

export interface BuiltLayer extends LayerFile {
  entries: number;
}

/** Build every layer of the file into `dir` (layer-<i>.tar.gz). */
export async function buildLayers(
  specs: readonly LayerSpec[],
  o: { dir: string; epoch: number; configDir: string },
): Promise<BuiltLayer[]> {
  const out: BuiltLayer[] = [];
  for (const [i, spec] of specs.entries()) {
    const output = join(o.dir, `layer-${i}.tar.gz`);
    const r = await buildLayer(spec, output, o.epoch);
    // The history names the source relative to vouch.yaml: an absolute path would differ per machine.
    const from = relative(o.configDir, spec.source) || '.';
    const owner = `${spec.uid ?? 0}:${spec.gid ?? 0}`;
    const mode = spec.mode === undefined ? '' : ` mode ${spec.mode.toString(8).padStart(4, '0')}`;
    out.push({
      ...r,
      history: {
        created: isoSeconds(o.epoch),
        created_by: `vouch: add ${from} as ${spec.target} (owner ${owner}${mode})`,
      },
    });
  }
  return out;
}

export async function buildLayer(spec: LayerSpec, output: string, epoch: number): Promise<LayerResult> {
  const common = {
    compression: 'gzip' as const,
    output,
    sourceDateEpoch: epoch,
    ...(spec.uid === undefined ? {} : { uid: spec.uid }),
    ...(spec.gid === undefined ? {} : { gid: spec.gid }),
  };
  const st = await stat(spec.source).catch((e: unknown) => {
    throw new VouchError(
      'FILE_NOT_FOUND',
      `layer source ${spec.source}: ${(e as { code?: string }).code ?? e}`,
      {
        hint: 'layers[].source is relative to vouch.yaml',
      },
    );
  });
  if (!st.isDirectory()) throw new VouchError('USAGE', `layer source ${spec.source} is not a directory`);
  if (spec.mode === undefined) return layerFromDirectory(spec.source, { ...common, prefix: spec.target });
  return writeLayer(
    await entriesWithMode(spec.source, spec.target, spec.mode, spec.uid ?? 0, spec.gid ?? 0),
    common,
  );
}

async function entriesWithMode(
  dir: string,
  target: string,
  mode: number,
  uid: number,
  gid: number,
): Promise<LayerEntry[]> {
  const clean = cleanTarPath(target);
  if (clean.unsafe === 'dotdot')
    throw new VouchError('USAGE', `layer target "${target}" leaves the image root`);
  const prefix = clean.path;
  const entries: LayerEntry[] = [];
  const parts = prefix === '' ? [] : prefix.split('/');
  for (let i = 1; i < parts.length; i++) {
    entries.push({ path: parts.slice(0, i).join('/'), type: 'dir', mode: 0o755, uid, gid });
  }
  if (prefix !== '') entries.push({ path: prefix, type: 'dir', mode, uid, gid });
  const firstByInode = new Map<string, string>();
  const found: { path: string; abs: string }[] = [];
  await walk(dir, prefix, found);
  found.sort((a, b) => compareBytes(a.path, b.path));
  for (const { path, abs } of found) {
    const st = await lstat(abs);
    const base = { path, mode, uid, gid };
    if (st.isDirectory()) entries.push({ ...base, type: 'dir' });
    else if (st.isSymbolicLink())
      entries.push({ ...base, mode: 0o777, type: 'symlink', linkname: await readlink(abs) });
    else if (st.isFile()) {
      const inode = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? firstByInode.get(inode) : undefined;
      if (first !== undefined) entries.push({ ...base, type: 'hardlink', linkname: first });
      else {
        if (st.nlink > 1) firstByInode.set(inode, path);
        entries.push({ ...base, type: 'file', size: st.size, body: async () => createReadStream(abs) });
      }
    } else if (!st.isSocket()) {
      throw new VouchError(
        'USAGE',
        `layer source ${abs}: only files, directories and symlinks can be added with a mode`,
      );
    }
  }
  return entries;
}

async function walk(abs: string, rel: string, out: { path: string; abs: string }[]): Promise<void> {
  for (const name of await readdir(abs)) {
    const childAbs = join(abs, name);
    const childRel = joinPath(rel, name);
    out.push({ path: childRel, abs: childAbs });
    if ((await lstat(childAbs)).isDirectory()) await walk(childAbs, childRel, out);
  }
}
