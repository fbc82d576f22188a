/** OCI image layout backend: directories (`oci:`) and tars of them (`oci-archive:`). */
export { openOciArchiveDestination, openOciArchiveSource, writeLayoutTar } from './archive.ts';
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
