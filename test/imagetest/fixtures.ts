/**
 * Small fake distributions for the hardening and image-test tests: the files a Debian or Alpine
 * image has where hardening looks (package managers, their state, docs, caches, package
 * databases), built with tar-stream (not vouch's writer) and opened through vouch's own
 * sources, as a user would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf } from '../../src/digest/digest.ts';
import { type MergedView, openMergedView } from '../../src/fs/merged.ts';
import { openImage } from '../../src/image/describe.ts';
import type { Image } from '../../src/image/image.ts';
import type { ContainerConfig } from '../../src/oci/types.ts';
import type { ImageSource } from '../../src/source/types.ts';
import { openSource } from '../../src/transport/open.ts';
import { makeTar, randomImage, type TarEntry, writeLayout } from '../helpers/random-image.ts';

export const dir = (name: string, extra: Partial<TarEntry> = {}): TarEntry => ({
  name: `${name}/`,
  type: 'directory',
  ...extra,
});
export const file = (
  name: string,
  content: string | Uint8Array = name,
  extra: Partial<TarEntry> = {},
): TarEntry => ({
  name,
  content,
  ...extra,
});
export const exe = (name: string, content: string | Uint8Array = `#!/bin/sh\n# ${name}\n`): TarEntry => ({
  name,
  content,
  mode: 0o755,
});
export const link = (name: string, linkname: string): TarEntry => ({
  name,
  type: 'symlink',
  linkname,
  mode: 0o777,
});

export const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'app:x:1000:1000:app:/home/app:/bin/sh',
  'toor:x:0:0:another root:/root:/bin/sh',
  '',
].join('\n');
export const GROUP = ['root:x:0:', 'daemon:x:1:', 'app:x:1000:', 'staff:x:50:app', ''].join('\n');

/** A merged-/usr Debian-like base: programs, apt/dpkg state, docs, caches, a dpkg database. */
export function debianBase(): TarEntry[] {
  return [
    link('bin', 'usr/bin'),
    link('sbin', 'usr/sbin'),
    link('lib', 'usr/lib'),
    dir('etc'),
    dir('etc/apt'),
    file('etc/apt/sources.list', 'deb http://mirror.example/debian bookworm main\n'),
    dir('etc/apt/trusted.gpg.d'),
    file('etc/apt/trusted.gpg.d/debian.asc', 'KEY'),
    dir('etc/dpkg'),
    file('etc/dpkg/dpkg.cfg', 'no-debsig\n'),
    file('etc/passwd', PASSWD),
    file('etc/group', GROUP),
    file('etc/os-release', 'ID=debian\nVERSION_ID="12"\n'),
    dir('home'),
    dir('home/app', { uid: 1000, gid: 1000 }),
    dir('home/app/.cache', { uid: 1000, gid: 1000 }),
    file('home/app/.cache/thing', 'x'.repeat(100), { uid: 1000, gid: 1000 }),
    dir('root', { mode: 0o700 }),
    dir('root/.cache'),
    dir('root/.cache/pip'),
    file('root/.cache/pip/wheel.whl', 'w'.repeat(1000)),
    dir('tmp', { mode: 0o1777 }),
    file('tmp/build.log', 'l'.repeat(50)),
    dir('usr'),
    dir('usr/bin'),
    exe('usr/bin/apt'),
    exe('usr/bin/apt-get'),
    exe('usr/bin/apt-cache'),
    exe('usr/bin/apt-config'),
    exe('usr/bin/apt-key'),
    exe('usr/bin/dpkg', 'd'.repeat(300)),
    exe('usr/bin/dpkg-query'),
    exe('usr/bin/dpkg-deb'),
    exe('usr/bin/bash', 'b'.repeat(1234)),
    exe('usr/bin/ls', 'l'.repeat(321)),
    exe('usr/bin/aptly-like-tool-not-apt'),
    dir('usr/lib'),
    dir('usr/lib/apt'),
    dir('usr/lib/apt/methods'),
    exe('usr/lib/apt/methods/http', 'h'.repeat(200)),
    file('usr/lib/libapt-pkg.so.6.0', 'lib'),
    dir('usr/sbin'),
    exe('usr/sbin/dpkg-reconfigure'),
    dir('usr/share'),
    dir('usr/share/doc'),
    dir('usr/share/doc/bash'),
    file('usr/share/doc/bash/copyright', 'GPL-3+'),
    file('usr/share/doc/bash/changelog.Debian.gz', 'c'.repeat(400)),
    dir('usr/share/doc/bash/examples'),
    file('usr/share/doc/bash/examples/x.sh', 'e'.repeat(40)),
    dir('usr/share/doc/dpkg'),
    file('usr/share/doc/dpkg/copyright', 'GPL-2+'),
    file('usr/share/doc/dpkg/README', 'r'.repeat(30)),
    link('usr/share/doc/libapt-pkg6.0', 'apt'),
    dir('usr/share/man'),
    dir('usr/share/man/man1'),
    file('usr/share/man/man1/ls.1.gz', 'm'.repeat(500)),
    dir('usr/share/info'),
    file('usr/share/info/dir', 'i'.repeat(10)),
    dir('usr/share/locale'),
    file('usr/share/locale/locale.alias', 'alias'),
    dir('usr/share/locale/de'),
    dir('usr/share/locale/de/LC_MESSAGES'),
    file('usr/share/locale/de/LC_MESSAGES/bash.mo', 'mo'.repeat(100)),
    dir('var'),
    dir('var/cache'),
    dir('var/cache/apt'),
    dir('var/cache/apt/archives'),
    file('var/cache/apt/archives/bash.deb', 'deb'.repeat(1000)),
    dir('var/cache/debconf'),
    file('var/cache/debconf/passwords.dat', 'secret-answers'),
    dir('var/cache/ldconfig'),
    file('var/cache/ldconfig/aux-cache', 'a'.repeat(20)),
    dir('var/lib'),
    dir('var/lib/apt'),
    dir('var/lib/apt/lists'),
    file('var/lib/apt/lists/mirror.example_dists_bookworm_InRelease', 'L'.repeat(2000)),
    dir('var/lib/dpkg'),
    file('var/lib/dpkg/status', 'Package: bash\nStatus: install ok installed\nVersion: 5.2\n'),
    file('var/lib/dpkg/status-old', 'Package: bash\n'),
    dir('var/lib/dpkg/info'),
    file('var/lib/dpkg/info/bash.list', '/usr/bin/bash\n'),
    dir('var/log'),
    dir('var/log/apt'),
    file('var/log/apt/history.log', 'h'.repeat(60)),
    file('var/log/dpkg.log', 'p'.repeat(70)),
    dir('var/tmp', { mode: 0o1777 }),
  ];
}

export interface FixtureImage {
  /** `oci:<dir>:<tag>` */
  ref: string;
  layout: string;
  dir: string;
  cleanup(): Promise<void>;
}

/** Write an image of these layers into a fresh layout under the temp dir. */
export async function fixtureImage(
  layers: TarEntry[][],
  containerConfig: ContainerConfig = { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], Cmd: ['/bin/bash'] },
  opts: { flavour?: 'oci' | 'docker'; annotations?: Record<string, string> } = {},
): Promise<FixtureImage> {
  const tmp = await mkdtemp(join(tmpdir(), 'vouch-imagetest-'));
  const img = await randomImage({ layers, containerConfig, ...opts });
  const layout = join(tmp, 'src');
  await writeLayout(layout, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
  return {
    ref: `oci:${layout}:v1`,
    layout,
    dir: tmp,
    cleanup: () => rm(tmp, { recursive: true, force: true }),
  };
}

/** Open an image name for reading; close the source when done. */
export async function withImage<T>(ref: string, fn: (image: Image) => Promise<T>): Promise<T> {
  const source: ImageSource = await openSource(ref);
  try {
    const { image } = await openImage(source);
    return await fn(image);
  } finally {
    await source.close();
  }
}

/** The merged filesystem of some layers, without an image around them. */
export async function viewOfLayers(layers: TarEntry[][]): Promise<MergedView> {
  const tars = await Promise.all(layers.map((l) => makeTar(l)));
  return openMergedView(
    tars.map((tar) => ({
      digest: digestOf(tar),
      open: async () =>
        (async function* () {
          yield tar;
        })(),
    })),
  );
}

/** The merged filesystem of an image. */
export async function viewOf(image: Image): Promise<MergedView> {
  return openMergedView(
    image.layers.map((l) => ({ digest: l.descriptor.digest, open: () => l.openUncompressed() })),
  );
}

/** Every path of a view except the root. */
export async function pathsOf(view: MergedView): Promise<string[]> {
  const out: string[] = [];
  for await (const r of view.walk()) if (r.path !== '/') out.push(r.path);
  return out;
}
