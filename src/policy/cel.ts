/**
 * Attestation policies as CEL expressions over a decoded in-toto statement, like cosign's
 * `verify-attestation --policy` (whose input is the whole statement). Variables: `statement`,
 * `predicateType`, `predicate`, `subject`. File formats: see document.ts.
 *
 * A policy holds only when every rule yields `true`. An evaluation error (a missing key, a
 * type mismatch) is a violation carrying the error text, never a pass. Problems with the
 * policy itself (syntax, unknown variable or function, a rule that cannot yield a bool) are
 * POLICY_INVALID naming the file, the rule and the position.
 */
import { readFile } from 'node:fs/promises';
import { VouchError } from '../errors.ts';
import { invalidPolicy, type RuleSource, readPolicyText } from './document.ts';
import {
  type CompiledExpression,
  compileExpression,
  ExpressionError,
  type ExpressionPosition,
} from './expression.ts';
import { statementBindings } from './input.ts';

export { POLICY_API_VERSION, POLICY_KIND } from './document.ts';
export { POLICY_VARIABLES } from './expression.ts';

/** Largest policy file read; policies are a few rules. */
const MAX_POLICY_BYTES = 1024 * 1024;

export interface PolicyViolation {
  /** The rule's name (or `policy` for a single-expression file). */
  rule: string;
  /**
   * The rule's message, or the expression that evaluated to false; for an evaluation error
   * followed by `[error text]`.
   */
  message: string;
  /** Set when the rule could not be evaluated (e.g. `no such key: builder`): the CEL error and where. */
  error?: string;
}

export interface CompiledPolicy {
  /** Where the policy came from, for messages. */
  source: string;
  /** Rule names, in file order. */
  rules: readonly string[];
  /**
   * Evaluate every rule against one decoded statement (variables: `statement`, `predicateType`,
   * `predicate`, `subject`). An error inside an expression (missing field, wrong type) counts as
   * a violation, never as a pass. Throws POLICY_INVALID when a rule yields a non-bool, and
   * STATEMENT_INVALID when `statement` is not a JSON object.
   */
  evaluate(statement: unknown): PolicyViolation[];
}

interface CompiledRule {
  name: string;
  message: string | undefined;
  expr: CompiledExpression;
  where: string;
}

/** Name of the only rule of a `.cel` file. */
export const SINGLE_RULE = 'policy';

/** Compile a policy file's text (see document.ts for the formats); POLICY_INVALID names the rule and position. */
export function compilePolicy(text: string, source: string): CompiledPolicy {
  const read = readPolicyText(text, source);
  const rules: CompiledRule[] =
    read.kind === 'expression'
      ? [
          compileRule(
            { name: SINGLE_RULE, expression: read.expression, message: undefined, line: 1 },
            source,
            true,
          ),
        ]
      : read.rules.map((r) => compileRule(r, source, false));
  return {
    source,
    rules: rules.map((r) => r.name),
    evaluate(statement) {
      const bindings = statementBindings(statement);
      const out: PolicyViolation[] = [];
      for (const r of rules) {
        const o = r.expr.evaluate(bindings);
        switch (o.kind) {
          case 'true':
            break;
          case 'false':
            out.push({ rule: r.name, message: r.message ?? `expression is false: ${oneLine(r.expr.text)}` });
            break;
          case 'error': {
            const error = `${o.message}${o.position ? ` (at ${o.position.line}:${o.position.column} of the expression)` : ''}`;
            // The error text goes into the message too: callers that print only messages must show it.
            const base = r.message ?? `expression could not be evaluated: ${oneLine(r.expr.text)}`;
            out.push({ rule: r.name, message: `${base} [${error}]`, error });
            break;
          }
          case 'not-bool':
            throw invalidPolicy(
              r.where,
              `the expression yielded ${o.type}, not bool`,
              'a rule must be a condition',
            );
        }
      }
      return out;
    },
  };
}

/** Read and compile a policy file (`.cel`, `.yaml`, `.yml`, `.json`). */
export async function loadPolicyFile(path: string): Promise<CompiledPolicy> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new VouchError('POLICY_INVALID', `cannot read policy file ${path}${code ? ` (${code})` : ''}`, {
      cause: e,
    });
  }
  if (bytes.byteLength > MAX_POLICY_BYTES) {
    throw new VouchError('POLICY_INVALID', `policy file ${path} is over ${MAX_POLICY_BYTES} bytes`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    throw new VouchError('POLICY_INVALID', `policy file ${path} is not UTF-8 text`, { cause: e });
  }
  return compilePolicy(text, path);
}

function compileRule(r: RuleSource, source: string, wholeFile: boolean): CompiledRule {
  const ruleWhere = (p?: ExpressionPosition): string => {
    if (wholeFile) return p ? `${source}:${p.line}:${p.column}` : source;
    const file = r.line === undefined ? source : `${source}:${r.line}`;
    const pos = p ? ` at ${p.line}:${p.column} of the expression` : '';
    return `${file}: rule "${r.name}"${pos}`;
  };
  try {
    return { name: r.name, message: r.message, expr: compileExpression(r.expression), where: ruleWhere() };
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    throw invalidPolicy(ruleWhere(e.position), e.message);
  }
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 197)}...` : t;
}
