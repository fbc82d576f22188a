/** STUB (being written): attestation policies as CEL expressions over an in-toto statement. */
import { VouchError } from '../errors.ts';

export interface PolicyViolation {
  /** The rule's name (or `policy` for a single-expression file). */
  rule: string;
  /** The rule's message, or the expression that evaluated to false. */
  message: string;
}

export interface CompiledPolicy {
  /** Where the policy came from, for messages. */
  source: string;
  /**
   * Evaluate every rule against one decoded statement (variables: `statement`, `predicateType`,
   * `predicate`, `subject`). An error inside an expression (missing field, wrong type) counts as
   * a violation, never as a pass.
   */
  evaluate(statement: unknown): PolicyViolation[];
}

/** Compile a policy file's text (see cel.ts docs for the format); POLICY_INVALID names the rule and position. */
export function compilePolicy(_text: string, _source: string): CompiledPolicy {
  throw new VouchError('NOT_IMPLEMENTED', 'compilePolicy');
}
