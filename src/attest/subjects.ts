/**
 * Statement subjects: an image (`name` = repository, as cosign writes it) or files (`name` = the
 * file's base name, as slsa-github-generator and the GitLab runner write it), by sha256.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { VouchError } from '../errors.ts';
import { makeStatement, type ResourceDescriptor, type Statement } from './statement.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** `sha256:<hex>` or bare hex → lower-case hex; STATEMENT_INVALID for anything else. */
export function sha256Hex(digest: string, what = 'digest'): string {
  const hex = (digest.startsWith('sha256:') ? digest.slice(7) : digest).toLowerCase();
  if (!SHA256_HEX.test(hex)) {
    throw new VouchError(
      'STATEMENT_INVALID',
      `${what} must be sha256:<64 hex digits>, not ${JSON.stringify(digest)}`,
    );
  }
  return hex;
}

/** The subject cosign writes for an image: the repository (no tag, no digest) and its manifest digest. */
export function imageSubject(repository: string, digest: string): ResourceDescriptor {
  if (
    repository === '' ||
    /[@\s]/.test(repository) ||
    /:[\w][\w.-]*$/.test(repository.split('/').pop() ?? '')
  ) {
    throw new VouchError(
      'STATEMENT_INVALID',
      `image subject name must be a repository without tag or digest, not ${JSON.stringify(repository)}`,
    );
  }
  return { name: repository, digest: { sha256: sha256Hex(digest, `digest of ${repository}`) } };
}

export function imageStatement<P>(
  repository: string,
  digest: string,
  predicateType: string,
  predicate: P,
): Statement<P> {
  return makeStatement([imageSubject(repository, digest)], predicateType, predicate);
}

/** sha256 of a file's bytes, streamed. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new VouchError(
      code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_ERROR',
      `cannot read ${path}${code ? ` (${code})` : ''}`,
      { cause: e },
    );
  }
  return h.digest('hex');
}

/** One subject per file, named by its base name; two files with one name are an error. */
export async function fileSubjects(paths: readonly string[]): Promise<ResourceDescriptor[]> {
  const seen = new Map<string, string>();
  const out: ResourceDescriptor[] = [];
  for (const p of paths) {
    const name = basename(p);
    const prev = seen.get(name);
    if (prev !== undefined) {
      throw new VouchError('STATEMENT_INVALID', `two subject files are both named ${name}: ${prev} and ${p}`);
    }
    seen.set(name, p);
    out.push({ name, digest: { sha256: await sha256File(p) } });
  }
  return out;
}

export async function fileStatement<P>(
  paths: readonly string[],
  predicateType: string,
  predicate: P,
): Promise<Statement<P>> {
  return makeStatement(await fileSubjects(paths), predicateType, predicate);
}
