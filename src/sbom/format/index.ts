/**
 * SBOM formats: CycloneDX 1.6 and SPDX 2.3 JSON writers, a reader for CycloneDX 1.4–1.6 and
 * SPDX 2.2/2.3 JSON, and a terminal table.
 */
export {
  CYCLONEDX_ROOT_REF,
  CYCLONEDX_SCHEMA_URL,
  CYCLONEDX_SPEC_VERSION,
  licenseChoices,
  serializeCycloneDx,
  toCycloneDx,
} from './cyclonedx.ts';
export { CYCLONEDX_READ_VERSIONS, CYCLONEDX_READER, fromCycloneDx } from './cyclonedx-read.ts';
export {
  canonicalLicenseId,
  classifyLicense,
  isLicenseExpression,
  joinConjuncts,
  LICENSE_LIST_VERSION,
  type LicenseKind,
  normalizeLicenseExpression,
  splitConjuncts,
} from './license.ts';
export {
  DEFAULT_MAX_SBOM_BYTES,
  detectSbomFormat,
  readSbom,
  readSbomFile,
  SBOM_DOCUMENT_FORMATS,
  type SbomDocumentFormat,
} from './read.ts';
export {
  DEFAULT_SPDX_NAMESPACE_BASE,
  packageSpdxId,
  SPDX_VERSION,
  type SpdxOptions,
  serializeSpdx,
  toSpdx,
} from './spdx.ts';
export { fromSpdx, SPDX_READ_VERSIONS, SPDX_READER } from './spdx-read.ts';
export { renderTable, summary } from './table.ts';
