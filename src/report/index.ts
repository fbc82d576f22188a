/** Report writers over a gate result: trivy-compatible JSON, a terminal table, SARIF 2.1.0. */
export * from './context.ts';
export { SARIF_SCHEMA, SARIF_VERSION, serializeSarif, toSarif } from './sarif.ts';
export { boxTable, toTable } from './table.ts';
export { compareTargets, osFamily, osTarget, type ResultClass, type TargetKey, targetOf } from './targets.ts';
export {
  SEVERITY_NUMBER,
  serializeTrivyJson,
  TRIVY_SCHEMA_VERSION,
  toTrivyJson,
  vulnerabilityJson,
} from './trivy-json.ts';
