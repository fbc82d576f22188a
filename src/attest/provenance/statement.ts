/** The unsigned in-toto Statement v1 that carries a SLSA v1 provenance predicate. */
import { makeStatement, type ResourceDescriptor, type Statement } from '../statement.ts';
import { type ProvenanceInput, slsaProvenanceV1 } from './build.ts';
import { SLSA_PROVENANCE_V1, type SlsaProvenanceV1 } from './types.ts';

export function provenanceStatement(
  subjects: ResourceDescriptor[],
  input: ProvenanceInput,
): Statement<SlsaProvenanceV1> {
  return makeStatement(subjects, SLSA_PROVENANCE_V1, slsaProvenanceV1(input));
}
