/**
 * Store URLs for the command line:
 *
 *   dir:PATH                                  a directory (relative to the working directory)
 *   s3://BUCKET[/PREFIX][?endpoint=URL&region=R&path-style=true|false]
 *
 * `path-style` defaults to true with an endpoint (S3-compatible servers) and false without (AWS).
 */
import { isAbsolute, resolve } from 'node:path';
import { VouchError } from '../errors.ts';
import type { StoreConfig } from './open.ts';

const S3_PARAMS = ['endpoint', 'region', 'path-style'] as const;

function usage(url: string, problem: string): VouchError {
  return new VouchError('USAGE', `store URL "${url}" ${problem}`, {
    hint: 'write dir:PATH or s3://BUCKET/PREFIX?endpoint=http://127.0.0.1:9000',
  });
}

export function parseStoreUrl(url: string, cwd: string): StoreConfig {
  if (url.startsWith('dir:')) {
    const path = url.slice('dir:'.length);
    if (path === '') throw usage(url, 'names no directory');
    return { kind: 'directory', directory: isAbsolute(path) ? path : resolve(cwd, path) };
  }
  if (!url.startsWith('s3://')) throw usage(url, 'is neither dir:PATH nor s3://BUCKET/PREFIX');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw usage(url, 'is not a valid URL');
  }
  const bucket = u.hostname;
  if (bucket === '' || u.port !== '' || u.username !== '' || u.password !== '') {
    throw usage(url, 'must name a bucket as the host, without port or credentials');
  }
  for (const k of u.searchParams.keys()) {
    if (!(S3_PARAMS as readonly string[]).includes(k)) {
      throw usage(url, `has the unknown parameter "${k}" (known: ${S3_PARAMS.join(', ')})`);
    }
  }
  const endpoint = u.searchParams.get('endpoint') ?? undefined;
  const region = u.searchParams.get('region') ?? undefined;
  const pathStyle = u.searchParams.get('path-style');
  if (pathStyle !== null && pathStyle !== 'true' && pathStyle !== 'false') {
    throw usage(url, `has path-style=${pathStyle} (expected true or false)`);
  }
  return {
    kind: 's3',
    bucket,
    prefix: decodeURIComponent(u.pathname.replace(/^\/+/, '')),
    forcePathStyle: pathStyle === null ? endpoint !== undefined : pathStyle === 'true',
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
  };
}
