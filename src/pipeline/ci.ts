/** What the CI environment says about the sources being built (for labels and provenance). */
import { type CiEnvironment, detectCiEnvironment } from '../attest/provenance/ci.ts';
import type { SourceFacts } from './image-config.ts';

/**
 * The repository URL and commit of a GitHub Actions or GitLab CI job; undefined elsewhere.
 * Throws PROVENANCE_INVALID naming the variable when a CI job's environment is incomplete.
 */
export function ciSourceFacts(env: NodeJS.ProcessEnv): SourceFacts | undefined {
  return sourceOf(detectCiEnvironment(env));
}

export function sourceOf(ci: CiEnvironment | undefined): SourceFacts | undefined {
  if (ci === undefined) return undefined;
  switch (ci.kind) {
    case 'github':
      return { source: `${ci.serverUrl}/${ci.repository}`, revision: ci.sha };
    case 'gitlab':
      return { source: ci.projectUrl, revision: ci.commitSha };
  }
}
