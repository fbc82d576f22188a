import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildElf, word } from '../../../../test/fixtures/sbom/golang/make-elf.ts';
import {
  catalogEntries,
  counting,
  exists,
  fileEntry,
  fixtureDir,
  have,
  imageOf,
  type TarEntry,
} from '../../../../test/fixtures/sbom/lang-helpers.ts';
import { isVouchError } from '../../../errors.ts';
import type { Package } from '../../model.ts';
import { gemCataloger } from '../gem/index.ts';
import { javaArchiveCataloger } from '../java/index.ts';
import { javascriptCataloger } from '../npm/index.ts';
import { pythonCataloger } from '../python/index.ts';
import { rustAuditCataloger } from '../rust/index.ts';
import { parseModInfo, readGoBuildInfo, readQuoted } from './buildinfo.ts';
import { bufferSource, FileByteSource } from './byte-source.ts';
import { openElf } from './elf.ts';
import { GO_BINARY_CATALOGER_ID, goBinaryCataloger } from './index.ts';
import { goPurl } from './package.ts';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const SENTINEL_START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const SENTINEL_END = Buffer.from('f932433186182072008242104116d8f2', 'hex');

function framedModinfo(text: string): Buffer {
  return Buffer.concat([SENTINEL_START, Buffer.from(text), SENTINEL_END]);
}

function uvarint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** Go 1.18+ layout: header, then version and module info inline. */
function inlineBuildInfo(goVersion: string, modinfo: string, ptrSize = 8): Buffer {
  const header = Buffer.alloc(32);
  MAGIC.copy(header);
  header[14] = ptrSize;
  header[15] = 2;
  const mod = framedModinfo(modinfo);
  const v = Buffer.from(goVersion);
  return Buffer.concat([header, uvarint(v.byteLength), v, uvarint(mod.byteLength), mod]);
}

/** Pre-1.18 layout: header with two pointers to Go string headers, strings after them. */
function pointerBuildInfo(goVersion: string, modinfo: string, is64: boolean, le: boolean) {
  const ptr = is64 ? 8 : 4;
  const v = Buffer.from(goVersion);
  const mod = framedModinfo(modinfo);
  const size = 32 + 4 * ptr + v.byteLength + mod.byteLength;
  return {
    size,
    data: (addr: number) => {
      const header = Buffer.alloc(32);
      MAGIC.copy(header);
      header[14] = ptr;
      header[15] = le ? 0 : 1;
      const vHdr = addr + 32;
      const mHdr = vHdr + 2 * ptr;
      const vData = mHdr + 2 * ptr;
      const mData = vData + v.byteLength;
      word(vHdr, is64, le).copy(header, 16);
      word(mHdr, is64, le).copy(header, 16 + ptr);
      return Buffer.concat([
        header,
        word(vData, is64, le),
        word(v.byteLength, is64, le),
        word(mData, is64, le),
        word(mod.byteLength, is64, le),
        v,
        mod,
      ]);
    },
  };
}

const MODINFO = [
  'path\texample.com/app/cmd/app',
  'mod\texample.com/app\t(devel)\t',
  'dep\tgithub.com/pkg/errors\tv0.9.1\th1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=',
  'dep\tgolang.org/x/sys\tv0.1.0\th1:aaa=',
  '=>\tgithub.com/fork/sys\tv0.2.0\th1:bbb=',
  'dep\texample.com/lib\tv1.2.3',
  '=>\t../lib\t(devel)\t',
  'build\t-compiler=gc',
  'build\t-ldflags="-s -w -X \\"main.version=1.0\\""',
  'build\tGOARCH=amd64',
  'build\tvcs.revision=0123456789abcdef0123456789abcdef01234567',
  '',
].join('\n');

function byName(pkgs: Package[]): Map<string, Package> {
  return new Map(pkgs.map((p) => [p.name, p]));
}

describe('parseModInfo', () => {
  test('reads path, main module, deps, replacements and quoted build settings', () => {
    const m = parseModInfo(MODINFO);
    assert.equal(m.path, 'example.com/app/cmd/app');
    assert.deepEqual(m.main, { path: 'example.com/app', version: '(devel)' });
    assert.equal(m.deps.length, 3);
    assert.deepEqual(m.deps[1], {
      path: 'golang.org/x/sys',
      version: 'v0.1.0',
      sum: 'h1:aaa=',
      replace: { path: 'github.com/fork/sys', version: 'v0.2.0', sum: 'h1:bbb=' },
    });
    assert.deepEqual(m.deps[2]!.replace, { path: '../lib', version: '(devel)' });
    assert.deepEqual(m.settings[1], { key: '-ldflags', value: '-s -w -X "main.version=1.0"' });
    assert.equal(m.settings.length, 4);
  });

  test('rejects malformed lines', () => {
    assert.throws(() => parseModInfo('bogus\tline'), /unexpected "bogus/);
    assert.throws(() => parseModInfo('=>\tx\tv1'), /replacement without a module/);
    assert.throws(() => parseModInfo('dep\t\tv1'), /module without a path/);
    assert.throws(() => parseModInfo('build\tnoequals'), /without '='/);
    assert.throws(() => parseModInfo('build\t"unterminated=1'), /unterminated/);
  });

  test('Go quoted strings', () => {
    assert.deepEqual(readQuoted('"a\\tb\\x41\\u00e9\\101\\"" rest'), { value: 'a\tbAéA"', end: 22 });
    assert.throws(() => readQuoted('"\\q"'), /unknown escape/);
  });
});

describe('build info in synthetic ELF files', () => {
  const cases = [
    { is64: true, le: true },
    { is64: false, le: true },
    { is64: true, le: false },
    { is64: false, le: false },
  ];
  for (const { is64, le } of cases) {
    const what = `${is64 ? 64 : 32}-bit ${le ? 'little' : 'big'} endian`;
    test(`inline (Go 1.18+) format, ${what}`, async () => {
      const bin = buildElf({
        is64,
        littleEndian: le,
        sections: [
          { name: '.text', data: Buffer.alloc(100, 0x90), flags: 6 },
          { name: '.go.buildinfo', data: inlineBuildInfo('go1.21.5', MODINFO, is64 ? 8 : 4) },
        ],
      });
      const src = bufferSource(bin);
      const info = await readGoBuildInfo(await openElf(src), src);
      assert.equal(info?.goVersion, 'go1.21.5');
      assert.equal(info?.format, 'inline');
      assert.equal(info?.modinfo, MODINFO);
    });
    test(`pointer (before Go 1.18) format, ${what}`, async () => {
      const bi = pointerBuildInfo('go1.16.15', MODINFO, is64, le);
      const bin = buildElf({
        is64,
        littleEndian: le,
        sections: [{ name: '.go.buildinfo', data: bi.data, size: bi.size }],
      });
      const src = bufferSource(bin);
      const info = await readGoBuildInfo(await openElf(src), src);
      assert.equal(info?.goVersion, 'go1.16.15');
      assert.equal(info?.format, 'pointer');
      assert.equal(info?.modinfo, MODINFO);
    });
  }

  test('without a section table, the header is searched in the writable segment', async () => {
    const bin = buildElf({
      sections: [
        { name: '.data', data: Buffer.alloc(40, 1) },
        { name: '.go.buildinfo', data: inlineBuildInfo('go1.22.0', MODINFO) },
      ],
      noSectionHeaders: true,
    });
    const src = bufferSource(bin);
    const elf = await openElf(src);
    assert.equal(elf.sections.length, 0);
    assert.equal((await readGoBuildInfo(elf, src))?.goVersion, 'go1.22.0');
  });

  test('packages from build info: main (devel), deps, replacements, stdlib', async () => {
    const bin = buildElf({
      sections: [{ name: '.go.buildinfo', data: inlineBuildInfo('go1.21.5', MODINFO) }],
    });
    const r = await catalogEntries(goBinaryCataloger, [{ name: 'usr/bin/app', content: bin, mode: 0o755 }]);
    assert.deepEqual(r.problems, []);
    const pkgs = byName(r.packages);
    assert.deepEqual([...pkgs.keys()].sort(), [
      'example.com/app',
      'example.com/lib',
      'github.com/fork/sys',
      'github.com/pkg/errors',
      'stdlib',
    ]);
    const main = pkgs.get('example.com/app')!;
    assert.equal(main.version, '(devel)');
    assert.equal(main.purl, 'pkg:golang/example.com/app');
    assert.equal(main.metadata?.devel, true);
    assert.equal(main.metadata?.main, true);
    assert.equal((main.metadata?.buildSettings as Record<string, string>)['vcs.revision']?.length, 40);
    const errors = pkgs.get('github.com/pkg/errors')!;
    assert.equal(errors.purl, 'pkg:golang/github.com/pkg/errors@v0.9.1');
    assert.equal(errors.metadata?.sum, 'h1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=');
    assert.deepEqual(errors.locations, [{ path: '/usr/bin/app', layer: errors.locations[0]!.layer }]);
    assert.equal(errors.foundBy, GO_BINARY_CATALOGER_ID);
    const fork = pkgs.get('github.com/fork/sys')!;
    assert.equal(fork.version, 'v0.2.0');
    assert.deepEqual(fork.metadata?.replaces, { path: 'golang.org/x/sys', version: 'v0.1.0' });
    const lib = pkgs.get('example.com/lib')!;
    assert.equal(lib.version, '(devel)');
    assert.equal(lib.purl, 'pkg:golang/example.com/lib');
    assert.equal(lib.metadata?.replacedByDirectory, '../lib');
    const std = pkgs.get('stdlib')!;
    assert.equal(std.version, 'go1.21.5');
    assert.equal(std.purl, 'pkg:golang/stdlib@1.21.5');
    assert.deepEqual(std.licenses, ['BSD-3-Clause']);
    assert.equal(r.relationships.length, 4);
    assert.ok(r.relationships.every((x) => x.from === main.id && x.type === 'depends-on'));
  });

  test('corrupt inputs are located problems, not crashes', async () => {
    const good = buildElf({
      sections: [{ name: '.go.buildinfo', data: inlineBuildInfo('go1.21.5', MODINFO) }],
    });
    const truncated = good.subarray(0, good.byteLength - 100);
    const noMagic = buildElf({ sections: [{ name: '.go.buildinfo', data: Buffer.alloc(64, 7) }] });
    const overlong = inlineBuildInfo('go1.21.5', MODINFO);
    overlong.set([0xff, 0xff, 0x7f], 32); // version length 2 MiB: runs past the data
    const badLen = buildElf({ sections: [{ name: '.go.buildinfo', data: overlong.subarray(0, 40) }] });
    const badMod = buildElf({
      sections: [{ name: '.go.buildinfo', data: inlineBuildInfo('go1.21.5', 'path\tx\nwhat\tever\n') }],
    });
    const bi = pointerBuildInfo('go1.16', MODINFO, true, true);
    const badPtr = buildElf({
      sections: [
        {
          name: '.go.buildinfo',
          size: bi.size,
          data: (addr) => {
            const b = Buffer.from(bi.data(addr));
            b.writeBigUInt64LE(0xdead0000n, 16); // version pointer outside every segment
            return b;
          },
        },
      ],
    });
    const notElfHeader = Buffer.concat([Buffer.from('\x7fELF\x09\x01', 'latin1'), Buffer.alloc(100)]);
    const r = await catalogEntries(goBinaryCataloger, [
      { name: 'bin/truncated', content: truncated, mode: 0o755 },
      { name: 'bin/no-magic', content: noMagic, mode: 0o755 },
      { name: 'bin/bad-length', content: badLen, mode: 0o755 },
      { name: 'bin/bad-modinfo', content: badMod, mode: 0o755 },
      { name: 'bin/bad-pointer', content: badPtr, mode: 0o755 },
      { name: 'bin/bad-class', content: notElfHeader, mode: 0o755 },
    ]);
    assert.deepEqual(r.packages, []);
    const msgs = new Map(r.problems.map((p) => [p.path, p.message]));
    assert.equal(r.problems.length, 6);
    assert.ok(
      r.problems.every((p) => p.cataloger === GO_BINARY_CATALOGER_ID && p.layer?.startsWith('sha256:')),
    );
    assert.match(msgs.get('/bin/truncated')!, /past the end|ends at byte/);
    assert.match(msgs.get('/bin/no-magic')!, /no build info header/);
    assert.match(msgs.get('/bin/bad-length')!, /runs past/);
    assert.match(msgs.get('/bin/bad-modinfo')!, /unexpected "what/);
    assert.match(msgs.get('/bin/bad-pointer')!, /not in any loaded segment/);
    assert.match(msgs.get('/bin/bad-class')!, /malformed ELF file: unknown ELF class 9/);
  });

  test('non-ELF executables, non-executable ELF files and ELF without Go give nothing', async () => {
    const elf = buildElf({
      sections: [{ name: '.go.buildinfo', data: inlineBuildInfo('go1.21.5', MODINFO) }],
    });
    const plain = buildElf({ sections: [{ name: '.text', data: Buffer.alloc(64) }] });
    const r = await catalogEntries(goBinaryCataloger, [
      { name: 'bin/script', content: '#!/bin/sh\necho hi\n'.repeat(20), mode: 0o755 },
      { name: 'lib/app.not-exec', content: elf, mode: 0o644 },
      { name: 'bin/c-program', content: plain, mode: 0o755 },
      { name: 'bin/tiny', content: '\x7fELF', mode: 0o755 },
    ]);
    assert.deepEqual(r, { packages: [], relationships: [], problems: [] });
  });

  test('a big non-ELF executable is rejected after one small read', async () => {
    const big = Buffer.alloc(8 * 1024 ** 2, 0x41);
    const files = counting(await imageOf([{ name: 'opt/blob.bin', content: big, mode: 0o755 }]));
    const r = await goBinaryCataloger.catalog(files, {});
    assert.equal(r.packages.length, 0);
    assert.ok(
      files.bytesRead.get('/opt/blob.bin')! <= 128 * 1024,
      `read ${files.bytesRead.get('/opt/blob.bin')}`,
    );
  });
});

describe('checked-in corrupt fixture', () => {
  test('truncated-go.elf: section headers past the end of the file', async () => {
    const bytes = readFileSync(join(fixtureDir('golang'), 'truncated-go.elf'));
    const r = await catalogEntries(goBinaryCataloger, [
      { name: 'usr/local/bin/broken', content: bytes, mode: 0o755 },
    ]);
    assert.deepEqual(r.packages, []);
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]!.path, '/usr/local/bin/broken');
    assert.match(r.problems[0]!.message, /^Go binary: malformed ELF file: .*past the end/);
  });
});

describe('every language cataloger', () => {
  const all = [
    goBinaryCataloger,
    rustAuditCataloger,
    javaArchiveCataloger,
    pythonCataloger,
    gemCataloger,
    javascriptCataloger,
  ];
  test('stops with ABORTED when the signal is aborted', async () => {
    const files = await imageOf([
      { name: 'usr/bin/x', content: buildElf({ sections: [] }), mode: 0o755 },
      { name: 'a/x.jar', content: 'x' },
      { name: 'p/x-1.dist-info/METADATA', content: 'Name: x\nVersion: 1\n' },
      { name: 'g/specifications/x-1.gemspec', content: 's.name = "x"' },
      { name: 'n/node_modules/x/package.json', content: '{}' },
    ]);
    const ac = new AbortController();
    ac.abort();
    for (const c of all) {
      await assert.rejects(c.catalog(files, { signal: ac.signal }), (e) => isVouchError(e, 'ABORTED'), c.id);
    }
  });
  test('ids are unique and every cataloger has patterns and a version', () => {
    assert.equal(new Set(all.map((c) => c.id)).size, all.length);
    assert.ok(all.every((c) => c.patterns.length > 0 && c.version >= 1));
  });
});

describe('goPurl', () => {
  test('namespace is the path up to the last element', () => {
    assert.equal(goPurl('github.com/x/y', 'v1.2.3'), 'pkg:golang/github.com/x/y@v1.2.3');
    assert.equal(goPurl('gopkg.in/yaml.v3', 'v3.0.1'), 'pkg:golang/gopkg.in/yaml.v3@v3.0.1');
    assert.equal(goPurl('rsc.io', 'v1.0.0+incompatible'), 'pkg:golang/rsc.io@v1.0.0%2Bincompatible');
  });
});

/** `go version -m` output: Go version and module info lines, the oracle. */
function goVersionM(bin: string): { goVersion: string; lines: string[] } {
  const out = execFileSync('go', ['version', '-m', bin], { encoding: 'utf8' });
  const [first, ...rest] = out.split('\n');
  return {
    goVersion: first!.slice(first!.indexOf(': ') + 2),
    lines: rest.filter((l) => l.trim() !== '').map((l) => l.slice(1)),
  };
}

describe('real Go binaries', { skip: !have('go') && 'go is not installed' }, () => {
  let dir = '';
  const built = new Map<string, string>();
  const env = {
    ...process.env,
    GOFLAGS: '-mod=mod',
    GOPROXY: 'off',
    GOTOOLCHAIN: 'local',
    GOWORK: 'off',
    GO111MODULE: 'on',
    CGO_ENABLED: '0',
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vouch-go-'));
    await mkdir(join(dir, 'lib'));
    await mkdir(join(dir, 'app'));
    await mkdir(join(dir, 'tool'));
    await writeFile(join(dir, 'lib/go.mod'), 'module example.com/lib\n\ngo 1.18\n');
    await writeFile(join(dir, 'lib/lib.go'), 'package lib\n\nfunc Greeting() string { return "hello" }\n');
    await writeFile(
      join(dir, 'app/go.mod'),
      'module example.com/app\n\ngo 1.18\n\nrequire example.com/lib v1.2.3\n\nreplace example.com/lib => ../lib\n',
    );
    await writeFile(
      join(dir, 'app/main.go'),
      'package main\n\nimport "example.com/lib"\n\nfunc main() { println(lib.Greeting()) }\n',
    );
    await writeFile(join(dir, 'tool/go.mod'), 'module example.com/tool\n\ngo 1.18\n');
    await writeFile(join(dir, 'tool/main.go'), 'package main\n\nfunc main() { println("tool") }\n');
    const build = (mod: string, name: string, extra: Record<string, string>, flags: string[] = []) => {
      const out = join(dir, name);
      execFileSync('go', ['build', ...flags, '-o', out, '.'], {
        cwd: join(dir, mod),
        env: { ...env, ...extra },
      });
      built.set(name, out);
    };
    build('app', 'app-amd64', {});
    build('app', 'app-386', { GOARCH: '386' });
    build('app', 'app-s390x', { GOARCH: 's390x' });
    build('tool', 'tool-stripped', {}, ['-trimpath', '-ldflags=-s -w']);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const name of ['app-amd64', 'app-386', 'app-s390x', 'tool-stripped']) {
    test(`${name}: build info equals go version -m`, async () => {
      const bin = built.get(name)!;
      const oracle = goVersionM(bin);
      const bytes = await readFile(bin);
      const files = counting(await imageOf([{ name: 'usr/local/bin/x', content: bytes, mode: 0o755 }]));
      const rec = (await files.stat('/usr/local/bin/x'))!;
      const src = new FileByteSource(files, rec.path, rec.size);
      const info = await readGoBuildInfo(await openElf(src), src);
      assert.equal(info?.goVersion, oracle.goVersion);
      assert.deepEqual(
        info?.modinfo.split('\n').filter((l) => l.trim() !== ''),
        oracle.lines,
      );
      assert.ok(src.passes <= 4, `${src.passes} passes`);

      const r = await goBinaryCataloger.catalog(files, {});
      assert.deepEqual(r.problems, []);
      const pkgs = byName(r.packages);
      const std = pkgs.get('stdlib')!;
      assert.equal(std.version, oracle.goVersion);
      assert.equal(std.purl, `pkg:golang/stdlib@${oracle.goVersion.slice(2)}`);
      if (name.startsWith('app')) {
        assert.deepEqual([...pkgs.keys()].sort(), ['example.com/app', 'example.com/lib', 'stdlib']);
        assert.equal(pkgs.get('example.com/app')!.version, '(devel)');
        const lib = pkgs.get('example.com/lib')!;
        assert.deepEqual(lib.metadata?.replaces, { path: 'example.com/lib', version: 'v1.2.3' });
        assert.equal(lib.metadata?.replacedByDirectory, '../lib');
        const arch = name.slice(4);
        assert.equal(pkgs.get('example.com/app')!.metadata?.goArch, arch);
      } else {
        assert.deepEqual([...pkgs.keys()].sort(), ['example.com/tool', 'stdlib']);
      }
    });
  }

  const debian = ['/usr/bin/docker-registry', '/usr/bin/skopeo'].filter(exists);
  for (const bin of debian) {
    test(`Debian's ${bin} equals go version -m`, async () => {
      const oracle = goVersionM(bin);
      const entries: TarEntry[] = [fileEntry(bin, bin.slice(1))];
      const files = counting(await imageOf(entries));
      const r = await goBinaryCataloger.catalog(files, {});
      assert.deepEqual(r.problems, []);
      const pathLine = oracle.lines.find((l) => l.startsWith('path\t'))!;
      const main = r.packages.find((p) => p.metadata?.main === true)!;
      assert.equal(main.name, pathLine.split('\t')[1]);
      assert.equal(main.version, '(devel)');
      const deps = oracle.lines.filter((l) => l.startsWith('dep\t')).length;
      assert.equal(r.packages.length, 1 + deps + 1);
      const std = r.packages.find((p) => p.name === 'stdlib')!;
      assert.equal(std.version, oracle.goVersion);
      const size = (await files.stat(bin))!.size;
      // GNU ld puts section headers at the end: at most about two full reads.
      assert.ok(files.bytesRead.get(bin)! <= 2 * size + 256 * 1024);
    });
  }
});
