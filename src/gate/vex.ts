/**
 * OpenVEX (openvex/spec, v0.2.0; the v0.0.x string forms are read too) documents → statements,
 * and which statement decides a finding.
 *
 * Validation is strict where a mistake would suppress a finding: `not_affected` must carry a
 * known `justification` or an `impact_statement`, statuses and justifications must be the
 * spec's, every statement needs a vulnerability and at least one product.
 *
 * Matching follows trivy (pkg/vex/openvex.go) and go-vex: a statement applies when its
 * vulnerability name or aliases equal the finding's id (vouch also accepts the finding's
 * aliases, since vouch merges CVE/GHSA/DSA ids into one finding), and a product matches the
 * package itself, or matches the image (or a package holding this one) with, when it lists
 * subcomponents, one of them matching the package. purls match as go-vex's PurlMatches:
 * versionless = any version, listed qualifiers must be present. The latest statement wins:
 * ordered by timestamp (the statement's, else its document's), ties by position, later wins.
 * Only `not_affected` and `fixed` suppress.
 */
import { VouchError } from '../errors.ts';
import type { Finding } from '../vuln/finding.ts';
import { purlMatches, tryParsePurl } from './match.ts';
import {
  type GateTarget,
  VEX_JUSTIFICATIONS,
  VEX_STATUSES,
  type VexComponent,
  type VexJustification,
  type VexProduct,
  type VexStatement,
  type VexStatus,
} from './types.ts';

const CONTEXT_PREFIX = 'https://openvex.dev/ns';

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(file: string, pointer: string, message: string): VouchError {
  return new VouchError('VEX_INVALID', `${file}#${pointer}: ${message}`, {
    hint: 'vouch reads OpenVEX v0.2.0 JSON (https://openvex.dev/ns/v0.2.0)',
  });
}

/**
 * Parse one OpenVEX JSON document. `order` numbers statements across documents so that later
 * files win ties; pass the count returned by earlier calls.
 */
export function parseOpenVex(text: string, file: string, firstOrder = 0): VexStatement[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new VouchError('VEX_INVALID', `${file}: not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!isObj(doc)) throw invalid(file, '', 'the document must be a JSON object');
  const ctx = doc['@context'];
  if (typeof ctx !== 'string' || !ctx.startsWith(CONTEXT_PREFIX)) {
    throw invalid(
      file,
      '/@context',
      `"@context" must be an OpenVEX context (${CONTEXT_PREFIX}/v0.2.0), got ${JSON.stringify(ctx)}; CSAF and CycloneDX VEX are not read`,
    );
  }
  const docTime = optionalTime(doc.timestamp, file, '/timestamp');
  const stmts = doc.statements;
  if (!Array.isArray(stmts)) throw invalid(file, '/statements', '"statements" must be a list');
  return stmts.map((s, i) => statement(s, file, `/statements/${i}`, docTime, firstOrder + i));
}

function statement(
  s: unknown,
  file: string,
  at: string,
  docTime: string | undefined,
  order: number,
): VexStatement {
  if (!isObj(s)) throw invalid(file, at, 'a statement must be an object');
  const vulnerability = vulnerabilityOf(s.vulnerability, file, `${at}/vulnerability`);
  const status = s.status;
  if (typeof status !== 'string' || !(VEX_STATUSES as readonly string[]).includes(status)) {
    throw invalid(
      file,
      `${at}/status`,
      `status ${JSON.stringify(status)} is not one of ${VEX_STATUSES.join(', ')}`,
    );
  }
  if (!Array.isArray(s.products) || s.products.length === 0) {
    throw invalid(file, `${at}/products`, `the statement about ${vulnerability.name} names no products`);
  }
  const products = s.products.map((p, j) => product(p, file, `${at}/products/${j}`));
  const out: VexStatement = {
    vulnerability,
    products,
    status: status as VexStatus,
    order,
    source: { file, pointer: at },
  };
  const justification = optionalString(s.justification, file, `${at}/justification`);
  if (justification !== undefined) {
    if (!(VEX_JUSTIFICATIONS as readonly string[]).includes(justification)) {
      throw invalid(
        file,
        `${at}/justification`,
        `justification "${justification}" is not one of ${VEX_JUSTIFICATIONS.join(', ')}`,
      );
    }
    out.justification = justification as VexJustification;
  }
  const impact = optionalString(s.impact_statement, file, `${at}/impact_statement`);
  if (impact !== undefined) out.impactStatement = impact;
  const action = optionalString(s.action_statement, file, `${at}/action_statement`);
  if (action !== undefined) out.actionStatement = action;
  if (out.status === 'not_affected' && !out.justification && !out.impactStatement) {
    throw invalid(
      file,
      at,
      `not_affected statement about ${vulnerability.name} has neither a justification nor an impact_statement; vouch refuses an unexplained suppression`,
    );
  }
  const ts = optionalTime(s.timestamp, file, `${at}/timestamp`) ?? docTime;
  if (ts !== undefined) out.timestamp = ts;
  return out;
}

function vulnerabilityOf(v: unknown, file: string, at: string): VexStatement['vulnerability'] {
  // v0.0.x: "vulnerability": "CVE-..."
  if (typeof v === 'string' && v.trim() !== '') return { name: v.trim(), aliases: [] };
  if (!isObj(v)) throw invalid(file, at, 'each statement needs a "vulnerability" with a "name"');
  const name = v.name;
  if (typeof name !== 'string' || name.trim() === '') {
    throw invalid(file, `${at}/name`, 'the vulnerability has no "name"');
  }
  const aliases = v.aliases === undefined ? [] : v.aliases;
  if (!Array.isArray(aliases) || !aliases.every((a) => typeof a === 'string')) {
    throw invalid(file, `${at}/aliases`, '"aliases" must be a list of strings');
  }
  return { name: name.trim(), aliases: aliases as string[] };
}

function component(c: unknown, file: string, at: string): VexComponent {
  // v0.0.x: products and subcomponents were plain strings
  if (typeof c === 'string' && c.trim() !== '') return { id: c.trim(), purls: [], others: [] };
  if (!isObj(c)) throw invalid(file, at, 'a product must be an object with "@id" or "identifiers"');
  const out: VexComponent = { purls: [], others: [] };
  const id = c['@id'];
  if (id !== undefined) {
    if (typeof id !== 'string' || id.trim() === '')
      throw invalid(file, `${at}/@id`, '"@id" must be a string');
    out.id = id.trim();
  }
  for (const [key, field] of [
    ['identifiers', c.identifiers],
    ['hashes', c.hashes],
  ] as const) {
    if (field === undefined) continue;
    if (!isObj(field)) throw invalid(file, `${at}/${key}`, `"${key}" must be an object`);
    for (const [t, v] of Object.entries(field)) {
      if (typeof v !== 'string') throw invalid(file, `${at}/${key}/${t}`, 'must be a string');
      if (key === 'identifiers' && t === 'purl') out.purls.push(v);
      else out.others.push(v);
    }
  }
  if (out.id === undefined && out.purls.length === 0 && out.others.length === 0) {
    throw invalid(file, at, 'a product needs "@id", "identifiers" or "hashes"');
  }
  return out;
}

function product(p: unknown, file: string, at: string): VexProduct {
  const base = component(p, file, at);
  const subs = isObj(p) ? p.subcomponents : undefined;
  if (subs !== undefined && !Array.isArray(subs)) {
    throw invalid(file, `${at}/subcomponents`, '"subcomponents" must be a list');
  }
  return {
    ...base,
    subcomponents: (subs ?? []).map((s, k) => component(s, file, `${at}/subcomponents/${k}`)),
  };
}

function optionalString(v: unknown, file: string, at: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw invalid(file, at, 'must be a string');
  return v.trim() === '' ? undefined : v.trim();
}

function optionalTime(v: unknown, file: string, at: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v)) || !/^\d{4}-\d{2}-\d{2}T/.test(v)) {
    throw invalid(file, at, `${JSON.stringify(v)} is not an RFC 3339 timestamp`);
  }
  return v;
}

/** A component (product or subcomponent) matches an identifier: exact @id, purl rules, or an exact other identifier. */
function componentMatches(c: VexComponent, identifier: string): boolean {
  if (c.id !== undefined && c.id === identifier) return true;
  const target = identifier.startsWith('pkg:') ? tryParsePurl(identifier) : undefined;
  const candidates = [...(c.id?.startsWith('pkg:') ? [c.id] : []), ...c.purls];
  if (target) {
    for (const cand of candidates) {
      const parsed = tryParsePurl(cand);
      if (parsed && purlMatches(parsed, target)) return true;
    }
  }
  return c.purls.includes(identifier) || c.others.includes(identifier);
}

/**
 * A pkg:oci product whose version is the scanned manifest's digest names this image even when
 * vouch does not know the repository (an OCI layout opened by path).
 */
function productIsImage(c: VexComponent, target: GateTarget): boolean {
  if (target.productPurls.some((p) => componentMatches(c, p))) return true;
  for (const cand of [...(c.id?.startsWith('pkg:') ? [c.id] : []), ...c.purls]) {
    const p = tryParsePurl(cand);
    if (p?.type === 'oci' && p.version && target.productDigests.includes(p.version)) return true;
  }
  return false;
}

function statementMatches(s: VexStatement, f: Finding, target: GateTarget): boolean {
  const ids = new Set([f.id, ...f.aliases]);
  if (!ids.has(s.vulnerability.name) && !s.vulnerability.aliases.some((a) => ids.has(a))) return false;
  const pkg = f.package.purl;
  const holders = target.parents[f.package.id] ?? [];
  for (const p of s.products) {
    // the package itself is the product
    if (pkg && componentMatches(p, pkg)) return true;
    // the image, or a package holding this one, is the product
    const isAncestor = productIsImage(p, target) || holders.some((h) => componentMatches(p, h));
    if (!isAncestor) continue;
    if (p.subcomponents.length === 0) return true;
    if (pkg && p.subcomponents.some((sc) => componentMatches(sc, pkg))) return true;
  }
  return false;
}

/** The statement that decides this finding (latest wins), or undefined when none speaks about it. */
export function vexStatementFor(
  f: Finding,
  statements: readonly VexStatement[],
  target: GateTarget,
): VexStatement | undefined {
  let best: VexStatement | undefined;
  for (const s of statements) {
    if (!statementMatches(s, f, target)) continue;
    if (!best || later(s, best)) best = s;
  }
  return best;
}

function later(a: VexStatement, b: VexStatement): boolean {
  const ta = a.timestamp ? Date.parse(a.timestamp) : Number.NEGATIVE_INFINITY;
  const tb = b.timestamp ? Date.parse(b.timestamp) : Number.NEGATIVE_INFINITY;
  if (ta !== tb) return ta > tb;
  return a.order > b.order;
}

/** A one-line account of a statement for reports. */
export function describeStatement(s: VexStatement): string {
  const why = s.justification ?? s.impactStatement ?? s.actionStatement;
  return why ? `${s.status}: ${why}` : s.status;
}
