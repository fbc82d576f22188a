/**
 * Ground truth for a root filesystem on disk, taken from the real tools and the spec'd sources
 * of truth, never from vouch: dpkg-query for Debian packages, *.dist-info/METADATA and
 * *.egg-info for Python, pom.properties inside jars (unzip) for Java, `go version -m` for Go
 * binaries, `npm ls --all --json --long` for an npm app.
 *
 * Paths in the truth are image paths ('/usr/bin/age'), never host paths.
 */
import { execFile } from 'node:child_process';
import { lstat, opendir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIG = 256 * 1024 * 1024;

export interface DebTruth {
  name: string;
  version: string;
  arch: string;
  sourceName: string;
  sourceVersion: string;
}

/** A language package found at `path` (a dist-info dir, a jar, a binary, a node_modules dir). */
export interface LangTruth {
  name: string;
  version: string;
  path: string;
  /** The deb package whose file list holds `path`, when one does. */
  ownedBy?: string;
}

export interface JavaTruth extends LangTruth {
  groupId: string;
  /** The pom.properties entry inside the jar. */
  entry: string;
}

export interface GoTruth extends LangTruth {
  /** stdlib = the toolchain (version 'go1.19.8'), main = the main module, dep = a dependency. */
  kind: 'stdlib' | 'main' | 'dep';
  sum?: string;
  /** `=>` line: what the dependency was replaced by. */
  replacedBy?: { name: string; version: string };
}

export const ECOSYSTEMS = ['python', 'java', 'go', 'npm'] as const;
export type Ecosystem = (typeof ECOSYSTEMS)[number];

export interface Truth {
  tools: Record<string, string>;
  os: Record<string, string>;
  deb: DebTruth[];
  python: LangTruth[];
  java: JavaTruth[];
  go: GoTruth[];
  npm: LangTruth[];
  /** Packages a later layer deleted (whiteouts): must not be reported. */
  deleted: { ecosystem: Ecosystem; name: string; version: string; path: string }[];
  /** Jars without any pom.properties (not counted: nothing to compare with). */
  jarsWithoutPom: string[];
}

/** Everything but npm and deleted (the builder knows those). */
export async function takeTruth(rootfs: string): Promise<Omit<Truth, 'npm' | 'deleted'>> {
  const owners = await dpkgOwners(rootfs);
  const own = <T extends LangTruth>(t: T): T => {
    const o = owners.get(t.path);
    return o === undefined ? t : { ...t, ownedBy: o };
  };
  const scan = await scanTree(rootfs, '/');
  const java = await javaTruth(rootfs, scan.jars);
  return {
    tools: await toolVersions(),
    os: await osRelease(rootfs),
    deb: await dpkgTruth(rootfs),
    python: (await pythonTruth(rootfs, scan.pythonDists)).map(own),
    java: java.found.map(own),
    go: (await goTruth(rootfs)).map(own),
    jarsWithoutPom: java.withoutPom,
  };
}

export async function toolVersions(): Promise<Record<string, string>> {
  const first = async (cmd: string, args: string[]) => {
    try {
      const { stdout } = await run(cmd, args, { maxBuffer: BIG });
      return stdout.split('\n')[0]!.trim();
    } catch {
      return 'unavailable';
    }
  };
  return {
    dpkg: await first('dpkg-query', ['--version']),
    go: await first('go', ['version']),
    npm: await first('npm', ['--version']),
    unzip: await first('unzip', ['-v']),
    mmdebstrap: await first('mmdebstrap', ['--version']),
  };
}

export async function osRelease(rootfs: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const p of ['etc/os-release', 'usr/lib/os-release']) {
    let text: string;
    try {
      text = await readFile(join(rootfs, p), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (m) out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
    }
    break;
  }
  return out;
}

// ---- dpkg ----

export async function dpkgTruth(rootfs: string): Promise<DebTruth[]> {
  const { stdout } = await run(
    'dpkg-query',
    [
      `--admindir=${join(rootfs, 'var/lib/dpkg')}`,
      '-W',
      '-f',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} syntax
      '${db:Status-Status}\\t${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\n',
    ],
    { maxBuffer: BIG },
  );
  const out: DebTruth[] = [];
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const [status, name, version, arch, sourceName, sourceVersion] = line.split('\t');
    if (status !== 'installed') continue;
    out.push({
      name: name!,
      version: version!,
      arch: arch!,
      sourceName: sourceName!,
      sourceVersion: sourceVersion!,
    });
  }
  return out.sort((a, b) => cmp(a.name, b.name));
}

/** Image path → deb package owning it, from var/lib/dpkg/info/<pkg>[:<arch>].list. */
export async function dpkgOwners(rootfs: string): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  const info = join(rootfs, 'var/lib/dpkg/info');
  let dir: Awaited<ReturnType<typeof opendir>>;
  try {
    dir = await opendir(info);
  } catch {
    return owners;
  }
  const lists: string[] = [];
  for await (const e of dir) if (e.name.endsWith('.list')) lists.push(e.name);
  for (const name of lists.sort()) {
    const pkg = name.slice(0, -'.list'.length).replace(/:[^:]+$/, '');
    for (const p of (await readFile(join(info, name), 'utf8')).split('\n')) {
      if (p !== '' && p !== '/.' && !owners.has(p)) owners.set(p, pkg);
    }
  }
  return owners;
}

// ---- walking the tree ----

export interface Scan {
  /** *.dist-info and *.egg-info (directories or files), image paths. */
  pythonDists: string[];
  /** Regular *.jar/*.war/*.ear files (symlinks are not followed), image paths. */
  jars: string[];
}

const SKIP = new Set(['/proc', '/sys', '/dev']);

/** Walk `start` (an image path) under `rootfs` without following symlinks. */
export async function scanTree(rootfs: string, start: string): Promise<Scan> {
  const scan: Scan = { pythonDists: [], jars: [] };
  const visit = async (imagePath: string): Promise<void> => {
    const host = join(rootfs, imagePath);
    let st: Awaited<ReturnType<typeof lstat>>;
    try {
      st = await lstat(host);
    } catch {
      return;
    }
    const base = imagePath.slice(imagePath.lastIndexOf('/') + 1);
    if (/\.(dist-info|egg-info)$/.test(base) && (st.isDirectory() || st.isFile()))
      scan.pythonDists.push(imagePath);
    if (st.isFile() && /\.(jar|war|ear)$/i.test(base)) scan.jars.push(imagePath);
    if (!st.isDirectory() || SKIP.has(imagePath)) return;
    const names: string[] = [];
    for await (const e of await opendir(host)) names.push(e.name);
    for (const n of names.sort()) await visit(imagePath === '/' ? `/${n}` : `${imagePath}/${n}`);
  };
  await visit(start);
  return scan;
}

// ---- Python ----

/** Name and Version from the first header block (RFC 822 style, as the core metadata spec says). */
export function parseCoreMetadata(text: string): { name?: string; version?: string } {
  const out: { name?: string; version?: string } = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    if (key === 'name' && out.name === undefined) out.name = m[2]!.trim();
    if (key === 'version' && out.version === undefined) out.version = m[2]!.trim();
  }
  return out;
}

export async function pythonTruth(rootfs: string, dists: string[]): Promise<LangTruth[]> {
  const out: LangTruth[] = [];
  for (const d of dists) {
    const st = await lstat(join(rootfs, d));
    const file = st.isDirectory() ? join(d, d.endsWith('.dist-info') ? 'METADATA' : 'PKG-INFO') : d;
    let text: string;
    try {
      text = await readFile(join(rootfs, file), 'utf8');
    } catch {
      continue; // an empty or broken dist: nothing a tool could report
    }
    const { name, version } = parseCoreMetadata(text);
    if (name && version) out.push({ name, version, path: d });
  }
  return out.sort((a, b) => cmp(a.path, b.path));
}

// ---- Java ----

export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

export async function javaTruth(
  rootfs: string,
  jars: string[],
): Promise<{ found: JavaTruth[]; withoutPom: string[] }> {
  const found: JavaTruth[] = [];
  const withoutPom: string[] = [];
  for (const jar of jars) {
    const host = join(rootfs, jar);
    let entries: string[];
    try {
      entries = (await run('unzip', ['-Z1', host], { maxBuffer: BIG })).stdout.split('\n');
    } catch {
      continue; // not a zip: nothing a tool could report
    }
    const poms = entries.filter((e) => /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(e)).sort();
    if (poms.length === 0) withoutPom.push(jar);
    for (const entry of poms) {
      const { stdout } = await run('unzip', ['-p', host, entry], { maxBuffer: BIG });
      const p = parseProperties(stdout);
      if (p.artifactId && p.version) {
        found.push({ name: p.artifactId, version: p.version, groupId: p.groupId ?? '', path: jar, entry });
      }
    }
  }
  return { found, withoutPom };
}

// ---- Go ----

/** Parse `go version -m` output; paths made relative to `rootfs`. */
export function parseGoVersionM(stdout: string, rootfs: string): GoTruth[] {
  const out: GoTruth[] = [];
  let bin: string | undefined;
  let last: GoTruth | undefined;
  for (const line of stdout.split('\n')) {
    const head = /^(.+): (go[^\s]+)$/.exec(line);
    if (head) {
      bin = `/${relative(rootfs, head[1]!)}`;
      out.push({ kind: 'stdlib', name: 'stdlib', version: head[2]!, path: bin });
      last = undefined;
      continue;
    }
    if (bin === undefined || !line.startsWith('\t')) continue;
    const f = line.slice(1).split('\t');
    if (f[0] === 'mod') {
      last = { kind: 'main', name: f[1]!, version: f[2]!, path: bin, ...(f[3] ? { sum: f[3] } : {}) };
      out.push(last);
    } else if (f[0] === 'dep') {
      last = { kind: 'dep', name: f[1]!, version: f[2]!, path: bin, ...(f[3] ? { sum: f[3] } : {}) };
      out.push(last);
    } else if (f[0] === '=>' && last) {
      last.replacedBy = { name: f[1]!, version: f[2]! };
    }
  }
  return out;
}

/** `go version -m ROOTFS` walks it (no symlinks) and answers for every executable Go binary. */
export async function goTruth(rootfs: string): Promise<GoTruth[]> {
  const { stdout } = await run('go', ['version', '-m', rootfs], { maxBuffer: BIG, env: goEnv() });
  return parseGoVersionM(stdout, rootfs).sort((a, b) => cmp(a.path, b.path) || cmp(a.name, b.name));
}

function goEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GOFLAGS: '', GOTOOLCHAIN: 'local' };
}

// ---- npm ----

interface NpmNode {
  version?: string;
  path?: string;
  missing?: boolean;
  dependencies?: Record<string, NpmNode>;
}

/** Flatten `npm ls --all --json --long` of `appDir` into one entry per installed directory. */
export async function npmTruth(rootfs: string, appDir: string): Promise<LangTruth[]> {
  let stdout: string;
  try {
    stdout = (await run('npm', ['ls', '--all', '--json', '--long'], { cwd: appDir, maxBuffer: BIG })).stdout;
  } catch (e) {
    // npm ls exits 1 on problems (missing, invalid) but still prints the tree.
    stdout = (e as { stdout?: string }).stdout ?? '';
    if (stdout === '') throw e;
  }
  const tree = JSON.parse(stdout) as NpmNode;
  const byPath = new Map<string, LangTruth>();
  const walk = (n: NpmNode) => {
    for (const [name, child] of Object.entries(n.dependencies ?? {})) {
      if (child.path && child.version && !child.missing) {
        const path = `/${relative(rootfs, child.path)}`;
        if (!byPath.has(path)) byPath.set(path, { name, version: child.version, path });
      }
      walk(child);
    }
  };
  walk(tree);
  return [...byPath.values()].sort((a, b) => cmp(a.path, b.path));
}

/** Byte-order comparison (stable across locales). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
