/**
 * Read an SBOM document written by vouch or another tool (syft, trivy, cdxgen, the specs'
 * examples) into the package model: CycloneDX 1.4–1.6 JSON or SPDX 2.2 / 2.3 JSON, told apart
 * by `bomFormat` / `spdxVersion`.
 *
 * A document that is not JSON, not one of those formats, or whose structure is wrong (a field
 * of the wrong type, a component without a name) throws SBOM_INVALID naming every wrong field
 * by its JSON path. Content vouch cannot model (a package of an ecosystem outside
 * PACKAGE_TYPES, a component without a purl) is kept out of `packages` and reported in
 * `problems`, located by its JSON path, so nothing is dropped silently.
 */
import { open } from 'node:fs/promises';
import { isVouchError, VouchError } from '../../errors.ts';
import type { Sbom } from '../model.ts';
import { fromCycloneDx } from './cyclonedx-read.ts';
import { isObject, type JsonObject } from './read-common.ts';
import { fromSpdx } from './spdx-read.ts';

export const SBOM_DOCUMENT_FORMATS = ['cyclonedx', 'spdx'] as const;
export type SbomDocumentFormat = (typeof SBOM_DOCUMENT_FORMATS)[number];

const SUPPORTED = 'vouch reads CycloneDX 1.4-1.6 JSON and SPDX 2.2/2.3 JSON';

/** Parse SBOM bytes or text (CycloneDX or SPDX JSON) into an Sbom. Throws SBOM_INVALID. */
export function readSbom(input: Uint8Array | string): Sbom {
  const doc = parseJson(input);
  const format = detectSbomFormat(doc);
  if (format === 'cyclonedx') return fromCycloneDx(doc as JsonObject);
  if (format === 'spdx') return fromSpdx(doc as JsonObject);
  throw new VouchError(
    'SBOM_INVALID',
    'the document is JSON but neither CycloneDX (no "bomFormat": "CycloneDX") nor SPDX (no "spdxVersion")',
    { hint: SUPPORTED },
  );
}

/** Largest SBOM file readSbomFile reads by default (a large image's CycloneDX is tens of MB). */
export const DEFAULT_MAX_SBOM_BYTES = 512 * 1024 * 1024;

/** Read an SBOM file, refusing one larger than `maxBytes` before reading it. */
export async function readSbomFile(path: string, o: { maxBytes?: number } = {}): Promise<Sbom> {
  const max = o.maxBytes ?? DEFAULT_MAX_SBOM_BYTES;
  let bytes: Uint8Array;
  try {
    await using f = await open(path, 'r');
    const { size } = await f.stat();
    if (size > max) {
      throw new VouchError(
        'SBOM_INVALID',
        `${path} is ${size} bytes, more than the ${max} bytes an SBOM may have`,
        {
          hint: 'pass a larger maxBytes if the document is genuine',
        },
      );
    }
    bytes = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await f.read(bytes, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    bytes = bytes.subarray(0, off);
  } catch (e) {
    if (isVouchError(e)) throw e;
    throw new VouchError('IO_ERROR', `cannot read SBOM ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return readSbom(bytes);
  } catch (e) {
    if (isVouchError(e, 'SBOM_INVALID')) {
      throw new VouchError('SBOM_INVALID', `${path}: ${e.message}`, {
        ...(e.hint ? { hint: e.hint } : {}),
        cause: e,
      });
    }
    throw e;
  }
}

/** Which SBOM format a parsed JSON document claims to be. */
export function detectSbomFormat(doc: unknown): SbomDocumentFormat | undefined {
  if (!isObject(doc)) return undefined;
  if (doc.bomFormat === 'CycloneDX') return 'cyclonedx';
  if (typeof doc.spdxVersion === 'string') return 'spdx';
  return undefined;
}

function parseJson(input: Uint8Array | string): unknown {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch (e) {
      throw new VouchError('SBOM_INVALID', 'the document is not UTF-8 text', { hint: SUPPORTED, cause: e });
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const head = text.trimStart();
  if (head.startsWith('<')) {
    throw new VouchError(
      'SBOM_INVALID',
      'the document is XML; only the JSON forms of CycloneDX and SPDX are read',
      {
        hint: SUPPORTED,
      },
    );
  }
  if (/^(SPDXVersion|DataLicense|##)/.test(head)) {
    throw new VouchError('SBOM_INVALID', 'the document is SPDX tag-value; only SPDX JSON is read', {
      hint: SUPPORTED,
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new VouchError('SBOM_INVALID', `the document is not JSON: ${(e as Error).message}`, {
      hint: SUPPORTED,
      cause: e,
    });
  }
}
