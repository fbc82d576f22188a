/**
 * What the SLSA provenance must say about the source and the builder: slsa-verifier's flags,
 * shared by verify-provenance and verify-release, and their checks (USAGE errors before any I/O).
 */
import { splitGitUri } from '../../attest/provenance/read.ts';
import { VouchError } from '../../errors.ts';
import { normalizeGitUri, versionedTagMatches } from '../../verify/provenance.ts';
import type { ProvenanceRequirements } from '../../verify/provenance-verify.ts';
import type { OptionSpec } from '../main.ts';

export const sourceOptions = {
  'source-uri': { type: 'string', description: 'required source repository, e.g. github.com/o/r' },
  'source-tag': { type: 'string', description: 'required tag the build ran for, e.g. v1.2.3' },
  'source-branch': { type: 'string', description: 'required branch, e.g. main' },
  'source-versioned-tag': {
    type: 'string',
    description: 'required semver tag: vX matches vX.*.*, vX.Y matches vX.Y.*',
  },
  'builder-id': { type: 'string', description: 'required builder id NAME[@VERSION]' },
} as const satisfies Record<string, OptionSpec>;

export const SOURCE_FLAGS = Object.keys(sourceOptions) as (keyof typeof sourceOptions)[];

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The source flags as requirements. `missing` is the message when --source-uri is absent (the
 * commands differ in what else the user may do).
 */
export function sourceRequirements(
  values: Record<string, unknown>,
  command: string,
  missing: string,
): ProvenanceRequirements {
  const usage = (m: string) => new VouchError('USAGE', m, { hint: `see vouch ${command} --help` });
  const sourceUri = str(values['source-uri']);
  if (!sourceUri) throw usage(missing);
  if (splitGitUri(normalizeGitUri(sourceUri)).ref !== undefined) {
    throw usage(`--source-uri ${sourceUri} must not name a ref; use --source-tag or --source-branch`);
  }
  const sourceTag = str(values['source-tag']);
  const sourceBranch = str(values['source-branch']);
  const sourceVersionedTag = str(values['source-versioned-tag']);
  const builderId = str(values['builder-id']);
  if (sourceTag !== undefined && sourceVersionedTag !== undefined) {
    throw usage('--source-tag and --source-versioned-tag exclude each other');
  }
  if (sourceVersionedTag !== undefined) versionedTagMatches('v0', sourceVersionedTag); // USAGE unless semver
  if (builderId !== undefined && (builderId === '' || builderId.split('@').length > 2)) {
    throw usage(`--builder-id ${JSON.stringify(builderId)} is not NAME[@VERSION]`);
  }
  return {
    sourceUri,
    ...(sourceTag !== undefined ? { sourceTag } : {}),
    ...(sourceBranch !== undefined ? { sourceBranch } : {}),
    ...(sourceVersionedTag !== undefined ? { sourceVersionedTag } : {}),
    ...(builderId !== undefined ? { builderId } : {}),
  };
}
