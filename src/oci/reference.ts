/**
 * Image references in docker's grammar (distribution/reference), normalised the way
 * `docker pull` does: a first component without '.' or ':' that is not `localhost` is a Docker
 * Hub repository, Hub names get `library/`, and `index.docker.io` becomes `docker.io`.
 */
import { type Digest, parseDigest } from '../digest/digest.ts';
import { isVouchError, VouchError } from '../errors.ts';

/** A registry reference, normalised: docker.io and library/ made explicit. */
export interface Reference {
  /** host[:port], e.g. `docker.io`, `127.0.0.1:5000` */
  registry: string;
  /** e.g. `library/debian` */
  repository: string;
  tag?: string;
  digest?: Digest;
}

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's registry API really lives. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
const LEGACY_HUB = 'index.docker.io';
const DEFAULT_TAG = 'latest';
const MAX_NAME_LENGTH = 255;

const TAG = /^\w[\w.-]{0,127}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const PORT = /^[0-9]+$/;
const HEX64 = /^[a-f0-9]{64}$/;

function invalid(input: string, problem: string): VouchError {
  return new VouchError('REFERENCE_INVALID', `invalid reference "${input}": ${problem}`);
}

/** Parse `[registry/]repository[:tag][@digest]`. Throws REFERENCE_INVALID saying what is wrong. */
export function parseReference(s: string): Reference {
  if (s === '') throw invalid(s, 'empty reference');
  if (HEX64.test(s)) {
    throw invalid(s, 'a 64-character hex string is an image ID, not a repository name');
  }
  const at = s.indexOf('@');
  const nameAndTag = at === -1 ? s : s.slice(0, at);
  let digest: Digest | undefined;
  if (at !== -1) {
    const d = s.slice(at + 1);
    try {
      digest = parseDigest(d);
    } catch (e) {
      const why = isVouchError(e) ? e.message : String(e);
      throw invalid(s, `invalid digest "${d}" (${why})`);
    }
  }
  // A ':' after the last '/' starts the tag; one before it belongs to a registry port.
  const colon = nameAndTag.lastIndexOf(':');
  const hasTag = colon > nameAndTag.lastIndexOf('/');
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  let tag: string | undefined;
  if (hasTag) {
    tag = nameAndTag.slice(colon + 1);
    checkTag(s, tag);
  }
  if (name === '') throw invalid(s, 'missing repository name');

  const { registry, path } = splitRegistry(name);
  checkRegistry(s, registry);
  checkPath(s, path);

  const normalRegistry = registry === LEGACY_HUB ? DOCKER_HUB : registry;
  const repository = normalRegistry === DOCKER_HUB && !path.includes('/') ? `library/${path}` : path;
  const fullName = `${normalRegistry}/${repository}`;
  if (fullName.length > MAX_NAME_LENGTH) {
    throw invalid(
      s,
      `repository name must not be more than ${MAX_NAME_LENGTH} characters (is ${fullName.length})`,
    );
  }
  const r: Reference = { registry: normalRegistry, repository };
  if (tag !== undefined) r.tag = tag;
  if (digest !== undefined) r.digest = digest;
  return r;
}

/** Like parseReference but returns undefined instead of throwing. */
export function tryParseReference(s: string): Reference | undefined {
  try {
    return parseReference(s);
  } catch (e) {
    if (isVouchError(e, 'REFERENCE_INVALID')) return undefined;
    throw e;
  }
}

function splitRegistry(name: string): { registry: string; path: string } {
  const slash = name.indexOf('/');
  if (slash === -1) return { registry: DOCKER_HUB, path: name };
  const first = name.slice(0, slash);
  // Same test as distribution: '.', ':', `localhost` or an uppercase letter (hosts may have
  // them, repositories may not) mark a registry host.
  const isHost = /[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase();
  return isHost ? { registry: first, path: name.slice(slash + 1) } : { registry: DOCKER_HUB, path: name };
}

function checkTag(input: string, tag: string): void {
  if (tag === '') throw invalid(input, 'empty tag after ":"');
  if (tag.length > 128) throw invalid(input, `invalid tag "${tag}": longer than 128 characters`);
  if (!TAG.test(tag)) {
    throw invalid(
      input,
      `invalid tag "${tag}": must start with a letter, digit or '_' and contain only letters, digits, '_', '.' and '-'`,
    );
  }
}

function checkRegistry(input: string, registry: string): void {
  let host = registry;
  const portAt = registry.startsWith('[') ? registry.indexOf(']:') + 1 : registry.lastIndexOf(':');
  if (portAt > 0) {
    const port = registry.slice(portAt + 1);
    if (!PORT.test(port)) throw invalid(input, `invalid port "${port}" in registry "${registry}"`);
    host = registry.slice(0, portAt);
  }
  const ok = IPV6_HOST.test(host) || (host !== '' && host.split('.').every((c) => DOMAIN_COMPONENT.test(c)));
  if (!ok) throw invalid(input, `invalid registry host "${host}"`);
}

function checkPath(input: string, path: string): void {
  if (path === '') throw invalid(input, 'missing repository name after the registry');
  for (const c of path.split('/')) {
    if (c === '') throw invalid(input, `empty path component in repository "${path}"`);
    if (c !== c.toLowerCase()) throw invalid(input, `repository name must be lowercase ("${path}")`);
    if (!PATH_COMPONENT.test(c)) {
      throw invalid(
        input,
        `invalid repository path component "${c}": use lowercase letters and digits separated by '.', '_', '__' or '-'`,
      );
    }
  }
}

/** `registry/repository`, without tag or digest. */
export function referenceName(r: Reference): string {
  return `${r.registry}/${r.repository}`;
}

/** Full form `registry/repository[:tag][@digest]`; parseReference gives back the same value. */
export function formatReference(r: Reference): string {
  return `${referenceName(r)}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Docker's short form: `debian:12`, `user/app`, `ghcr.io/o/x@sha256:...`. */
export function familiarReference(r: Reference): string {
  let name = referenceName(r);
  if (r.registry === DOCKER_HUB) {
    const rest = r.repository;
    name = rest.startsWith('library/') && rest.indexOf('/', 8) === -1 ? rest.slice(8) : rest;
  }
  return `${name}${r.tag !== undefined ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}

/** Same repository with `tag`; any digest is dropped (a tag and an unrelated digest would conflict). */
export function withTag(r: Reference, tag: string): Reference {
  checkTag(`${referenceName(r)}:${tag}`, tag);
  return { registry: r.registry, repository: r.repository, tag };
}

/** Same repository pinned to `digest`; a tag is kept (the `repo:tag@digest` pinning form). */
export function withDigest(r: Reference, digest: string): Reference {
  let d: Digest;
  try {
    d = parseDigest(digest);
  } catch (e) {
    throw invalid(`${referenceName(r)}@${digest}`, `invalid digest "${digest}" (${(e as Error).message})`);
  }
  const out: Reference = { registry: r.registry, repository: r.repository, digest: d };
  if (r.tag !== undefined) out.tag = r.tag;
  return out;
}

/**
 * The tag, or docker's implicit `latest`. Callers that resolve a reference should use the
 * digest when there is one; this is for places that need a tag (archive RepoTags, pushes).
 */
export function referenceTagOrDefault(r: Reference): string {
  return r.tag ?? DEFAULT_TAG;
}

/** Host to send registry API calls to: Docker Hub is served from registry-1.docker.io. */
export function registryApiHost(r: Reference | string): string {
  const registry = typeof r === 'string' ? r : r.registry;
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}
