/** Settings shared by every registry call. All optional: the defaults talk to a public registry. */
export interface RegistryOptions {
  /** Allow plain http and accept any TLS certificate. Loopback registries may use http anyway. */
  insecure?: boolean;
  /** A PEM file with extra CA certificates, added to Node's bundled roots. */
  caFile?: string;
  /** A docker config.json to read credentials from, instead of $DOCKER_CONFIG or ~/.docker. */
  authFile?: string;
  /** Explicit credentials; they win over every other source. */
  credentials?: { username: string; password: string };
  userAgent?: string;
  /** `attempts` counts the first try. */
  retry?: { attempts: number; baseDelayMs: number };
  /** Blobs up to this size go in one PUT; larger ones in PATCH chunks of this size. */
  chunkSize?: number;
  signal?: AbortSignal;
}

export const DEFAULT_USER_AGENT = 'vouch/0.1.0';
export const DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024;
