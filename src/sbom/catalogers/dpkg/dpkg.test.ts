import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { layer, tempDir } from '../../../../test/fs/helpers.ts';
import type { TarEntry } from '../../../../test/helpers/random-image.ts';
import { openMergedView } from '../../../fs/merged.ts';
import { openDirectory } from '../../directory.ts';
import type { CatalogResult, OsInfo, Package } from '../../model.ts';
import { licensesFromCopyright, spdxFromDebian } from './copyright.ts';
import { dpkgCataloger } from './index.ts';
import { parseList, parseStatus, relations } from './parse-status.ts';

const FIXTURES = join(import.meta.dirname, '../../../../test/fixtures/sbom');
const BASIC = join(FIXTURES, 'dpkg/basic');
const DEBIAN12: OsInfo = { id: 'debian', versionId: '12', versionCodename: 'bookworm' };
const hasDpkg = (() => {
  try {
    execFileSync('dpkg-query', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function byName(r: CatalogResult): Map<string, Package> {
  return new Map(
    r.packages.map((p) => [
      p.arch && p.arch !== 'amd64' && p.arch !== 'all' ? `${p.name}:${p.arch}` : p.name,
      p,
    ]),
  );
}

test('the basic fixture: every installed package with version, source, arch, purl, files, licenses', async () => {
  const r = await dpkgCataloger.catalog(await openDirectory(BASIC), { os: DEBIAN12 });
  assert.deepEqual(r.problems, []);
  const pkgs = byName(r);
  assert.deepEqual([...pkgs.keys()], ['base-files', 'bash', 'libc6', 'zlib1g', 'python3-yaml', 'libtinfo6']);

  const bash = pkgs.get('bash')!;
  assert.equal(bash.version, '5.2.15-2+b8');
  assert.deepEqual(bash.source, { name: 'bash', version: '5.2.15-2' });
  assert.equal(
    bash.purl,
    'pkg:deb/debian/bash@5.2.15-2%2Bb8?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2',
  );
  assert.deepEqual(bash.locations, [
    { path: '/var/lib/dpkg/status' },
    { path: '/var/lib/dpkg/info/bash.list' },
  ]);
  assert.ok(bash.files!.includes('/bin/bash'));
  assert.ok(!bash.files!.includes('/bin'), 'directories of the list are not files');
  assert.ok(bash.licenses.includes('GPL-3.0-or-later'));
  assert.equal(bash.foundBy, 'dpkg-db');
  assert.deepEqual(bash.metadata, {
    maintainer: 'Matthias Klose <doko@debian.org>',
    installedSize: 7164,
    multiArch: 'foreign',
  });

  const libc = pkgs.get('libc6')!;
  assert.deepEqual(libc.source, { name: 'glibc', version: '2.36-9+deb12u14' });
  assert.equal(libc.locations[1]!.path, '/var/lib/dpkg/info/libc6:amd64.list', 'multi-arch list name');
  assert.ok(libc.files!.includes('/lib/x86_64-linux-gnu/libc.so.6'));
  assert.deepEqual(libc.licenses, [], 'no copyright file in the fixture');

  const zlib = pkgs.get('zlib1g')!;
  assert.equal(zlib.version, '1:1.2.13.dfsg-1');
  assert.equal(zlib.purl, 'pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib');
  assert.deepEqual(zlib.licenses, ['Zlib']);
  assert.deepEqual(zlib.files, [
    '/lib/x86_64-linux-gnu/libz.so.1',
    '/lib/x86_64-linux-gnu/libz.so.1.2.13',
    '/usr/share/doc/zlib1g/changelog.Debian.gz',
    '/usr/share/doc/zlib1g/changelog.gz',
    '/usr/share/doc/zlib1g/copyright',
  ]);

  assert.deepEqual(pkgs.get('python3-yaml')!.source, { name: 'pyyaml', version: '6.0-3' });
  assert.deepEqual(pkgs.get('libtinfo6')!.metadata?.status, 'install ok unpacked');
  assert.deepEqual(pkgs.get('libtinfo6')!.files, [], 'no list for it: no files, no problem');
  assert.ok(!pkgs.has('mawk'), 'config-files (removed) packages are not reported');

  // Unique ids; relationships between packages found (Pre-Depends + Depends, Provides).
  assert.equal(new Set(r.packages.map((p) => p.id)).size, r.packages.length);
  const name = new Map(r.packages.map((p) => [p.id, p.name]));
  const edges = r.relationships.map((e) => `${name.get(e.from)} ${e.type} ${name.get(e.to)}`).sort();
  assert.deepEqual(edges, [
    'bash depends-on base-files',
    'bash depends-on libc6',
    'bash depends-on libtinfo6',
    'libtinfo6 depends-on libc6',
    'python3-yaml depends-on libc6',
    'zlib1g depends-on libc6',
  ]);
});

test(
  'dpkg-query reading the same fixture agrees on packages, versions and sources',
  { skip: !hasDpkg },
  async () => {
    const admin = join(BASIC, 'var/lib/dpkg');
    const want = execFileSync(
      'dpkg-query',
      [
        '--admindir',
        admin,
        '-W',
        '-f',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
        '${Package} ${Version} ${source:Package} ${source:Version} ${db:Status-Status}\n',
      ],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .filter((l) => !/ (not-installed|config-files)$/.test(l))
      .map((l) => l.split(' ').slice(0, 4).join(' '))
      .sort();
    const r = await dpkgCataloger.catalog(await openDirectory(BASIC), { os: DEBIAN12 });
    const got = r.packages.map((p) => `${p.name} ${p.version} ${p.source!.name} ${p.source!.version}`).sort();
    assert.deepEqual(got, want);
    // and the files dpkg -L lists (without directories) are the ones reported
    const listed = execFileSync('dpkg-query', ['--admindir', admin, '-L', 'zlib1g'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter((p) => p !== '/.');
    const files = listed.filter((p) => !listed.some((q) => q.startsWith(`${p}/`)));
    assert.equal(files.length, 5);
    assert.deepEqual(byName(r).get('zlib1g')!.files, files.sort());
  },
);

test('distroless status.d: one paragraph per file, files from <name>.md5sums', async () => {
  const r = await dpkgCataloger.catalog(await openDirectory(join(FIXTURES, 'distroless')), { os: DEBIAN12 });
  assert.deepEqual(r.problems, []);
  const pkgs = byName(r);
  assert.deepEqual([...pkgs.keys()].sort(), ['base-files', 'libc6', 'netbase', 'tzdata']);
  const libc = pkgs.get('libc6')!;
  assert.deepEqual(libc.locations, [
    { path: '/var/lib/dpkg/status.d/libc6' },
    { path: '/var/lib/dpkg/status.d/libc6.md5sums' },
  ]);
  assert.deepEqual(libc.files, [
    '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
    '/lib/x86_64-linux-gnu/libBrokenLocale.so.1',
    '/lib/x86_64-linux-gnu/libanl.so.1',
    '/lib/x86_64-linux-gnu/libc.so.6',
  ]);
  assert.equal(
    libc.purl,
    'pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12&upstream=glibc',
  );
  assert.equal(pkgs.get('tzdata')!.arch, 'all');
  assert.deepEqual(pkgs.get('tzdata')!.files, []);
  assert.ok(pkgs.get('base-files')!.files!.includes('/usr/lib/os-release'));
});

async function fixtureEntries(root: string, rel = ''): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push({ name: `${p}/`, type: 'directory' }, ...(await fixtureEntries(root, p)));
    else out.push({ name: p, content: await readFile(join(root, p)) });
  }
  return out;
}

test('in an image: locations carry the layer that holds each file', async () => {
  const base = await fixtureEntries(BASIC);
  const l0 = await layer(base);
  const status = await readFile(join(BASIC, 'var/lib/dpkg/status'), 'utf8');
  const extra = `Package: hello\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.10-3\nDepends: libc6 (>= 2.34)\n\n`;
  const l1 = await layer([
    { name: 'var/lib/dpkg/status', content: status + extra },
    { name: 'var/lib/dpkg/info/hello.list', content: '/.\n/usr\n/usr/bin\n/usr/bin/hello\n' },
  ]);
  const view = await openMergedView([l0, l1]);
  const r = await dpkgCataloger.catalog(view, { os: DEBIAN12 });
  assert.deepEqual(r.problems, []);
  const pkgs = byName(r);
  assert.deepEqual(pkgs.get('hello')!.locations, [
    { path: '/var/lib/dpkg/status', layer: l1.digest },
    { path: '/var/lib/dpkg/info/hello.list', layer: l1.digest },
  ]);
  assert.deepEqual(pkgs.get('bash')!.locations, [
    { path: '/var/lib/dpkg/status', layer: l1.digest },
    { path: '/var/lib/dpkg/info/bash.list', layer: l0.digest },
  ]);
  assert.deepEqual(pkgs.get('hello')!.files, ['/usr/bin/hello']);
  assert.ok(r.relationships.some((e) => e.from === pkgs.get('hello')!.id && e.to === pkgs.get('libc6')!.id));
});

test('multi-arch: libc6:amd64 and libc6:i386 are two packages with their own lists', async () => {
  const status = await readFile(join(BASIC, 'var/lib/dpkg/status'), 'utf8');
  const libc = status.split('\n\n').find((s) => s.startsWith('Package: libc6\n'))!;
  const i386 = libc.replace('Architecture: amd64', 'Architecture: i386');
  const view = await openMergedView([
    await layer([
      { name: 'var/lib/dpkg/status', content: `${libc}\n\n${i386}\n\n` },
      { name: 'var/lib/dpkg/info/libc6:amd64.list', content: '/.\n/lib/x86_64-linux-gnu/libc.so.6\n' },
      { name: 'var/lib/dpkg/info/libc6:i386.list', content: '/.\n/lib/i386-linux-gnu/libc.so.6\n' },
    ]),
  ]);
  const r = await dpkgCataloger.catalog(view, { os: DEBIAN12 });
  assert.equal(r.packages.length, 2);
  assert.notEqual(r.packages[0]!.id, r.packages[1]!.id);
  assert.deepEqual(
    r.packages.map((p) => [p.arch, p.files, p.purl.includes(`arch=${p.arch}`)]),
    [
      ['amd64', ['/lib/x86_64-linux-gnu/libc.so.6'], true],
      ['i386', ['/lib/i386-linux-gnu/libc.so.6'], true],
    ],
  );
});

test('corrupt input: truncated paragraph, bad lines and binary garbage are located problems', async () => {
  const status = await readFile(join(BASIC, 'var/lib/dpkg/status'), 'utf8');
  // Cut in the middle of the last paragraph (libtinfo6), before its Version line.
  const cut = status.slice(0, status.lastIndexOf('Version:') - 5);
  const bad = [
    ' continuation before any field',
    'Package: broken',
    'Status: install ok installed',
    'Version: 1.0',
    'this line has no colon',
    'Version: 2.0',
    'Installed-Size: lots',
    '',
    'Package: weird-state',
    'Status: install ok exploded',
    'Version: 1',
    '',
    'Package: good',
    'Version: 3.0',
    '',
  ].join('\n');
  const garbage = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2, 0xff, 10, 10, 0x50, 0x61, 0]);
  const l = await layer([
    { name: 'var/lib/dpkg/status', content: cut },
    { name: 'srv/chroot/var/lib/dpkg/status', content: bad },
    { name: 'var/lib/dpkg/status.d/garbage', content: garbage },
    { name: 'var/lib/dpkg/info/bash.list', content: 'usr/bin/relative\n/usr/bin/ok\n' },
  ]);
  const r = await dpkgCataloger.catalog(await openMergedView([l]), { os: DEBIAN12 });
  const problems = r.problems.map((p) => `${p.cataloger} ${p.path} ${p.layer === l.digest} ${p.message}`);
  assert.deepEqual(problems, [
    'dpkg-db /srv/chroot/var/lib/dpkg/status true line 1: continuation line without a field before it',
    'dpkg-db /srv/chroot/var/lib/dpkg/status true line 5: not a "Field: value" line: "this line has no colon"',
    'dpkg-db /srv/chroot/var/lib/dpkg/status true line 6: duplicate field Version',
    'dpkg-db /srv/chroot/var/lib/dpkg/status true line 2: broken: Installed-Size "lots" is not a number',
    'dpkg-db /srv/chroot/var/lib/dpkg/status true line 9: weird-state: unknown Status "install ok exploded"',
    'dpkg-db /var/lib/dpkg/status true line 148: libtinfo6: no Version field',
    'dpkg-db /var/lib/dpkg/info/bash.list true line 1: not an absolute path: "usr/bin/relative"',
    'dpkg-db /var/lib/dpkg/status.d/garbage true binary data (NUL bytes): not a deb822 control file',
  ]);
  const names = r.packages.map((p) => `${p.name}@${p.version}`).sort();
  assert.deepEqual(names, [
    'base-files@12.4+deb12u11',
    'bash@5.2.15-2+b8',
    'broken@1.0',
    'good@3.0',
    'libc6@2.36-9+deb12u14',
    'python3-yaml@6.0-3+b2',
    'zlib1g@1:1.2.13.dfsg-1',
  ]);
  // the chroot's packages own paths under the chroot
  assert.ok(r.packages.every((p) => p.files !== undefined));
});

test(
  'this machine: a copy of /var/lib/dpkg gives every package dpkg-query lists',
  { skip: !hasDpkg },
  async (t) => {
    const dir = await tempDir(t, 'vouch-dpkg-real-');
    const admin = join(dir, 'var/lib/dpkg');
    await mkdir(join(admin, 'info'), { recursive: true });
    await copyFile('/var/lib/dpkg/status', join(admin, 'status'));
    for (const f of await readdir('/var/lib/dpkg/info')) {
      if (f.endsWith('.list')) await copyFile(join('/var/lib/dpkg/info', f), join(admin, 'info', f));
    }
    // dpkg-query reads the copy too, so packages installed meanwhile cannot make a difference.
    const want = execFileSync(
      'dpkg-query',
      [
        '--admindir',
        admin,
        '-W',
        '-f',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a dpkg-query format, not a template
        '${binary:Package} ${Version} ${source:Package} ${source:Version} ${db:Status-Status}\n',
      ],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    )
      .trim()
      .split('\n')
      .filter((l) => !/ (not-installed|config-files)$/.test(l))
      .map((l) => {
        const [pkg, ...rest] = l.split(' ');
        return [pkg!.replace(/:amd64$/, ''), ...rest.slice(0, 3)].join(' ');
      })
      .sort();
    const start = performance.now();
    const view = await openDirectory(dir);
    const r = await dpkgCataloger.catalog(view, { os: DEBIAN12 });
    const ms = performance.now() - start;
    assert.deepEqual(r.problems, []);
    const got = r.packages
      .map(
        (p) =>
          `${p.arch === 'amd64' || p.arch === 'all' ? p.name : `${p.name}:${p.arch}`} ${p.version} ${p.source!.name} ${p.source!.version}`,
      )
      .sort();
    assert.ok(want.length > 100, `only ${want.length} packages on this machine?`);
    assert.deepEqual(got, want);
    // every package has its list (all are installed), and libc6 owns the real libc
    assert.ok(
      r.packages.every((p) => p.locations.length === 2),
      'every package has a .list',
    );
    const libc = r.packages.find((p) => p.name === 'libc6')!;
    assert.ok(libc.files!.some((f) => f.endsWith('/libc.so.6')));
    t.diagnostic(
      `${r.packages.length} packages, ${r.relationships.length} relationships in ${ms.toFixed(0)} ms`,
    );
  },
);

test('relations(): alternatives, versions, arch qualifiers and restrictions', () => {
  assert.deepEqual(
    relations('libc6 (>= 2.34), debconf (>= 0.5) | debconf-2.0, python3:any, foo [amd64] <!nocheck>'),
    [['libc6'], ['debconf', 'debconf-2.0'], ['python3'], ['foo']],
  );
  assert.deepEqual(relations(''), []);
});

test('parseStatus keeps half-installed and unpacked, drops removed ones', () => {
  const text = [
    'installed',
    'half-installed',
    'unpacked',
    'config-files',
    'not-installed',
    'triggers-pending',
  ]
    .map((s, i) => `Package: p${i}\nStatus: install ok ${s}\nVersion: 1\n`)
    .join('\n');
  const r = parseStatus(text);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.entries.map((e) => [e.name, e.status]),
    [
      ['p0', undefined],
      ['p1', 'install ok half-installed'],
      ['p2', 'install ok unpacked'],
      ['p5', 'install ok triggers-pending'],
    ],
  );
});

test('parseList drops directories and the root', () => {
  assert.deepEqual(parseList('/.\n/usr\n/usr/bin\n/usr/bin-x\n/usr/bin/a\n/usr/share/empty\n').paths, [
    '/usr/bin-x',
    '/usr/bin/a',
    '/usr/share/empty',
  ]);
});

test('copyright: DEP-5 short names to SPDX, free text by common-licenses references', async () => {
  const dep5 = [
    'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
    '',
    'Files: *',
    'License: GPL-2+ or Artistic-1.0',
    '',
    'Files: lib/*',
    'License: (Expat or BSD-3-clause) and LGPL-2.1+',
    '',
    'Files: m4/*',
    'License: GPL-3+ with Autoconf exception',
    '',
    'License: GPL-2+',
    ' On Debian systems see /usr/share/common-licenses/GPL-2.',
  ].join('\n');
  assert.deepEqual(licensesFromCopyright(dep5), [
    'Artistic-1.0',
    'BSD-3-Clause',
    'GPL-2.0-or-later',
    'GPL-3.0-or-later',
    'LGPL-2.1-or-later',
    'MIT',
  ]);
  const free =
    'This package is under the LGPL.\nSee /usr/share/common-licenses/LGPL-2.1 and `/usr/share/common-licenses/GPL-2`.';
  assert.deepEqual(licensesFromCopyright(free), ['GPL-2.0-only', 'LGPL-2.1-only']);
  assert.equal(spdxFromDebian('gpl-3.0-or-later'), 'GPL-3.0-or-later');
  assert.equal(spdxFromDebian('public-domain'), 'public-domain');
  const zlib = await readFile(join(BASIC, 'usr/share/doc/zlib1g/copyright'), 'utf8');
  assert.deepEqual(licensesFromCopyright(zlib), ['Zlib']);
});
