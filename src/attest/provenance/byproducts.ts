/**
 * Byproducts of a build (SBOMs, scan reports) as SLSA ResourceDescriptors: name, sha256 and a
 * media type recognised from the content, so a verifier can tell an SBOM from a SARIF report.
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { VouchError } from '../../errors.ts';
import type { ResourceDescriptor } from '../statement.ts';
import { sha256File } from '../subjects.ts';

export const BYPRODUCT_MEDIA_TYPES = {
  cyclonedx: 'application/vnd.cyclonedx+json',
  spdx: 'application/spdx+json',
  sarif: 'application/sarif+json',
  json: 'application/json',
  intoto: 'application/vnd.in-toto+json',
  octet: 'application/octet-stream',
} as const;

/** The media type of a document from its parsed JSON; json when unrecognised. */
export function jsonMediaType(doc: unknown): string {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return BYPRODUCT_MEDIA_TYPES.json;
  const o = doc as Record<string, unknown>;
  if (o.bomFormat === 'CycloneDX') return BYPRODUCT_MEDIA_TYPES.cyclonedx;
  if (typeof o.spdxVersion === 'string' && o.spdxVersion.startsWith('SPDX-'))
    return BYPRODUCT_MEDIA_TYPES.spdx;
  if (Array.isArray(o.runs) && typeof o.version === 'string' && o.version.startsWith('2.1')) {
    return BYPRODUCT_MEDIA_TYPES.sarif;
  }
  if (typeof o._type === 'string' && o._type.startsWith('https://in-toto.io/Statement/')) {
    return BYPRODUCT_MEDIA_TYPES.intoto;
  }
  return BYPRODUCT_MEDIA_TYPES.json;
}

/** Only this much of a byproduct is parsed to recognise it; larger files are hashed, not sniffed. */
const SNIFF_LIMIT = 64 * 1024 * 1024;

async function sniff(path: string): Promise<string> {
  try {
    await using f = await open(path, 'r');
    const st = await f.stat();
    if (st.size > SNIFF_LIMIT) return BYPRODUCT_MEDIA_TYPES.octet;
    const text = (await f.readFile()).toString('utf8').replace(/^\uFEFF/, '');
    try {
      return jsonMediaType(JSON.parse(text));
    } catch {
      return BYPRODUCT_MEDIA_TYPES.octet; // not JSON: an opaque file
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new VouchError(
      code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_ERROR',
      `cannot read byproduct ${path}${code ? ` (${code})` : ''}`,
      { cause: e },
    );
  }
}

/** A byproduct descriptor for a file: base name, sha256 and (unless given) a sniffed media type. */
export async function byproductFromFile(path: string, mediaType?: string): Promise<ResourceDescriptor> {
  const type = mediaType ?? (await sniff(path));
  return { name: basename(path), digest: { sha256: await sha256File(path) }, mediaType: type };
}
