/** OCI image layout backend: directories (`oci:`) and tars of them (`oci-archive:`). */
import type * as Archive from './archive.ts';

// The archive half loads tar-stream: load it on first use so plain `oci:` directories start
// faster (~20 ms of a CLI run).
export async function openOciArchiveSource(
  ...a: Parameters<typeof Archive.openOciArchiveSource>
): ReturnType<typeof Archive.openOciArchiveSource> {
  return (await import('./archive.ts')).openOciArchiveSource(...a);
}

export async function openOciArchiveDestination(
  ...a: Parameters<typeof Archive.openOciArchiveDestination>
): ReturnType<typeof Archive.openOciArchiveDestination> {
  return (await import('./archive.ts')).openOciArchiveDestination(...a);
}

export async function writeLayoutTar(
  ...a: Parameters<typeof Archive.writeLayoutTar>
): ReturnType<typeof Archive.writeLayoutTar> {
  return (await import('./archive.ts')).writeLayoutTar(...a);
}
export {
  ensureLayout,
  isLayoutDirectory,
  type LayoutDestinationOptions,
  openLayoutDestination,
} from './destination.ts';
export { directoryFiles, type LayoutFiles, tarIndexFiles } from './files.ts';
export {
  emptyIndex,
  entryTag,
  parseIndexFile,
  readLayout,
  withIndexEntry,
  writeLayoutIndex,
} from './index-json.ts';
export {
  blobPath,
  findReferrers,
  type LayoutSourceOptions,
  layoutSource,
  openLayoutSource,
  selectEntry,
} from './source.ts';
