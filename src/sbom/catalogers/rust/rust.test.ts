import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { buildElf } from '../../../../test/fixtures/sbom/golang/make-elf.ts';
import { catalogEntries, fixtureDir, have } from '../../../../test/fixtures/sbom/lang-helpers.ts';
import { RUST_AUDIT_CATALOGER_ID, rustAuditCataloger } from './index.ts';
import { parseAuditSection } from './parse_audit.ts';

/** Audit data like cargo-auditable writes for a binary using rand (trimmed). */
const AUDIT = {
  packages: [
    { name: 'cfg-if', version: '1.0.0', source: 'crates.io' },
    { name: 'getrandom', version: '0.2.15', source: 'crates.io', dependencies: [0, 2] },
    { name: 'libc', version: '0.2.155', source: 'crates.io' },
    { name: 'myapp', version: '0.1.0', source: 'local', dependencies: [1, 4, 5], root: true },
    { name: 'rand_core', version: '0.6.4', source: 'crates.io', dependencies: [1] },
    { name: 'version_check', version: '0.9.4', source: 'crates.io', kind: 'build' },
    { name: 'forked', version: '1.0.0', source: { Other: 'sparse+https://example.com/' } },
  ],
};

/** zlib-compress with Python's zlib (an independent implementation of the container). */
function pyZlib(data: Uint8Array): Buffer {
  return execFileSync(
    'python3',
    ['-c', 'import sys,zlib;sys.stdout.buffer.write(zlib.compress(sys.stdin.buffer.read(),9))'],
    {
      input: data,
    },
  );
}

describe('parseAuditSection', () => {
  test('reads packages, kinds, sources and dependency indexes', () => {
    const d = parseAuditSection(deflateSync(JSON.stringify({ format: 1, ...AUDIT })));
    assert.equal(d.format, 1);
    assert.equal(d.packages.length, 7);
    assert.deepEqual(d.packages[3], {
      name: 'myapp',
      version: '0.1.0',
      source: 'local',
      kind: 'runtime',
      dependencies: [1, 4, 5],
      root: true,
    });
    assert.equal(d.packages[5]!.kind, 'build');
    assert.equal(d.packages[6]!.source, 'sparse+https://example.com/');
  });

  test('rejects what is not audit data', () => {
    assert.throws(() => parseAuditSection(Buffer.from('plain text')), /not zlib data/);
    assert.throws(() => parseAuditSection(deflateSync('{"packages": [')), /not JSON/);
    assert.throws(() => parseAuditSection(deflateSync('{"crates": []}')), /no "packages" array/);
    assert.throws(
      () =>
        parseAuditSection(
          deflateSync('{"packages":[{"name":"a","version":"1","source":"local","dependencies":[3]}]}'),
        ),
      /bad dependency indexes/,
    );
    assert.throws(
      () => parseAuditSection(deflateSync('{"packages":[{"name":"a","source":"local"}]}')),
      /no version/,
    );
    assert.throws(
      () => parseAuditSection(deflateSync('{"packages":[{"name":"a","version":"1","kind":"dev"}]}')),
      /unknown kind dev/,
    );
  });
});

describe('rust audit cataloger on synthetic ELF files', () => {
  test('runtime crates become packages with depends-on edges; build crates are left out', async () => {
    const bin = buildElf({
      sections: [{ name: '.dep-v0', data: pyZlib(Buffer.from(JSON.stringify(AUDIT))) }],
    });
    const r = await catalogEntries(rustAuditCataloger, [
      { name: 'usr/bin/myapp', content: bin, mode: 0o755 },
    ]);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.packages.map((p) => `${p.purl} ${p.metadata?.source}`),
      [
        'pkg:cargo/cfg-if@1.0.0 crates.io',
        'pkg:cargo/forked@1.0.0 sparse+https://example.com/',
        'pkg:cargo/getrandom@0.2.15 crates.io',
        'pkg:cargo/libc@0.2.155 crates.io',
        'pkg:cargo/myapp@0.1.0 local',
        'pkg:cargo/rand_core@0.6.4 crates.io',
      ],
    );
    const id = new Map(r.packages.map((p) => [p.name, p.id]));
    const edges = r.relationships.map((x) => `${x.from} ${x.to}`).sort();
    const want = [
      ['getrandom', 'cfg-if'],
      ['getrandom', 'libc'],
      ['myapp', 'getrandom'],
      ['myapp', 'rand_core'],
      ['rand_core', 'getrandom'],
    ]
      .map(([a, b]) => `${id.get(a!)} ${id.get(b!)}`)
      .sort();
    assert.deepEqual(edges, want);
    const app = r.packages.find((p) => p.name === 'myapp')!;
    assert.equal(app.metadata?.root, true);
    assert.equal(app.foundBy, RUST_AUDIT_CATALOGER_ID);
    assert.equal(app.locations[0]!.path, '/usr/bin/myapp');
  });

  test('a broken section is a located problem; binaries without it give nothing', async () => {
    const bad = buildElf({ sections: [{ name: '.dep-v0', data: Buffer.from('not compressed at all') }] });
    const none = buildElf({ sections: [{ name: '.text', data: Buffer.alloc(32) }] });
    const r = await catalogEntries(rustAuditCataloger, [
      { name: 'bin/bad', content: bad, mode: 0o755 },
      { name: 'bin/none', content: none, mode: 0o755 },
      { name: 'bin/script', content: '#!/bin/sh\nexit 0\n'.repeat(10), mode: 0o755 },
    ]);
    assert.deepEqual(r.packages, []);
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]!.path, '/bin/bad');
    assert.equal(r.problems[0]!.cataloger, RUST_AUDIT_CATALOGER_ID);
    assert.match(r.problems[0]!.message, /not zlib data/);
    assert.match(r.problems[0]!.layer ?? '', /^sha256:/);
  });
});

test('checked-in corrupt fixture: a .dep-v0 section that is not zlib data', async () => {
  const bytes = readFileSync(join(fixtureDir('rust'), 'bad-dep-v0.elf'));
  const r = await catalogEntries(rustAuditCataloger, [{ name: 'opt/app', content: bytes, mode: 0o755 }]);
  assert.deepEqual(r.packages, []);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0]!.path, '/opt/app');
  assert.match(r.problems[0]!.message, /not zlib data/);
});

describe(
  'real binaries with objcopy-added audit data',
  { skip: !have('objcopy') && 'objcopy missing' },
  () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'vouch-rust-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    async function withSection(bin: string): Promise<Buffer> {
      const z = join(dir, 'dep.z');
      await writeFile(z, pyZlib(Buffer.from(JSON.stringify(AUDIT))));
      const out = join(dir, 'with-section');
      execFileSync('objcopy', [
        '--add-section',
        `.dep-v0=${z}`,
        '--set-section-flags',
        '.dep-v0=noload,readonly',
        bin,
        out,
      ]);
      return readFile(out);
    }

    test('a C program from gcc', { skip: !have('gcc') && 'gcc missing' }, async () => {
      await writeFile(join(dir, 'hello.c'), 'int main(void) { return 0; }\n');
      const bin = join(dir, 'hello');
      execFileSync('gcc', ['-O2', '-o', bin, join(dir, 'hello.c')]);
      const r = await catalogEntries(rustAuditCataloger, [
        { name: 'usr/bin/plain', content: await readFile(bin), mode: 0o755 },
        { name: 'usr/bin/audited', content: await withSection(bin), mode: 0o755 },
      ]);
      assert.deepEqual(r.problems, []);
      assert.equal(r.packages.length, 6);
      assert.ok(r.packages.every((p) => p.locations[0]!.path === '/usr/bin/audited'));
    });

    test('a Rust program from cargo', { skip: !have('cargo') && 'cargo missing' }, async () => {
      execFileSync('cargo', ['new', '--offline', '--quiet', '--name', 'hello', join(dir, 'hello-rs')]);
      execFileSync('cargo', ['build', '--offline', '--release', '--quiet'], { cwd: join(dir, 'hello-rs') });
      const bin = join(dir, 'hello-rs/target/release/hello');
      const r = await catalogEntries(rustAuditCataloger, [
        { name: 'app/hello', content: await readFile(bin), mode: 0o755 },
        { name: 'app/hello-audited', content: await withSection(bin), mode: 0o755 },
      ]);
      assert.deepEqual(r.problems, []);
      assert.deepEqual(new Set(r.packages.map((p) => p.locations[0]!.path)), new Set(['/app/hello-audited']));
      assert.equal(r.packages.find((p) => p.name === 'myapp')?.purl, 'pkg:cargo/myapp@0.1.0');
    });
  },
);
