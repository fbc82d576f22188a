/**
 * Who must have signed: vouch's own matching of an IdentityPolicy against certificate claims.
 *
 * @sigstore/verify treats a policy string as an unanchored regular expression, so
 * `user@example.com` admits `evil-user@example.com`. Here a plain string is compared with the
 * whole value, and a regexp is compiled anchored as `^(?:re)$` (cosign's flags are RE2 and
 * unanchored; vouch anchors them because a partial match is never what a policy means). JS and
 * RE2 syntax coincide for the usual identity patterns (classes, groups, alternation, `\.`,
 * quantifiers); a leading RE2 flag group such as `(?i)` becomes the JS flag, and RE2's escaped
 * punctuation (`\@`, `\-`) is read as the literal character. Patterns compile in JS's Unicode
 * mode, so RE2-only constructs (`\z`, `\A`, `\C`, `\Q...\E`, `\pL`) are refused, never misread.
 */
import { VouchError } from '../errors.ts';
import type { CertificateClaims, IdentityPolicy } from './types.ts';

/** A matcher for one claim: the exact value, or an anchored pattern. */
export type ValueMatcher = { kind: 'exact'; value: string } | { kind: 'pattern'; source: string; re: RegExp };

export interface CompiledIdentityPolicy {
  identity?: ValueMatcher;
  issuer?: ValueMatcher;
  github: { claim: GithubClaim; flag: string; value: string }[];
}

const GITHUB_CLAIMS = [
  ['repository', 'githubWorkflowRepository', '1.3.6.1.4.1.57264.1.5'],
  ['ref', 'githubWorkflowRef', '1.3.6.1.4.1.57264.1.6'],
  ['workflowName', 'githubWorkflowName', '1.3.6.1.4.1.57264.1.4'],
  ['sha', 'githubWorkflowSha', '1.3.6.1.4.1.57264.1.3'],
  ['trigger', 'githubWorkflowTrigger', '1.3.6.1.4.1.57264.1.2'],
] as const;
type GithubClaim = (typeof GITHUB_CLAIMS)[number][1];

/** True when the policy constrains anything at all. */
export function hasIdentityPolicy(p: IdentityPolicy | undefined): boolean {
  if (p === undefined) return false;
  const set = (v: string | undefined) => v !== undefined;
  return (
    set(p.identity) ||
    set(p.identityRegexp) ||
    set(p.issuer) ||
    set(p.issuerRegexp) ||
    Object.values(p.github ?? {}).some((v) => v !== undefined)
  );
}

/**
 * Check the policy and compile its patterns (USAGE on a bad or ambiguous policy). Certificate
 * verification needs both who (identity or identityRegexp) and where (issuer or issuerRegexp),
 * as cosign does: an identity without an issuer could be claimed at any OIDC provider.
 */
export function compileIdentityPolicy(p: IdentityPolicy): CompiledIdentityPolicy {
  const identity = matcher(p.identity, p.identityRegexp, 'identity');
  const issuer = matcher(p.issuer, p.issuerRegexp, 'issuer');
  if (identity === undefined || issuer === undefined) {
    throw new VouchError(
      'USAGE',
      `a certificate identity policy needs ${identity === undefined ? 'an identity (identity or identityRegexp)' : ''}${
        identity === undefined && issuer === undefined ? ' and ' : ''
      }${issuer === undefined ? 'an OIDC issuer (issuer or issuerRegexp)' : ''}`,
      {
        hint: 'e.g. --certificate-identity user@example.com --certificate-oidc-issuer https://accounts.google.com',
      },
    );
  }
  const github: CompiledIdentityPolicy['github'] = [];
  for (const [key, claim] of GITHUB_CLAIMS) {
    const value = p.github?.[key];
    if (value !== undefined) github.push({ claim, flag: key, value });
  }
  return { identity, issuer, github };
}

function matcher(
  exact: string | undefined,
  pattern: string | undefined,
  what: string,
): ValueMatcher | undefined {
  if (exact !== undefined && pattern !== undefined) {
    throw new VouchError('USAGE', `give the ${what} exactly or as a regexp, not both`);
  }
  if (exact !== undefined) {
    if (exact === '') throw new VouchError('USAGE', `the required ${what} is empty`);
    return { kind: 'exact', value: exact };
  }
  if (pattern !== undefined) return { kind: 'pattern', source: pattern, re: anchoredRegExp(pattern, what) };
  return undefined;
}

const RE2_FLAGS = /^\(\?([imsU]+)\)/;

/** Compile `source` to match whole values only: `^(?:source)$`, with a leading `(?flags)` as JS flags. */
export function anchoredRegExp(source: string, what = 'pattern'): RegExp {
  let body = source;
  let flags = '';
  const m = RE2_FLAGS.exec(source);
  if (m) {
    if (m[1]!.includes('U'))
      throw new VouchError('USAGE', `${what} regexp: the RE2 flag U (ungreedy) has no JS equivalent`);
    flags = [...new Set(m[1])].join('');
    body = source.slice(m[0].length);
  }
  if (body === '') throw new VouchError('USAGE', `${what} regexp is empty`);
  try {
    return new RegExp(`^(?:${literalPunctuation(body)})$`, `${flags}u`);
  } catch (e) {
    throw new VouchError(
      'USAGE',
      `${what} regexp ${JSON.stringify(source)} is not valid: ${(e as Error).message}`,
    );
  }
}

/** JS's Unicode mode may escape only its syntax characters (and `-` in a class); RE2 any punctuation. */
const JS_ESCAPABLE = new Set('^$\\.*+?()[]{}|/');

function literalPunctuation(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && i + 1 < source.length) {
      const next = source[i + 1]!;
      const punct = /[!-/:-@[-`{-~]/.test(next);
      out += punct && !JS_ESCAPABLE.has(next) && !(inClass && next === '-') ? next : `\\${next}`;
      i++;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return out;
}

function matches(m: ValueMatcher, value: string): boolean {
  return m.kind === 'exact' ? value === m.value : m.re.test(value);
}

function describe(m: ValueMatcher): string {
  return m.kind === 'exact' ? JSON.stringify(m.value) : `/${m.source}/ (whole value)`;
}

/** Throw IDENTITY_MISMATCH, ISSUER_MISMATCH or CERTIFICATE_CLAIM_MISMATCH unless the claims satisfy `policy`. */
export function checkIdentity(claims: CertificateClaims, policy: CompiledIdentityPolicy): void {
  if (policy.identity && !matches(policy.identity, claims.subjectAlternativeName)) {
    throw new VouchError(
      'IDENTITY_MISMATCH',
      `certificate identity ${JSON.stringify(claims.subjectAlternativeName)} does not match the required ${describe(policy.identity)}`,
      { hint: 'identities are compared whole; a regexp must match the entire identity' },
    );
  }
  if (policy.issuer) {
    if (claims.issuer === undefined) {
      throw new VouchError(
        'ISSUER_MISMATCH',
        `certificate has no OIDC issuer extension (1.3.6.1.4.1.57264.1.8 or .1.1); required ${describe(policy.issuer)}`,
      );
    }
    if (!matches(policy.issuer, claims.issuer)) {
      throw new VouchError(
        'ISSUER_MISMATCH',
        `certificate OIDC issuer ${JSON.stringify(claims.issuer)} does not match the required ${describe(policy.issuer)}`,
      );
    }
  }
  for (const { claim, flag, value } of policy.github) {
    const found = claims[claim];
    if (found !== value) {
      const oid = GITHUB_CLAIMS.find(([, c]) => c === claim)![2];
      throw new VouchError(
        'CERTIFICATE_CLAIM_MISMATCH',
        `certificate GitHub workflow ${flag} (${oid}) is ${found === undefined ? 'absent' : JSON.stringify(found)}, required ${JSON.stringify(value)}`,
      );
    }
  }
}
