/** docker-archive (`docker save` tarballs): read one image, write one or several. */
export {
  type ArchiveImageInput,
  DOCKER_ARCHIVE_CAPABILITIES,
  type DockerArchiveDestinationOptions,
  openDockerArchiveDestination,
  writeDockerArchive,
} from './destination.ts';
export { type DockerArchiveSourceOptions, openDockerArchiveSource } from './source.ts';
