/**
 * Read SLSA provenance (v1 and v0.2) from a verified statement into one summary that the checks
 * in src/verify/provenance.ts compare, field by field, the way slsa-verifier reads them:
 * source = v1 resolvedDependencies[0] / v0.2 materials[0]; trigger = GitHub attest
 * externalParameters.workflow, slsa-github-generator GITHUB_WORKFLOW_REF, v0.2 configSource.
 * source: slsa-framework/slsa-verifier verifiers/internal/gha/slsaprovenance/{v0.2,v1.0}, common/common.go
 */
import { VouchError } from '../../errors.ts';
import type { ResourceDescriptor, Statement } from '../statement.ts';
import { GITHUB_WORKFLOW_BUILD_TYPE, GITLAB_RUNNER_BUILD_TYPE_PREFIX } from './ci.ts';
import { SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02, type SlsaProvenanceType } from './types.ts';

export type RefType = 'branch' | 'tag' | 'other';

export interface ProvenanceSummary {
  predicateType: SlsaProvenanceType;
  builderId: string;
  buildType: string;
  /** Source repository as recorded, without its `@ref`, e.g. `git+https://github.com/o/r`. */
  sourceUri?: string;
  /** The ref after `@` in the source URI, e.g. `refs/tags/v1.2.3`. */
  sourceRef?: string;
  /** The source commit: `gitCommit` or `sha1` digest of the source. */
  sourceDigest?: { algorithm: string; value: string };
  /** The full URI (with ref) of what triggered the build, when the provenance records it. */
  triggerUri?: string;
  /** Kind of ref built: from the recorded GitHub context, else from the ref's prefix. */
  refType?: RefType;
  /** `refs/tags/<tag>` when a tag was built. */
  tagRef?: string;
  /** `refs/heads/<branch>` built, or for a tag the branch its push or release named (if recorded). */
  branchRef?: string;
  invocationId?: string;
  startedOn?: string;
  finishedOn?: string;
  byproducts: ResourceDescriptor[];
  subjects: ResourceDescriptor[];
}

/** slsa-github-generator BYOB and npm CLI provenance may name the source without a ref. */
export const BUILD_TYPES_WITHOUT_SOURCE_REF = [
  'https://github.com/slsa-framework/slsa-github-generator/delegator-generic@v0',
  'https://github.com/npm/cli/gha@v1',
] as const;

type Obj = Record<string, unknown>;

function invalid(field: string, problem: string): VouchError {
  return new VouchError('PROVENANCE_INVALID', `provenance ${field} ${problem}`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, field: string, required: boolean): Obj | undefined {
  if (v === undefined || v === null) {
    if (required) throw invalid(field, 'is missing');
    return undefined;
  }
  if (!isObj(v)) throw invalid(field, 'is not an object');
  return v;
}

function str(v: unknown, field: string, required: boolean): string | undefined {
  if (v === undefined || v === null || (v === '' && !required)) {
    if (required) throw invalid(field, 'is missing');
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(field, `is not a string: ${JSON.stringify(v)}`);
  if (v === '') throw invalid(field, 'is empty');
  return v;
}

function list(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(field, 'is not a list');
  return v;
}

function descriptorList(v: unknown, field: string): ResourceDescriptor[] {
  return list(v, field).map((d, i) => {
    if (!isObj(d)) throw invalid(`${field}[${i}]`, 'is not an object');
    return d as ResourceDescriptor;
  });
}

/**
 * Split `git+https://host/o/r@refs/tags/v1` into URI and ref. The ref starts at the first `@`
 * after the host, so user names in the authority and `@` inside tags both survive.
 */
export function splitGitUri(uri: string): { uri: string; ref?: string } {
  const scheme = uri.indexOf('://');
  const pathStart = scheme < 0 ? 0 : uri.indexOf('/', scheme + 3);
  const at = pathStart < 0 ? -1 : uri.indexOf('@', pathStart);
  if (at < 0) return { uri };
  const ref = uri.slice(at + 1);
  return ref === '' ? { uri: uri.slice(0, at) } : { uri: uri.slice(0, at), ref };
}

/** The commit of a source digest set: gitCommit, then sha1 (the GitLab runner: 40-hex `sha256`). */
function commitOf(digest: unknown, field: string, buildType: string): ProvenanceSummary['sourceDigest'] {
  const d = obj(digest, field, false);
  if (!d) return undefined;
  for (const algorithm of ['gitCommit', 'sha1']) {
    const v = str(d[algorithm], `${field}.${algorithm}`, false);
    if (v) return { algorithm, value: v.toLowerCase() };
  }
  const s = d.sha256;
  if (
    buildType.startsWith(GITLAB_RUNNER_BUILD_TYPE_PREFIX) &&
    typeof s === 'string' &&
    /^[0-9a-f]{40}$/i.test(s)
  ) {
    return { algorithm: 'gitCommit', value: s.toLowerCase() };
  }
  return undefined;
}

/** The GitHub context the provenance records: v0.2 `github_*`, slsa-github-generator v1 `GITHUB_*`. */
interface GitHubContext {
  ref?: string;
  refType?: string;
  baseRef?: string;
  eventName?: string;
  payload?: Obj;
}

function githubContext(env: Obj | undefined, upper: boolean, field: string): GitHubContext {
  if (!env) return {};
  const key = (k: string) => (upper ? k.toUpperCase() : k);
  const get = (k: string) => str(env[key(k)], `${field}.${key(k)}`, false);
  const payload = env[key('github_event_payload')];
  const ctx: GitHubContext = {};
  const ref = get('github_ref');
  const refType = get('github_ref_type');
  const baseRef = get('github_base_ref');
  const eventName = get('github_event_name');
  if (ref) ctx.ref = ref;
  if (refType) ctx.refType = refType;
  if (baseRef) ctx.baseRef = baseRef;
  if (eventName) ctx.eventName = eventName;
  if (isObj(payload)) ctx.payload = payload;
  return ctx;
}

/** Branch a tag was built from, as slsa-verifier finds it: base_ref, push base_ref, release target. */
function branchForTag(ctx: GitHubContext): string | undefined {
  if (ctx.baseRef) return ctx.baseRef;
  const p = ctx.payload;
  if (!p) return undefined;
  if (ctx.eventName === 'push' && typeof p.base_ref === 'string' && p.base_ref !== '') return p.base_ref;
  const release = p.release;
  if (ctx.eventName === 'release' && isObj(release) && typeof release.target_commitish === 'string') {
    return `refs/heads/${release.target_commitish}`;
  }
  return undefined;
}

function refFields(
  ctx: GitHubContext,
  sourceRef: string | undefined,
  field: string,
): Partial<ProvenanceSummary> {
  const ref = ctx.ref ?? sourceRef;
  if (!ref) return {};
  let refType: RefType;
  if (ctx.refType !== undefined) {
    if (ctx.refType !== 'branch' && ctx.refType !== 'tag') {
      throw invalid(`${field} github_ref_type`, `is ${JSON.stringify(ctx.refType)}, not branch or tag`);
    }
    refType = ctx.refType;
  } else {
    refType = ref.startsWith('refs/tags/') ? 'tag' : ref.startsWith('refs/heads/') ? 'branch' : 'other';
  }
  if (refType === 'tag') {
    const branchRef = branchForTag(ctx);
    return { refType, tagRef: ref, ...(branchRef ? { branchRef } : {}) };
  }
  return refType === 'branch' ? { refType, branchRef: ref } : { refType };
}

function sourceFields(
  uri: string | undefined,
  digest: unknown,
  field: string,
  buildType: string,
): Partial<ProvenanceSummary> {
  if (!uri) return {};
  const { uri: sourceUri, ref } = splitGitUri(uri);
  const sourceDigest = commitOf(digest, `${field}.digest`, buildType);
  return { sourceUri, ...(ref ? { sourceRef: ref } : {}), ...(sourceDigest ? { sourceDigest } : {}) };
}

function readV1(p: Obj, subjects: ResourceDescriptor[]): ProvenanceSummary {
  const bd = obj(p.buildDefinition, 'predicate.buildDefinition', true)!;
  const rd = obj(p.runDetails, 'predicate.runDetails', true)!;
  const buildType = str(bd.buildType, 'predicate.buildDefinition.buildType', true)!;
  const external = obj(bd.externalParameters, 'predicate.buildDefinition.externalParameters', true)!;
  const internal = obj(bd.internalParameters, 'predicate.buildDefinition.internalParameters', false);
  const builder = obj(rd.builder, 'predicate.runDetails.builder', true)!;
  const builderId = str(builder.id, 'predicate.runDetails.builder.id', true)!;
  const deps = descriptorList(bd.resolvedDependencies, 'predicate.buildDefinition.resolvedDependencies');
  const meta = obj(rd.metadata, 'predicate.runDetails.metadata', false) ?? {};

  // Source: the first resolved dependency (the builder–verifier contract slsa-verifier relies on),
  // else externalParameters.source as a string or descriptor (GitLab runner, container-based).
  let source: Partial<ProvenanceSummary>;
  const first = deps[0];
  if (first) {
    const f = 'predicate.buildDefinition.resolvedDependencies[0]';
    source = sourceFields(str(first.uri, `${f}.uri`, true), first.digest, f, buildType);
  } else {
    const s = external.source;
    const f = 'predicate.buildDefinition.externalParameters.source';
    const uri = isObj(s) ? str(s.uri, `${f}.uri`, false) : str(s, f, false);
    source = sourceFields(uri, isObj(s) ? s.digest : undefined, f, buildType);
  }

  let triggerUri: string | undefined;
  if (buildType === GITHUB_WORKFLOW_BUILD_TYPE) {
    const f = 'predicate.buildDefinition.externalParameters.workflow';
    const w = obj(external.workflow, f, true)!;
    triggerUri = `git+${str(w.repository, `${f}.repository`, true)}@${str(w.ref, `${f}.ref`, true)}`;
  } else if (internal?.GITHUB_WORKFLOW_REF !== undefined) {
    // slsa-github-generator v1 builders: `o/r/.github/workflows/x.yml@ref` → git+https://github.com/o/r@ref
    const f = 'predicate.buildDefinition.internalParameters.GITHUB_WORKFLOW_REF';
    const wr = str(internal.GITHUB_WORKFLOW_REF, f, true)!;
    const at = wr.indexOf('@');
    const parts = wr.slice(0, Math.max(at, 0)).split('/');
    if (at < 0 || parts.length < 2) throw invalid(f, `is not owner/repo/path@ref: ${JSON.stringify(wr)}`);
    triggerUri = `git+https://github.com/${parts[0]}/${parts[1]}@${wr.slice(at + 1)}`;
  }
  const ctx = githubContext(internal, true, 'predicate.buildDefinition.internalParameters');
  const invocationId = str(meta.invocationId, 'predicate.runDetails.metadata.invocationId', false);
  const startedOn = str(meta.startedOn, 'predicate.runDetails.metadata.startedOn', false);
  const finishedOn = str(meta.finishedOn, 'predicate.runDetails.metadata.finishedOn', false);
  return {
    predicateType: SLSA_PROVENANCE_V1,
    builderId,
    buildType,
    ...source,
    ...(triggerUri ? { triggerUri } : {}),
    ...refFields(ctx, source.sourceRef, 'predicate.buildDefinition.internalParameters'),
    ...(invocationId ? { invocationId } : {}),
    ...(startedOn ? { startedOn } : {}),
    ...(finishedOn ? { finishedOn } : {}),
    byproducts: descriptorList(rd.byproducts, 'predicate.runDetails.byproducts'),
    subjects,
  };
}

function readV02(p: Obj, subjects: ResourceDescriptor[]): ProvenanceSummary {
  const builder = obj(p.builder, 'predicate.builder', true)!;
  const builderId = str(builder.id, 'predicate.builder.id', true)!;
  const buildType = str(p.buildType, 'predicate.buildType', true)!;
  const inv = obj(p.invocation, 'predicate.invocation', false) ?? {};
  const config = obj(inv.configSource, 'predicate.invocation.configSource', false);
  const materials = descriptorList(p.materials, 'predicate.materials');
  const meta = obj(p.metadata, 'predicate.metadata', false) ?? {};

  const triggerUri = config ? str(config.uri, 'predicate.invocation.configSource.uri', false) : undefined;
  // Source: materials[0] as slsa-verifier reads it; the configSource when there are no materials
  // (the GitLab runner's v0.2 statements list none).
  const m0 = materials[0];
  const source = m0
    ? sourceFields(
        str(m0.uri, 'predicate.materials[0].uri', true),
        m0.digest,
        'predicate.materials[0]',
        buildType,
      )
    : sourceFields(triggerUri, config?.digest, 'predicate.invocation.configSource', buildType);
  const env = obj(inv.environment, 'predicate.invocation.environment', false);
  const ctx = githubContext(env, false, 'predicate.invocation.environment');

  // in-toto-golang writes buildInvocationID; the spec spells it buildInvocationId.
  const invocationId =
    str(meta.buildInvocationId, 'predicate.metadata.buildInvocationId', false) ??
    str(meta.buildInvocationID, 'predicate.metadata.buildInvocationID', false);
  const startedOn = str(meta.buildStartedOn, 'predicate.metadata.buildStartedOn', false);
  const finishedOn = str(meta.buildFinishedOn, 'predicate.metadata.buildFinishedOn', false);
  return {
    predicateType: SLSA_PROVENANCE_V02,
    builderId,
    buildType,
    ...source,
    ...(triggerUri ? { triggerUri } : {}),
    ...refFields(ctx, source.sourceRef, 'predicate.invocation.environment'),
    ...(invocationId ? { invocationId } : {}),
    ...(startedOn ? { startedOn } : {}),
    ...(finishedOn ? { finishedOn } : {}),
    byproducts: [],
    subjects,
  };
}

/**
 * The provenance of a (verified) statement as a summary; PROVENANCE_INVALID naming the field when
 * the predicate is not SLSA v1 / v0.2 provenance or is malformed.
 */
export function readProvenance(statement: Statement): ProvenanceSummary {
  const p = statement.predicate;
  if (statement.predicateType !== SLSA_PROVENANCE_V1 && statement.predicateType !== SLSA_PROVENANCE_V02) {
    throw invalid(
      'predicateType',
      `is ${JSON.stringify(statement.predicateType)}, not ${SLSA_PROVENANCE_V1} or ${SLSA_PROVENANCE_V02}`,
    );
  }
  if (!isObj(p)) throw invalid('predicate', 'is missing or not an object');
  const subjects = statement.subject;
  return statement.predicateType === SLSA_PROVENANCE_V1 ? readV1(p, subjects) : readV02(p, subjects);
}
