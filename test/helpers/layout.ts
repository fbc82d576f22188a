/** Helpers shared by the layout backend's tests (not part of the library API). */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseManifest } from '../../src/oci/manifest.ts';
import type { Descriptor } from '../../src/oci/types.ts';
import type { ImageDestination, ImageSource } from '../../src/source/types.ts';

export async function tempDir(
  prefix: string,
): Promise<{ path: string; [Symbol.asyncDispose](): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `vouch-${prefix}-`));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

export async function drain(src: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of src) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Every file under `dir`, relative, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** A minimal copy (children first, commit last) to exercise a destination without the copy engine. */
export async function copyImage(src: ImageSource, dst: ImageDestination): Promise<Descriptor> {
  const root = await src.resolve();
  async function copyTree(d: Descriptor): Promise<void> {
    const bytes = await src.getManifest(d);
    const p = parseManifest(bytes, d.mediaType);
    if (p.kind === 'index') {
      for (const child of p.index.manifests) await copyTree(child);
    } else {
      for (const b of [p.manifest.config, ...p.manifest.layers]) {
        if (!(await dst.hasBlob(b))) await dst.putBlob(b, () => src.openBlob(b));
      }
    }
    await dst.putManifest(d, bytes);
  }
  await copyTree(root);
  await dst.commit(root);
  return root;
}
