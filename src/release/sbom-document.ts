/**
 * The SBOM inside a verified SBOM attestation: the predicate is the document itself (cosign
 * `attest --type cyclonedx|spdxjson`, vouch's pipeline). cosign's `--type spdx` keeps the file as
 * a string, so a string predicate holding JSON is accepted too. The document must say what it is
 * (bomFormat / spdxVersion) and match the statement's predicate type.
 */
import { CYCLONEDX_PREDICATE, SPDX_PREDICATE } from '../attest/predicates.ts';
import { VouchError } from '../errors.ts';
import type { SbomFormat } from './types.ts';

export interface SbomDocument {
  format: SbomFormat;
  /** `CycloneDX 1.6`, `SPDX-2.3`. */
  version: string;
  /** Components (CycloneDX) or packages (SPDX) listed at the top level. */
  packages: number;
  document: Record<string, unknown>;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const SBOM_PREDICATE_TYPES = [CYCLONEDX_PREDICATE, SPDX_PREDICATE] as const;

/** Read the SBOM of a statement of `predicateType`; SBOM_INVALID naming `what` when it is not one. */
export function sbomDocument(predicateType: string, predicate: unknown, what: string): SbomDocument {
  let doc = predicate;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch {
      throw new VouchError('SBOM_INVALID', `${what}: the predicate is text, not an SBOM JSON document`, {
        hint: 'attest SBOMs as JSON (cosign --type spdxjson or cyclonedx)',
      });
    }
  }
  const count = (v: unknown) => (Array.isArray(v) ? v.length : 0);
  if (predicateType === CYCLONEDX_PREDICATE) {
    if (!isObj(doc) || doc.bomFormat !== 'CycloneDX') {
      throw new VouchError(
        'SBOM_INVALID',
        `${what}: a ${CYCLONEDX_PREDICATE} predicate must be a CycloneDX document (bomFormat "CycloneDX")`,
      );
    }
    const spec = typeof doc.specVersion === 'string' ? ` ${doc.specVersion}` : '';
    return {
      format: 'cyclonedx',
      version: `CycloneDX${spec}`,
      packages: count(doc.components),
      document: doc,
    };
  }
  if (predicateType === SPDX_PREDICATE) {
    if (!isObj(doc) || typeof doc.spdxVersion !== 'string' || !doc.spdxVersion.startsWith('SPDX-')) {
      throw new VouchError(
        'SBOM_INVALID',
        `${what}: a ${SPDX_PREDICATE} predicate must be an SPDX JSON document (spdxVersion "SPDX-…")`,
      );
    }
    return { format: 'spdx', version: doc.spdxVersion, packages: count(doc.packages), document: doc };
  }
  throw new VouchError('SBOM_INVALID', `${what}: ${predicateType} is not an SBOM predicate type`);
}
