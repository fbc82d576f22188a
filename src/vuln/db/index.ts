/** The OSV advisory database: import, update, open, status. */
export {
  type CheckedSource,
  failedSource,
  type ImportInput,
  type ImportOptions,
  type ImportProblem,
  type ImportProgress,
  type ImportResult,
  type ImportSource,
  importOsv,
} from './import.ts';
export { identifyDbFile, openAdvisoryDb } from './open.ts';
export { bareEcosystem, indexName, SCHEMA_VERSION } from './schema.ts';
export {
  checkFreshness,
  type DbStatus,
  DEFAULT_MAX_AGE_DAYS,
  dbStatus,
  defaultDbPath,
  lastChecked,
} from './status.ts';
export type { AdvisoryDb, DbMetadata, DbSource, RecordsForOptions } from './types.ts';
export {
  checkEcosystemName,
  DEFAULT_OSV_BASE_URL,
  type EcosystemUpdate,
  type UpdateOptions,
  type UpdateProgress,
  type UpdateResult,
  updateDb,
  zipUrl,
} from './update.ts';
