/**
 * Secret-looking values in an image's config (Env, Labels): anyone who can pull the image can
 * read them. Precise on purpose, so a failure is worth reading:
 *
 *  - by value, whatever the name: PEM private keys, credentials in URLs
 *    (`scheme://user:password@host`), and token formats with a fixed shape (AWS access key ids,
 *    GitHub, GitLab, Slack, Stripe, Google API keys, npm tokens, JWTs);
 *  - by name: a name whose words (split on `_ - .`) say PASSWORD, PASSWD, PASSPHRASE, PASS,
 *    SECRET, TOKEN, CREDENTIAL(S), APIKEY/API_KEY, ACCESS_KEY, PRIVATE_KEY, or a `*PWD` other
 *    than PWD/OLDPWD, with a value that is not empty, a boolean, a number, a path (`/run/secrets/x`),
 *    a `$VAR` reference or a placeholder; names ending in FILE, PATH, DIR, URL, HOST, PORT, TTL,
 *    LENGTH, … describe a secret, they do not hold one;
 *  - `*_KEY` names hold a secret only when the value is long and random-looking (high
 *    entropy). Public key material is not secret: with a GPG/PGP/FINGERPRINT/PUBLIC word in the
 *    name (python's GPG_KEY, php's GPG_KEYS, nginx's NGINX_GPGKEY) only the secret words above
 *    and PRIVATE_KEY count.
 *
 * Messages show the name and a redacted form (a known public prefix such as `ghp_` or `AKIA`
 * at most, and the length), never the value.
 */

export type SecretSource = 'env' | 'label';

export interface SecretFinding {
  source: SecretSource;
  name: string;
  /** Why it looks like a secret. */
  reason: string;
  /** E.g. `ghp_… (40 chars)`: never the secret itself. */
  redacted: string;
}

/** Value formats that are secrets wherever they appear; `prefix` is public and may be shown. */
const VALUE_FORMATS: readonly { what: string; re: RegExp; prefix: number }[] = [
  { what: 'a PEM private key', re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/, prefix: 0 },
  {
    what: 'an AWS access key id',
    re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z2-7]{16}\b/,
    prefix: 4,
  },
  {
    what: 'a GitHub token',
    re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b/,
    prefix: 4,
  },
  { what: 'a GitLab token', re: /\bglpat-[A-Za-z0-9_-]{20,}\b/, prefix: 6 },
  { what: 'a Slack token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/, prefix: 5 },
  { what: 'a Stripe secret key', re: /\b[sr]k_live_[A-Za-z0-9]{20,}\b/, prefix: 8 },
  { what: 'a Google API key', re: /\bAIza[0-9A-Za-z_-]{35}\b/, prefix: 4 },
  { what: 'an npm token', re: /\bnpm_[A-Za-z0-9]{36}\b/, prefix: 4 },
  {
    what: 'a JSON Web Token',
    re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/,
    prefix: 3,
  },
];

/** `scheme://user:password@host`, password non-empty. */
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:([^\s@/]+)@[^\s]/i;

/** Words that make a name hold a secret. */
const SECRET_WORDS = new Set([
  'PASSWORD',
  'PASSWD',
  'PASSPHRASE',
  'PASS',
  'SECRET',
  'TOKEN',
  'CREDENTIAL',
  'CREDENTIALS',
  'APIKEY',
  'PRIVATEKEY',
]);
/** Word pairs that do. */
const SECRET_PAIRS = new Set([
  'API KEY',
  'ACCESS KEY',
  'PRIVATE KEY',
  'SECRET KEY',
  'AUTH KEY',
  'SESSION KEY',
  'ENCRYPTION KEY',
  'SIGNING KEY',
  'MASTER KEY',
]);
/** Last words of names that describe a secret rather than hold it. */
const DESCRIPTIVE_LAST = new Set([
  'FILE',
  'FILES',
  'PATH',
  'DIR',
  'URL',
  'URI',
  'ENDPOINT',
  'HOST',
  'PORT',
  'TTL',
  'TIMEOUT',
  'LENGTH',
  'SIZE',
  'TYPE',
  'NAME',
  'HEADER',
  'ID',
  'ALGORITHM',
  'ALG',
  'EXPIRY',
  'EXPIRES',
  'LIFETIME',
  'ENABLED',
  'REQUIRED',
  'POLICY',
  'FORMAT',
  'MODE',
  'PREFIX',
  'VERSION',
  'COMMAND',
  'CMD',
]);
/** Words of names that hold public key material. */
const PUBLIC_KEY_WORDS = new Set(['GPG', 'PGP', 'GNUPG', 'FINGERPRINT', 'FINGERPRINTS', 'PUBKEY', 'PUBLIC']);
/** Values that say "no value here" (a default password such as "changeme" is still reported). */
const PLACEHOLDERS = new Set(['none', 'null', 'nil', 'redacted', '***', '<secret>', '<redacted>']);

export function wordsOf(name: string): string[] {
  // camelCase becomes words too: apiKey -> API KEY.
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((w) => w !== '');
}

/** Why this name/value pair looks like a secret, or undefined. */
export function secretReason(name: string, value: string): { reason: string; prefix: number } | undefined {
  for (const f of VALUE_FORMATS)
    if (f.re.test(value)) return { reason: `value is ${f.what}`, prefix: f.prefix };
  if (URL_CREDENTIALS.test(value)) return { reason: 'value is a URL with a password in it', prefix: 0 };
  const words = wordsOf(name);
  if (words.length === 0 || isInert(value)) return undefined;
  const last = words[words.length - 1]!;
  if (DESCRIPTIVE_LAST.has(last)) return undefined;
  const word = words.find(
    (w) => SECRET_WORDS.has(w) || (w.endsWith('PWD') && w.length > 3 && w !== 'OLDPWD'),
  );
  if (word) return { reason: `name says ${word.toLowerCase()}`, prefix: 0 };
  // Public key material (GPG_KEY, NGINX_GPGKEYS, STRIPE_PUBLIC_KEY) is meant to be shared.
  const publicKey = words.some((w) => PUBLIC_KEY_WORDS.has(w) || /GPG|PGP/.test(w));
  const pair = words
    .slice(1)
    .map((w, i) => `${words[i]} ${w}`)
    .find((p) => SECRET_PAIRS.has(p) && (!publicKey || p === 'PRIVATE KEY'));
  if (pair) return { reason: `name says ${pair.toLowerCase()}`, prefix: 0 };
  if (!publicKey && /KEYS?$/.test(last) && looksRandom(value)) {
    return { reason: 'name ends in KEY and the value looks random', prefix: 0 };
  }
  return undefined;
}

/** Values that cannot be a secret: empty, booleans, numbers, paths, references, placeholders. */
function isInert(value: string): boolean {
  const v = value.trim();
  if (v === '') return true;
  if (/^(true|false|yes|no|on|off|enabled|disabled)$/i.test(v)) return true;
  // Short numbers (counts, durations); long digit strings can be tokens.
  if (/^-?\d{1,9}(\.\d+)?[smhd]?$/.test(v)) return true;
  if (/^\/[^\s]*$/.test(v)) return true;
  if (/^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$/.test(v)) return true;
  return PLACEHOLDERS.has(v.toLowerCase());
}

/** Long, no spaces, token characters, and close to random (Shannon entropy per character). */
export function looksRandom(value: string): boolean {
  if (value.length < 16 || !/^[A-Za-z0-9+/=_.~-]+$/.test(value)) return false;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  // Random hex has ~4 bits per char at most; random base64 ~5.5+; English text is lower.
  const hexOnly = /^[0-9a-fA-F]+$/.test(value);
  return bits >= (hexOnly ? 3.0 : 3.5);
}

/** `ghp_… (40 chars)`, or `… (12 chars)`: only a public format prefix survives. */
export function redact(value: string, prefix = 0): string {
  const n = [...value].length;
  return `${prefix > 0 ? value.slice(0, prefix) : ''}… (${n} chars)`;
}

/** Every secret-looking Env entry and label of a container config. */
export function findSecrets(
  env: readonly string[],
  labels: Readonly<Record<string, string>>,
): SecretFinding[] {
  const out: SecretFinding[] = [];
  const check = (source: SecretSource, name: string, value: string) => {
    const r = secretReason(name, value);
    if (r) out.push({ source, name, reason: r.reason, redacted: redact(value, r.prefix) });
  };
  for (const e of env) {
    const i = e.indexOf('=');
    check('env', i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  for (const [k, v] of Object.entries(labels)) check('label', k, v);
  return out;
}
