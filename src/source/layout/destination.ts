/**
 * ImageDestination writing an OCI image layout directory. Blobs and manifests go to
 * blobs/<alg>/<hex> through a temp file renamed only after verification; commit() rewrites
 * index.json atomically, so a failed copy never leaves a tag naming a partial image.
 *
 * Concurrent writers of the same blob are safe (each has its own temp file; the renames carry
 * identical bytes). Concurrent commits from different processes race on index.json (last one
 * wins), as with skopeo.
 */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { verified, verifyBytes } from '../../digest/verify.ts';
import { VouchError } from '../../errors.ts';
import type { Descriptor } from '../../oci/types.ts';
import { writeFileAtomic, writeStreamAtomic } from '../../util/atomic.ts';
import type { ImageDestination, WriteOptions } from '../types.ts';
import { directoryFiles } from './files.ts';
import {
  checkLayoutFile,
  emptyIndex,
  INDEX_FILE,
  LAYOUT_BYTES,
  LAYOUT_FILE,
  parseIndexFile,
  withIndexEntry,
  writeLayoutIndex,
} from './index-json.ts';
import { blobPath } from './source.ts';

export interface LayoutDestinationOptions {
  /** ref.name to give the committed image; without it the image is added untagged. */
  tag?: string;
}

async function tryRead(dir: string, rel: string, max: number): Promise<Uint8Array | undefined> {
  return directoryFiles(dir).read(rel, max);
}

/**
 * Make `dir` an OCI layout if it is not one: create it (and parents), write oci-layout and an
 * empty index.json. An existing layout is checked and kept; an existing non-empty directory
 * that is not a layout is refused rather than written into.
 */
export async function ensureLayout(dir: string): Promise<void> {
  try {
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new VouchError('IO_ERROR', `cannot create layout directory ${dir}${code ? ` (${code})` : ''}`, {
      cause: e,
    });
  }
  const marker = await tryRead(dir, LAYOUT_FILE, 64 * 1024);
  if (marker === undefined) {
    const others = (await readdir(dir)).filter((f) => f !== 'blobs');
    const blobs = await readdir(join(dir, 'blobs'));
    const blobFiles = await readdir(join(dir, 'blobs', 'sha256'));
    if (others.length > 0 || blobs.length > 1 || blobFiles.length > 0) {
      throw new VouchError(
        'LAYOUT_INVALID',
        `${dir} is not empty and not an OCI image layout (no oci-layout file); refusing to write into it`,
        { hint: 'choose an empty or new directory' },
      );
    }
    await writeFileAtomic(join(dir, LAYOUT_FILE), LAYOUT_BYTES);
  } else {
    checkLayoutFile(marker, dir);
  }
  const index = await tryRead(dir, INDEX_FILE, 4 * 1024 * 1024);
  if (index === undefined) await writeLayoutIndex(dir, emptyIndex());
  else parseIndexFile(index, dir);
}

export async function openLayoutDestination(
  dir: string,
  opts: LayoutDestinationOptions = {},
): Promise<ImageDestination> {
  await ensureLayout(dir);
  const name = `oci:${dir}${opts.tag !== undefined ? `:${opts.tag}` : ''}`;
  const files = directoryFiles(dir);
  let closed = false;

  function checkOpen(): void {
    if (closed) throw new VouchError('INTERNAL', `${name}: destination used after close()`);
  }

  async function blobTarget(desc: Descriptor): Promise<string> {
    const rel = blobPath(desc.digest);
    const parent = join(dir, rel, '..');
    await mkdir(parent, { recursive: true });
    return join(dir, rel);
  }

  return {
    name,
    capabilities: { index: true },
    async hasBlob(desc) {
      checkOpen();
      return (await files.size(blobPath(desc.digest))) === desc.size;
    },
    async putBlob(desc, open, o: WriteOptions = {}) {
      checkOpen();
      const target = await blobTarget(desc);
      const src = await open();
      // Local disk: no retries; a source that failed or lied stays failed.
      const checked = o.sourceVerified ? src : verified(src, desc, 'blob');
      await writeStreamAtomic(target, checked, o.signal ? { signal: o.signal } : {});
    },
    async putManifest(desc, bytes, o: WriteOptions = {}) {
      checkOpen();
      if (o.signal?.aborted) throw new VouchError('ABORTED', `${name}: writing manifest aborted`);
      verifyBytes(bytes, desc, 'manifest');
      await writeFileAtomic(await blobTarget(desc), bytes);
    },
    async commit(root, o: WriteOptions = {}) {
      checkOpen();
      if (o.signal?.aborted) throw new VouchError('ABORTED', `${name}: commit aborted`);
      const have = await files.size(blobPath(root.digest));
      if (have !== root.size) {
        throw new VouchError(
          'BLOB_UNKNOWN',
          `${name}: cannot commit ${root.digest}: its manifest was not written to the layout`,
        );
      }
      // Re-read: another writer may have added images since open.
      const current = await files.read(INDEX_FILE, 4 * 1024 * 1024);
      const index = current === undefined ? emptyIndex() : parseIndexFile(current, dir);
      await writeLayoutIndex(dir, withIndexEntry(index, root, opts.tag));
    },
    async close() {
      closed = true;
    },
  };
}

/** True when `dir` has an oci-layout file (cheap check for "is this a layout"). */
export async function isLayoutDirectory(dir: string): Promise<boolean> {
  return stat(join(dir, LAYOUT_FILE)).then(
    (st) => st.isFile(),
    () => false,
  );
}
