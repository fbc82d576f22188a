/** The CVE gate: policy, exceptions (trivy ignore files), OpenVEX; pure except load.ts. */
export { parseDate, parseIgnoreFile, parseTrivyIgnore, parseTrivyIgnoreYaml } from './ignorefile.ts';
export { type LoadedFile, loadIgnoreFile, loadVexFiles, MAX_POLICY_FILE_BYTES } from './load.ts';
export { exceptionMatches, pathMatches, purlMatches, tryParsePurl } from './match.ts';
export {
  compareFindings,
  defaultPolicy,
  evaluateGate,
  ignoredStatuses,
  isActive,
  NO_TARGET,
  severityCounts,
  sortFindings,
} from './policy.ts';
export { gateTargetFromSbom } from './target.ts';
export * from './types.ts';
export { describeStatement, parseOpenVex, vexStatementFor } from './vex.ts';
