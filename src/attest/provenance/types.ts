/**
 * SLSA provenance predicates as JSON: v1 (what vouch writes) and v0.2 (what slsa-github-generator,
 * BuildKit and the GitLab runner wrote before v1, and what vouch still reads).
 * source: slsa-framework/slsa spec/schema/provenance.cue; in-toto/attestation provenance/v0.2.
 */
import type { ResourceDescriptor } from '../statement.ts';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
export const SLSA_PROVENANCE_TYPES = [SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02] as const;
export type SlsaProvenanceType = (typeof SLSA_PROVENANCE_TYPES)[number];

export interface SlsaBuilder {
  id: string;
  /** Versions of the builder's components, e.g. `{ "gitlab-runner": "v17.5.0" }`. */
  version?: Record<string, string>;
  builderDependencies?: ResourceDescriptor[];
}

export interface SlsaBuildMetadata {
  invocationId?: string;
  /** RFC 3339, UTC. */
  startedOn?: string;
  finishedOn?: string;
}

/** The v1 predicate; key order is the spec's, which is also the order vouch writes. */
export interface SlsaProvenanceV1 {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters?: Record<string, unknown>;
    resolvedDependencies?: ResourceDescriptor[];
  };
  runDetails: {
    builder: SlsaBuilder;
    metadata?: SlsaBuildMetadata;
    byproducts?: ResourceDescriptor[];
  };
}
