/**
 * The image config a build writes (pure): the base image's config with vouch.yaml's `config:`
 * applied as a Dockerfile would (FROM, then ENV/USER/ENTRYPOINT/... lines), plus the
 * org.opencontainers.image.* facts of the release. Facts win over labels of the same name, so an
 * image never claims another version or time than it was built as.
 */
import type { ConfigInput } from '../build/assemble.ts';
import type { ContainerConfig, HistoryEntry, ImageConfig } from '../oci/types.ts';
import { platformFor } from './base.ts';
import type { PipelineConfig } from './config.ts';
import { isoSeconds } from './context.ts';

/** Where the sources came from, when the CI environment says it. */
export interface SourceFacts {
  /** Repository URL, e.g. https://github.com/o/r. */
  source: string;
  /** Commit id. */
  revision: string;
}

export interface ReleaseFacts {
  version: string;
  epoch: number;
  source?: SourceFacts | undefined;
}

export const OCI_LABEL = {
  version: 'org.opencontainers.image.version',
  created: 'org.opencontainers.image.created',
  source: 'org.opencontainers.image.source',
  revision: 'org.opencontainers.image.revision',
  baseName: 'org.opencontainers.image.base.name',
  baseDigest: 'org.opencontainers.image.base.digest',
} as const;

/** The org.opencontainers.image.* labels (and manifest annotations) of a release. */
export function releaseLabels(f: ReleaseFacts): Record<string, string> {
  return {
    [OCI_LABEL.version]: f.version,
    [OCI_LABEL.created]: isoSeconds(f.epoch),
    ...(f.source ? { [OCI_LABEL.source]: f.source.source, [OCI_LABEL.revision]: f.source.revision } : {}),
  };
}

/** `8080` → `8080/tcp`, as Docker stores exposed ports. */
export function portKey(p: string): string {
  return p.includes('/') ? p : `${p}/tcp`;
}

/** Base Env with vouch.yaml's variables set (replaced in place, or appended in file order). */
export function mergeEnv(base: readonly string[] | undefined, env: Record<string, string>): string[] {
  const out = [...(base ?? [])];
  for (const [k, v] of Object.entries(env)) {
    const at = out.findIndex((e) => e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')) === k);
    if (at >= 0) out[at] = `${k}=${v}`;
    else out.push(`${k}=${v}`);
  }
  return out;
}

function set(
  keys: readonly string[],
  base: Record<string, object> | undefined,
): Record<string, object> | undefined {
  if (keys.length === 0) return base;
  const out: Record<string, object> = { ...(base ?? {}) };
  for (const k of keys) out[k] = {};
  return out;
}

/** The container config: base, then vouch.yaml (an ENTRYPOINT without CMD clears the base's CMD). */
export function containerConfig(
  c: PipelineConfig['config'],
  base: ContainerConfig | undefined,
  facts: ReleaseFacts,
): ContainerConfig {
  const out: ContainerConfig = { ...(base ?? {}) };
  if (c.user !== undefined) out.User = c.user;
  const env = mergeEnv(base?.Env, c.env);
  if (env.length > 0) out.Env = env;
  if (c.entrypoint !== undefined) {
    out.Entrypoint = c.entrypoint;
    if (c.cmd === undefined) delete out.Cmd;
  }
  if (c.cmd !== undefined) out.Cmd = c.cmd;
  if (c.workdir !== undefined) out.WorkingDir = c.workdir;
  const ports = set(c.ports.map(portKey), base?.ExposedPorts);
  if (ports) out.ExposedPorts = ports;
  const volumes = set(c.volumes, base?.Volumes);
  if (volumes) out.Volumes = volumes;
  if (c.stopSignal !== undefined) out.StopSignal = c.stopSignal;
  out.Labels = { ...(base?.Labels ?? {}), ...c.labels, ...releaseLabels(facts) };
  return out;
}

/** The full config input for assembleImage (rootfs and the new layers' history are added there). */
export function imageConfig(
  config: PipelineConfig,
  arch: string,
  base: ImageConfig | undefined,
  facts: ReleaseFacts,
): ConfigInput {
  const platform = platformFor(arch);
  // History keeps one non-empty entry per layer: a base without history gets blank ones.
  const baseLayers = base?.rootfs.diff_ids.length ?? 0;
  const history: HistoryEntry[] = base?.history
    ? [...base.history]
    : Array.from({ length: baseLayers }, () => ({}));
  return {
    created: isoSeconds(facts.epoch),
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: containerConfig(config.config, base?.config, facts),
    history,
  };
}
