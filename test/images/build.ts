/**
 * Real test images: Debian bookworm root filesystems built by mmdebstrap from Debian's mirrors,
 * packaged by vouch's own code (layerFromDirectory, assembleImage, copyImage) as an OCI layout
 * and a docker-archive, with ground truth from the real tools (truth.ts) saved beside them.
 *
 * Cache: `.cache/test-images/<name>-<key>/` (or $VOUCH_TEST_IMAGES_CACHE), key = sha256 of the
 * recipe text and this builder's version, so changing a recipe rebuilds. A build runs in a
 * private directory renamed into place at the end: a failed or concurrent build never leaves a
 * half-made image behind.
 *
 * Run directly to build: `node test/images/build.ts [minbase|rich ...]`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { assembleImage, type LayerFile } from '../../src/build/assemble.ts';
import { type LayerEntry, type LayerResult, layerFromDirectory, writeLayer } from '../../src/build/layer.ts';
import { copyImage } from '../../src/copy/copy.ts';
import { compareBytes } from '../../src/fs/path.ts';
import { openLayoutDestination } from '../../src/source/layout/layout.ts';
import { openDestination, openSource } from '../../src/transport/open.ts';
import { RECIPES, type Recipe, type RecipeName } from './recipes.ts';
import {
  cmp,
  type Ecosystem,
  javaTruth,
  type LangTruth,
  npmTruth,
  pythonTruth,
  scanTree,
  type Truth,
  takeTruth,
} from './truth.ts';

const run = promisify(execFile);
const BIG = 256 * 1024 * 1024;

/** Bump when the builder's output changes for the same recipe. */
export const BUILDER_VERSION = 1;
/** Fixed mtime of every layer entry (reproducible layers). */
const EPOCH = 1_700_000_000;

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface BuiltImage {
  name: RecipeName;
  /** The cache directory of this build. */
  dir: string;
  /** The final root filesystem (all layers applied), for directory scans. */
  rootfs: string;
  /** OCI image layout directory; the image is tagged with the recipe name. */
  layout: string;
  /** `oci:<layout>:<name>` */
  layoutRef: string;
  /** docker-archive tarball (uncompressed layers, as `docker save` writes). */
  archive: string;
  /** `docker-archive:<archive>` */
  archiveRef: string;
  truth: Truth;
  info: BuildInfo;
}

export interface BuildInfo {
  recipe: string;
  key: string;
  builtAt: string;
  /** Seconds per step, and total. */
  seconds: Record<string, number>;
  manifestDigest: string;
  layers: { digest: string; diffId: string; size: number; entries: number; what: string }[];
  archiveBytes: number;
}

export function cacheRoot(): string {
  return process.env.VOUCH_TEST_IMAGES_CACHE ?? join(repoRoot, '.cache', 'test-images');
}

export function recipeKey(recipe: Recipe): string {
  return createHash('sha256')
    .update(`vouch-test-image/${BUILDER_VERSION}\n${JSON.stringify(recipe)}`)
    .digest('hex')
    .slice(0, 16);
}

/** The cached image, or undefined when it has not been built (cheap: reads two JSON files). */
export async function cachedTestImage(name: RecipeName): Promise<BuiltImage | undefined> {
  const recipe = RECIPES[name];
  const dir = join(cacheRoot(), `${name}-${recipeKey(recipe)}`);
  if (!existsSync(join(dir, 'build.json'))) return undefined;
  return describe(name, dir);
}

/** Build the image unless the cache has it; `log` receives progress lines. */
export async function buildTestImage(
  name: RecipeName,
  o: { log?: (line: string) => void } = {},
): Promise<BuiltImage> {
  const have = await cachedTestImage(name);
  if (have) return have;
  const log = o.log ?? (() => {});
  const recipe = RECIPES[name];
  const key = recipeKey(recipe);
  const root = cacheRoot();
  const final = join(root, `${name}-${key}`);
  const work = join(root, `.${name}-${key}.${process.pid}.partial`);
  await checkTools(recipe);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    await buildInto(recipe, key, work, log);
    try {
      await rename(work, final);
    } catch (e) {
      // Another process finished the same build first: keep theirs.
      if (!existsSync(join(final, 'build.json'))) throw e;
      await rm(work, { recursive: true, force: true });
    }
  } catch (e) {
    await rm(work, { recursive: true, force: true });
    throw e;
  }
  await pruneOtherVersions(root, name, final);
  return describe(name, final);
}

async function describe(name: RecipeName, dir: string): Promise<BuiltImage> {
  const info = JSON.parse(await readFile(join(dir, 'build.json'), 'utf8')) as BuildInfo;
  const truth = JSON.parse(await readFile(join(dir, 'truth.json'), 'utf8')) as Truth;
  const layout = join(dir, 'layout');
  const archive = join(dir, 'image.docker.tar');
  return {
    name,
    dir,
    rootfs: join(dir, 'rootfs'),
    layout,
    layoutRef: `oci:${layout}:${name}`,
    archive,
    archiveRef: `docker-archive:${archive}`,
    truth,
    info,
  };
}

async function pruneOtherVersions(root: string, name: string, keep: string): Promise<void> {
  for (const d of await readdir(root)) {
    const p = join(root, d);
    if (p !== keep && d.startsWith(`${name}-`) && /^[a-z]+-[0-9a-f]{16}$/.test(d)) {
      await rm(p, { recursive: true, force: true });
    }
  }
}

const REQUIRED_TOOLS = ['mmdebstrap', 'dpkg-query', 'unzip', 'go'] as const;

async function checkTools(recipe: Recipe): Promise<void> {
  const missing: string[] = [];
  const tools: string[] = [...REQUIRED_TOOLS];
  if (recipe.node) tools.push('npm');
  if (recipe.go) tools.push('zip');
  for (const t of tools) {
    try {
      await run('sh', ['-c', `command -v ${t}`]);
    } catch {
      missing.push(t);
    }
  }
  for (const m of recipe.go?.modules ?? []) {
    if (!existsSync(join('/usr/share/gocode/src', m.path))) missing.push(m.debianPackage);
  }
  if (missing.length > 0) {
    throw new Error(
      `cannot build test image ${recipe.name}: missing ${missing.join(', ')} ` +
        `(run scripts/build-test-images.sh, which apt-get installs them)`,
    );
  }
}

async function buildInto(recipe: Recipe, key: string, work: string, log: (l: string) => void): Promise<void> {
  const seconds: Record<string, number> = {};
  const t0 = performance.now();
  const step = async <T>(label: string, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    log(`[${recipe.name}] ${label} ...`);
    const r = await f();
    seconds[label] = round((performance.now() - t) / 1000);
    log(`[${recipe.name}] ${label}: ${seconds[label]} s`);
    return r;
  };
  const rootfs = join(work, 'rootfs');
  const blobs = join(work, 'tmp-layers');
  await mkdir(blobs);
  const layers: { file: LayerFile; result: LayerResult; what: string }[] = [];
  const addLayer = (result: LayerResult, what: string) =>
    layers.push({ file: { ...result, history: { created: iso(EPOCH), created_by: what } }, result, what });

  await step('mmdebstrap', () => mmdebstrap(recipe, rootfs));
  addLayer(
    await step('layer 1 (rootfs)', () =>
      layerFromDirectory(rootfs, { compression: 'gzip', output: join(blobs, 'l1'), sourceDateEpoch: EPOCH }),
    ),
    `mmdebstrap --variant=${recipe.variant} ${recipe.suite}${recipe.include.length ? ` --include=${recipe.include.join(',')}` : ''}`,
  );

  let npm: LangTruth[] = [];
  if (recipe.go || recipe.node) {
    const stage = join(work, 'stage2');
    if (recipe.go) {
      const go = recipe.go;
      await step('go build', () => buildGoProgram(go, join(work, 'go'), join(stage, go.installPath)));
    }
    if (recipe.node) {
      const node = recipe.node;
      const appDir = join(stage, node.installPath);
      await step('npm install', () => installNodeApp(node, appDir));
      npm = await npmTruth(stage, appDir);
    }
    addLayer(
      await step('layer 2 (apps)', () =>
        layerFromDirectory(stage, { compression: 'gzip', output: join(blobs, 'l2'), sourceDateEpoch: EPOCH }),
      ),
      'COPY apps',
    );
    await cp(stage, rootfs, { recursive: true, verbatimSymlinks: true });
    await rm(stage, { recursive: true, force: true });
  }

  const deleted: Truth['deleted'] = [];
  if (recipe.remove.length > 0) {
    const targets = await expandRemovals(rootfs, recipe.remove);
    deleted.push(...(await languagePackagesUnder(rootfs, targets, npm)));
    addLayer(
      await step('layer 3 (whiteouts)', () => whiteoutLayer(targets, join(blobs, 'l3'))),
      `RUN rm -rf ${targets.join(' ')}`,
    );
    for (const t of targets) await rm(join(rootfs, t), { recursive: true, force: true });
  }

  const partial = await step('ground truth', () => takeTruth(rootfs));
  const gone = (p: string) => deleted.some((d) => p === d.path || p.startsWith(`${d.path}/`));
  const truth: Truth = { ...partial, npm: npm.filter((n) => !gone(n.path)), deleted };

  const layout = join(work, 'layout');
  const manifestDigest = await step('assemble OCI layout', async () => {
    const dst = await openLayoutDestination(layout, { tag: recipe.name });
    const img = await assembleImage(dst, {
      layers: layers.map((l) => l.file),
      config: {
        architecture: 'amd64',
        os: 'linux',
        created: iso(EPOCH),
        config: {
          ...recipe.config,
          Labels: { 'org.opencontainers.image.title': `vouch-test-${recipe.name}` },
        },
      },
    });
    await dst.commit(img.descriptor);
    await dst.close();
    return img.descriptor.digest;
  });
  const archive = join(work, 'image.docker.tar');
  await step('docker-archive', async () => {
    const src = await openSource(`oci:${layout}:${recipe.name}`);
    const dst = await openDestination(`docker-archive:${archive}:vouch-test/${recipe.name}:latest`);
    await copyImage(src, dst);
    await dst.close();
    await src.close();
  });
  await rm(blobs, { recursive: true, force: true });
  seconds.total = round((performance.now() - t0) / 1000);
  const info: BuildInfo = {
    recipe: JSON.stringify(recipe),
    key,
    builtAt: new Date().toISOString(),
    seconds,
    manifestDigest,
    layers: layers.map((l) => ({
      digest: l.result.digest,
      diffId: l.result.diffId,
      size: l.result.size,
      entries: l.result.entries,
      what: l.what,
    })),
    archiveBytes: (await lstat(archive)).size,
  };
  await writeFile(join(work, 'truth.json'), `${JSON.stringify(truth, null, 1)}\n`);
  await writeFile(join(work, 'build.json'), `${JSON.stringify(info, null, 1)}\n`);
  log(`[${recipe.name}] built in ${seconds.total} s`);
}

async function mmdebstrap(recipe: Recipe, rootfs: string): Promise<void> {
  const args = [
    `--mode=${process.getuid?.() === 0 ? 'root' : 'unshare'}`,
    `--variant=${recipe.variant}`,
    '--quiet',
  ];
  if (recipe.include.length > 0) args.push(`--include=${recipe.include.join(',')}`);
  for (const c of recipe.chroot) args.push(`--customize-hook=chroot "$1" ${c}`);
  // No mirror argument: mmdebstrap then uses Debian's default mirror and, for a stable suite,
  // adds its updates and security suites.
  args.push(recipe.suite, rootfs);
  await run('mmdebstrap', args, { maxBuffer: BIG });
}

/**
 * Build a Go program with real module dependencies and no network: each module is served from
 * a file:// GOPROXY made of the sources a Debian golang-*-dev package installed. `go build`
 * records them (with h1: sums it computes) in the binary's build info.
 */
async function buildGoProgram(go: NonNullable<Recipe['go']>, work: string, output: string): Promise<void> {
  const proxy = join(work, 'proxy');
  const stage = join(work, 'stage');
  const app = join(work, 'app');
  for (const m of go.modules) {
    const at = `${m.path}@${m.version}`;
    const v = join(proxy, m.path, '@v');
    await mkdir(v, { recursive: true });
    await cp(join('/usr/share/gocode/src', m.path), join(stage, at), { recursive: true });
    // -D: no directory entries; -X: no extra attributes (a module zip holds files only).
    await run('zip', ['-q', '-D', '-X', '-r', join(v, `${m.version}.zip`), at], { cwd: stage });
    const gomod = join('/usr/share/gocode/src', m.path, 'go.mod');
    await writeFile(
      join(v, `${m.version}.mod`),
      existsSync(gomod) ? await readFile(gomod) : `module ${m.path}\n`,
    );
    await writeFile(join(v, `${m.version}.info`), JSON.stringify({ Version: m.version, Time: iso(EPOCH) }));
    await writeFile(join(v, 'list'), `${m.version}\n`);
  }
  await mkdir(app, { recursive: true });
  await writeFile(join(app, 'go.mod'), go.goMod);
  await writeFile(join(app, 'main.go'), go.mainGo);
  await run('go', ['build', '-trimpath', '-o', output, '.'], {
    cwd: app,
    maxBuffer: BIG,
    env: {
      ...process.env,
      GOPROXY: `file://${proxy}`,
      GOSUMDB: 'off',
      GOFLAGS: '-mod=mod',
      GOPATH: join(work, 'gopath'),
      // The compile cache outlives builds (it holds no module sources, only compiled packages).
      GOCACHE: join(cacheRoot(), '.go-build-cache'),
      CGO_ENABLED: '0',
      GO111MODULE: 'on',
      GOTOOLCHAIN: 'local',
    },
  });
  // Go marks its module cache read-only.
  await run('chmod', ['-R', 'u+w', work]);
  await rm(work, { recursive: true, force: true });
}

async function installNodeApp(node: NonNullable<Recipe['node']>, appDir: string): Promise<void> {
  await mkdir(appDir, { recursive: true });
  await writeFile(join(appDir, 'package.json'), `${JSON.stringify(node.packageJson, null, 2)}\n`);
  await writeFile(join(appDir, 'index.js'), node.indexJs);
  await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: appDir,
    maxBuffer: BIG,
  });
}

/** Recipe removal patterns → existing image paths (a trailing `*` in the last component). */
async function expandRemovals(rootfs: string, patterns: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of patterns) {
    const slash = p.lastIndexOf('/');
    const dir = p.slice(0, slash);
    const last = p.slice(slash + 1);
    if (!last.includes('*')) {
      if (await exists(join(rootfs, p))) out.push(p);
      else throw new Error(`recipe removes ${p}, which the image does not have`);
      continue;
    }
    const [pre, post] = last.split('*') as [string, string];
    const hits = (await readdir(join(rootfs, dir))).filter((n) => n.startsWith(pre) && n.endsWith(post));
    if (hits.length === 0) throw new Error(`recipe removes ${p}, which matches nothing in the image`);
    out.push(...hits.map((n) => `${dir}/${n}`));
  }
  return out.sort((a, b) => compareBytes(a, b));
}

/** The language packages living under paths about to be deleted, taken by the same tools. */
async function languagePackagesUnder(
  rootfs: string,
  targets: string[],
  npm: LangTruth[],
): Promise<Truth['deleted']> {
  const out: Truth['deleted'] = [];
  const add = (ecosystem: Ecosystem, t: LangTruth) =>
    out.push({ ecosystem, name: t.name, version: t.version, path: t.path });
  for (const target of targets) {
    const scan = await scanTree(rootfs, target);
    for (const t of await pythonTruth(rootfs, scan.pythonDists)) add('python', t);
    for (const t of (await javaTruth(rootfs, scan.jars)).found) add('java', t);
    for (const t of npm) if (t.path === target || t.path.startsWith(`${target}/`)) add('npm', t);
  }
  return out.sort((a, b) => cmp(a.path, b.path));
}

/** A layer of OCI whiteouts (`.wh.<name>`) for `targets`, with their parent directories. */
async function whiteoutLayer(targets: string[], output: string): Promise<LayerResult> {
  const entries = new Map<string, LayerEntry>();
  for (const t of targets) {
    const parts = t.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      entries.set(dir, { path: dir, type: 'dir', mode: 0o755 });
    }
    const wh = [...parts.slice(0, -1), `.wh.${parts.at(-1)}`].join('/');
    entries.set(wh, { path: wh, type: 'file', mode: 0o644, size: 0, body: empty() });
  }
  const sorted = [...entries.values()].sort((a, b) => compareBytes(a.path, b.path));
  return writeLayer(sorted, { compression: 'gzip', output, sourceDateEpoch: EPOCH });
}

async function* empty(): AsyncGenerator<Uint8Array> {}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

function iso(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
}

function round(s: number): number {
  return Math.round(s * 10) / 10;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  const wanted = (names.length > 0 ? names : Object.keys(RECIPES)) as RecipeName[];
  for (const n of wanted) {
    if (!(n in RECIPES))
      throw new Error(`unknown test image ${n}; known: ${Object.keys(RECIPES).join(', ')}`);
    const img = await buildTestImage(n, { log: (l) => console.log(l) });
    const t = img.truth;
    console.log(
      `${n}: ${img.layoutRef} (${img.info.manifestDigest}), built in ${img.info.seconds.total} s; ` +
        `truth: ${t.deb.length} deb, ${t.python.length} python, ${t.java.length} java, ${t.go.length} go, ${t.npm.length} npm, ${t.deleted.length} deleted`,
    );
  }
}
