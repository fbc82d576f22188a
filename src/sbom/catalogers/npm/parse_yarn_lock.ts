/**
 * yarn.lock, both formats:
 *  - classic (yarn 1, "# yarn lockfile v1"): blocks keyed by one or more comma-separated
 *    specs ('"@babel/core@^7.0.0", "@babel/core@^7.1.0":'), with indented `version "x"`,
 *    `resolved "url"`, `integrity ...` and `dependencies:` / `optionalDependencies:` maps of
 *    name → range; an alias spec is 'my-ms@npm:ms@2.1.2';
 *  - berry (yarn 2+, YAML with __metadata): keys of descriptors ('ms@npm:^2.1.1, ms@npm:2.1.3'),
 *    `version`, `resolution` ('ms@npm:2.1.3', naming the real package), `dependencies` of
 *    name → descriptor range, `checksum`, `linkType`. Workspace, link and portal entries are
 *    the project's own code and are left out.
 * Which entries are dev-only is worked out from the project's package.json when given.
 */
import { parse as parseYaml } from 'yaml';
import { FormatError } from '../golang/byte-source.ts';
import { type LockEntry, markDevByReachability, type ParsedLock, type ProjectDeps } from './lock.ts';
import { isObject, parseAlias, splitSpec } from './parse_package_json.ts';

export function parseYarnLock(text: string, project?: ProjectDeps): ParsedLock {
  if (/^__metadata:/m.test(text)) return parseBerry(text, project);
  return parseClassic(text, project);
}

interface ClassicBlock {
  specs: string[];
  line: number;
  fields: Map<string, string>;
  deps: Map<string, string>;
}

function parseClassic(text: string, project?: ProjectDeps): ParsedLock {
  const blocks: ClassicBlock[] = [];
  let cur: ClassicBlock | undefined;
  let section: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const where = `yarn.lock line ${i + 1}`;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    if (indent === 0) {
      if (!line.endsWith(':')) throw new FormatError(`${where}: expected "spec:" at the start of a block`);
      cur = { specs: splitKeys(line.slice(0, -1), where), line: i + 1, fields: new Map(), deps: new Map() };
      blocks.push(cur);
      section = undefined;
      continue;
    }
    if (!cur) throw new FormatError(`${where}: field outside any block`);
    const body = line.trim();
    if (indent === 2) {
      if (body.endsWith(':')) {
        section = body.slice(0, -1);
        continue;
      }
      section = undefined;
      const [k, v] = splitField(body, where);
      cur.fields.set(k, v);
    } else if (section === 'dependencies' || section === 'optionalDependencies') {
      const [k, v] = splitField(body, where);
      cur.deps.set(k, v);
    }
  }
  const entries: LockEntry[] = [];
  const bySpec = new Map<string, LockEntry>();
  for (const b of blocks) {
    const version = b.fields.get('version');
    if (!version) throw new FormatError(`yarn.lock line ${b.line}: "${b.specs[0]}" has no version`);
    const first = splitSpec(b.specs[0]!);
    if (first.range.startsWith('file:') || first.range.startsWith('link:')) continue;
    const alias = parseAlias(first.range);
    const entry: LockEntry = { key: b.specs[0]!, name: alias?.name ?? first.name, version, deps: [] };
    const resolved = b.fields.get('resolved');
    if (resolved) entry.resolved = resolved;
    const integrity = b.fields.get('integrity');
    if (integrity) entry.integrity = integrity;
    entries.push(entry);
    for (const s of b.specs) bySpec.set(s, entry);
  }
  for (const b of blocks) {
    const entry = bySpec.get(b.specs[0]!);
    if (!entry) continue;
    for (const [n, range] of b.deps) {
      const to = bySpec.get(`${n}@${range}`);
      if (to) entry.deps.push(to.key);
    }
  }
  const roots = project
    ? [...project.prod].flatMap(([n, range]) => {
        const e = bySpec.get(`${n}@${range}`);
        return e ? [e.key] : [];
      })
    : undefined;
  markDevByReachability(entries, roots);
  return { format: 'yarn', lockfileVersion: 'yarn v1', entries };
}

/** The specs of a block header: comma separated, each possibly double-quoted. */
function splitKeys(s: string, where: string): string[] {
  const out: string[] = [];
  for (const part of s.split(/,\s*/)) {
    const p = part.trim();
    if (p.startsWith('"')) {
      if (!p.endsWith('"') || p.length < 2) throw new FormatError(`${where}: unterminated quote`);
      out.push(p.slice(1, -1));
    } else out.push(p);
  }
  if (out.some((x) => x === '')) throw new FormatError(`${where}: empty spec`);
  return out;
}

/** 'version "1.2.3"', 'integrity sha512-...', '"@s/x" "^1"' → [key, value]. */
function splitField(body: string, where: string): [string, string] {
  let key: string;
  let rest: string;
  if (body.startsWith('"')) {
    const end = body.indexOf('"', 1);
    if (end < 0) throw new FormatError(`${where}: unterminated quote`);
    key = body.slice(1, end);
    rest = body.slice(end + 1).trim();
  } else {
    const sp = body.indexOf(' ');
    if (sp < 0) throw new FormatError(`${where}: "${body}" has no value`);
    key = body.slice(0, sp);
    rest = body.slice(sp + 1).trim();
  }
  if (rest.startsWith('"')) {
    if (!rest.endsWith('"') || rest.length < 2) throw new FormatError(`${where}: unterminated quote`);
    rest = rest.slice(1, -1);
  }
  return [key, rest];
}

function parseBerry(text: string, project?: ProjectDeps): ParsedLock {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new FormatError(`not YAML: ${(e as Error).message}`);
  }
  if (!isObject(raw) || !isObject(raw.__metadata)) throw new FormatError('no __metadata');
  const lockVersion = String(raw.__metadata.version ?? '?');
  const entries: LockEntry[] = [];
  const byDescriptor = new Map<string, LockEntry>();
  const depRanges = new Map<LockEntry, Record<string, unknown>>();
  let workspace: Record<string, unknown> | undefined;
  for (const [key, v] of Object.entries(raw)) {
    if (key === '__metadata') continue;
    if (!isObject(v)) throw new FormatError(`entry "${key}" is not a map`);
    const resolution = typeof v.resolution === 'string' ? v.resolution : '';
    const protocol = /^(?:@[^/]+\/)?[^@]+@([a-z]+):/.exec(resolution)?.[1];
    if (!resolution || !protocol) throw new FormatError(`entry "${key}" has no resolution`);
    if (protocol === 'workspace' || protocol === 'link' || protocol === 'portal') {
      if (resolution.endsWith('@workspace:.')) workspace = isObject(v.dependencies) ? v.dependencies : {};
      continue;
    }
    const version = v.version === undefined ? '' : String(v.version);
    if (version === '') throw new FormatError(`entry "${key}" has no version`);
    const name = splitSpec(resolution).name;
    const entry: LockEntry = { key: resolution, name, version, deps: [] };
    if (typeof v.checksum === 'string') entry.integrity = v.checksum;
    entry.resolved = resolution;
    entries.push(entry);
    for (const d of key.split(/,\s*/)) byDescriptor.set(d.trim(), entry);
    if (isObject(v.dependencies)) depRanges.set(entry, v.dependencies);
  }
  for (const [entry, deps] of depRanges) {
    for (const [n, range] of Object.entries(deps)) {
      const to = byDescriptor.get(`${n}@${String(range)}`);
      if (to) entry.deps.push(to.key);
    }
  }
  let roots: string[] | undefined;
  if (project && workspace) {
    roots = [];
    for (const n of project.prod.keys()) {
      const e = byDescriptor.get(`${n}@${String(workspace[n])}`);
      if (e) roots.push(e.key);
    }
  }
  markDevByReachability(entries, roots);
  return { format: 'yarn', lockfileVersion: lockVersion, entries };
}
