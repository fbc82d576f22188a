/** Static image tests: public API (re-exports only). */
export { loadStructureTest, parseStructureTest } from './cst/parse.ts';
export type { StructureTest } from './cst/types.ts';
export { formatReport, REPORT_FORMATS, type ReportFormat } from './report.ts';
export {
  type CheckSummary,
  type ImageCheckOptions,
  runChecks,
  runImageChecks,
  summariseChecks,
} from './run.ts';
export {
  BUILTIN_CHECKS,
  type BuiltinCheck,
  type CheckResult,
  type CheckStatus,
  type CheckTarget,
  type DeclaredFile,
  type ImageTestSpec,
} from './types.ts';
export { resolveUser, type UserResolution } from './user.ts';
