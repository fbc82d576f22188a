/**
 * SPDX license expressions (SPDX 2.3 Annex D) as both SBOM formats need them: is a declared
 * license a listed SPDX id, a valid compound expression, or free text?
 *
 * The list of ids is the one CycloneDX validates `license.id` against (schemas/cyclonedx/
 * spdx.schema.json: SPDX license list ids and exception ids), so an `id` vouch writes always
 * passes the schema. Ids are matched case-insensitively and written in the list's spelling;
 * operators are accepted in any case and written as AND / OR / WITH.
 */
import spdxList from './schemas/cyclonedx/spdx.schema.json' with { type: 'json' };

const CANONICAL_IDS: ReadonlyMap<string, string> = new Map(spdxList.enum.map((id) => [id.toLowerCase(), id]));

/** `3.29` from the list's `$comment` ("v1.1-3.29.0"), for SPDX's creationInfo.licenseListVersion. */
export const LICENSE_LIST_VERSION: string | undefined = /-(\d+\.\d+)(?:\.\d+)?$/.exec(spdxList.$comment)?.[1];

/** The list's spelling of an SPDX license or exception id, or undefined when it is not on the list. */
export function canonicalLicenseId(id: string): string | undefined {
  return CANONICAL_IDS.get(id.toLowerCase());
}

export type LicenseKind =
  /** One id from the SPDX list (`MIT`, `GPL-2.0-or-later`). */
  | { kind: 'id'; id: string }
  /**
   * A valid expression that is not a single listed id: a compound (`MIT OR Apache-2.0`,
   * `GPL-2.0-only WITH Classpath-exception-2.0`), an `id+`, or a `LicenseRef-…`.
   * `top` is the operator at the top level ('AND' / 'OR') or 'simple' for one term.
   */
  | { kind: 'expression'; expression: string; top: 'AND' | 'OR' | 'simple' }
  /** Anything else: a license name or text (`GPL`, `Artistic or GPL-1+`, `BSD-like`). */
  | { kind: 'text'; text: string };

/** Classify one declared license (one entry of Package.licenses). */
export function classifyLicense(license: string): LicenseKind {
  const parsed = parseExpression(license.trim());
  if (parsed === undefined) return { kind: 'text', text: license };
  const node = unwrap(parsed.node);
  if (node.kind === 'id' && !node.plus && !node.ref) return { kind: 'id', id: node.id };
  const top = node.kind === 'and' ? 'AND' : node.kind === 'or' ? 'OR' : 'simple';
  return { kind: 'expression', expression: print(node), top };
}

/** Is this a valid SPDX license expression (over listed ids and LicenseRef-/DocumentRef- refs)? */
export function isLicenseExpression(s: string): boolean {
  return parseExpression(s.trim()) !== undefined;
}

/**
 * The expression in canonical spelling (listed ids as the list spells them, upper-case
 * operators, single spaces, no parentheses around the whole), or undefined when invalid.
 */
export function normalizeLicenseExpression(s: string): string | undefined {
  const parsed = parseExpression(s.trim());
  return parsed === undefined ? undefined : print(unwrap(parsed.node));
}

/**
 * The top-level AND operands of an expression, each in canonical spelling: `MIT AND
 * (GPL-2.0-only OR BSD-3-Clause)` gives `MIT` and `GPL-2.0-only OR BSD-3-Clause`;
 * `(MIT AND BSD-3-Clause)` is one operand, `MIT AND BSD-3-Clause`, because its parentheses
 * group it. Undefined when `s` is not a valid expression.
 */
export function splitConjuncts(s: string): string[] | undefined {
  const parsed = parseExpression(s.trim());
  if (parsed === undefined) return undefined;
  const out: Node[] = [];
  const walk = (n: Node): void => {
    if (n.kind === 'and') {
      walk(n.left);
      walk(n.right);
    } else out.push(n);
  };
  walk(parsed.node);
  return out.map((n) => print(unwrap(n)));
}

/**
 * Join several licenses (each a valid expression) into one meaning "all of them", so that
 * splitConjuncts gives each back: ['MIT', 'A OR B'] → 'MIT AND (A OR B)', and a lone
 * 'A AND B' → '(A AND B)'. Entries that are not valid expressions are the caller's to replace
 * (SPDX: with a LicenseRef-) before joining.
 */
export function joinConjuncts(expressions: readonly string[]): string {
  return expressions
    .map((e) => {
      const p = parseExpression(e.trim());
      if (!p) return e;
      const n = unwrap(p.node);
      const wrap = n.kind === 'and' || (n.kind === 'or' && expressions.length > 1);
      return wrap ? `(${print(n)})` : print(n);
    })
    .join(' AND ');
}

// --- parser -------------------------------------------------------------------------------

type Node =
  | { kind: 'id'; id: string; plus: boolean; ref: boolean }
  | { kind: 'with'; license: Node & { kind: 'id' }; exception: string }
  | { kind: 'and' | 'or'; left: Node; right: Node }
  /** Parentheses as written: kept when printing, so grouping survives a round trip. */
  | { kind: 'group'; inner: Node };

type Token = { t: '(' | ')' | 'AND' | 'OR' | 'WITH' } | { t: 'term'; v: string };

const TERM = /^[A-Za-z0-9.+:-]+$/;
const IDSTRING = /^[A-Za-z0-9.-]+$/;

function tokenize(s: string): Token[] | undefined {
  const out: Token[] = [];
  for (const raw of s.replace(/([()])/g, ' $1 ').split(/\s+/)) {
    if (raw === '') continue;
    if (raw === '(' || raw === ')') {
      out.push({ t: raw });
      continue;
    }
    const upper = raw.toUpperCase();
    if (upper === 'AND' || upper === 'OR' || upper === 'WITH') {
      out.push({ t: upper });
      continue;
    }
    if (!TERM.test(raw)) return undefined;
    out.push({ t: 'term', v: raw });
  }
  return out;
}

/** A license term: listed id (optionally `+`), or `[DocumentRef-x:]LicenseRef-y`. */
function term(v: string): (Node & { kind: 'id' }) | undefined {
  const ref = /^(?:DocumentRef-([A-Za-z0-9.-]+):)?LicenseRef-([A-Za-z0-9.-]+)$/i.exec(v);
  if (ref) {
    const doc = ref[1] === undefined ? '' : `DocumentRef-${ref[1]}:`;
    return { kind: 'id', id: `${doc}LicenseRef-${ref[2]}`, plus: false, ref: true };
  }
  const whole = canonicalLicenseId(v);
  // Deprecated ids like GPL-2.0+ are on the list themselves.
  if (whole !== undefined) return { kind: 'id', id: whole, plus: false, ref: false };
  if (v.endsWith('+') && IDSTRING.test(v.slice(0, -1))) {
    const base = canonicalLicenseId(v.slice(0, -1));
    if (base !== undefined) return { kind: 'id', id: base, plus: true, ref: false };
  }
  return undefined;
}

function parseExpression(s: string): { node: Node } | undefined {
  if (s === '') return undefined;
  const tokens = tokenize(s);
  if (tokens === undefined || tokens.length === 0) return undefined;
  let i = 0;
  const peek = (): Token | undefined => tokens[i];

  // or := and (OR and)* ; and := with (AND with)* ; with := primary [WITH exception]
  // primary := term | '(' or ')'
  const parseOr = (): Node | undefined => {
    let left = parseAnd();
    while (left && peek()?.t === 'OR') {
      i++;
      const right = parseAnd();
      if (!right) return undefined;
      left = { kind: 'or', left, right };
    }
    return left;
  };
  const parseAnd = (): Node | undefined => {
    let left = parseWith();
    while (left && peek()?.t === 'AND') {
      i++;
      const right = parseWith();
      if (!right) return undefined;
      left = { kind: 'and', left, right };
    }
    return left;
  };
  const parseWith = (): Node | undefined => {
    const tok = peek();
    if (tok === undefined) return undefined;
    if (tok.t === '(') {
      i++;
      const inner = parseOr();
      if (!inner || peek()?.t !== ')') return undefined;
      i++;
      return { kind: 'group', inner };
    }
    if (tok.t !== 'term') return undefined;
    i++;
    const license = term(tok.v);
    if (!license) return undefined;
    if (peek()?.t === 'WITH') {
      i++;
      const ex = peek();
      if (ex?.t !== 'term') return undefined;
      i++;
      const exception = canonicalLicenseId(ex.v);
      if (exception === undefined) return undefined;
      return { kind: 'with', license, exception };
    }
    return license;
  };

  const node = parseOr();
  if (!node || i !== tokens.length) return undefined;
  return { node };
}

/** Print in canonical spelling, keeping the parentheses the expression was written with. */
function print(n: Node): string {
  switch (n.kind) {
    case 'id':
      return `${n.id}${n.plus ? '+' : ''}`;
    case 'with':
      return `${print(n.license)} WITH ${n.exception}`;
    case 'and':
      return `${print(n.left)} AND ${print(n.right)}`;
    case 'or':
      return `${print(n.left)} OR ${print(n.right)}`;
    case 'group':
      return `(${print(n.inner)})`;
  }
}

/** Drop parentheses around the whole expression: `((MIT OR X))` → `MIT OR X`. */
function unwrap(n: Node): Node {
  let cur = n;
  while (cur.kind === 'group') cur = cur.inner;
  return cur;
}

/** The LicenseRef-… terms of an expression (without DocumentRef- prefixes, which live elsewhere). */
export function licenseRefs(s: string): string[] {
  const parsed = parseExpression(s.trim());
  if (parsed === undefined) return [];
  const out = new Set<string>();
  const walk = (n: Node): void => {
    switch (n.kind) {
      case 'id':
        if (n.ref && !n.id.startsWith('DocumentRef-')) out.add(n.id);
        return;
      case 'with':
        walk(n.license);
        return;
      case 'group':
        walk(n.inner);
        return;
      default:
        walk(n.left);
        walk(n.right);
    }
  };
  walk(parsed.node);
  return [...out];
}
