/** Every stage, by name: the compiler checks that each of STAGES has its runner. */
import type { StageContext } from '../context.ts';
import type { Stage } from '../schema.ts';
import type { StageResult } from '../types.ts';
import { buildStage } from './build.ts';
import { flattenStage } from './flatten.ts';
import { hardenStage } from './harden.ts';
import { provenanceStage } from './provenance.ts';
import { pushStage } from './push.ts';
import { sbomStage } from './sbom.ts';
import { scanStage } from './scan.ts';
import { signStage } from './sign.ts';
import { testStage } from './test.ts';

export type StageRunner = (ctx: StageContext) => Promise<StageResult>;

export const STAGE_RUNNERS: { readonly [S in Stage]: StageRunner } = {
  build: buildStage,
  harden: hardenStage,
  flatten: flattenStage,
  test: testStage,
  sbom: sbomStage,
  scan: scanStage,
  provenance: provenanceStage,
  sign: signStage,
  push: pushStage,
};
