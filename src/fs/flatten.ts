/**
 * A merged view as layer entries, for squashing an image into one layer
 * (`writeLayer(mergedEntries(view), …)` from src/build/layer.ts).
 */
import type { MergedView } from './merged.ts';
import { compareBytes, toImagePath } from './path.ts';
import type { LayerEntry } from './tar-write.ts';
import type { FileRecord } from './types.ts';

/**
 * Every path of the view except the root, in path order, with lazy bodies. Contents are first
 * spilled to the view's cache (one pass per layer) unless `prefetch` is false.
 */
export async function* mergedEntries(
  view: MergedView,
  opts: { prefetch?: boolean } = {},
): AsyncGenerator<LayerEntry> {
  if (opts.prefetch ?? true) await view.prefetch();
  for await (const rec of view.walk()) {
    if (rec.path === '/') continue;
    const e: LayerEntry = {
      path: toImagePath(rec.path),
      type: rec.type,
      mode: rec.mode,
      uid: rec.uid,
      gid: rec.gid,
      mtime: rec.mtime,
    };
    if (rec.xattrs) e.xattrs = rec.xattrs;
    if (rec.linkname !== undefined) e.linkname = rec.linkname;
    if (rec.devmajor !== undefined) e.devmajor = rec.devmajor;
    if (rec.devminor !== undefined) e.devminor = rec.devminor;
    if (rec.hardlinkOf !== undefined && (await isLinkable(view, rec))) {
      e.type = 'hardlink';
      e.linkname = toImagePath(rec.hardlinkOf);
    } else if (rec.type === 'file') {
      e.size = rec.size;
      e.body = () => view.open(rec.path);
    }
    yield e;
  }
}

/**
 * A hardlink stays one when its target path still holds the same content and comes first in
 * path order (a tar link must follow its target); otherwise it becomes a copy.
 */
export async function isLinkable(view: MergedView, rec: FileRecord): Promise<boolean> {
  const t = await view.lstat(rec.hardlinkOf!);
  return (
    t !== undefined &&
    t.type === rec.type &&
    t.type !== 'dir' &&
    t.digest === rec.digest &&
    t.size === rec.size &&
    compareBytes(t.path, rec.path) < 0
  );
}
