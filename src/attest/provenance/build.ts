/**
 * Build a SLSA provenance v1 predicate from explicit inputs, checking every field the spec
 * requires. CI-specific inputs (GitHub Actions, GitLab CI) are made in ci.ts; this module only
 * shapes and validates.
 */
import { VouchError } from '../../errors.ts';
import type { ResourceDescriptor } from '../statement.ts';
import type { SlsaBuilder, SlsaBuildMetadata, SlsaProvenanceV1 } from './types.ts';

export interface ProvenanceInput {
  /** URI of the build type: how to read the parameters below. */
  buildType: string;
  /** Every input under the control of whoever started the build (untrusted; verifiers check them). */
  externalParameters: Record<string, unknown>;
  /** Inputs the build platform set itself. */
  internalParameters?: Record<string, unknown>;
  /** Sources and other artifacts fetched for the build; the source repository first. */
  resolvedDependencies?: ResourceDescriptor[];
  builder: SlsaBuilder;
  invocationId?: string;
  startedOn?: Date | string;
  finishedOn?: Date | string;
  /** Other outputs of the build, e.g. SBOMs and scan reports. */
  byproducts?: ResourceDescriptor[];
}

function invalid(field: string, problem: string): VouchError {
  return new VouchError('PROVENANCE_INVALID', `provenance ${field} ${problem}`);
}

const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$/;

/** True for an absolute URI (scheme, then no white space); SLSA's TypeURI and ResourceURI. */
export function isUri(s: string): boolean {
  return URI.test(s);
}

function requireUri(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(field, 'is missing');
  if (!isUri(value)) throw invalid(field, `must be an absolute URI, not ${JSON.stringify(value)}`);
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time as UTC `YYYY-MM-DDTHH:MM:SS[.mmm]Z` (whole seconds without a fraction). */
export function rfc3339(value: Date | string, field: string): string {
  let d: Date;
  if (value instanceof Date) d = value;
  else if (typeof value === 'string' && RFC3339.test(value)) d = new Date(value);
  else
    throw invalid(
      field,
      `must be an RFC 3339 time such as 2024-05-01T12:00:00Z, not ${JSON.stringify(value)}`,
    );
  if (Number.isNaN(d.getTime())) throw invalid(field, `is not a valid time: ${JSON.stringify(value)}`);
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

/** Check a ResourceDescriptor: at least one of uri, digest, content; digests are hex strings. */
export function checkDescriptor(d: unknown, field: string): ResourceDescriptor {
  if (!isObject(d)) throw invalid(field, 'is not an object');
  const r = d as ResourceDescriptor;
  if (r.uri === undefined && r.digest === undefined && r.content === undefined) {
    throw invalid(field, 'needs a uri, digest or content');
  }
  if (r.uri !== undefined && (typeof r.uri !== 'string' || r.uri === ''))
    throw invalid(`${field}.uri`, 'is empty');
  if (r.name !== undefined && typeof r.name !== 'string') throw invalid(`${field}.name`, 'is not a string');
  if (r.mediaType !== undefined && typeof r.mediaType !== 'string') {
    throw invalid(`${field}.mediaType`, 'is not a string');
  }
  if (r.digest !== undefined) {
    if (!isObject(r.digest) || Object.keys(r.digest).length === 0)
      throw invalid(`${field}.digest`, 'is empty');
    for (const [alg, v] of Object.entries(r.digest)) {
      if (typeof v !== 'string' || !/^[0-9a-f]+$/.test(v)) {
        throw invalid(`${field}.digest.${alg}`, `must be lower-case hex, not ${JSON.stringify(v)}`);
      }
    }
  }
  return r;
}

function descriptors(list: unknown, field: string): ResourceDescriptor[] {
  if (!Array.isArray(list)) throw invalid(field, 'is not a list');
  return list.map((d, i) => checkDescriptor(d, `${field}[${i}]`));
}

/** The v1 predicate for `input`; throws PROVENANCE_INVALID naming the first bad field. */
export function slsaProvenanceV1(input: ProvenanceInput): SlsaProvenanceV1 {
  const buildType = requireUri(input.buildType, 'buildDefinition.buildType');
  if (!isObject(input.externalParameters)) {
    throw invalid('buildDefinition.externalParameters', 'must be a JSON object');
  }
  if (input.internalParameters !== undefined && !isObject(input.internalParameters)) {
    throw invalid('buildDefinition.internalParameters', 'must be a JSON object');
  }
  if (!isObject(input.builder)) throw invalid('runDetails.builder', 'is missing');
  const builder: SlsaBuilder = { id: requireUri(input.builder.id, 'runDetails.builder.id') };
  if (input.builder.version !== undefined) {
    const v = input.builder.version;
    if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string')) {
      throw invalid('runDetails.builder.version', 'must map component names to version strings');
    }
    builder.version = v;
  }
  if (input.builder.builderDependencies !== undefined) {
    builder.builderDependencies = descriptors(
      input.builder.builderDependencies,
      'runDetails.builder.builderDependencies',
    );
  }
  const metadata: SlsaBuildMetadata = {};
  if (input.invocationId !== undefined) {
    if (typeof input.invocationId !== 'string' || input.invocationId === '') {
      throw invalid('runDetails.metadata.invocationId', 'is empty');
    }
    metadata.invocationId = input.invocationId;
  }
  if (input.startedOn !== undefined)
    metadata.startedOn = rfc3339(input.startedOn, 'runDetails.metadata.startedOn');
  if (input.finishedOn !== undefined) {
    metadata.finishedOn = rfc3339(input.finishedOn, 'runDetails.metadata.finishedOn');
  }
  if (
    metadata.startedOn &&
    metadata.finishedOn &&
    Date.parse(metadata.finishedOn) < Date.parse(metadata.startedOn)
  ) {
    throw invalid(
      'runDetails.metadata.finishedOn',
      `(${metadata.finishedOn}) is before startedOn (${metadata.startedOn})`,
    );
  }

  const predicate: SlsaProvenanceV1 = {
    buildDefinition: { buildType, externalParameters: input.externalParameters },
    runDetails: { builder },
  };
  if (input.internalParameters !== undefined) {
    predicate.buildDefinition.internalParameters = input.internalParameters;
  }
  if (input.resolvedDependencies !== undefined && input.resolvedDependencies.length > 0) {
    predicate.buildDefinition.resolvedDependencies = descriptors(
      input.resolvedDependencies,
      'buildDefinition.resolvedDependencies',
    );
  }
  if (Object.keys(metadata).length > 0) predicate.runDetails.metadata = metadata;
  if (input.byproducts !== undefined && input.byproducts.length > 0) {
    predicate.runDetails.byproducts = descriptors(input.byproducts, 'runDetails.byproducts');
  }
  return predicate;
}
