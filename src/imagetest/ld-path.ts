/**
 * Where the image's dynamic loader looks for a library, and whether it finds it: the search
 * order of glibc's ld.so (DT_RPATH when there is no DT_RUNPATH, LD_LIBRARY_PATH, DT_RUNPATH,
 * the ld.so.cache built from /etc/ld.so.conf and its includes, then the default directories,
 * with the Debian multiarch ones) or of musl (LD_LIBRARY_PATH, RPATH/RUNPATH, then
 * /etc/ld-musl-<arch>.path or /lib:/usr/local/lib:/usr/lib). Everything is read from the
 * image; symlinks are followed inside it; a candidate of the wrong ELF class or machine is
 * skipped, as the loader skips it.
 */

import { nameMatcher } from '../build/harden-rules.ts';
import type { FileResolver } from '../fs/merged.ts';
import type { ElfDynamic } from './elf-dynamic.ts';

/** e_machine → Debian multiarch triplets (the directories glibc's Debian build searches). */
const MULTIARCH: Record<number, readonly string[]> = {
  3: ['i386-linux-gnu'],
  8: ['mips-linux-gnu', 'mipsel-linux-gnu', 'mips64el-linux-gnuabi64'],
  20: ['powerpc-linux-gnu'],
  21: ['powerpc64le-linux-gnu', 'powerpc64-linux-gnu'],
  22: ['s390x-linux-gnu'],
  40: ['arm-linux-gnueabihf', 'arm-linux-gnueabi'],
  62: ['x86_64-linux-gnu'],
  183: ['aarch64-linux-gnu'],
  243: ['riscv64-linux-gnu'],
  258: ['loongarch64-linux-gnu'],
};

const MAX_INCLUDE_DEPTH = 8;
const MAX_CONFIG_BYTES = 1024 ** 2;

export interface LibrarySearch {
  /** Where `name` (a DT_NEEDED entry of `obj` at `objPath`) resolves: a real path, or undefined. */
  find(obj: ElfDynamic, objPath: string, name: string): Promise<string | undefined>;
  /** The directories searched for `obj`, in order (for messages). */
  dirs(obj: ElfDynamic, objPath: string): Promise<string[]>;
}

/** A searcher over the image's files, its LD_LIBRARY_PATH (from the config's Env) and workdir. */
export function librarySearch(files: FileResolver, env: readonly string[], workdir = '/'): LibrarySearch {
  const ldLibraryPath = (env.find((e) => e.startsWith('LD_LIBRARY_PATH='))?.slice(16) ?? '')
    .split(/[:;]/)
    .filter((d) => d !== '');
  let glibcConf: Promise<string[]> | undefined;
  const muslConf = new Map<string, Promise<string[]>>();
  const kinds = new Map<string, Promise<string | undefined>>();

  /** "class:data:machine" of the ELF file at a real path, undefined when not ELF. */
  const kindOf = (path: string): Promise<string | undefined> => {
    let k = kinds.get(path);
    if (!k) {
      k = (async () => {
        try {
          const head = await readHead(files, path, 20);
          if (
            head.byteLength < 20 ||
            head[0] !== 0x7f ||
            head[1] !== 0x45 ||
            head[2] !== 0x4c ||
            head[3] !== 0x46
          ) {
            return undefined;
          }
          const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
          return `${head[4]}:${head[5]}:${machine}`;
        } catch {
          return undefined;
        }
      })();
      kinds.set(path, k);
    }
    return k;
  };

  const musl = (obj: ElfDynamic) =>
    /\/ld-musl-/.test(obj.interpreter ?? '') || obj.needed.some((n) => n.startsWith('libc.musl-'));

  async function dirs(obj: ElfDynamic, objPath: string): Promise<string[]> {
    const origin = objPath.slice(0, objPath.lastIndexOf('/')) || '/';
    const expand = (list: readonly string[]) => list.flatMap((d) => expandTokens(d, origin, obj));
    const out: string[] = [];
    if (musl(obj)) {
      out.push(...ldLibraryPath, ...expand([...obj.rpath, ...obj.runpath]), ...(await muslDirs(obj)));
    } else {
      if (obj.runpath.length === 0) out.push(...expand(obj.rpath));
      out.push(...ldLibraryPath, ...expand(obj.runpath));
      glibcConf ??= readLdSoConf(files);
      out.push(...(await glibcConf));
      if (!obj.noDefaultLib) out.push(...defaultDirs(obj));
    }
    return [...new Set(out.map((d) => (d.startsWith('/') ? d : `${workdir.replace(/\/$/, '')}/${d}`)))];
  }

  async function muslDirs(obj: ElfDynamic): Promise<string[]> {
    const arch =
      /ld-musl-([^./]+)\./.exec(obj.interpreter ?? '')?.[1] ??
      /libc\.musl-([^.]+)\./.exec(obj.needed.join(' '))?.[1];
    const key = arch ?? '';
    let p = muslConf.get(key);
    if (!p) {
      p = (async () => {
        const text = arch ? await readText(files, `/etc/ld-musl-${arch}.path`) : undefined;
        if (text === undefined) return ['/lib', '/usr/local/lib', '/usr/lib'];
        return text
          .split(/[\n:]/)
          .map((l) => l.trim())
          .filter((l) => l.startsWith('/'));
      })();
      muslConf.set(key, p);
    }
    return p;
  }

  return {
    dirs,
    async find(obj, objPath, name) {
      const want = `${obj.is64 ? 2 : 1}:${obj.littleEndian ? 1 : 2}:${obj.machine}`;
      const candidates = name.includes('/')
        ? [name.startsWith('/') ? name : `${workdir.replace(/\/$/, '')}/${name}`]
        : (await dirs(obj, objPath)).map((d) => `${d.replace(/\/$/, '')}/${name}`);
      for (const c of candidates) {
        const rec = await files.stat(c);
        if (rec?.type !== 'file') continue;
        if ((await kindOf(rec.path)) !== want) continue;
        return rec.path;
      }
      return undefined;
    },
  };
}

/** glibc's compiled-in directories (Debian adds the multiarch ones first). */
export function defaultDirs(obj: Pick<ElfDynamic, 'is64' | 'machine'>): string[] {
  const triplets = MULTIARCH[obj.machine] ?? [];
  return [
    ...triplets.flatMap((t) => [`/lib/${t}`, `/usr/lib/${t}`]),
    ...(obj.is64 ? ['/lib64', '/usr/lib64'] : ['/lib32', '/usr/lib32']),
    '/lib',
    '/usr/lib',
  ];
}

/** $ORIGIN, $LIB and $PLATFORM in RPATH/RUNPATH entries (each may have several expansions). */
function expandTokens(dir: string, origin: string, obj: ElfDynamic): string[] {
  let out = [dir.replace(/\$(ORIGIN\b|\{ORIGIN\})/g, origin)];
  if (/\$(\{LIB\}|LIB\b)/.test(dir)) {
    const libs = [
      'lib',
      obj.is64 ? 'lib64' : 'lib32',
      ...(MULTIARCH[obj.machine] ?? []).map((t) => `lib/${t}`),
    ];
    out = out.flatMap((d) => libs.map((l) => d.replace(/\$(\{LIB\}|LIB\b)/g, l)));
  }
  if (/\$(\{PLATFORM\}|PLATFORM\b)/.test(dir)) {
    const platform = (MULTIARCH[obj.machine]?.[0] ?? '').split('-')[0] ?? '';
    out = out.map((d) => d.replace(/\$(\{PLATFORM\}|PLATFORM\b)/g, platform));
  }
  return out;
}

/** The directories of /etc/ld.so.conf and the files it includes, in order. */
export async function readLdSoConf(files: FileResolver): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  async function parse(path: string, depth: number): Promise<void> {
    const real = await files.realPath(path);
    if (real === undefined || seen.has(real) || depth > MAX_INCLUDE_DEPTH) return;
    seen.add(real);
    const text = await readText(files, real);
    if (text === undefined) return;
    const here = real.slice(0, real.lastIndexOf('/')) || '/';
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (line === '') continue;
      const inc = /^include\s+(.+)$/.exec(line);
      if (inc) {
        for (const pattern of inc[1]!.trim().split(/\s+/)) {
          for (const f of await expandInclude(
            files,
            pattern.startsWith('/') ? pattern : `${here}/${pattern}`,
          )) {
            await parse(f, depth + 1);
          }
        }
        continue;
      }
      if (/^hwcap\s/.test(line)) continue;
      for (const d of line.split(/[\s:,=]+/)) if (d.startsWith('/')) out.push(d.replace(/\/+$/, '') || '/');
    }
  }
  await parse('/etc/ld.so.conf', 0);
  return out;
}

/** An include pattern whose last component may hold wildcards, sorted like glob(3). */
async function expandInclude(files: FileResolver, pattern: string): Promise<string[]> {
  const i = pattern.lastIndexOf('/');
  const dir = pattern.slice(0, i) || '/';
  const base = pattern.slice(i + 1);
  if (!/[*?[]/.test(base)) return [pattern];
  const match = nameMatcher([base]);
  return (await files.list(dir))
    .filter((r) => match(r.path.slice(r.path.lastIndexOf('/') + 1)))
    .map((r) => r.path)
    .sort();
}

async function readText(files: FileResolver, path: string): Promise<string | undefined> {
  const rec = await files.stat(path);
  if (rec?.type !== 'file') return undefined;
  return Buffer.from(await files.readFile(path, { maxBytes: MAX_CONFIG_BYTES })).toString('utf8');
}

async function readHead(files: FileResolver, path: string, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  for await (const c of await files.open(path)) {
    chunks.push(Buffer.from(c));
    got += c.byteLength;
    if (got >= n) break;
  }
  return Buffer.concat(chunks).subarray(0, n);
}
