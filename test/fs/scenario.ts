/** A three-layer image exercising whiteouts, opaque dirs, symlinks and hardlinks. */
import type { TarEntry } from '../helpers/random-image.ts';

const dir = (name: string): TarEntry => ({ name: `${name}/`, type: 'directory' });
const file = (name: string, content: string, mode?: number): TarEntry => ({
  name,
  content,
  ...(mode === undefined ? {} : { mode }),
});

export const LAYERS: TarEntry[][] = [
  [
    dir('etc'),
    file('etc/passwd', 'root0'),
    file('etc/hosts', 'hosts0'),
    dir('usr'),
    dir('usr/lib'),
    file('usr/lib/a.so', 'a'),
    file('usr/lib/b.so', 'b'),
    dir('opt'),
    dir('opt/app'),
    file('opt/app/old.txt', 'old'),
    dir('opt/app/sub'),
    file('opt/app/sub/deep.txt', 'deep'),
    dir('var'),
    dir('var/cache'),
    file('var/cache/x', 'x'),
    dir('bin'),
    file('bin/busybox', 'bb', 0o755),
    { name: 'bin/sh', type: 'link', linkname: 'bin/busybox' },
    { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
  ],
  [
    file('etc/passwd', 'root1'),
    // Same layer as the new etc/passwd: must not hide it, whatever the order.
    file('etc/.wh.passwd', ''),
    file('etc/.wh.hosts', ''),
    file('usr/lib/.wh.a.so', ''),
    // Opaque marker before this layer's entries in the directory.
    file('opt/app/.wh..wh..opq', ''),
    file('opt/app/new.txt', 'new'),
    dir('opt/app/sub'),
    file('opt/app/sub/fresh.txt', 'fresh'),
    file('var/.wh.cache', ''),
    // Through the symlink lib -> usr/lib, as a runtime unpacks it.
    file('lib/c.so', 'c'),
    file('.wh.', ''),
    file('../escape', 'x'),
  ],
  [
    file('opt/app/new2.txt', 'n2'),
    // Opaque marker after this layer's entries: hides layer 1's new.txt and sub, keeps new2.txt.
    file('opt/app/.wh..wh..opq', ''),
    // A directory replaced by a symlink: its whole subtree goes.
    { name: 'bin', type: 'symlink', linkname: 'usr/bin' },
    dir('usr/bin'),
    file('usr/bin/tool', 'tool', 0o755),
    { name: 'usr/bin/tool2', type: 'link', linkname: 'usr/bin/tool' },
    { name: 'etc/passwd-link', type: 'link', linkname: 'etc/passwd' },
  ],
];

/** The expected final tree: path, type, content (files) or target (symlinks). */
export const EXPECTED: [string, string, string?][] = [
  ['/', 'dir'],
  ['/bin', 'symlink', 'usr/bin'],
  ['/etc', 'dir'],
  ['/etc/passwd', 'file', 'root1'],
  ['/etc/passwd-link', 'file', 'root1'],
  ['/lib', 'symlink', 'usr/lib'],
  ['/opt', 'dir'],
  ['/opt/app', 'dir'],
  ['/opt/app/new2.txt', 'file', 'n2'],
  ['/usr', 'dir'],
  ['/usr/bin', 'dir'],
  ['/usr/bin/tool', 'file', 'tool'],
  ['/usr/bin/tool2', 'file', 'tool'],
  ['/usr/lib', 'dir'],
  ['/usr/lib/b.so', 'file', 'b'],
  ['/usr/lib/c.so', 'file', 'c'],
  ['/var', 'dir'],
];
