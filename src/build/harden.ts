/**
 * Hardening: a new image made of the original layers plus ONE layer of OCI whiteouts
 * (`.wh.<name>`) removing package managers, docs and caches (src/build/harden-rules.ts), with a
 * non-root user in the config. Everything else (config fields, labels, annotations, history) is
 * kept, and one history entry is added. The whiteouts hide files; their bytes go away when the
 * image is flattened afterwards (src/build/flatten.ts), which is what the report's byte counts
 * mean.
 *
 * Whiteouts are made only for paths that exist in the merged view, at their real paths (a
 * symlinked /bin on a merged-/usr system is never used as a parent), and as few as possible:
 * a removed directory is one whiteout unless something below it is kept (a copyright file),
 * in which case its other children are removed one by one. Reproducible: entries sorted, mtimes
 * fixed to the image's `created` time, so the same input gives the same digest.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Digest } from '../digest/digest.ts';
import { VouchError } from '../errors.ts';
import { globMatcher } from '../fs/glob.ts';
import { type FileResolver, openMergedView } from '../fs/merged.ts';
import { baseName, compareBytes, parentOf, toImagePath } from '../fs/path.ts';
import type { EntryType } from '../fs/tar.ts';
import type { LayerEntry } from '../fs/tar-write.ts';
import type { FileRecord, Problem } from '../fs/types.ts';
import { WHITEOUT_PREFIX } from '../fs/whiteout.ts';
import { type Image, layerInputs } from '../image/image.ts';
import { resolveUser } from '../imagetest/user.ts';
import type { Compression } from '../oci/media-types.ts';
import { MediaType } from '../oci/media-types.ts';
import type { ContainerConfig, Descriptor, HistoryEntry } from '../oci/types.ts';
import type { ImageDestination } from '../source/types.ts';
import { assembleImage, type LayerFile } from './assemble.ts';
import {
  compileRules,
  DEFAULT_HARDEN_CATEGORIES,
  HARDEN_CATEGORIES,
  type HardenCategory,
  PACKAGE_DATABASES,
  PROGRAM_DIRS,
  pathDirs,
} from './harden-rules.ts';
import { writeLayer } from './layer.ts';

export { DEFAULT_HARDEN_CATEGORIES, HARDEN_CATEGORIES, type HardenCategory } from './harden-rules.ts';

/** The "nonroot" uid:gid of distroless images; needs no /etc/passwd entry. */
export const DEFAULT_HARDEN_USER = '65532:65532';

export interface HardenOptions {
  /** What to remove (default DEFAULT_HARDEN_CATEGORIES). */
  categories?: readonly HardenCategory[];
  /** More paths or globs to remove (category 'extra'); these win over every keep rule. */
  remove?: readonly string[];
  /**
   * The user to set. Default: keep the config's user when it resolves to a non-root user,
   * else DEFAULT_HARDEN_USER. A user given here must not be root and must resolve.
   */
  user?: string;
  compression?: Compression;
  signal?: AbortSignal;
  /** Where the whiteout layer is staged (default: a temp dir, removed after). */
  workDir?: string;
}

export type RemovalCategory = HardenCategory | 'extra';

/** One whiteout: a path removed with everything below it. */
export interface RemovedPath {
  path: string;
  category: RemovalCategory;
  type: EntryType;
  /** Paths removed: this one and all below it. */
  entries: number;
  /** Bytes of regular files removed (hardlinks counted once), dropped when flattened. */
  bytes: number;
}

export interface RemovalSummary {
  category: RemovalCategory;
  /** Whiteouts. */
  paths: number;
  entries: number;
  bytes: number;
}

export interface UserChange {
  before: string;
  after: string;
  changed: boolean;
  reason: string;
}

export interface HardenPlan {
  categories: HardenCategory[];
  /** Sorted by path. */
  removed: RemovedPath[];
  /** One per chosen category (and 'extra' when paths were given), in HARDEN_CATEGORIES order. */
  summary: RemovalSummary[];
  total: Omit<RemovalSummary, 'category'>;
  /** Package databases present in the image and kept on purpose (see harden-rules.ts). */
  keptDatabases: string[];
  /** `remove` entries that matched nothing. */
  notFound: string[];
  user: UserChange;
}

export interface HardenResult extends HardenPlan {
  descriptor: Descriptor;
  /** The whiteout layer; absent when there was nothing to remove. */
  layer?: { digest: Digest; diffId: Digest; size: number; whiteouts: number };
  before: { layers: number; size: number };
  after: { layers: number; size: number };
  /** Entries the merged view skipped (unsafe paths, bad whiteouts), with reasons. */
  problems: Problem[];
}

/** Small files hardening reads: the user databases. */
const READ_FILES = new Set(['/etc/passwd', '/etc/group']);

/** Harden `image` into `dst` (the caller commits the returned descriptor). */
export async function hardenImage(
  image: Image,
  dst: ImageDestination,
  o: HardenOptions = {},
): Promise<HardenResult> {
  const signal = o.signal;
  const view = await openMergedView(layerInputs(image, signal), {
    capture: (f) => (READ_FILES.has(f.path) ? { keep: true } : undefined),
  });
  const work = o.workDir ?? (await mkdtemp(join(tmpdir(), 'vouch-harden-')));
  try {
    const plan = await planHardening(view, image.config.config, o);
    const created = image.config.created;
    const layers: LayerFile[] = [];
    let layer: HardenResult['layer'];
    const history: HistoryEntry = {
      ...(created ? { created } : {}),
      created_by: 'vouch harden',
      comment: historyComment(plan),
    };
    if (plan.removed.length > 0) {
      const written = await writeLayer(whiteoutEntries(plan.removed), {
        compression: o.compression ?? 'gzip',
        output: join(work, 'whiteouts.blob'),
        sourceDateEpoch: epochOf(created),
      });
      layers.push({ ...written, history });
      layer = {
        digest: written.digest,
        diffId: written.diffId,
        size: written.size,
        whiteouts: written.entries,
      };
    }
    const { rootfs: _rootfs, history: oldHistory, ...config } = image.config;
    // History must keep one non-empty entry per layer; a base without history gets blank ones.
    const kept: HistoryEntry[] = oldHistory ?? image.layers.map(() => ({}));
    const out = await assembleImage(
      dst,
      {
        base: image,
        layers,
        config: {
          ...config,
          config: { ...(image.config.config ?? {}), User: plan.user.after },
          history: layer ? kept : [...kept, { ...history, empty_layer: true }],
        },
        flavour: image.descriptor.mediaType === MediaType.DockerManifest ? 'docker' : 'oci',
        ...(image.manifest.annotations ? { annotations: image.manifest.annotations } : {}),
      },
      signal ? { signal } : {},
    );
    const before = image.manifest.config.size + image.layers.reduce((n, l) => n + l.descriptor.size, 0);
    const after = out.manifest.config.size + out.manifest.layers.reduce((n, l) => n + l.size, 0);
    return {
      ...plan,
      descriptor: out.descriptor,
      ...(layer ? { layer } : {}),
      before: { layers: image.layers.length, size: before },
      after: { layers: out.manifest.layers.length, size: after },
      problems: [...view.problems],
    };
  } finally {
    await view.close();
    if (!o.workDir) await rm(work, { recursive: true, force: true });
  }
}

type Effect = { kind: 'remove'; category: RemovalCategory } | { kind: 'keep' } | undefined;

/**
 * Decide what to remove from a filesystem (pure but for reads of `files`): every path is
 * classified (a user path, else a keep rule, else a category, else as its parent), then the
 * smallest set of whiteouts is chosen.
 */
export async function planHardening(
  files: FileResolver,
  config: ContainerConfig | undefined,
  o: Pick<HardenOptions, 'categories' | 'remove' | 'user'> = {},
): Promise<HardenPlan> {
  const categories = checkCategories(o.categories ?? DEFAULT_HARDEN_CATEGORIES);
  const user = await chooseUser(files, config?.User, o.user);
  const rules = compileRules(categories, await programDirs(files, config));
  const extra = await compileExtra(files, o.remove ?? []);

  const effect = new Map<string, Effect>();
  const records: FileRecord[] = [];
  for await (const rec of files.walk()) {
    if (rec.path === '/') continue;
    const dir = displayParent(rec.path);
    const inherited = effect.get(dir);
    let e: Effect;
    // A user's path takes everything below it, kept files included.
    if (inherited?.kind === 'remove' && inherited.category === 'extra') e = inherited;
    else if (extra.match(rec.path)) e = { kind: 'remove', category: 'extra' };
    else if (rules.keep(rec.path, rec.type)) e = { kind: 'keep' };
    else {
      const category = rules.removal(rec.path, dir, baseName(rec.path));
      e = category ? { kind: 'remove', category } : inherited;
    }
    effect.set(rec.path, e);
    records.push(rec);
  }

  // A removed directory holding something kept stays; its other children go one by one.
  const partial = new Set<string>();
  for (const rec of records) {
    if (effect.get(rec.path)?.kind !== 'keep') continue;
    for (let d = displayParent(rec.path); d !== '/' && !partial.has(d); d = displayParent(d)) {
      if (effect.get(d)?.kind !== 'remove') break;
      partial.add(d);
    }
  }

  const removed: RemovedPath[] = [];
  const rootOf = new Map<string, RemovedPath>();
  for (const rec of records) {
    const e = effect.get(rec.path);
    if (e?.kind !== 'remove' || partial.has(rec.path)) continue;
    let r = rootOf.get(displayParent(rec.path));
    if (!r) {
      r = { path: rec.path, category: e.category, type: rec.type, entries: 0, bytes: 0 };
      removed.push(r);
    }
    if (rec.type === 'dir') rootOf.set(rec.path, r);
    r.entries++;
    if (rec.type === 'file' && rec.hardlinkOf === undefined) r.bytes += rec.size;
  }
  removed.sort((a, b) => compareBytes(a.path, b.path));

  const keptDatabases: string[] = [];
  for (const p of PACKAGE_DATABASES) {
    const rec = await files.lstat(`/${p}`);
    if (rec && effect.get(rec.path)?.kind === 'keep') keptDatabases.push(rec.path);
  }
  return {
    categories,
    removed,
    ...summarise(removed, categories, (o.remove ?? []).length > 0),
    keptDatabases,
    notFound: extra.unmatched(),
    user,
  };
}

function checkCategories(list: readonly string[]): HardenCategory[] {
  for (const c of list) {
    if (!(HARDEN_CATEGORIES as readonly string[]).includes(c)) {
      throw new VouchError(
        'USAGE',
        `unknown hardening category "${c}": expected one of ${HARDEN_CATEGORIES.join(', ')}`,
      );
    }
  }
  return HARDEN_CATEGORIES.filter((c) => list.includes(c));
}

async function chooseUser(
  files: FileResolver,
  current: string | undefined,
  wanted: string | undefined,
): Promise<UserChange> {
  const before = current ?? '';
  if (wanted !== undefined) {
    const r = await resolveUser(wanted, files);
    if (r.kind === 'root') {
      throw new VouchError(
        'USAGE',
        `hardening user "${wanted}": ${r.reason}; a hardened image must not run as root`,
      );
    }
    if (r.kind === 'unresolvable') throw new VouchError('USAGE', `hardening user: ${r.reason}`);
    return { before, after: wanted, changed: wanted !== before, reason: `set as asked: ${r.reason}` };
  }
  const r = await resolveUser(before, files);
  if (r.kind === 'non-root') return { before, after: before, changed: false, reason: `kept: ${r.reason}` };
  return {
    before,
    after: DEFAULT_HARDEN_USER,
    changed: true,
    reason: `${r.reason}; set ${DEFAULT_HARDEN_USER}`,
  };
}

/** Real paths of the program directories: the usual ones and the config's PATH. */
async function programDirs(files: FileResolver, config: ContainerConfig | undefined): Promise<Set<string>> {
  const dirs = new Set<string>();
  for (const d of [...PROGRAM_DIRS, ...pathDirs(config)]) {
    const real = await files.realPath(d);
    if (real !== undefined) dirs.add(real);
  }
  return dirs;
}

/** User paths: exact ones resolved to real paths (their parents may be symlinks), globs as they are. */
async function compileExtra(
  files: FileResolver,
  specs: readonly string[],
): Promise<{ match(path: string): boolean; unmatched(): string[] }> {
  const exact = new Map<string, string>();
  const globs: { spec: string; match: (p: string) => boolean }[] = [];
  const hit = new Set<string>();
  for (const spec of specs) {
    const p = toImagePath(spec);
    if (p === '') throw new VouchError('USAGE', `cannot remove "${spec}": that is the root of the image`);
    if (/[*?[{]/.test(p)) {
      globs.push({ spec, match: globMatcher(p) });
      continue;
    }
    const dir = await files.realPath(`/${parentOf(p)}`);
    if (dir === undefined) continue;
    const real = dir === '/' ? `/${baseName(p)}` : `${dir}/${baseName(p)}`;
    if (await files.lstat(real)) exact.set(real, spec);
  }
  return {
    match(path) {
      const spec = exact.get(path);
      if (spec !== undefined) {
        hit.add(spec);
        return true;
      }
      for (const g of globs) {
        if (g.match(path)) {
          hit.add(g.spec);
          return true;
        }
      }
      return false;
    },
    unmatched: () => specs.filter((s) => !hit.has(s)),
  };
}

function summarise(
  removed: readonly RemovedPath[],
  categories: readonly HardenCategory[],
  withExtra: boolean,
): Pick<HardenPlan, 'summary' | 'total'> {
  const order: RemovalCategory[] = [...categories, ...(withExtra ? (['extra'] as const) : [])];
  const summary = order.map((category) => ({ category, paths: 0, entries: 0, bytes: 0 }));
  const total = { paths: 0, entries: 0, bytes: 0 };
  for (const r of removed) {
    for (const s of [summary.find((x) => x.category === r.category), total]) {
      if (!s) continue;
      s.paths++;
      s.entries += r.entries;
      s.bytes += r.bytes;
    }
  }
  return { summary, total };
}

/** The whiteout layer's entries, sorted as the tar writer requires. */
function whiteoutEntries(removed: readonly RemovedPath[]): LayerEntry[] {
  return removed
    .map((r) => {
      const p = toImagePath(r.path);
      const dir = parentOf(p);
      const name = `${WHITEOUT_PREFIX}${baseName(p)}`;
      return { path: dir === '' ? name : `${dir}/${name}`, type: 'file' as const, mode: 0o644, size: 0 };
    })
    .sort((a, b) => compareBytes(a.path, b.path));
}

function historyComment(plan: HardenPlan): string {
  const parts = plan.summary.filter((s) => s.paths > 0).map((s) => `${s.category} ${s.paths}`);
  const what = parts.length > 0 ? `removed ${parts.join(', ')} paths` : 'nothing to remove';
  return `${what}; user ${plan.user.after}`;
}

/** Whole seconds of an RFC 3339 time; 0 when absent or unreadable. */
function epochOf(created: string | undefined): number {
  const ms = created === undefined ? Number.NaN : Date.parse(created);
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
}

function displayParent(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
