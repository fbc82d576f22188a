/**
 * skopeo-style image names: `transport:details`, plus a bare registry reference (as crane takes).
 *
 * Splitting follows containers/image exactly (checked against skopeo 1.9.3): for `oci:`,
 * `oci-archive:` and `docker-archive:` the path ends at the FIRST ':' after the transport, so
 * `oci:dir:a:b` is directory `dir` with image name `a:b`, and paths containing ':' cannot be
 * named (skopeo refuses them too). The part after the path is an OCI ref name for `oci*`
 * (`org.opencontainers.image.ref.name` grammar, may contain ':', '/', '@', '+'), and a docker
 * reference or `@N` source index for `docker-archive`.
 */
import { isVouchError, VouchError } from '../errors.ts';
import { formatReference, parseReference, type Reference } from '../oci/reference.ts';

export type ImageName =
  | { transport: 'oci'; path: string; tag?: string }
  | { transport: 'oci-archive'; path: string; tag?: string }
  | { transport: 'docker-archive'; path: string; ref?: Reference; index?: number }
  | { transport: 'docker'; ref: Reference };

export const TRANSPORTS = ['docker', 'oci', 'oci-archive', 'docker-archive'] as const;
export type TransportName = (typeof TRANSPORTS)[number];

/** skopeo transports vouch does not implement; named so the error is specific. */
const UNSUPPORTED = ['containers-storage', 'dir', 'docker-daemon', 'ostree', 'sif', 'tarball', 'atomic'];

// OCI annotation grammar for org.opencontainers.image.ref.name (what skopeo validates).
const REF_COMPONENT = '[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*';
const REF_NAME = new RegExp(`^${REF_COMPONENT}(?:/${REF_COMPONENT})*$`);

/** Is `s` a valid image name inside an OCI layout (the `ref.name` annotation)? */
export function isLayoutRefName(s: string): boolean {
  return REF_NAME.test(s);
}

function invalid(input: string, problem: string, hint?: string): VouchError {
  return new VouchError(
    'REFERENCE_INVALID',
    `invalid image name "${input}": ${problem}`,
    hint ? { hint } : {},
  );
}

export function parseImageName(s: string): ImageName {
  const colon = s.indexOf(':');
  const prefix = colon === -1 ? '' : s.slice(0, colon);
  const rest = s.slice(colon + 1);
  switch (prefix) {
    case 'oci':
    case 'oci-archive': {
      const { path, after } = splitPath(s, rest);
      if (after === undefined || after === '') return { transport: prefix, path };
      if (!isLayoutRefName(after)) {
        throw invalid(
          s,
          `"${after}" is not a valid image name inside a layout`,
          'names are letters and digits joined by - . _ : @ + or --, in /-separated parts (e.g. v1.0, latest)',
        );
      }
      return { transport: prefix, path, tag: after };
    }
    case 'docker-archive':
      return parseDockerArchive(s, rest);
    case 'docker': {
      if (!rest.startsWith('//')) {
        throw invalid(s, 'the docker transport is written docker://REFERENCE', `try docker://${rest}`);
      }
      return { transport: 'docker', ref: parseRef(s, rest.slice(2)) };
    }
  }
  if (UNSUPPORTED.includes(prefix)) {
    throw new VouchError(
      'TRANSPORT_UNKNOWN',
      `transport "${prefix}" is not supported by vouch; supported: ${TRANSPORTS.join(', ')} (or a bare registry reference)`,
    );
  }
  try {
    return { transport: 'docker', ref: parseReference(s) };
  } catch (e) {
    // `word:...` that is not a reference reads as a transport the user thinks exists.
    if (isVouchError(e, 'REFERENCE_INVALID') && /^[a-z][a-z0-9-]*$/.test(prefix)) {
      throw new VouchError(
        'TRANSPORT_UNKNOWN',
        `"${s}" has unknown transport "${prefix}" and is not a valid registry reference; transports: ${TRANSPORTS.map((t) => `${t}:`).join(', ')}`,
        { cause: e },
      );
    }
    throw e;
  }
}

function splitPath(input: string, rest: string): { path: string; after: string | undefined } {
  const i = rest.indexOf(':');
  const path = i === -1 ? rest : rest.slice(0, i);
  if (path === '') throw invalid(input, 'missing path after the transport');
  return { path, after: i === -1 ? undefined : rest.slice(i + 1) };
}

function parseRef(input: string, s: string): Reference {
  try {
    return parseReference(s);
  } catch (e) {
    if (isVouchError(e, 'REFERENCE_INVALID')) throw invalid(input, e.message, undefined);
    throw e;
  }
}

/**
 * `docker-archive:FILE`, `FILE:REF` (a docker reference without digest; tag defaults to
 * latest as in skopeo) or `FILE:@N` (the N-th image in manifest.json, for reading).
 */
function parseDockerArchive(input: string, rest: string): ImageName {
  const { path, after } = splitPath(input, rest);
  if (after === undefined || after === '') return { transport: 'docker-archive', path };
  if (after.startsWith('@')) {
    const n = after.slice(1);
    if (!/^[0-9]+$/.test(n) || !Number.isSafeInteger(Number(n))) {
      throw invalid(input, `invalid source index "${after}": expected @ followed by a non-negative number`);
    }
    return { transport: 'docker-archive', path, index: Number(n) };
  }
  const ref = parseRef(input, after);
  if (ref.digest) throw invalid(input, 'docker-archive references cannot contain a digest');
  return { transport: 'docker-archive', path, ref: { ...ref, tag: ref.tag ?? 'latest' } };
}

/** The skopeo form of a name (bare references come back as docker://). */
export function formatImageName(n: ImageName): string {
  switch (n.transport) {
    case 'oci':
    case 'oci-archive':
      return `${n.transport}:${n.path}${n.tag ? `:${n.tag}` : ''}`;
    case 'docker-archive': {
      const suffix = n.index !== undefined ? `:@${n.index}` : n.ref ? `:${formatReference(n.ref)}` : '';
      return `docker-archive:${n.path}${suffix}`;
    }
    case 'docker':
      return `docker://${formatReference(n.ref)}`;
  }
}
