/**
 * Policy files, read strictly (a misspelt key must not silently drop a rule):
 *
 * - `*.cel`: one boolean CEL expression (`//` comments allowed);
 * - `*.yaml`, `*.yml`, `*.json`:
 *
 *       apiVersion: vouch.dev/v1
 *       kind: AttestationPolicy
 *       rules:
 *         - name: builder
 *           expression: predicate.runDetails.builder.id == "https://github.com/o/r/..."
 *           message: built by the release workflow   # optional
 *
 * Any other name is read as a document when it parses as a YAML mapping, else as an expression.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { VouchError } from '../errors.ts';

export const POLICY_API_VERSION = 'vouch.dev/v1';
export const POLICY_KIND = 'AttestationPolicy';

const TOP_KEYS = ['apiVersion', 'kind', 'rules'] as const;
const RULE_KEYS = ['name', 'expression', 'message'] as const;

export interface RuleSource {
  name: string;
  expression: string;
  message: string | undefined;
  /** 1-based line in the file where the rule's expression starts (documents only). */
  line: number | undefined;
}

export type PolicyText =
  | { kind: 'expression'; expression: string }
  | { kind: 'document'; rules: RuleSource[] };

export const DOCUMENT_HINT = `a policy document is {apiVersion: ${POLICY_API_VERSION}, kind: ${POLICY_KIND}, rules: [{name, expression, message?}]}`;

export function invalidPolicy(where: string, problem: string, hint?: string): VouchError {
  return new VouchError('POLICY_INVALID', `${where}: ${problem}`, hint ? { hint } : {});
}

/** Decide the file's form and read it. */
export function readPolicyText(text: string, source: string): PolicyText {
  const body = text.replace(/^\uFEFF/, '');
  if (/\.cel$/i.test(source)) return { kind: 'expression', expression: body };
  if (/\.(ya?ml|json)$/i.test(source)) return { kind: 'document', rules: readDocument(body, source) };
  const doc = parseDocument(body);
  if (doc.errors.length === 0 && isMap(doc.contents)) {
    return { kind: 'document', rules: readDocument(body, source) };
  }
  return { kind: 'expression', expression: body };
}

function readDocument(text: string, source: string): RuleSource[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const lineOf = (n: Node | null | undefined): number | undefined =>
    n?.range ? lines.linePos(n.range[0]).line : undefined;
  const at = (n: Node | null | undefined): string => {
    const l = lineOf(n);
    return l === undefined ? source : `${source}:${l}`;
  };
  const firstError = doc.errors[0];
  if (firstError) {
    const where = `${source}:${lines.linePos(firstError.pos[0]).line}`;
    throw invalidPolicy(where, `not valid YAML/JSON: ${firstError.message.split('\n')[0]}`);
  }
  const top = doc.contents;
  if (!isMap(top)) throw invalidPolicy(source, 'the policy document is not a mapping', DOCUMENT_HINT);
  checkKeys(top, TOP_KEYS, 'the policy document', at);
  const apiVersion = stringField(top, 'apiVersion', 'the policy document', at, true);
  if (apiVersion !== POLICY_API_VERSION) {
    throw invalidPolicy(
      at(top.get('apiVersion', true) as Node),
      `apiVersion is "${apiVersion}", expected "${POLICY_API_VERSION}"`,
    );
  }
  const kind = stringField(top, 'kind', 'the policy document', at, true);
  if (kind !== POLICY_KIND) {
    throw invalidPolicy(at(top.get('kind', true) as Node), `kind is "${kind}", expected "${POLICY_KIND}"`);
  }
  const rulesNode = top.get('rules', true) as Node | undefined;
  if (rulesNode === undefined || (isScalar(rulesNode) && rulesNode.value === null)) {
    throw invalidPolicy(source, 'the policy has no rules', DOCUMENT_HINT);
  }
  if (!isSeq(rulesNode)) throw invalidPolicy(at(rulesNode), 'rules is not a list', DOCUMENT_HINT);
  if (rulesNode.items.length === 0)
    throw invalidPolicy(at(rulesNode), 'the policy has no rules', DOCUMENT_HINT);
  const out: RuleSource[] = [];
  const names = new Set<string>();
  rulesNode.items.forEach((item, i) => {
    const what = `rules[${i}]`;
    if (!isMap(item)) throw invalidPolicy(at(item as Node), `${what} is not a mapping`, DOCUMENT_HINT);
    checkKeys(item, RULE_KEYS, what, at);
    const name = stringField(item, 'name', what, at, true)!;
    if (name.trim() === '') throw invalidPolicy(at(item), `${what} has an empty name`);
    if (names.has(name)) throw invalidPolicy(at(item), `two rules are named "${name}"`);
    names.add(name);
    const ruleWhat = `rule "${name}"`;
    const expression = stringField(item, 'expression', ruleWhat, at, true)!;
    const message = stringField(item, 'message', ruleWhat, at, false);
    out.push({ name, expression, message, line: lineOf(item.get('expression', true) as Node) });
  });
  return out;
}

function checkKeys(
  map: YAMLMap,
  allowed: readonly string[],
  what: string,
  at: (n: Node | null | undefined) => string,
): void {
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof key !== 'string' || !allowed.includes(key)) {
      const shown = typeof key === 'string' ? `"${key}"` : 'a non-string key';
      throw invalidPolicy(
        at(pair.key as Node),
        `${what} has unknown key ${shown} (allowed: ${allowed.join(', ')})`,
        DOCUMENT_HINT,
      );
    }
  }
}

function stringField(
  map: YAMLMap,
  key: string,
  what: string,
  at: (n: Node | null | undefined) => string,
  required: boolean,
): string | undefined {
  const node = map.get(key, true) as Node | undefined;
  if (node === undefined || (isScalar(node) && node.value === null)) {
    if (required) throw invalidPolicy(at(map), `${what} has no ${key}`, DOCUMENT_HINT);
    return undefined;
  }
  if (!isScalar(node) || typeof node.value !== 'string') {
    throw invalidPolicy(at(node), `${what}: ${key} must be a string`, DOCUMENT_HINT);
  }
  return node.value;
}
