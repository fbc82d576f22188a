/** SLSA provenance: build (v1), CI inputs, byproducts, and reading v1 / v0.2 for verification. */
export { type ProvenanceInput, rfc3339, slsaProvenanceV1 } from './build.ts';
export { BYPRODUCT_MEDIA_TYPES, byproductFromFile, jsonMediaType } from './byproducts.ts';
export {
  type CiEnvironment,
  ciProvenanceInput,
  detectCiEnvironment,
  type GenericProvenanceOptions,
  GITHUB_WORKFLOW_BUILD_TYPE,
  GITLAB_RUNNER_BUILD_TYPE_PREFIX,
  type GitHubActionsEnvironment,
  type GitHubTokenClaims,
  type GitLabCiEnvironment,
  genericProvenanceInput,
  githubProvenanceInput,
  gitlabProvenanceInput,
  parseSourceDigest,
} from './ci.ts';
export { type ProvenanceSummary, type RefType, readProvenance, splitGitUri } from './read.ts';
export { provenanceStatement } from './statement.ts';
export {
  SLSA_PROVENANCE_TYPES,
  SLSA_PROVENANCE_V1,
  SLSA_PROVENANCE_V02,
  type SlsaBuilder,
  type SlsaBuildMetadata,
  type SlsaProvenanceType,
  type SlsaProvenanceV1,
} from './types.ts';
