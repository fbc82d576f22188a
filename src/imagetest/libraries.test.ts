/**
 * Library lookups the way ld.so and musl do them, over images made of small ELF files
 * (test/imagetest/elf-builder.ts, checked against readelf in elf-dynamic.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TarEntry } from '../../test/helpers/random-image.ts';
import { buildElf, type ElfSpec } from '../../test/imagetest/elf-builder.ts';
import { dir, exe, file, link, viewOfLayers } from '../../test/imagetest/fixtures.ts';
import { checkLibrariesResult } from './builtin.ts';
import { readLdSoConf } from './ld-path.ts';
import { checkLibraries, type LibraryReport } from './libraries.ts';

const LD = '/lib64/ld-linux-x86-64.so.2';
const elf = (name: string, spec: ElfSpec = {}): TarEntry => exe(name, buildElf(spec));
/** A library: ET_DYN, no x bit (like Debian's), found by its .so name. */
const lib = (name: string, spec: ElfSpec = {}): TarEntry =>
  file(name, buildElf({ soname: name.split('/').at(-1)!, ...spec }));

/** A glibc-style base: loader, libc in the multiarch dir, /lib64 link. */
function base(): TarEntry[] {
  return [
    dir('lib'),
    dir('lib/x86_64-linux-gnu'),
    lib('lib/x86_64-linux-gnu/libc.so.6', { interpreter: LD }),
    elf('lib/x86_64-linux-gnu/ld-linux-x86-64.so.2'),
    link('lib64', 'lib/x86_64-linux-gnu'),
  ];
}

async function run(layers: TarEntry[][], env: string[] = []): Promise<LibraryReport> {
  const v = await viewOfLayers(layers);
  try {
    return await checkLibraries({ config: { Env: env }, files: v });
  } finally {
    await v.close();
  }
}

const missing = (r: LibraryReport) => r.missing.map((m) => `${m.object} ${m.kind} ${m.name}`);

test('a program finds its libraries in the default directories, through symlinks', async () => {
  const r = await run([
    [
      ...base(),
      dir('usr'),
      dir('usr/bin'),
      elf('usr/bin/tool', { type: 2, interpreter: LD, needed: ['libz.so.1', 'libc.so.6'] }),
      dir('usr/lib'),
      dir('usr/lib/x86_64-linux-gnu'),
      lib('usr/lib/x86_64-linux-gnu/libz.so.1.3', { needed: ['libc.so.6'] }),
      link('usr/lib/x86_64-linux-gnu/libz.so.1', 'libz.so.1.3'),
    ],
  ]);
  assert.deepEqual(missing(r), []);
  assert.equal(r.objects, 4);
  assert.deepEqual(Object.fromEntries(r.resolved.get('/usr/bin/tool')!), {
    'libz.so.1': '/usr/lib/x86_64-linux-gnu/libz.so.1.3',
    'libc.so.6': '/lib/x86_64-linux-gnu/libc.so.6',
  });
});

test('a deleted library or interpreter fails, naming the binary and the library', async () => {
  const image = [
    ...base(),
    dir('usr'),
    dir('usr/bin'),
    elf('usr/bin/tool', { type: 2, interpreter: LD, needed: ['libz.so.1', 'libc.so.6'] }),
    dir('usr/lib'),
    lib('usr/lib/libz.so.1', { needed: ['libc.so.6'] }),
  ];
  const noZ = await run([image, [file('usr/lib/.wh.libz.so.1', '')]]);
  assert.deepEqual(missing(noZ), ['/usr/bin/tool library libz.so.1']);
  assert.deepEqual(noZ.missing[0]!.searched?.slice(0, 2), [
    '/lib/x86_64-linux-gnu',
    '/usr/lib/x86_64-linux-gnu',
  ]);
  const noLd = await run([image, [file('lib/x86_64-linux-gnu/.wh.ld-linux-x86-64.so.2', '')]]);
  assert.deepEqual(missing(noLd), [
    `/lib/x86_64-linux-gnu/libc.so.6 interpreter ${LD}`,
    `/usr/bin/tool interpreter ${LD}`,
  ]);

  const v = await viewOfLayers([image, [file('usr/lib/.wh.libz.so.1', '')]]);
  try {
    const res = await checkLibrariesResult({ config: {}, files: v });
    assert.equal(res.status, 'fail');
    assert.match(res.message, /^1 of 3 ELF objects cannot load: /);
    assert.match(res.message, /\/usr\/bin\/tool needs libz\.so\.1/);
    assert.match(
      res.details![0]!,
      /^\/usr\/bin\/tool: needs libz\.so\.1, not found in \/lib\/x86_64-linux-gnu:/,
    );
  } finally {
    await v.close();
  }
});

test('RUNPATH with $ORIGIN, RPATH, LD_LIBRARY_PATH and the loader order', async () => {
  const r = await run(
    [
      [
        ...base(),
        dir('app'),
        dir('app/bin'),
        dir('app/lib'),
        elf('app/bin/server', { type: 2, interpreter: LD, needed: ['libapp.so'], runpath: '$ORIGIN/../lib' }),
        elf('app/bin/old', { type: 2, interpreter: LD, needed: ['libold.so'], rpath: '/opt/old' }),
        elf('app/bin/env', { type: 2, interpreter: LD, needed: ['libenv.so'] }),
        lib('app/lib/libapp.so'),
        dir('opt'),
        dir('opt/old'),
        lib('opt/old/libold.so'),
        dir('opt/env'),
        lib('opt/env/libenv.so'),
      ],
    ],
    ['PATH=/usr/bin', 'LD_LIBRARY_PATH=/opt/env'],
  );
  assert.deepEqual(missing(r), []);
  assert.equal(r.resolved.get('/app/bin/server')!.get('libapp.so'), '/app/lib/libapp.so');
  assert.equal(r.resolved.get('/app/bin/old')!.get('libold.so'), '/opt/old/libold.so');
  assert.equal(r.resolved.get('/app/bin/env')!.get('libenv.so'), '/opt/env/libenv.so');
  // without the env variable, libenv.so is not found
  const without = await run([
    [
      ...base(),
      dir('app'),
      elf('app/env', { type: 2, needed: ['libenv.so'] }),
      dir('opt'),
      dir('opt/env'),
      lib('opt/env/libenv.so'),
    ],
  ]);
  assert.deepEqual(missing(without), ['/app/env library libenv.so']);
});

test('a library of the wrong class or machine is skipped, as the loader skips it', async () => {
  const r = await run([
    [
      ...base(),
      dir('usr'),
      dir('usr/lib'),
      dir('usr/lib/x86_64-linux-gnu'),
      // found first, but 32-bit: skipped; the 64-bit one in /usr/lib is used
      lib('usr/lib/x86_64-linux-gnu/libmix.so', { is64: false, machine: 3 }),
      lib('usr/lib/libmix.so'),
      lib('usr/lib/libarm.so', { machine: 183 }),
      elf('usr/bin-tool', { type: 2, needed: ['libmix.so', 'libarm.so'] }),
    ],
  ]);
  assert.equal(r.resolved.get('/usr/bin-tool')!.get('libmix.so'), '/usr/lib/libmix.so');
  assert.deepEqual(missing(r), ['/usr/bin-tool library libarm.so']);
});

test('/etc/ld.so.conf and its includes add directories', async () => {
  const layers = [
    [
      ...base(),
      dir('etc'),
      file('etc/ld.so.conf', '# comment\ninclude /etc/ld.so.conf.d/*.conf\n/opt/first # trailing comment\n'),
      dir('etc/ld.so.conf.d'),
      file('etc/ld.so.conf.d/b.conf', '/opt/b\n'),
      file('etc/ld.so.conf.d/a.conf', '/opt/a1:/opt/a2, /opt/a3\ninclude more/*.conf\n'),
      file('etc/ld.so.conf.d/ignored.txt', '/opt/never\n'),
      dir('etc/ld.so.conf.d/more'),
      file('etc/ld.so.conf.d/more/x.conf', 'hwcap 0 nosegneg\n/opt/more\n'),
      dir('opt'),
      dir('opt/b'),
      lib('opt/b/libb.so'),
      elf('opt/tool', { type: 2, needed: ['libb.so'] }),
    ],
  ];
  const v = await viewOfLayers(layers);
  try {
    assert.deepEqual(await readLdSoConf(v), [
      '/opt/a1',
      '/opt/a2',
      '/opt/a3',
      '/opt/more',
      '/opt/b',
      '/opt/first',
    ]);
  } finally {
    await v.close();
  }
  const r = await run(layers);
  assert.deepEqual(missing(r), []);
  assert.equal(r.resolved.get('/opt/tool')!.get('libb.so'), '/opt/b/libb.so');
});

test('musl: its own default path and /etc/ld-musl-<arch>.path', async () => {
  const muslBase = [
    dir('lib'),
    elf('lib/ld-musl-x86_64.so.1'),
    link('lib/libc.musl-x86_64.so.1', 'ld-musl-x86_64.so.1'),
    dir('usr'),
    dir('usr/local'),
    dir('usr/local/lib'),
    lib('usr/local/lib/libl.so'),
    dir('opt'),
    dir('opt/m'),
    lib('opt/m/libm2.so'),
    elf('opt/tool', {
      type: 2,
      interpreter: '/lib/ld-musl-x86_64.so.1',
      needed: ['libl.so', 'libm2.so', 'libc.musl-x86_64.so.1'],
    }),
  ];
  const plain = await run([muslBase]);
  assert.deepEqual(missing(plain), ['/opt/tool library libm2.so']);
  assert.deepEqual(plain.missing[0]!.searched, ['/lib', '/usr/local/lib', '/usr/lib']);
  const configured = await run([
    [...muslBase, dir('etc'), file('etc/ld-musl-x86_64.path', '/lib\n/opt/m:/usr/local/lib\n')],
  ]);
  assert.deepEqual(missing(configured), []);
});

test('no ELF programs: passes and says so', async () => {
  const v = await viewOfLayers([
    [dir('app'), exe('app/run.sh', '#!/bin/sh\necho hello world, this is long enough\n')],
  ]);
  try {
    const r = await checkLibrariesResult({ config: {}, files: v });
    assert.equal(r.status, 'pass');
    assert.equal(r.message, 'no dynamically linked ELF programs or libraries');
  } finally {
    await v.close();
  }
});
