/** The artifact store (issue #6, stage 7): layout, stores, upload and fetch. */
export { DirectoryStore, type DirectoryStoreOptions } from './directory.ts';
export { type FetchedArtifact, type FetchOptions, fetchArtifact } from './fetch.ts';
export { isValidKey, validateKey, validatePrefix } from './key.ts';
export {
  ARTIFACT_KINDS,
  type Architecture,
  type ArtifactKind,
  artifactKey,
  CONTENT_TYPES,
  type ImageId,
  imageSlug,
  type ReleaseEntry,
  releaseKeys,
  SIGNATURE_CONTENT_TYPE,
  SIGNATURE_SUFFIX,
  signatureKey,
} from './layout.ts';
export { type OpenStoreOptions, openStore, type StoreConfig } from './open.ts';
export { MAX_PUT_BYTES, type S3Credentials, S3Store, type S3StoreConfig, type S3StoreOptions } from './s3.ts';
export { decodeSignature, encodeSignature } from './signature.ts';
export {
  type ArtifactStore,
  type ListEntry,
  listAll,
  type ObjectInfo,
  type ObjectReader,
  type PutBody,
  type PutOptions,
  type PutResult,
  type ReadOptions,
  readAll,
} from './store.ts';
export {
  type ArtifactFile,
  type BlobSigner,
  type SignatureCheck,
  UPLOAD_STATUSES,
  type UploadedObject,
  type UploadManifest,
  type UploadRequest,
  type UploadStatus,
  uploadArtifacts,
} from './upload.ts';
export { parseStoreUrl } from './url.ts';
