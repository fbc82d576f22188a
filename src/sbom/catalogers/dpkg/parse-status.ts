/**
 * dpkg database entries: /var/lib/dpkg/status (every package dpkg knows) and the distroless
 * /var/lib/dpkg/status.d/<name> files (one control paragraph per package, no Status field).
 */
import { fieldLines, parseDeb822 } from './deb822.ts';

export interface DpkgEntry {
  /** 1-based line of the paragraph in its file. */
  line: number;
  name: string;
  version: string;
  arch?: string;
  /** Source package; same as the binary when the Source field is absent. */
  source: { name: string; version: string };
  maintainer?: string;
  /** KiB, as dpkg records it. */
  installedSize?: number;
  multiArch?: string;
  /** `want flag state`, when present and not the usual `install ok installed`. */
  status?: string;
  /** Package names from Depends and Pre-Depends: per clause, its alternatives. */
  depends: string[][];
  /** Names this package provides (virtual packages). */
  provides: string[];
  /** Conffile paths from the Conffiles field. */
  conffiles: string[];
}

export interface StatusParse {
  entries: DpkgEntry[];
  /** Paragraph-level problems, with the line they were found at. */
  errors: string[];
}

/**
 * States in which the package's files are on disk (dpkg(1) "package states"): the package is
 * reported. `not-installed` and `config-files` (removed, only conffiles left) are not. The
 * selection (install/hold/deinstall/purge) does not matter: it is a wish, not what is there.
 */
const PRESENT_STATES = new Set([
  'installed',
  'half-installed',
  'unpacked',
  'half-configured',
  'triggers-awaited',
  'triggers-pending',
]);
const ABSENT_STATES = new Set(['not-installed', 'config-files']);

const SOURCE = /^(\S+)(?:\s+\((\S+)\))?$/;

export function parseStatus(text: string): StatusParse {
  const doc = parseDeb822(text);
  const out: StatusParse = { entries: [], errors: [...doc.errors] };
  for (const p of doc.paragraphs) {
    for (const e of p.errors) out.errors.push(e);
    const f = p.fields;
    const name = f.get('package');
    if (!name) {
      out.errors.push(`line ${p.line}: paragraph without a Package field`);
      continue;
    }
    const status = f.get('status');
    if (status !== undefined) {
      const words = status.split(/\s+/);
      const state = words[2];
      if (
        words.length !== 3 ||
        state === undefined ||
        !(PRESENT_STATES.has(state) || ABSENT_STATES.has(state))
      ) {
        out.errors.push(`line ${p.line}: ${name}: unknown Status "${status}"`);
        continue;
      }
      if (ABSENT_STATES.has(state)) continue;
    }
    const version = f.get('version');
    if (!version) {
      out.errors.push(`line ${p.line}: ${name}: no Version field`);
      continue;
    }
    let source = { name, version };
    const src = f.get('source');
    if (src) {
      const m = SOURCE.exec(src);
      if (m) source = { name: m[1]!, version: m[2] ?? version };
      else out.errors.push(`line ${p.line}: ${name}: cannot read Source "${src}"`);
    }
    const entry: DpkgEntry = {
      line: p.line,
      name,
      version,
      source,
      depends: [...relations(f.get('pre-depends')), ...relations(f.get('depends'))],
      provides: relations(f.get('provides')).flat(),
      conffiles: fieldLines(f.get('conffiles'))
        .map((l) => l.split(/\s+/)[0]!)
        .filter((p) => p.startsWith('/')),
    };
    const arch = f.get('architecture');
    if (arch) entry.arch = arch;
    const maintainer = f.get('maintainer');
    if (maintainer) entry.maintainer = maintainer;
    const size = f.get('installed-size');
    if (size !== undefined) {
      if (/^\d+$/.test(size)) entry.installedSize = Number(size);
      else out.errors.push(`line ${p.line}: ${name}: Installed-Size "${size}" is not a number`);
    }
    const multiArch = f.get('multi-arch');
    if (multiArch) entry.multiArch = multiArch;
    if (status !== undefined && status !== 'install ok installed') entry.status = status;
    out.entries.push(entry);
  }
  return out;
}

/**
 * A relationship field (`a (>= 1), b | c:any, d [amd64]`) as clauses of alternative package
 * names, versions, architecture qualifiers and restrictions dropped.
 */
export function relations(value: string | undefined): string[][] {
  if (!value) return [];
  const out: string[][] = [];
  for (const clause of value.split(',')) {
    const alts = clause
      .split('|')
      .map((a) =>
        a
          .replace(/\([^)]*\)|\[[^\]]*\]|<[^>]*>/g, ' ')
          .trim()
          .split(/\s+/)[0]!
          .replace(/:[a-z0-9-]+$/, ''),
      )
      .filter((a) => a !== '');
    if (alts.length > 0) out.push(alts);
  }
  return out;
}

/** Paths of an md5sums file (`<md5>  <path relative to the root>`), made absolute. */
export function parseMd5sums(text: string): { paths: string[]; errors: string[] } {
  const paths: string[] = [];
  const errors: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const m = /^[0-9a-f]{32} [ *]?(.+)$/.exec(line);
    if (!m) {
      errors.push(`line ${i + 1}: not "<md5>  <path>"`);
      continue;
    }
    paths.push(`/${m[1]!.replace(/^\/+/, '')}`);
  }
  return { paths, errors };
}

/**
 * Files of a dpkg .list (every path the package installed, directories included): the
 * directories are dropped (a path that is the parent of another entry), so what remains is
 * what the package owns as files and symlinks. `/.` (the root) is never a file.
 */
export function parseList(text: string): { paths: string[]; errors: string[] } {
  const entries: string[] = [];
  const errors: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line === '' || line === '/.') continue;
    if (!line.startsWith('/')) {
      errors.push(`line ${i + 1}: not an absolute path: ${JSON.stringify(line.slice(0, 60))}`);
      continue;
    }
    entries.push(line);
  }
  // dpkg lists every directory it creates, so a path is a directory when it is the parent of
  // another entry.
  const dirs = new Set<string>();
  for (const p of entries) dirs.add(p.slice(0, p.lastIndexOf('/')));
  return { paths: entries.filter((p) => !dirs.has(p)), errors };
}
