import type { Digest } from '../digest/digest.ts';
import type { EntryType } from './tar.ts';

/** One layer as the fs code reads it: an uncompressed tar, opened as often as needed. */
export interface LayerInput {
  /** Names the layer in records and problems (the lead's model passes the blob digest). */
  digest: Digest;
  /** A fresh stream of the uncompressed tar on every call. */
  open(): Promise<AsyncIterable<Uint8Array>>;
  /** Size of the stored (compressed) blob, for the expansion-ratio limit. */
  compressedSize?: number;
}

/** Something skipped or refused without failing the whole operation, located like syft's unknowns. */
export interface Problem {
  /** Path as stored in the layer's tar (normalised, or raw when it was unsafe). */
  path: string;
  /** Index of the layer, base first. */
  layer: number;
  layerDigest: Digest;
  reason: string;
}

/** Metadata of one path in an image. */
export interface FileRecord {
  /** Absolute path in the image: '/etc/passwd', '/' for the root. */
  path: string;
  /** A hardlink shows as the file it links to ('file', with hardlinkOf set). */
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Bytes of content (files), 0 otherwise. */
  size: number;
  /** Symlink target exactly as stored. */
  linkname?: string;
  /** For a hardlink: the path it was linked to in its layer's tar ('/bin/a'). */
  hardlinkOf?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string>;
  /** sha256 of the content (files), when the view was built with hashing on. */
  digest?: Digest;
  /** The layer whose entry made this record (its content lives there). */
  layer: number;
  layerDigest: Digest;
  /** Directories created only because a deeper path needed them (no tar entry of their own). */
  implicit?: boolean;
}
