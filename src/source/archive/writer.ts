/**
 * Assemble a docker archive: blobs are staged in a private directory next to the target, and
 * write() produces the tar deterministically (entries sorted by name, mtime 0, uid/gid 0) in a
 * temp file that is renamed over the target. The layout is what skopeo writes, which `docker load`
 * accepts: `<config-hex>.json`, `<diffid-hex>.tar` (uncompressed layers, stored once however many
 * images share them), legacy per-layer directories (`VERSION`, `json`, `layer.tar` symlink),
 * `manifest.json` and `repositories`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { type FileHandle, mkdtemp, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { type Digest, digestHex } from '../../digest/digest.ts';
import { type Expected, verified } from '../../digest/verify.ts';
import { isVouchError, VouchError } from '../../errors.ts';
import type { Reference } from '../../oci/reference.ts';
import { MANIFEST_JSON, REPOSITORIES } from './manifest-json.ts';
import { archiveTagOf, repoNameOf, repoTagOf } from './repo-tags.ts';

interface StagedImage {
  config: Digest;
  /** The parsed config, for the legacy per-layer `json` files. */
  configJson: Record<string, unknown>;
  diffIds: Digest[];
  tags: Reference[];
}

type Entry =
  | { kind: 'staged'; digest: Digest; size: number }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'symlink'; target: string }
  | { kind: 'dir' };

const EPOCH = new Date(0);
/** Keys of the image config copied into the top legacy layer's `json`, as skopeo does. */
const LEGACY_TOP_KEYS = [
  'architecture',
  'config',
  'container',
  'container_config',
  'created',
  'docker_version',
  'os',
];

export class ArchiveWriter {
  readonly file: string;
  #staging: Promise<string> | undefined;
  readonly #blobs = new Map<Digest, number>();
  readonly #images: StagedImage[] = [];

  constructor(file: string) {
    this.file = file;
  }

  #dir(): Promise<string> {
    // Next to the target, so nothing is written elsewhere and the final rename stays on one device.
    this.#staging ??= mkdtemp(join(dirname(this.file), `.${basename(this.file)}.vouch-`)).catch(
      (e: unknown) => {
        this.#staging = undefined;
        throw ioError(`cannot create a staging directory next to ${this.file}`, e);
      },
    );
    return this.#staging;
  }

  async #path(d: Digest): Promise<string> {
    return join(await this.#dir(), d.replace(':', '-'));
  }

  has(d: Digest): boolean {
    return this.#blobs.has(d);
  }

  /** Stage a blob, verified against `want`; visible only after it streamed completely. */
  async put(
    want: Expected,
    src: AsyncIterable<Uint8Array>,
    what: string,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.#stage(want.digest, verified(src, want, what), signal);
    this.#blobs.set(want.digest, want.size);
  }

  /** Stage an uncompressed layer whose sha256 must be `diffId` (its size is not known before). */
  async putLayer(diffId: Digest, src: AsyncIterable<Uint8Array>, what: string, signal?: AbortSignal) {
    const h = createHash('sha256');
    let n = 0;
    async function* hashed(): AsyncGenerator<Uint8Array> {
      for await (const c of src) {
        h.update(c);
        n += c.byteLength;
        yield c;
      }
      const got = `sha256:${h.digest('hex')}`;
      if (got !== diffId) {
        throw new VouchError(
          'DIGEST_MISMATCH',
          `${what}: uncompressed content is ${got}, the config's diff_id is ${diffId}`,
        );
      }
    }
    await this.#stage(diffId, hashed(), signal);
    this.#blobs.set(diffId, n);
  }

  async #stage(d: Digest, src: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<void> {
    const final = await this.#path(d);
    const tmp = `${final}.${randomUUID()}.partial`;
    try {
      await pipeline(src, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }), signal ? { signal } : {});
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      throw ioError(`staging ${d} for ${this.file}`, e);
    }
  }

  /** A staged blob read whole (configs); refuses anything over `max` bytes. */
  async read(d: Digest, max: number): Promise<Uint8Array> {
    const size = this.#blobs.get(d);
    if (size === undefined) throw new VouchError('BLOB_UNKNOWN', `${this.file}: blob ${d} was not written`);
    if (size > max)
      throw new VouchError('BLOB_TOO_LARGE', `${this.file}: blob ${d} is ${size} bytes, over ${max}`);
    return new Uint8Array(await readFile(await this.#path(d)));
  }

  /**
   * Record an image and its tags. A tag names one image, so it is taken off any image added
   * before; the same image added twice keeps one entry with the union of its tags.
   */
  addImage(config: Digest, configJson: Record<string, unknown>, diffIds: Digest[], tags: Reference[]): void {
    for (const d of [config, ...diffIds]) {
      if (!this.#blobs.has(d))
        throw new VouchError('BLOB_UNKNOWN', `${this.file}: blob ${d} was not written`);
    }
    const names = new Set(tags.map(repoTagOf));
    for (const img of this.#images) img.tags = img.tags.filter((t) => !names.has(repoTagOf(t)));
    const same = this.#images.find(
      (i) =>
        i.config === config &&
        i.diffIds.length === diffIds.length &&
        i.diffIds.every((d, j) => d === diffIds[j]),
    );
    if (same) same.tags.push(...tags);
    else this.#images.push({ config, configJson, diffIds: [...diffIds], tags: [...tags] });
  }

  /** Write the archive (every image added so far) to a temp file, then rename it over the target. */
  async write(signal?: AbortSignal): Promise<void> {
    const entries = this.#entries();
    const names = [...entries.keys()].sort();
    const tmp = join(dirname(this.file), `.${basename(this.file)}.${randomUUID()}.tmp`);
    try {
      const fh = await open(tmp, 'wx', 0o644);
      try {
        await this.#writeTar(fh, names, entries, signal);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw ioError(`writing ${this.file}`, e);
    }
    await syncDir(dirname(this.file));
  }

  async #writeTar(
    fh: FileHandle,
    names: string[],
    entries: Map<string, Entry>,
    signal?: AbortSignal,
  ): Promise<void> {
    const pack = tar.pack();
    const sink = (async () => {
      for await (const chunk of pack) await fh.write(chunk as Buffer);
    })();
    const produce = async () => {
      for (const name of names) {
        signal?.throwIfAborted();
        const e = entries.get(name)!;
        const base = { name, mtime: EPOCH, uid: 0, gid: 0, uname: '', gname: '' };
        if (e.kind === 'dir') pack.entry({ ...base, name: `${name}/`, type: 'directory', mode: 0o755 });
        else if (e.kind === 'symlink')
          pack.entry({ ...base, type: 'symlink', linkname: e.target, mode: 0o777 });
        else if (e.kind === 'bytes') {
          await entryDone((cb) =>
            pack.entry({ ...base, type: 'file', mode: 0o644 }, Buffer.from(e.bytes), cb),
          );
        } else {
          const path = await this.#path(e.digest);
          await entryDone((cb) => {
            const w = pack.entry({ ...base, type: 'file', mode: 0o644, size: e.size }, cb);
            void (async () => {
              for await (const c of createReadStream(path, signal ? { signal } : {})) {
                if (!w.write(c)) await once(w, 'drain');
              }
              w.end(() => undefined);
            })().catch((err: unknown) => w.destroy(err as Error));
          });
        }
      }
      pack.finalize();
    };
    try {
      await Promise.all([produce(), sink]);
    } catch (e) {
      pack.destroy(e as Error);
      await sink.catch(() => undefined);
      throw e;
    }
  }

  #entries(): Map<string, Entry> {
    const entries = new Map<string, Entry>();
    const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    const staged = (d: Digest): Entry => ({ kind: 'staged', digest: d, size: this.#blobs.get(d)! });
    for (const img of this.#images) {
      const configName = `${digestHex(img.config)}.json`;
      entries.set(configName, staged(img.config));
      const layerNames = img.diffIds.map((d) => `${digestHex(d)}.tar`);
      for (const [i, d] of img.diffIds.entries()) entries.set(layerNames[i]!, staged(d));
      const top = addLegacyLayers(entries, img, layerNames);
      const repoTags = [...new Set(img.tags.map(repoTagOf))];
      manifest.push({ Config: configName, RepoTags: repoTags, Layers: layerNames });
      if (top === undefined) continue;
      for (const t of img.tags) {
        const name = repoNameOf(t);
        repositories[name] = sortKeys({ ...repositories[name], [archiveTagOf(t)]: top });
      }
    }
    entries.set(MANIFEST_JSON, { kind: 'bytes', bytes: json(manifest) });
    entries.set(REPOSITORIES, { kind: 'bytes', bytes: json(sortKeys(repositories)) });
    return entries;
  }

  /** Remove the staging directory. The archive, if written, stays. */
  async dispose(): Promise<void> {
    const dir = this.#staging ? await this.#staging.catch(() => undefined) : undefined;
    this.#staging = undefined;
    this.#blobs.clear();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The legacy v1 per-layer directories, with IDs derived as skopeo does: from the chain ID and
 * the layer's own `json`, so the same stack of layers gets the same IDs in every archive.
 * Returns the top layer's ID (what `repositories` points at).
 */
function addLegacyLayers(
  entries: Map<string, Entry>,
  img: StagedImage,
  layerNames: string[],
): string | undefined {
  let chainId = '';
  let parent: string | undefined;
  img.diffIds.forEach((diffId, i) => {
    chainId = i === 0 ? diffId : `sha256:${sha256Hex(`${chainId} ${diffId}`)}`;
    const layerJson: Record<string, unknown> = {};
    if (parent !== undefined) layerJson.parent = parent;
    if (i === img.diffIds.length - 1) {
      for (const k of LEGACY_TOP_KEYS) layerJson[k] = img.configJson[k] ?? null;
    }
    const id = sha256Hex(json(sortKeys({ ...layerJson, layer_id: chainId })));
    layerJson.id = id;
    if (!entries.has(id)) {
      entries.set(id, { kind: 'dir' });
      entries.set(`${id}/VERSION`, { kind: 'bytes', bytes: new TextEncoder().encode('1.0') });
      entries.set(`${id}/json`, { kind: 'bytes', bytes: json(sortKeys(layerJson)) });
      entries.set(`${id}/layer.tar`, { kind: 'symlink', target: `../${layerNames[i]}` });
    }
    parent = id;
  });
  return parent;
}

function entryDone(start: (cb: (err?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => start((err) => (err ? reject(err) : resolve())));
}

function json(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sha256Hex(s: string | Uint8Array): string {
  return createHash('sha256').update(s).digest('hex');
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename durable; some filesystems refuse fsync on a directory, which is harmless.
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // best effort
  }
}

function ioError(what: string, e: unknown): unknown {
  if (isVouchError(e)) return e;
  if ((e as { name?: string }).name === 'AbortError')
    return new VouchError('ABORTED', `${what}: aborted`, { cause: e });
  return new VouchError('IO_ERROR', `${what}: ${(e as Error).message}`, { cause: e });
}
