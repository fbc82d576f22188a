/** Matching SBOM packages to OSV advisories: the public surface of src/vuln/match. */
export { compareIds, primaryId, vulnerabilityKey } from './aliases.ts';
export {
  goToolchainVersion,
  type OsvQuery,
  osEcosystem,
  pep503,
  type QueryPlan,
  queryFor,
  RUST_ECOSYSTEM,
  sourceOf,
} from './ecosystem.ts';
export {
  KERNEL_HEADERS_RULE,
  type MatchOptions,
  type MatchResult,
  matchSbom,
  type SkippedPackage,
  setAside,
  type UnknownMatch,
} from './match.ts';
export {
  type AffectedEvaluator,
  type Comparators,
  compileAffected,
  fixedVersions,
  isAffected,
  type RangeResult,
} from './range.ts';
export { fixStatus } from './status.ts';
