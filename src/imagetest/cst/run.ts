/**
 * Run the static parts of a container-structure-test file against an image's config and merged
 * filesystem, with cst's semantics: metadata compared as its drivers report it (ports without
 * their protocol), file existence and permissions of the path itself (symlinks not followed,
 * as the docker driver's archive reports them; `$VAR` in paths taken from the image's Env),
 * contents read through symlinks and matched unanchored with Go regexps, Debian license checks
 * over /usr/share/doc. Command tests need a container runtime and are refused (cst's tar driver
 * refuses them too). Failure messages never print file contents.
 */
import { goFileMode } from '../filemode.ts';
import type { CheckResult, CheckStatus, CheckTarget } from '../types.ts';
import type {
  CommandTest,
  FileContentTest,
  FileExistenceTest,
  KeyValueTest,
  LicenseTest,
  MetadataTest,
  StructureTest,
} from './types.ts';

const MAX_CONTENT_BYTES = 64 * 1024 ** 2;
const DEBIAN_DOC = '/usr/share/doc';
/** cst's license test: packages it never fails, words that fail a license file. */
const LICENSE_ALLOWED_PACKAGES = new Set(['libgnutls30']);
const LICENSE_REFUSED_WORDS = ['AGPL', 'WTFPL'] as const;

export interface RunOptions {
  commandTests?: 'fail' | 'skip';
}

export async function runStructureTest(
  t: CheckTarget,
  st: StructureTest,
  o: RunOptions = {},
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of st.commands) out.push(commandTest(st.file, c, o.commandTests ?? 'fail'));
  for (const f of st.fileExistence) out.push(await fileExistence(t, st.file, f));
  for (const f of st.fileContent) out.push(await fileContent(t, st.file, f));
  for (const l of st.licenses) out.push(await license(t, st.file, l));
  if (st.metadata) out.push(...metadata(t, st.file, st.metadata));
  return out;
}

function result(
  source: string,
  name: string,
  status: CheckStatus,
  message: string,
  details?: string[],
): CheckResult {
  return details && details.length > 0
    ? { name, source, status, message, details }
    : { name, source, status, message };
}

function commandTest(source: string, c: CommandTest, mode: 'fail' | 'skip'): CheckResult {
  return result(
    source,
    `Command Test: ${c.name || c.command}`,
    mode,
    `${c.at}: command tests run the image, and vouch checks it statically (like container-structure-test's tar driver); run this one with container-structure-test --driver docker`,
  );
}

/** Image env as a map (the last definition of a name wins, as in a container). */
function envMap(t: CheckTarget): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of t.config?.Env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

/** `$VAR` and `${VAR}` from the image's env (unknown ones are empty), like Go's os.Expand. */
export function expandEnv(path: string, env: ReadonlyMap<string, string>): string {
  return path.replace(
    /\$(?:\{([^}]*)\}|([A-Za-z0-9_]+))/g,
    (_m, a: string | undefined, b: string | undefined) => {
      return env.get((a ?? b)!) ?? '';
    },
  );
}

async function fileExistence(t: CheckTarget, source: string, f: FileExistenceTest): Promise<CheckResult> {
  const name = `File Existence Test: ${f.name}`;
  const path = expandEnv(f.path, envMap(t));
  const rec = await t.files.lstat(path);
  if (!f.shouldExist) {
    return rec
      ? result(source, name, 'fail', `${path} should not exist but does (${goFileMode(rec.type, rec.mode)})`)
      : result(source, name, 'pass', `${path} does not exist`);
  }
  if (!rec) return result(source, name, 'fail', `${path} should exist but does not`);
  const mode = goFileMode(rec.type, rec.mode);
  const wrong: string[] = [];
  if (f.permissions !== undefined && mode !== f.permissions) {
    wrong.push(`${path} has incorrect permissions. Expected: ${f.permissions}, Actual: ${mode}`);
  }
  if (f.isExecutableBy !== undefined) {
    const bits = { owner: 0o100, group: 0o010, other: 0o001, any: 0o111 }[f.isExecutableBy];
    if ((rec.mode & bits) === 0) {
      wrong.push(`${path} is not executable by ${f.isExecutableBy}: ${mode}`);
    }
  }
  if (f.uid !== undefined && rec.uid !== f.uid) {
    wrong.push(`${path} has incorrect user ownership. Expected: ${f.uid}, Actual: ${rec.uid}`);
  }
  if (f.gid !== undefined && rec.gid !== f.gid) {
    wrong.push(`${path} has incorrect group ownership. Expected: ${f.gid}, Actual: ${rec.gid}`);
  }
  if (wrong.length === 0)
    return result(source, name, 'pass', `${path} exists: ${mode} ${rec.uid}:${rec.gid}`);
  return result(source, name, 'fail', wrong.join('; '), wrong.length > 1 ? wrong : undefined);
}

async function readText(t: CheckTarget, path: string): Promise<{ text: string } | { error: string }> {
  const rec = await t.files.stat(path);
  if (!rec) return { error: `${path} does not exist` };
  if (rec.type !== 'file')
    return { error: `${path} is a ${rec.type === 'dir' ? 'directory' : rec.type}, not a file` };
  if (rec.size > MAX_CONTENT_BYTES)
    return { error: `${path} is ${rec.size} bytes, over the ${MAX_CONTENT_BYTES} byte limit` };
  return {
    text: Buffer.from(await t.files.readFile(path, { maxBytes: MAX_CONTENT_BYTES })).toString('utf8'),
  };
}

async function fileContent(t: CheckTarget, source: string, f: FileContentTest): Promise<CheckResult> {
  const name = `File Content Test: ${f.name}`;
  const path = expandEnv(f.path, envMap(t));
  const read = await readText(t, path);
  if ('error' in read) return result(source, name, 'fail', `cannot read ${path}: ${read.error}`);
  const wrong: string[] = [];
  for (const p of f.expectedContents) {
    if (!p.re.test(read.text)) wrong.push(`expected /${p.source}/ not found in ${path}`);
  }
  for (const p of f.excludedContents) {
    if (p.re.test(read.text)) wrong.push(`excluded /${p.source}/ found in ${path}`);
  }
  const n = f.expectedContents.length + f.excludedContents.length;
  if (wrong.length === 0)
    return result(source, name, 'pass', `${path}: ${n} pattern${n === 1 ? '' : 's'} as expected`);
  return result(source, name, 'fail', wrong.join('; '), wrong.length > 1 ? wrong : undefined);
}

async function license(t: CheckTarget, source: string, l: LicenseTest): Promise<CheckResult> {
  const name = 'License Test';
  const problems: string[] = [];
  let packages = 0;
  const checkText = async (path: string) => {
    const read = await readText(t, path);
    if ('error' in read) {
      problems.push(`cannot read license file ${path}: ${read.error}`);
      return;
    }
    const upper = read.text.toUpperCase();
    for (const w of LICENSE_REFUSED_WORDS) {
      if (upper.includes(w)) problems.push(`${path} names a refused license (${w})`);
    }
  };
  if (l.debian) {
    const doc = await t.files.stat(DEBIAN_DOC);
    if (doc?.type !== 'dir') {
      if (l.files.length === 0) {
        return result(
          source,
          name,
          'skip',
          `${l.at}: no ${DEBIAN_DOC} in the image (docs removed?), nothing to check`,
        );
      }
    } else {
      for (const rec of await t.files.list(DEBIAN_DOC)) {
        // Directories only (a package's doc symlink leads to another package's directory).
        if (rec.type !== 'dir') continue;
        const pkg = rec.path.slice(rec.path.lastIndexOf('/') + 1);
        if (LICENSE_ALLOWED_PACKAGES.has(pkg)) continue;
        packages++;
        await checkText(`${rec.path}/copyright`);
      }
    }
  }
  for (const f of l.files) await checkText(f);
  const what = [
    ...(l.debian ? [`${packages} Debian package${packages === 1 ? '' : 's'}`] : []),
    ...(l.files.length > 0 ? [`${l.files.length} file${l.files.length === 1 ? '' : 's'}`] : []),
  ].join(' and ');
  if (problems.length === 0) return result(source, name, 'pass', `licenses of ${what || 'nothing'} checked`);
  return result(
    source,
    name,
    'fail',
    `${problems.length} license problem${problems.length === 1 ? '' : 's'} in ${what}`,
    problems,
  );
}

function metadata(t: CheckTarget, source: string, m: MetadataTest): CheckResult[] {
  const c = t.config ?? {};
  const env = envMap(t);
  const labels = new Map(Object.entries(c.Labels ?? {}));
  // As cst's drivers report them: the port without its protocol.
  const ports = Object.keys(c.ExposedPorts ?? {}).map(normalisePort);
  const portNumbers = ports.map((p) => p.split('/')[0]!);
  const volumes = Object.keys(c.Volumes ?? {});
  const out: CheckResult[] = [];
  const add = (what: string, ok: boolean, pass: string, fail: string) =>
    out.push(result(source, `Metadata Test: ${what}`, ok ? 'pass' : 'fail', ok ? pass : fail));

  const pair = (kind: 'env' | 'label', have: Map<string, string>, e: KeyValueTest) => {
    const v = have.get(e.key);
    const what = `${kind} ${e.key}`;
    if (v === undefined)
      return add(what, false, '', `${kind === 'env' ? 'variable' : 'label'} ${e.key} not found in the image`);
    const ok = e.re ? e.re.test(v) : v === e.value;
    // Values are not printed: env values may be secrets.
    add(
      what,
      ok,
      `${e.key} ${e.re ? `matches /${e.value}/` : 'has the expected value'}`,
      `${e.key} ${e.re ? `does not match /${e.value}/` : `is not "${e.value}"`}`,
    );
  };
  for (const e of m.env) pair('env', env, e);
  for (const k of m.unboundEnv)
    add(`unbound env ${k}`, !env.has(k), `${k} is not set`, `${k} should not be set but is`);
  for (const e of m.labels) pair('label', labels, e);
  const exact = (what: string, want: string[] | undefined, have: readonly string[]) => {
    if (want === undefined) return;
    const ok = want.length === have.length && want.every((x, i) => x === have[i]);
    add(
      what,
      ok,
      `${what} is ${JSON.stringify(have)}`,
      `${what} is ${JSON.stringify(have)}, expected ${JSON.stringify(want)}`,
    );
  };
  exact('entrypoint', m.entrypoint, c.Entrypoint ?? []);
  exact('cmd', m.cmd, c.Cmd ?? []);
  if (m.workdir !== undefined) {
    const have = c.WorkingDir ?? '';
    add(
      'workdir',
      have === m.workdir,
      `workdir is ${m.workdir}`,
      `workdir is "${have}", expected "${m.workdir}"`,
    );
  }
  if (m.user !== undefined) {
    const have = c.User ?? '';
    add('user', have === m.user, `user is ${m.user}`, `user is "${have}", expected "${m.user}"`);
  }
  const exposed = (p: string) =>
    p.includes('/') ? ports.includes(normalisePort(p)) : portNumbers.includes(p);
  for (const p of m.exposedPorts)
    add(
      `exposed port ${p}`,
      exposed(p),
      `port ${p} is exposed`,
      `port ${p} is not exposed (exposed: ${ports.join(', ') || 'none'})`,
    );
  for (const p of m.unexposedPorts)
    add(
      `unexposed port ${p}`,
      !exposed(p),
      `port ${p} is not exposed`,
      `port ${p} should not be exposed but is`,
    );
  for (const v of m.volumes)
    add(
      `volume ${v}`,
      volumes.includes(v),
      `volume ${v} is declared`,
      `volume ${v} is not declared (declared: ${volumes.join(', ') || 'none'})`,
    );
  for (const v of m.unmountedVolumes)
    add(
      `unmounted volume ${v}`,
      !volumes.includes(v),
      `volume ${v} is not declared`,
      `volume ${v} should not be declared but is`,
    );
  return out;
}

/** "8080" → "8080/tcp"; protocols lower-cased. */
function normalisePort(p: string): string {
  const [port, proto] = p.split('/');
  return `${port}/${(proto || 'tcp').toLowerCase()}`;
}
