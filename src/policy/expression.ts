/**
 * One CEL expression over a statement: parsed and checked once, evaluated many times.
 *
 * @bufbuild/cel does not export its type checker, and our variables are all `dyn` anyway
 * (decoded JSON), so the static checks here are the ones that catch policy typos before a
 * statement is ever seen: unknown variables, unknown functions, and expressions that can only
 * yield a non-bool (`size(subject)`, `"a" + "b"`). Everything else is decided at evaluation,
 * where an error is a failed rule, never a pass.
 */
import {
  type CelEnv,
  type CelInput,
  CelScalar,
  celEnv,
  isCelError,
  isCelList,
  isCelMap,
  isCelUint,
  parse,
  plan,
} from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

type ParsedExpr = ReturnType<typeof parse>;
type Expr = ParsedExpr['expr'];

export const POLICY_VARIABLES = ['statement', 'predicateType', 'predicate', 'subject'] as const;
export type PolicyVariable = (typeof POLICY_VARIABLES)[number];
export type PolicyBindings = Record<PolicyVariable, CelInput>;

/** Type names CEL lets an expression use as values (`type(x) == string`). */
const TYPE_IDENTS = new Set([
  'bool',
  'bytes',
  'double',
  'int',
  'list',
  'map',
  'null_type',
  'string',
  'type',
  'uint',
]);

/** Operators the planner implements itself rather than through the function registry. */
const PLANNER_OPERATORS = new Set([
  '_[_]',
  '_[?_]',
  '_?._',
  '_?_:_',
  '_&&_',
  '_||_',
  '@not_strictly_false',
  '__not_strictly_false__',
]);

const BOOL_OPERATORS = new Set([
  '_&&_',
  '_||_',
  '@not_strictly_false',
  '__not_strictly_false__',
  '!_',
  '_==_',
  '_!=_',
  '_<_',
  '_<=_',
  '_>_',
  '_>=_',
  '@in',
]);

type Vars = Record<PolicyVariable, typeof CelScalar.DYN>;

// `matches()` runs on RE2 (the library's default), so hostile statement text cannot make a
// policy regex backtrack for ever.
const ENV: CelEnv<Vars> = celEnv<Vars>({
  variables: Object.fromEntries(POLICY_VARIABLES.map((v) => [v, CelScalar.DYN])) as Vars,
  funcs: strings,
});

/** Where a problem is, 1-based, within the expression text. */
export interface ExpressionPosition {
  line: number;
  column: number;
}

/** A compile problem; the caller adds the file and rule to the message. */
export class ExpressionError extends Error {
  readonly position: ExpressionPosition | undefined;
  constructor(message: string, position?: ExpressionPosition) {
    super(message);
    this.name = 'ExpressionError';
    this.position = position;
  }
}

export type Outcome =
  | { kind: 'true' }
  | { kind: 'false' }
  | { kind: 'error'; message: string; position: ExpressionPosition | undefined }
  | { kind: 'not-bool'; type: string };

export interface CompiledExpression {
  readonly text: string;
  evaluate(bindings: PolicyBindings): Outcome;
}

export function positionOf(text: string, offset: number): ExpressionPosition {
  const before = text.slice(0, Math.max(0, offset));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

/** Parse, check and plan one expression; throws ExpressionError. */
export function compileExpression(text: string): CompiledExpression {
  if (text.trim() === '') throw new ExpressionError('the expression is empty');
  let parsed: ParsedExpr;
  try {
    parsed = parse(text);
  } catch (e) {
    throw syntaxError(e);
  }
  const at = (id: bigint): ExpressionPosition | undefined => {
    const offset = parsed.sourceInfo?.positions[String(id)];
    return offset === undefined ? undefined : positionOf(text, offset);
  };
  checkNames(parsed.expr, new Set(), at);
  const types = resultTypes(parsed.expr, new Map());
  if (!types.has('bool') && !types.has('dyn')) {
    throw new ExpressionError(
      `the expression yields ${[...types].join(' or ')}, not bool`,
      at(parsed.expr.id),
    );
  }
  let run: ReturnType<typeof plan<Vars>>;
  try {
    run = plan(ENV, parsed);
  } catch (e) {
    throw new ExpressionError(e instanceof Error ? e.message : String(e));
  }
  return {
    text,
    evaluate(bindings) {
      let r: unknown;
      try {
        r = run(bindings);
      } catch (e) {
        // The library promises results, not throws; anything thrown still fails the rule.
        return { kind: 'error', message: e instanceof Error ? e.message : String(e), position: undefined };
      }
      if (isCelError(r)) {
        const position = r.exprId === undefined ? undefined : at(r.exprId);
        return { kind: 'error', message: friendlier(r.message), position };
      }
      if (r === true) return { kind: 'true' };
      if (r === false) return { kind: 'false' };
      return { kind: 'not-bool', type: describe(r) };
    },
  };
}

function syntaxError(e: unknown): ExpressionError {
  const loc = (e as { location?: { start?: { line?: unknown; column?: unknown } } }).location?.start;
  const raw = (e as { rawMessage?: unknown }).rawMessage;
  const message = typeof raw === 'string' ? raw : e instanceof Error ? e.message : String(e);
  const position =
    typeof loc?.line === 'number' && typeof loc.column === 'number'
      ? { line: loc.line, column: loc.column }
      : undefined;
  return new ExpressionError(`syntax error: ${message}`, position);
}

/** Every identifier must be a policy variable, a comprehension variable or a type name; every function must exist. */
function checkNames(
  e: Expr | undefined,
  scope: ReadonlySet<string>,
  at: (id: bigint) => ExpressionPosition | undefined,
): void {
  if (e === undefined) return;
  const k = e.exprKind;
  switch (k.case) {
    case 'identExpr': {
      const name = k.value.name;
      const known =
        (POLICY_VARIABLES as readonly string[]).includes(name) || scope.has(name) || TYPE_IDENTS.has(name);
      if (!known) {
        throw new ExpressionError(
          `unknown variable "${name}" (policies see ${POLICY_VARIABLES.join(', ')})`,
          at(e.id),
        );
      }
      return;
    }
    case 'selectExpr':
      checkNames(k.value.operand, scope, at);
      return;
    case 'callExpr': {
      const { function: fn, target, args } = k.value;
      if (!PLANNER_OPERATORS.has(fn) && ENV.funcs.find(fn) === undefined) {
        const qualified = target ? qualifiedName(target) : undefined;
        if (qualified === undefined || ENV.funcs.find(`${qualified}.${fn}`) === undefined) {
          throw new ExpressionError(`unknown function "${fn}"`, at(e.id));
        }
        for (const a of args) checkNames(a, scope, at);
        return;
      }
      checkNames(target, scope, at);
      for (const a of args) checkNames(a, scope, at);
      return;
    }
    case 'listExpr':
      for (const el of k.value.elements) checkNames(el, scope, at);
      return;
    case 'structExpr':
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === 'mapKey') checkNames(entry.keyKind.value, scope, at);
        checkNames(entry.value, scope, at);
      }
      return;
    case 'comprehensionExpr': {
      const c = k.value;
      checkNames(c.iterRange, scope, at);
      checkNames(c.accuInit, scope, at);
      const inner = new Set([...scope, c.iterVar, c.accuVar, ...(c.iterVar2 ? [c.iterVar2] : [])]);
      checkNames(c.loopCondition, inner, at);
      checkNames(c.loopStep, inner, at);
      checkNames(c.result, new Set([...scope, c.accuVar]), at);
      return;
    }
    case 'constExpr':
    case undefined:
      return;
  }
}

function qualifiedName(e: Expr): string | undefined {
  if (e.exprKind.case === 'identExpr') return e.exprKind.value.name;
  if (e.exprKind.case === 'selectExpr') {
    const op = e.exprKind.value.operand;
    const left = op ? qualifiedName(op) : undefined;
    return left === undefined ? undefined : `${left}.${e.exprKind.value.field}`;
  }
  return undefined;
}

/** The type names an expression can yield; `dyn` when it depends on the statement. */
function resultTypes(e: Expr | undefined, accumulators: ReadonlyMap<string, Set<string>>): Set<string> {
  const dyn = new Set(['dyn']);
  if (e === undefined) return dyn;
  const k = e.exprKind;
  switch (k.case) {
    case 'constExpr': {
      const c = k.value.constantKind.case;
      const names: Record<string, string> = {
        boolValue: 'bool',
        stringValue: 'string',
        bytesValue: 'bytes',
        int64Value: 'int',
        uint64Value: 'uint',
        doubleValue: 'double',
        nullValue: 'null',
      };
      return new Set([(c && names[c]) ?? 'dyn']);
    }
    case 'listExpr':
      return new Set(['list']);
    case 'structExpr':
      return new Set([k.value.messageName || 'map']);
    case 'identExpr':
      return accumulators.get(k.value.name) ?? dyn;
    case 'selectExpr':
      return k.value.testOnly ? new Set(['bool']) : dyn;
    case 'comprehensionExpr': {
      const c = k.value;
      const acc = new Map(accumulators);
      acc.set(c.accuVar, resultTypes(c.accuInit, accumulators));
      return resultTypes(c.result, acc);
    }
    case 'callExpr': {
      const fn = k.value.function;
      if (BOOL_OPERATORS.has(fn)) return new Set(['bool']);
      if (fn === '_?_:_') {
        const [, a, b] = k.value.args;
        return new Set([...resultTypes(a, accumulators), ...resultTypes(b, accumulators)]);
      }
      const group = ENV.funcs.find(fn);
      if (group === undefined) return dyn;
      const out = new Set<string>();
      for (const f of group) out.add(f.result.name);
      return out.size === 0 ? dyn : out;
    }
    case undefined:
      return dyn;
  }
}

/** cel-go says "no such key" for a missing map key; policy authors know that wording. */
function friendlier(message: string): string {
  return message.replace(/^field not found: /, 'no such key: ');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'double';
  if (typeof v === 'string') return 'string';
  if (v instanceof Uint8Array) return 'bytes';
  if (isCelList(v)) return 'list';
  if (isCelMap(v)) return 'map';
  if (isCelUint(v)) return 'uint';
  return typeof v === 'object' ? 'object' : typeof v;
}
