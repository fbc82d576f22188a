/**
 * Read a container-structure-test YAML file. Stricter than cst itself where silence would hide a
 * mistake: an unknown key (a typo like `shouldexist` would otherwise make a test pass), a bad
 * regular expression or a malformed `permissions` string is an error naming file:line:col,
 * all problems at once. Scalars given to string fields keep their source text (`user: 65532`
 * is "65532"), as Go's yaml decoding does.
 */
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from 'yaml';
import { VouchError } from '../../errors.ts';
import { compileGoRegexp } from '../re2.ts';
import {
  type CommandTest,
  EXECUTABLE_BY,
  type ExecutableBy,
  type FileContentTest,
  type FileExistenceTest,
  type KeyValueTest,
  type LicenseTest,
  type MetadataTest,
  type Pattern,
  type StructureTest,
} from './types.ts';

const SCHEMA_VERSIONS = ['2.0.0', '1.0.0'] as const;
const TOP_KEYS = [
  'schemaVersion',
  'globalEnvVars',
  'metadataTest',
  'fileExistenceTests',
  'fileContentTests',
  'licenseTests',
  'commandTests',
  'containerRunOptions',
] as const;
const METADATA_KEYS = [
  'env',
  'envVars',
  'unboundEnv',
  'unboundEnvVars',
  'labels',
  'entrypoint',
  'cmd',
  'exposedPorts',
  'unexposedPorts',
  'volumes',
  'unmountedVolumes',
  'workdir',
  'user',
] as const;
const KV_KEYS = ['key', 'value', 'isRegex'] as const;
const EXISTENCE_KEYS = [
  'name',
  'path',
  'shouldExist',
  'permissions',
  'uid',
  'gid',
  'isExecutableBy',
] as const;
const CONTENT_KEYS = ['name', 'path', 'expectedContents', 'excludedContents'] as const;
const LICENSE_KEYS = ['debian', 'files'] as const;
const COMMAND_KEYS = [
  'name',
  'setup',
  'teardown',
  'envVars',
  'command',
  'args',
  'expectedOutput',
  'excludedOutput',
  'expectedError',
  'excludedError',
  'exitCode',
] as const;
const RUN_OPTION_KEYS = [
  'user',
  'privileged',
  'allocateTty',
  'envVars',
  'envFile',
  'capabilities',
  'bindMounts',
] as const;
const PERMISSIONS = /^(?:-|[dalTLDpSugct?]+)[r-][w-][x-][r-][w-][x-][r-][w-][x-]$/;

/** Read and parse a test file from disk. */
export async function loadStructureTest(path: string): Promise<StructureTest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VouchError(
      code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'IO_ERROR',
      `cannot read test file ${path}: ${code ?? e}`,
      {
        cause: e,
      },
    );
  }
  return parseStructureTest(text, path);
}

/** Parse the text of a test file; `file` names it in results and errors. */
export function parseStructureTest(text: string, file: string): StructureTest {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const r = new Reader(file, lines);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new VouchError('USAGE', `${r.pos(e.pos[0])}: ${e.message.split('\n')[0]}`);
  }
  const top = r.map(doc.contents as Node | null, '(document)', TOP_KEYS);
  const version = r.scalarText(top?.get('schemaVersion'), 'schemaVersion');
  const out: StructureTest = {
    file,
    schemaVersion: '2.0.0',
    fileExistence: [],
    fileContent: [],
    licenses: [],
    commands: [],
  };
  if (version === undefined)
    r.problem(doc.contents as Node | null, 'schemaVersion is missing (expected "2.0.0")');
  else if (!(SCHEMA_VERSIONS as readonly string[]).includes(version)) {
    r.problem(top?.get('schemaVersion'), `schemaVersion "${version}" is not supported (expected "2.0.0")`);
  } else out.schemaVersion = version as StructureTest['schemaVersion'];

  // Only command tests use these (refused below); their shape is still checked.
  for (const [i, item] of r.list(top?.get('globalEnvVars'), 'globalEnvVars')) {
    r.map(item, `globalEnvVars[${i}]`, KV_KEYS);
  }
  r.map(top?.get('containerRunOptions'), 'containerRunOptions', RUN_OPTION_KEYS);
  const md = top?.get('metadataTest');
  if (md !== undefined && md !== null && !(isScalar(md) && md.value === null)) out.metadata = metadata(r, md);
  for (const [i, item] of r.list(top?.get('fileExistenceTests'), 'fileExistenceTests')) {
    const t = existence(r, item, `fileExistenceTests[${i}]`);
    if (t) out.fileExistence.push(t);
  }
  for (const [i, item] of r.list(top?.get('fileContentTests'), 'fileContentTests')) {
    const t = content(r, item, `fileContentTests[${i}]`);
    if (t) out.fileContent.push(t);
  }
  for (const [i, item] of r.list(top?.get('licenseTests'), 'licenseTests')) {
    const where = `licenseTests[${i}]`;
    const m = r.map(item, where, LICENSE_KEYS);
    if (!m) continue;
    const t: LicenseTest = {
      at: r.at(item),
      debian: r.bool(m.get('debian'), `${where}.debian`) ?? false,
      files: r.strings(m.get('files'), `${where}.files`) ?? [],
    };
    out.licenses.push(t);
  }
  for (const [i, item] of r.list(top?.get('commandTests'), 'commandTests')) {
    const where = `commandTests[${i}]`;
    const m = r.map(item, where, COMMAND_KEYS);
    if (!m) continue;
    const t: CommandTest = {
      at: r.at(item),
      name: r.scalarText(m.get('name'), `${where}.name`) ?? '',
      command: r.scalarText(m.get('command'), `${where}.command`) ?? '',
    };
    out.commands.push(t);
  }
  r.throwIfProblems();
  return out;
}

function metadata(r: Reader, node: Node, where = 'metadataTest'): MetadataTest | undefined {
  const m = r.map(node, where, METADATA_KEYS);
  if (!m) return undefined;
  const kv = (key: string, needValue: boolean): KeyValueTest[] => {
    const out: KeyValueTest[] = [];
    for (const [i, item] of r.list(m.get(key), `${where}.${key}`)) {
      const w = `${where}.${key}[${i}]`;
      const e = r.map(item, w, KV_KEYS);
      if (!e) continue;
      const k = r.scalarText(e.get('key'), `${w}.key`);
      if (!k) {
        r.problem(item, `${w}.key must be a non-empty string`);
        continue;
      }
      const value = r.scalarText(e.get('value'), `${w}.value`) ?? '';
      const t: KeyValueTest = { key: k, value };
      if (needValue && r.bool(e.get('isRegex'), `${w}.isRegex`)) {
        const re = r.regex(e.get('value'), value, `${w}.value`);
        if (re) t.re = re.re;
      }
      out.push(t);
    }
    return out;
  };
  const both = (a: string, b: string) => {
    if (m.has(a) && m.has(b)) r.problem(m.get(b), `${where}: give ${a} or ${b}, not both`);
    return m.has(b) ? b : a;
  };
  const t: MetadataTest = {
    at: r.at(node),
    env: kv(both('envVars', 'env'), true),
    unboundEnv: kv(both('unboundEnvVars', 'unboundEnv'), false).map((e) => e.key),
    labels: kv('labels', true),
    exposedPorts: r.strings(m.get('exposedPorts'), `${where}.exposedPorts`) ?? [],
    unexposedPorts: r.strings(m.get('unexposedPorts'), `${where}.unexposedPorts`) ?? [],
    volumes: r.strings(m.get('volumes'), `${where}.volumes`) ?? [],
    unmountedVolumes: r.strings(m.get('unmountedVolumes'), `${where}.unmountedVolumes`) ?? [],
  };
  const entrypoint = r.strings(m.get('entrypoint'), `${where}.entrypoint`);
  if (entrypoint) t.entrypoint = entrypoint;
  const cmd = r.strings(m.get('cmd'), `${where}.cmd`);
  if (cmd) t.cmd = cmd;
  const workdir = r.scalarText(m.get('workdir'), `${where}.workdir`);
  if (workdir) t.workdir = workdir;
  const user = r.scalarText(m.get('user'), `${where}.user`);
  if (user) t.user = user;
  for (const [k, list] of [
    ['exposedPorts', t.exposedPorts],
    ['volumes', t.volumes],
  ] as const) {
    if (list.some((x) => x === '')) r.problem(m.get(k), `${where}.${k} has an empty entry`);
  }
  return t;
}

function existence(r: Reader, node: Node, where: string): FileExistenceTest | undefined {
  const m = r.map(node, where, EXISTENCE_KEYS);
  if (!m) return undefined;
  const name = r.scalarText(m.get('name'), `${where}.name`);
  const path = r.scalarText(m.get('path'), `${where}.path`);
  if (!name) r.problem(node, `${where}: every test needs a name`);
  if (!path) r.problem(node, `${where}: path is missing`);
  const t: FileExistenceTest = {
    at: r.at(node),
    name: name ?? '',
    path: path ?? '',
    shouldExist: r.bool(m.get('shouldExist'), `${where}.shouldExist`) ?? true,
  };
  const permissions = r.scalarText(m.get('permissions'), `${where}.permissions`);
  if (permissions !== undefined && permissions !== '') {
    if (!PERMISSIONS.test(permissions)) {
      r.problem(
        m.get('permissions'),
        `${where}.permissions "${permissions}" is not in Go's FileMode form (like "-rwxr-xr-x" or "drwxr-xr-x")`,
      );
    }
    t.permissions = permissions;
  }
  for (const k of ['uid', 'gid'] as const) {
    const v = r.int(m.get(k), `${where}.${k}`);
    // -1 is cst's "not checked".
    if (v !== undefined && v !== -1) t[k] = v;
  }
  const by = r.scalarText(m.get('isExecutableBy'), `${where}.isExecutableBy`);
  if (by !== undefined && by !== '') {
    if (!(EXECUTABLE_BY as readonly string[]).includes(by)) {
      r.problem(
        m.get('isExecutableBy'),
        `${where}.isExecutableBy "${by}": expected one of ${EXECUTABLE_BY.join(', ')}`,
      );
    } else t.isExecutableBy = by as ExecutableBy;
  }
  return t;
}

function content(r: Reader, node: Node, where: string): FileContentTest | undefined {
  const m = r.map(node, where, CONTENT_KEYS);
  if (!m) return undefined;
  const name = r.scalarText(m.get('name'), `${where}.name`);
  const path = r.scalarText(m.get('path'), `${where}.path`);
  if (!name) r.problem(node, `${where}: every test needs a name`);
  if (!path) r.problem(node, `${where}: path is missing`);
  const patterns = (key: string): Pattern[] => {
    const out: Pattern[] = [];
    for (const [i, item] of r.list(m.get(key), `${where}.${key}`)) {
      const text = r.scalarText(item, `${where}.${key}[${i}]`);
      if (text === undefined) continue;
      const p = r.regex(item, text, `${where}.${key}[${i}]`);
      if (p) out.push(p);
    }
    return out;
  };
  return {
    at: r.at(node),
    name: name ?? '',
    path: path ?? '',
    expectedContents: patterns('expectedContents'),
    excludedContents: patterns('excludedContents'),
  };
}

/** Typed reads of YAML nodes that record problems (with positions) instead of throwing. */
class Reader {
  readonly #file: string;
  readonly #lines: LineCounter;
  readonly #problems: { offset: number; text: string }[] = [];

  constructor(file: string, lines: LineCounter) {
    this.#file = file;
    this.#lines = lines;
  }

  pos(offset: number): string {
    const p = this.#lines.linePos(offset);
    return `${this.#file}:${p.line}:${p.col}`;
  }

  at(node: unknown): string {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? this.pos(range[0]) : this.#file;
  }

  problem(node: unknown, message: string): void {
    const offset = (node as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
    this.#problems.push({ offset, text: `${this.at(node)}: ${message}` });
  }

  throwIfProblems(): void {
    if (this.#problems.length === 0) return;
    throw new VouchError(
      'USAGE',
      `${this.#file} is not a valid container-structure-test file:\n  ${this.#problems
        .sort((a, b) => a.offset - b.offset)
        .map((p) => p.text)
        .join('\n  ')}`,
      { hint: 'see https://github.com/GoogleContainerTools/container-structure-test#readme for the format' },
    );
  }

  /** A mapping with only `allowed` keys; undefined (and a problem) otherwise; absent = undefined. */
  map(node: unknown, where: string, allowed: readonly string[]): Map<string, Node | null> | undefined {
    if (node === undefined || node === null || (isScalar(node) && node.value === null)) return undefined;
    if (!isMap(node)) {
      this.problem(node, `${where} must be a mapping`);
      return undefined;
    }
    const out = new Map<string, Node | null>();
    for (const pair of (node as YAMLMap<unknown, unknown>).items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!allowed.includes(key)) {
        const near = allowed.find((a) => a.toLowerCase() === key.toLowerCase());
        this.problem(pair.key, `unknown key "${key}" in ${where}${near ? ` (did you mean "${near}"?)` : ''}`);
        continue;
      }
      out.set(key, (pair.value as Node | null) ?? null);
    }
    return out;
  }

  /** Items of a sequence (absent or null = none). */
  list(node: unknown, where: string): [number, Node][] {
    if (node === undefined || node === null || (isScalar(node) && node.value === null)) return [];
    if (!isSeq(node)) {
      this.problem(node, `${where} must be a list`);
      return [];
    }
    return node.items.map((item, i) => [i, item as Node]);
  }

  /** A scalar's text as Go's yaml gives it to a string field; undefined when absent or null. */
  scalarText(node: unknown, where: string): string | undefined {
    if (node === undefined || node === null) return undefined;
    if (!isScalar(node)) {
      this.problem(node, `${where} must be a string`);
      return undefined;
    }
    if (node.value === null) return undefined;
    return typeof node.value === 'string' ? node.value : (node.source ?? String(node.value));
  }

  strings(node: unknown, where: string): string[] | undefined {
    if (node === undefined || node === null || (isScalar(node) && node.value === null)) return undefined;
    if (!isSeq(node)) {
      this.problem(node, `${where} must be a list of strings`);
      return undefined;
    }
    return node.items.map((item, i) => this.scalarText(item, `${where}[${i}]`) ?? '');
  }

  bool(node: unknown, where: string): boolean | undefined {
    if (node === undefined || node === null || (isScalar(node) && node.value === null)) return undefined;
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.problem(node, `${where} must be true or false`);
    return undefined;
  }

  int(node: unknown, where: string): number | undefined {
    if (node === undefined || node === null || (isScalar(node) && node.value === null)) return undefined;
    if (isScalar(node) && typeof node.value === 'number' && Number.isInteger(node.value)) return node.value;
    this.problem(node, `${where} must be a whole number`);
    return undefined;
  }

  regex(node: unknown, source: string, where: string): Pattern | undefined {
    try {
      return { source, re: compileGoRegexp(source) };
    } catch (e) {
      this.problem(node, `${where}: ${(e as Error).message}`);
      return undefined;
    }
  }
}
