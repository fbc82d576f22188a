/**
 * Which distribution an image is: /etc/os-release, else /usr/lib/os-release (os-release(5)),
 * else the older release files (/etc/debian_version, /etc/alpine-release, /etc/redhat-release
 * and its relatives). /etc/os-release is usually a symlink to ../usr/lib/os-release; the
 * resolver follows it inside the image.
 *
 * os-release is "a newline-separated list of environment-like shell-compatible variable
 * assignments": `KEY=value`, values optionally in double or single quotes, backslash escapes
 * for `\ " $ \`` (inside double quotes and bare), `#` comment lines, blank lines ignored.
 */
import { isVouchError } from '../errors.ts';
import type { FileResolver } from '../fs/merged.ts';
import type { FileRecord } from '../fs/types.ts';
import type { OsInfo, SbomProblem } from './model.ts';

export const OS_DETECTOR = 'os-release';

const MAX_BYTES = 64 * 1024;

export interface OsDetection {
  os?: OsInfo;
  problems: SbomProblem[];
}

/** The OS of an image or root filesystem; no OS (scratch, distroless static) is not a problem. */
export async function detectOs(files: FileResolver): Promise<OsDetection> {
  const problems: SbomProblem[] = [];
  const seen = new Set<string>();
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    // /etc/os-release is usually a symlink to /usr/lib/os-release: one file, read once.
    const real = (await files.stat(path))?.path;
    if (real === undefined || seen.has(real)) continue;
    seen.add(real);
    const file = await readSmall(files, path, problems);
    if (!file) continue;
    const { vars, errors } = parseOsRelease(file.text);
    for (const message of errors) problems.push(problem(file.rec, message));
    const os = fromVars(vars);
    if (os) {
      if (os.id === 'debian') await addDebianRelease(files, os, problems);
      return { os, problems };
    }
    problems.push(problem(file.rec, 'no ID= line: the file does not name the distribution'));
  }
  for (const f of FALLBACKS) {
    const file = await readSmall(files, f.path, problems);
    if (!file) continue;
    const os = f.parse(file.text.trim());
    if (os) return { os, problems };
    problems.push(problem(file.rec, `cannot read a release from "${firstLine(file.text)}"`));
  }
  return { problems };
}

/**
 * Parse os-release text into its variables (later assignments win, as when a shell sources
 * it). Lines that are not assignments are reported, not fatal.
 */
export function parseOsRelease(text: string): { vars: Map<string, string>; errors: string[] } {
  const vars = new Map<string, string>();
  const errors: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) {
      errors.push(`line ${i + 1}: not a KEY=value assignment: ${JSON.stringify(line.slice(0, 80))}`);
      continue;
    }
    const value = unquote(m[2]!);
    if (value.error) {
      errors.push(`line ${i + 1}: ${m[1]}: ${value.error}`);
      continue;
    }
    vars.set(m[1]!, value.text);
  }
  return { vars, errors };
}

/** Shell-like value: concatenated bare, "double" and 'single' quoted parts; stops at blank + comment. */
function unquote(raw: string): { text: string; error?: string } {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === '"') {
      const end = scan(raw, i + 1, '"');
      if (end < 0) return { text: out, error: 'unterminated double quote' };
      out += unescapeDoubleQuoted(raw.slice(i + 1, end), '"\\$`');
      i = end + 1;
    } else if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      if (end < 0) return { text: out, error: 'unterminated single quote' };
      out += raw.slice(i + 1, end);
      i = end + 1;
    } else if (c === '\\') {
      if (i + 1 < raw.length) out += raw[i + 1];
      i += 2;
    } else if (c === ' ' || c === '\t') {
      const rest = raw.slice(i).trim();
      if (rest === '' || rest.startsWith('#')) break;
      return { text: out, error: 'unquoted whitespace in the value' };
    } else {
      out += c;
      i++;
    }
  }
  return { text: out };
}

/** Index of the closing quote, skipping backslash-escaped characters; -1 when missing. */
function scan(s: string, from: number, quote: string): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === quote) return i;
  }
  return -1;
}

/** Inside double quotes a backslash escapes only `escapable`; before anything else it stays. */
function unescapeDoubleQuoted(s: string, escapable: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length && escapable.includes(s[i + 1]!)) {
      out += s[i + 1];
      i++;
    } else out += s[i];
  }
  return out;
}

function fromVars(vars: Map<string, string>): OsInfo | undefined {
  const id = vars.get('ID')?.toLowerCase();
  if (!id) return undefined;
  const os: OsInfo = { id };
  const versionId = vars.get('VERSION_ID');
  if (versionId) os.versionId = versionId;
  const codename = vars.get('VERSION_CODENAME') || vars.get('UBUNTU_CODENAME');
  if (codename) os.versionCodename = codename;
  const pretty = vars.get('PRETTY_NAME');
  if (pretty) os.prettyName = pretty;
  const like = vars.get('ID_LIKE')?.toLowerCase().split(/\s+/).filter(Boolean);
  if (like && like.length > 0) os.idLike = like;
  return os;
}

interface Fallback {
  path: string;
  parse(text: string): OsInfo | undefined;
}

const FALLBACKS: readonly Fallback[] = [
  {
    path: '/etc/alpine-release',
    parse: (t) => (/^\d+\.\d+/.test(t) ? { id: 'alpine', versionId: firstLine(t) } : undefined),
  },
  { path: '/etc/debian_version', parse: debianVersion },
  { path: '/etc/redhat-release', parse: redhatRelease },
  { path: '/etc/centos-release', parse: redhatRelease },
  { path: '/etc/fedora-release', parse: redhatRelease },
  { path: '/etc/system-release', parse: redhatRelease },
];

/** Every file detectOs may read (an image runner keeps them in memory while indexing). */
export const OS_RELEASE_PATHS: readonly string[] = [
  '/etc/os-release',
  '/usr/lib/os-release',
  ...FALLBACKS.map((f) => f.path),
];

/**
 * "12.5" → debian 12, release 12.5 (VERSION_ID is the major release, the advisories' ecosystem
 * is `Debian:12`); "bookworm/sid" → codename bookworm (testing and unstable have no number).
 */
function debianVersion(text: string): OsInfo | undefined {
  const v = firstLine(text);
  const num = /^(\d+)(?:\.\d+)*$/.exec(v);
  if (num) return { id: 'debian', versionId: num[1]!, release: v };
  const testing = /^([a-z]+)\/sid$/.exec(v);
  if (testing) return { id: 'debian', versionCodename: testing[1]! };
  return undefined;
}

/**
 * Debian's os-release says only the major release (VERSION_ID="12"); the point release is in
 * /etc/debian_version ("12.7"), where trivy reads its OS name from. A debian_version of another
 * major release than os-release names is reported and left out: which one is right is unknown.
 */
async function addDebianRelease(files: FileResolver, os: OsInfo, problems: SbomProblem[]): Promise<void> {
  const file = await readSmall(files, '/etc/debian_version', problems);
  if (!file) return;
  const found = debianVersion(file.text.trim());
  if (found?.release === undefined) return; // "trixie/sid": a testing image has no point release
  if (os.versionId !== undefined && found.versionId !== os.versionId) {
    problems.push(
      problem(
        file.rec,
        `debian_version says ${found.release} but os-release says VERSION_ID=${os.versionId}; using ${os.versionId}`,
      ),
    );
    return;
  }
  os.versionId ??= found.versionId;
  os.release = found.release;
}

const REDHAT_NAMES: readonly [RegExp, string][] = [
  [/^red hat enterprise linux/i, 'rhel'],
  [/^centos/i, 'centos'],
  [/^fedora/i, 'fedora'],
  [/^rocky linux/i, 'rocky'],
  [/^almalinux/i, 'almalinux'],
  [/^oracle linux/i, 'ol'],
  [/^amazon linux/i, 'amzn'],
];

/** "Red Hat Enterprise Linux release 8.6 (Ootpa)", "CentOS Linux release 7.9.2009 (Core)". */
function redhatRelease(text: string): OsInfo | undefined {
  const line = firstLine(text);
  const m = /^(.*?)\s+release\s+(\d+(?:\.\d+)*)/i.exec(line);
  if (!m) return undefined;
  const id = REDHAT_NAMES.find(([re]) => re.test(m[1]!))?.[1];
  if (!id) return undefined;
  // os-release gives CentOS 7 as "7" and RHEL as "8.6": keep what each distribution writes there.
  const versionId = id === 'centos' || id === 'fedora' ? m[2]!.split('.')[0]! : m[2]!;
  return { id, versionId, prettyName: line };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.trim();
}

async function readSmall(
  files: FileResolver,
  path: string,
  problems: SbomProblem[],
): Promise<{ rec: FileRecord; text: string } | undefined> {
  const rec = await files.stat(path);
  if (!rec || rec.type !== 'file') return undefined;
  try {
    const bytes = await files.readFile(path, { maxBytes: MAX_BYTES });
    return { rec, text: Buffer.from(bytes).toString('utf8') };
  } catch (e) {
    const why = isVouchError(e) ? e.message : String(e);
    problems.push(problem(rec, `cannot read: ${why}`));
    return undefined;
  }
}

function problem(rec: FileRecord, message: string): SbomProblem {
  const p: SbomProblem = { cataloger: OS_DETECTOR, path: rec.path, message };
  if (rec.layerDigest) p.layer = rec.layerDigest;
  return p;
}
