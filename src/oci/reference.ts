import type { Digest } from '../digest/digest.ts';

/** A registry reference, normalised: docker.io and library/ made explicit. */
export interface Reference {
  /** host[:port], e.g. `docker.io`, `127.0.0.1:5000` */
  registry: string;
  /** e.g. `library/debian` */
  repository: string;
  tag?: string;
  digest?: Digest;
}

// parseReference(s: string): Reference and formatReference(r: Reference): string land here
// (docker grammar, precise errors).
