/**
 * trivy's ignore files, read strictly: every exception must say why.
 *
 * `.trivyignore` (plain): one exception per line; blank lines and lines starting with `#` are
 * skipped; fields are whitespace-separated; field 1 is the vulnerability id; `exp:YYYY-MM-DD`
 * is the expiry. vouch reads the rest of the line after a field starting with `#` as the
 * statement, and refuses a line without one:
 *
 *     CVE-2023-3817 exp:2026-09-01  # libssl3: the DH check is never reached, see SEC-12
 *
 * Where trivy skips a line with a bad date (with a warning) and ignores fields it does not
 * know, vouch refuses the file naming file:line: a dropped line or a mistyped `exp:` would
 * otherwise silently change what the gate lets through.
 *
 * `.trivyignore.yaml` / `.yml`: `vulnerabilities: [{id, paths, purls, statement, expired_at}]`
 * (`misconfigurations`, `secrets`, `licenses` are accepted and unused: vouch scans no such
 * things). `statement` is required; `id` may be omitted only when `paths` or `purls` narrow
 * the entry (trivy's id-optional form). Unknown keys are refused.
 *
 * Expiry is 00:00 UTC of the date: the exception no longer applies on the date itself.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { isVouchError, VouchError } from '../errors.ts';
import { globToRegExp } from '../fs/glob.ts';
import { tryParsePurl } from './match.ts';
import type { Exception } from './types.ts';

/** Parse either form, chosen by the file name as trivy does (`.yml`/`.yaml` → YAML). */
export function parseIgnoreFile(text: string, file: string): Exception[] {
  return /\.ya?ml$/i.test(file) ? parseTrivyIgnoreYaml(text, file) : parseTrivyIgnore(text, file);
}

function invalid(where: string, message: string, hint?: string): VouchError {
  return new VouchError('IGNOREFILE_INVALID', `${where}: ${message}`, hint ? { hint } : {});
}

const PLAIN_HINT =
  'each line is `ID [exp:YYYY-MM-DD] # statement`, e.g. `CVE-2023-3817 exp:2026-09-01 # not reachable, see SEC-12`';

/** The plain `.trivyignore` form. */
export function parseTrivyIgnore(text: string, file: string): Exception[] {
  const out: Exception[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const { fields, comment } = splitComment(line);
    const [id, ...rest] = fields;
    if (id === undefined) return;
    const e: Exception = { id, statement: '', source: { file, line: i + 1 } };
    for (const field of rest) {
      if (!field.startsWith('exp:')) {
        throw invalid(
          where,
          `unknown field "${field}" after ${id} (vouch knows only exp:YYYY-MM-DD and a trailing # statement)`,
          PLAIN_HINT,
        );
      }
      if (e.expires !== undefined) throw invalid(where, `${id} has more than one exp: field`, PLAIN_HINT);
      const date = field.slice(4);
      const at = parseDate(date);
      if (!at) {
        throw invalid(
          where,
          `"${field}" is not a valid expiry date (exp:YYYY-MM-DD); trivy would silently drop this line, vouch refuses the file`,
          PLAIN_HINT,
        );
      }
      e.expires = date;
      e.expiresAt = at;
    }
    if (comment === '') {
      throw invalid(
        where,
        `${id} has no statement: vouch requires every exception to say why (a trailing "# reason")`,
        PLAIN_HINT,
      );
    }
    e.statement = comment;
    out.push(e);
  });
  return out;
}

/** Whitespace fields up to the first field that starts with '#'; the rest of the line is the comment. */
function splitComment(line: string): { fields: string[]; comment: string } {
  const fields: string[] = [];
  const re = /\S+/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    if (m[0].startsWith('#')) return { fields, comment: line.slice(m.index + 1).trim() };
    fields.push(m[0]);
  }
  return { fields, comment: '' };
}

/** `YYYY-MM-DD` → 00:00 UTC of that day; undefined when not a real calendar date. */
export function parseDate(s: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return undefined;
  return t;
}

/** A YAML `expired_at`: a date (00:00 UTC) or an RFC 3339 date-time, as Go's yaml decodes time.Time. */
function parseExpiry(s: string): Date | undefined {
  const day = parseDate(s);
  if (day) return day;
  if (!/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s)) return undefined;
  if (!parseDate(s.slice(0, 10))) return undefined;
  const t = Date.parse(s.replace(' ', 'T'));
  return Number.isNaN(t) ? undefined : new Date(t);
}

const YAML_SECTIONS = new Set(['vulnerabilities', 'misconfigurations', 'secrets', 'licenses']);
const ENTRY_KEYS = new Set(['id', 'paths', 'purls', 'statement', 'expired_at']);
const YAML_HINT =
  'entries look like `- {id: CVE-2023-3817, purls: ["pkg:deb/debian/libssl3"], statement: "not reachable", expired_at: 2026-09-01}`';

/** The YAML form. */
export function parseTrivyIgnoreYaml(text: string, file: string): Exception[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const lineOf = (n: Node | null | undefined): number => lc.linePos(n?.range?.[0] ?? 0).line;
  const first = doc.errors[0];
  if (first) {
    throw invalid(
      `${file}:${lc.linePos(first.pos[0]).line}`,
      `not valid YAML: ${first.message.split('\n')[0]}`,
    );
  }
  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return [];
  if (!isMap(root)) {
    throw invalid(
      `${file}:${lineOf(root)}`,
      'the document must be a mapping with a "vulnerabilities" list',
      YAML_HINT,
    );
  }
  const out: Exception[] = [];
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const at = `${file}:${lineOf(pair.key as Node)}`;
    if (!YAML_SECTIONS.has(key)) {
      throw invalid(
        at,
        `unknown key "${key}" (known: ${[...YAML_SECTIONS].join(', ')})`,
        'a misspelt section would silently ignore its exceptions',
      );
    }
    const value = pair.value as Node | null;
    if (value === null || (isScalar(value) && value.value === null)) continue;
    if (!isSeq(value)) throw invalid(at, `"${key}" must be a list of entries`, YAML_HINT);
    if (key !== 'vulnerabilities') continue;
    for (const item of value.items) out.push(entry(item as Node, file, lineOf));
  }
  return out;
}

function entry(node: Node, file: string, lineOf: (n: Node | null | undefined) => number): Exception {
  const line = lineOf(node);
  if (!isMap(node))
    throw invalid(`${file}:${line}`, 'each vulnerabilities entry must be a mapping', YAML_HINT);
  const e: Exception = { statement: '', source: { file, line } };
  const m = node as YAMLMap;
  for (const pair of m.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const v = pair.value as Node | null;
    const where = `${file}:${lineOf(pair.key as Node)}`;
    if (!ENTRY_KEYS.has(key)) {
      throw invalid(where, `unknown key "${key}" (known: ${[...ENTRY_KEYS].join(', ')})`, YAML_HINT);
    }
    if (key === 'id') e.id = scalarString(v, key, where);
    else if (key === 'statement') e.statement = scalarString(v, key, where).trim();
    else if (key === 'expired_at') {
      const s = scalarString(v, key, where);
      const at = parseExpiry(s);
      if (!at) throw invalid(where, `expired_at "${s}" is not a date (YYYY-MM-DD or RFC 3339)`, YAML_HINT);
      e.expires = s;
      e.expiresAt = at;
    } else if (key === 'paths') {
      e.paths = stringList(v, key, where, lineOf, file);
      e.paths.forEach((p) => {
        checkGlob(p, where);
      });
    } else {
      e.purls = stringList(v, key, where, lineOf, file);
      for (const p of e.purls) {
        if (!tryParsePurl(p)) throw invalid(where, `purls: "${p}" is not a package URL`, YAML_HINT);
      }
    }
  }
  const what = e.id ?? 'entry';
  if (e.id === undefined && !e.paths?.length && !e.purls?.length) {
    throw invalid(`${file}:${line}`, 'an entry without "id" must list "paths" or "purls"', YAML_HINT);
  }
  if (e.statement === '') {
    throw invalid(
      `${file}:${line}`,
      `${what} has no "statement": vouch requires every exception to say why`,
      YAML_HINT,
    );
  }
  return e;
}

function scalarString(v: Node | null, key: string, where: string): string {
  if (!isScalar(v) || v.value === null || typeof v.value === 'object') {
    throw invalid(where, `"${key}" must be a string`, YAML_HINT);
  }
  const s = String(v.value);
  if (s.trim() === '') throw invalid(where, `"${key}" is empty`, YAML_HINT);
  return s;
}

function stringList(
  v: Node | null,
  key: string,
  where: string,
  lineOf: (n: Node | null | undefined) => number,
  file: string,
): string[] {
  if (!isSeq(v)) throw invalid(where, `"${key}" must be a list of strings`, YAML_HINT);
  return v.items.map((item) => scalarString(item as Node, key, `${file}:${lineOf(item as Node)}`));
}

function checkGlob(p: string, where: string): void {
  try {
    globToRegExp(p);
  } catch (e) {
    if (isVouchError(e)) throw invalid(where, `paths: ${e.message}`, YAML_HINT);
    throw e;
  }
}
