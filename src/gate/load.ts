/**
 * The gate's only I/O: reading ignore files and VEX documents, with their sha256 so a report
 * can name exactly which policy inputs it used.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { isVouchError, VouchError } from '../errors.ts';
import { parseIgnoreFile } from './ignorefile.ts';
import type { Exception, VexStatement } from './types.ts';
import { parseOpenVex } from './vex.ts';

/** Policy files are small; anything larger is a mistake (an SBOM passed as --vex, ...). */
export const MAX_POLICY_FILE_BYTES = 16 * 1024 * 1024;

export interface LoadedFile {
  path: string;
  /** `sha256:<hex>` of the bytes read. */
  digest: string;
}

async function readPolicyFile(
  path: string,
  what: string,
  name: string,
): Promise<{ text: string; digest: string } | undefined> {
  let bytes: Buffer;
  try {
    await using f = await open(path, 'r');
    const { size } = await f.stat();
    if (size > MAX_POLICY_FILE_BYTES) {
      throw new VouchError(
        'IO_ERROR',
        `${what} ${name} is ${size} bytes, more than ${MAX_POLICY_FILE_BYTES}`,
      );
    }
    bytes = await f.readFile();
  } catch (e) {
    if (isVouchError(e)) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VouchError('IO_ERROR', `cannot read ${what} ${name}: ${(e as Error).message}`, { cause: e });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    const code = what === 'VEX document' ? 'VEX_INVALID' : 'IGNOREFILE_INVALID';
    throw new VouchError(code, `${name}: not UTF-8 text`, { cause: e });
  }
  return { text, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

/**
 * Read `.trivyignore` or `.trivyignore.yaml`. A missing file is an error when `required` (the
 * user named it) and means "no exceptions" otherwise (trivy's default `.trivyignore`).
 */
export async function loadIgnoreFile(
  path: string,
  o: { required: boolean; name?: string },
): Promise<{ file: LoadedFile; exceptions: Exception[] } | undefined> {
  const name = o.name ?? path;
  const got = await readPolicyFile(path, 'ignore file', name);
  if (!got) {
    if (!o.required) return undefined;
    throw new VouchError('IO_ERROR', `ignore file ${name} does not exist`, {
      hint: 'pass an existing .trivyignore or .trivyignore.yaml, or leave --ignorefile out',
    });
  }
  return { file: { path: name, digest: got.digest }, exceptions: parseIgnoreFile(got.text, name) };
}

/**
 * Read OpenVEX documents in order; statements from later files win timestamp ties. `names`
 * (same order) are how reports and errors name the files, e.g. as the user wrote them.
 */
export async function loadVexFiles(
  paths: readonly string[],
  names: readonly string[] = paths,
): Promise<{ files: LoadedFile[]; statements: VexStatement[] }> {
  const files: LoadedFile[] = [];
  const statements: VexStatement[] = [];
  for (const [i, path] of paths.entries()) {
    const name = names[i] ?? path;
    const got = await readPolicyFile(path, 'VEX document', name);
    if (!got) throw new VouchError('IO_ERROR', `VEX document ${name} does not exist`);
    files.push({ path: name, digest: got.digest });
    statements.push(...parseOpenVex(got.text, name, statements.length));
  }
  return { files, statements };
}
