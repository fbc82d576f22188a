/**
 * Unpack an image's layers, or a merged view, into a directory without ever writing outside
 * it (see safe-target.ts). Entries that cannot be written safely are skipped and reported as
 * problems: '..' or absolute paths, hardlinks to anything this extraction did not write,
 * parents that are files, symlink loops, device files and fifos (unless root and allowed).
 * Size limits (see tar.ts) abort with DECOMPRESSION_BOMB; what was written so far stays, so
 * extract into a fresh directory.
 */
import { execFile } from 'node:child_process';
import { chmod, lchown, link, lutimes, mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isVouchError, VouchError } from '../errors.ts';
import { isLinkable } from './flatten.ts';
import type { MergedView } from './merged.ts';
import { baseName, joinPath, parentOf, toImagePath } from './path.ts';
import { errCode, SafeTarget } from './safe-target.ts';
import { layerTarOptions, readTar, TarBudget, type TarHeader, type TarLimits } from './tar.ts';
import type { LayerInput, Problem } from './types.ts';
import { classifyWhiteout } from './whiteout.ts';

export interface ExtractOptions {
  limits?: TarLimits;
  /** Create device nodes and fifos; only honoured when running as root. Default: skip, report. */
  allowDevices?: boolean;
  /** Keep setuid/setgid bits (default: cleared). */
  keepSetuid?: boolean;
  /** Give entries their uid/gid; only honoured when running as root. */
  chown?: boolean;
  /** Set mtimes from the archive (default: time of extraction). */
  preserveMtime?: boolean;
}

export interface ExtractResult {
  problems: Problem[];
  /** Entries written (directories, files, links, devices). */
  written: number;
  /** Bytes of file content written. */
  bytes: number;
}

interface Meta {
  type: TarHeader['type'];
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

/** Apply `layers` in order to `target`, whiteouts included, as a container runtime would. */
export async function extractLayers(
  layers: readonly LayerInput[],
  target: string,
  opts: ExtractOptions = {},
): Promise<ExtractResult> {
  const x = new Extractor(await SafeTarget.open(target), opts);
  const budget = new TarBudget(opts.limits);
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    x.startLayer(i, layer);
    for await (const e of readTar(await layer.open(), layerTarOptions(i, layer, budget))) {
      const { body, ...h } = e;
      if (h.unsafe !== undefined) {
        x.problem(h.path, h.unsafe);
        continue;
      }
      const wh = classifyWhiteout(baseName(h.path));
      if (wh.kind === 'opaque') await x.opaque(parentOf(h.path));
      else if (wh.kind === 'whiteout') await x.whiteout(parentOf(h.path), wh.name);
      else if (wh.kind === 'invalid') x.problem(h.path, wh.reason);
      else if (wh.kind === 'none') await x.entry(h.path, h, body);
    }
  }
  return x.finish();
}

/**
 * Write a merged view's final tree to `target`. File contents are first spilled to the view's
 * cache (one pass per layer, see MergedView.prefetch; freed by view.close()), then written in
 * path order. The result lists problems met while writing; the view's own are in view.problems.
 */
export async function extractMerged(
  view: MergedView,
  target: string,
  opts: ExtractOptions = {},
): Promise<ExtractResult> {
  const x = new Extractor(await SafeTarget.open(target), opts);
  await view.prefetch();
  for await (const rec of view.walk()) {
    if (rec.path === '/') continue;
    x.startLayer(rec.layer, view.layers[rec.layer]!);
    const path = toImagePath(rec.path);
    if (rec.hardlinkOf !== undefined && (await isLinkable(view, rec))) {
      await x.entry(path, { ...rec, type: 'hardlink', linkname: toImagePath(rec.hardlinkOf) }, empty());
    } else {
      await x.entry(path, rec, rec.type === 'file' ? await view.open(rec.path) : empty());
    }
  }
  return x.finish();
}

class Extractor {
  readonly #t: SafeTarget;
  readonly #o: ExtractOptions;
  readonly #root = process.getuid?.() === 0;
  readonly #chown: boolean;
  readonly problems: Problem[] = [];
  #layer = 0;
  #layerInput: LayerInput | undefined;
  /** Resolved paths written by the current layer: whiteouts must spare them. */
  #thisLayer = new Set<string>();
  /** Resolved paths written by this extraction: the only valid hardlink targets. */
  readonly #written = new Set<string>();
  /** Directory metadata, applied last (deepest first) so modes do not block writing children. */
  readonly #dirs = new Map<string, Meta>();
  #count = 0;
  #bytes = 0;

  constructor(t: SafeTarget, o: ExtractOptions) {
    this.#t = t;
    this.#o = o;
    this.#chown = o.chown === true && this.#root;
  }

  /** Entries that follow come from layer `i` (extractMerged calls it only to locate problems). */
  startLayer(i: number, layer: LayerInput): void {
    if (i !== this.#layer || this.#layerInput === undefined) this.#thisLayer = new Set();
    this.#layer = i;
    this.#layerInput = layer;
  }

  problem(path: string, reason: string): void {
    this.problems.push({ path, layer: this.#layer, layerDigest: this.#layerInput!.digest, reason });
  }

  async whiteout(dir: string, name: string): Promise<void> {
    const r = await this.#t.resolve(joinPath(dir, name), false);
    if (r.ok) await this.#removeLower(r.abs, r.rel);
  }

  async opaque(dir: string): Promise<void> {
    const r = await this.#t.resolve(dir, false);
    if (!r.ok) return;
    const st = await this.#t.lstat(r.abs);
    if (r.rel !== '' && !st?.isDirectory()) return;
    for (const name of await readdir(r.abs))
      await this.#removeLower(join(r.abs, name), joinPath(r.rel, name));
  }

  /** Delete what lower layers put at `abs`, keeping anything the current layer wrote. */
  async #removeLower(abs: string, rel: string): Promise<void> {
    const st = await this.#t.lstat(abs);
    if (st === undefined) return;
    if (!this.#thisLayer.has(rel)) {
      await this.#t.remove(abs);
      return;
    }
    if (st.isDirectory()) {
      for (const name of await readdir(abs)) await this.#removeLower(join(abs, name), `${rel}/${name}`);
    }
  }

  async entry(path: string, h: Meta, body: AsyncIterable<Uint8Array>): Promise<void> {
    if (path === '') return; // the target itself: its mode and owner stay the caller's
    try {
      await this.#entry(path, h, body);
    } catch (e) {
      if (isVouchError(e)) throw e;
      const code = errCode(e);
      // Names the host cannot hold are the archive's problem; anything else is ours.
      if (code === 'ENAMETOOLONG' || code === 'EILSEQ' || code === 'ERR_INVALID_ARG_VALUE') {
        this.problem(path, `cannot be created here (${code})`);
        return;
      }
      throw new VouchError('IO_ERROR', `extracting "${path}" into ${this.#t.root}: ${code}`, { cause: e });
    }
  }

  async #entry(path: string, h: Meta, body: AsyncIterable<Uint8Array>): Promise<void> {
    const r = await this.#t.resolve(path, true);
    if (!r.ok) {
      this.problem(path, r.reason);
      return;
    }
    if (r.rel === '') return;
    const existing = await this.#t.lstat(r.abs);
    switch (h.type) {
      case 'dir':
        if (!existing?.isDirectory()) {
          if (existing) await this.#t.remove(r.abs);
          await mkdir(r.abs, { mode: 0o700 });
        }
        this.#dirs.set(r.abs, h);
        break;
      case 'file':
        if (existing) await this.#t.remove(r.abs);
        this.#bytes += await this.#t.writeFile(r.abs, body, {
          mode: this.#mode(h.mode),
          ...(this.#chown ? { owner: { uid: h.uid, gid: h.gid } } : {}),
        });
        if (this.#o.preserveMtime) await lutimes(r.abs, h.mtime, h.mtime);
        break;
      case 'symlink':
        if (existing) await this.#t.remove(r.abs);
        await symlink(h.linkname ?? '', r.abs);
        await this.#finishNode(r.abs, h);
        break;
      case 'hardlink': {
        const t = await this.#t.resolve(h.linkname ?? '', false);
        const tst = t.ok ? await this.#t.lstat(t.abs) : undefined;
        if (!t.ok || !tst || !this.#written.has(t.rel)) {
          this.problem(path, `hardlink target "${h.linkname}" was not written by this archive`);
          return;
        }
        if (tst.isDirectory()) {
          this.problem(path, `hardlink target "${h.linkname}" is a directory`);
          return;
        }
        if (t.rel === r.rel) return;
        if (existing) await this.#t.remove(r.abs);
        await link(t.abs, r.abs);
        break;
      }
      case 'char':
      case 'block':
      case 'fifo':
        if (!this.#o.allowDevices || !this.#root) {
          this.problem(
            path,
            `${h.type === 'fifo' ? 'fifo' : `${h.type} device`} skipped (needs root and allowDevices)`,
          );
          return;
        }
        if (existing) await this.#t.remove(r.abs);
        await makeNode(r.abs, h, this.#mode(h.mode));
        await this.#finishNode(r.abs, h);
        break;
    }
    this.#count++;
    this.#thisLayer.add(r.rel);
    this.#written.add(r.rel);
  }

  #mode(mode: number): number {
    return mode & (this.#o.keepSetuid ? 0o7777 : 0o1777);
  }

  /** Owner, then mode (chown clears setuid), then times. Symlinks: no chmod, l-variants. */
  async #finishNode(abs: string, h: Meta): Promise<void> {
    const isLink = h.type === 'symlink';
    if (this.#chown) await lchown(abs, h.uid, h.gid);
    if (!isLink) await chmod(abs, this.#mode(h.mode));
    if (this.#o.preserveMtime) await lutimes(abs, h.mtime, h.mtime);
  }

  async finish(): Promise<ExtractResult> {
    const dirs = [...this.#dirs].sort((a, b) => b[0].length - a[0].length);
    for (const [abs, h] of dirs) {
      // A later layer may have replaced the directory: only touch what is still one.
      if (!(await this.#t.lstat(abs))?.isDirectory()) continue;
      await this.#finishNode(abs, h);
    }
    return { problems: this.problems, written: this.#count, bytes: this.#bytes };
  }
}

const run = promisify(execFile);

/** Node has no mknod(2); the coreutils tools create the node without following the last name. */
async function makeNode(abs: string, h: Meta, mode: number): Promise<void> {
  const m = mode.toString(8);
  if (h.type === 'fifo') await run('mkfifo', ['-m', m, '--', abs]);
  else {
    const kind = h.type === 'char' ? 'c' : 'b';
    await run('mknod', ['-m', m, '--', abs, kind, String(h.devmajor ?? 0), String(h.devminor ?? 0)]);
  }
}

async function* empty(): AsyncGenerator<Uint8Array> {}
