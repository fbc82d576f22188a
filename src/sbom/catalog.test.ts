import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { layer, tempDir } from '../../test/fs/helpers.ts';
import { randomImage, type TarEntry, writeLayout } from '../../test/helpers/random-image.ts';
import { isVouchError, VouchError } from '../errors.ts';
import { openMergedView } from '../fs/merged.ts';
import { openImage } from '../image/describe.ts';
import { openSource } from '../transport/open.ts';
import { catalogDirectory, catalogFiles, catalogImage, createdTime } from './catalog.ts';
import { dpkgCataloger } from './catalogers/dpkg/index.ts';
import { findUnowned, isElfProgram } from './coverage.ts';
import { openDirectory } from './directory.ts';
import { type Cataloger, type Package, packageId } from './model.ts';
import { languagePurl } from './purl.ts';

const BASIC = join(import.meta.dirname, '../../test/fixtures/sbom/dpkg/basic');
const DIST_INFO = '/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA';

/** A test double for a language cataloger: reports one package per given (name, version, path). */
function stubCataloger(id: string, found: [name: string, version: string, path: string][]): Cataloger {
  return {
    id,
    version: 1,
    patterns: found.map(([, , p]) => p),
    async catalog(files) {
      const packages: Package[] = [];
      for (const [name, version, path] of found) {
        const rec = await files.stat(path);
        if (!rec) continue;
        const locations = [{ path: rec.path, layer: rec.layerDigest }];
        packages.push({
          id: packageId({ type: 'pypi', name, version, locations }),
          type: 'pypi',
          name,
          version,
          purl: languagePurl('pypi', { name, version }),
          licenses: ['MIT'],
          locations,
          foundBy: id,
        });
      }
      return { packages, relationships: [], problems: [] };
    },
  };
}

const pyyaml = stubCataloger('python-stub', [['PyYAML', '6.0', DIST_INFO]]);

test('a Python package whose dist-info a deb installed is nested under that deb', async () => {
  const r = await catalogFiles(await openDirectory(BASIC), { catalogers: [dpkgCataloger, pyyaml] });
  const deb = r.packages.find((p) => p.name === 'python3-yaml')!;
  const py = r.packages.find((p) => p.type === 'pypi')!;
  assert.equal(py.ownedBy, deb.id);
  assert.ok(r.relationships.some((e) => e.from === deb.id && e.to === py.id && e.type === 'contains'));
  assert.equal(r.packages.filter((p) => p.ownedBy).length, 1, 'only the pypi package is owned');
  // the OS came from nowhere here (no os-release in the fixture), purls fall back to debian
  assert.equal(r.os, undefined);
  assert.match(deb.purl, /^pkg:deb\/debian\/python3-yaml@6\.0-3%2Bb2\?arch=amd64&upstream=pyyaml%406\.0-3$/);
});

test('with the real catalogers: PyYAML (python3-yaml) is one deb with the pypi package nested', async () => {
  const r = await catalogFiles(await openDirectory(BASIC));
  const deb = r.packages.find((p) => p.name === 'python3-yaml')!;
  const py = r.packages.filter((p) => p.type === 'pypi');
  assert.deepEqual(
    py.map((p) => [p.name, p.version, p.ownedBy === deb.id]),
    [['PyYAML', '6.0', true]],
  );
  assert.ok(r.relationships.some((e) => e.from === deb.id && e.to === py[0]!.id && e.type === 'contains'));
});

test('ownership goes through merged-/usr symlinks; unowned language packages stay top level', async () => {
  const l = await layer([
    { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
    { name: 'usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA', content: 'Name: PyYAML\n' },
    { name: 'usr/lib/python3/dist-packages/other-1.0.dist-info/METADATA', content: 'Name: other\n' },
    { name: 'etc/os-release', content: 'ID=debian\nVERSION_ID=12\n' },
    {
      name: 'var/lib/dpkg/status',
      content:
        'Package: python3-yaml\nStatus: install ok installed\nArchitecture: amd64\nVersion: 6.0-3+b2\n\n',
    },
    // the list names the old /lib path; the file is reached through the /lib symlink
    {
      name: 'var/lib/dpkg/info/python3-yaml.list',
      content: '/.\n/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA\n',
    },
  ]);
  const stub = stubCataloger('python-stub', [
    ['PyYAML', '6.0', '/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA'],
    ['other', '1.0', '/usr/lib/python3/dist-packages/other-1.0.dist-info/METADATA'],
  ]);
  const r = await catalogFiles(await openMergedView([l]), { catalogers: [dpkgCataloger, stub] });
  assert.deepEqual(r.os, { id: 'debian', versionId: '12' });
  const deb = r.packages.find((p) => p.type === 'deb')!;
  assert.equal(deb.purl, 'pkg:deb/debian/python3-yaml@6.0-3%2Bb2?arch=amd64&distro=debian-12');
  assert.equal(r.packages.find((p) => p.name === 'PyYAML')!.ownedBy, deb.id);
  assert.equal(r.packages.find((p) => p.name === 'other')!.ownedBy, undefined);
});

test('a cataloger that throws becomes a problem naming it; the others still run', async () => {
  const boom: Cataloger = {
    id: 'boom',
    version: 1,
    patterns: [],
    async catalog() {
      throw new Error('kaboom');
    },
  };
  const r = await catalogFiles(await openDirectory(BASIC), {
    catalogers: [boom, dpkgCataloger],
    coverage: false,
  });
  assert.deepEqual(r.problems, [{ cataloger: 'boom', path: '/', message: 'cataloger failed: kaboom' }]);
  assert.equal(r.packages.length, 6);
});

test('an aborted signal stops the run instead of becoming a problem', async () => {
  const ac = new AbortController();
  const aborting: Cataloger = {
    id: 'aborts',
    version: 1,
    patterns: [],
    async catalog(_files, ctx) {
      ac.abort();
      ctx.signal?.throwIfAborted();
      return { packages: [], relationships: [], problems: [] };
    },
  };
  await assert.rejects(
    catalogFiles(await openDirectory(BASIC), { catalogers: [aborting, dpkgCataloger], signal: ac.signal }),
    (e: unknown) => e instanceof Error && e.name === 'AbortError',
  );
});

test('duplicates (same type, name, version, main location) are reported once, edges re-pointed', async () => {
  const a = stubCataloger('a', [['PyYAML', '6.0', DIST_INFO]]);
  const b = stubCataloger('b', [['PyYAML', '6.0', DIST_INFO]]);
  const withEdge: Cataloger = {
    ...b,
    id: 'c',
    async catalog(files, ctx) {
      const r = await b.catalog(files, ctx);
      const p = {
        ...r.packages[0]!,
        id: 'pkg-different-id',
        locations: [...r.packages[0]!.locations, { path: '/extra' }],
      };
      return {
        packages: [p],
        relationships: [
          { from: p.id, to: p.id, type: 'depends-on' },
          { from: 'pkg-nowhere', to: p.id, type: 'depends-on' },
        ],
        problems: [],
      };
    },
  };
  const r = await catalogFiles(await openDirectory(BASIC), { catalogers: [a, b, withEdge], coverage: false });
  assert.equal(r.packages.length, 1);
  assert.deepEqual(r.packages[0]!.locations, [{ path: DIST_INFO }, { path: '/extra' }]);
  assert.equal(r.packages[0]!.foundBy, 'a');
  assert.deepEqual(r.relationships, [], 'the self edge is dropped after re-pointing');
  assert.deepEqual(
    r.problems.map((p) => p.message),
    ['relationship pkg-nowhere depends-on pkg-different-id names a package that was not found'],
  );
});

test('catalogDirectory: a full Sbom, sorted, no empty layer fields, deterministic', async (t) => {
  const prev = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = '1700000000';
  t.after(() => {
    if (prev === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = prev;
  });
  const one = await catalogDirectory(BASIC, { catalogers: [dpkgCataloger, pyyaml] });
  const two = await catalogDirectory(BASIC, { catalogers: [pyyaml, dpkgCataloger] });
  assert.equal(JSON.stringify(one), JSON.stringify(two), 'cataloger order does not change the output');
  assert.equal(one.created, '2023-11-14T22:13:20Z');
  assert.deepEqual(one.tool, {
    name: 'vouch',
    version: JSON.parse(await readFile('package.json', 'utf8')).version,
  });
  assert.deepEqual(one.subject, { kind: 'directory', name: BASIC, path: BASIC });
  assert.deepEqual(
    one.packages.map((p) => `${p.type}:${p.name}`),
    [
      'deb:base-files',
      'deb:bash',
      'deb:libc6',
      'deb:libtinfo6',
      'deb:python3-yaml',
      'deb:zlib1g',
      'pypi:PyYAML',
    ],
  );
  assert.ok(!JSON.stringify(one).includes('"layer"'), 'a directory has no layers');
  const sortedRels = [...one.relationships].sort((a, b) => (a.from + a.to < b.from + b.to ? -1 : 1));
  assert.deepEqual(one.relationships, sortedRels);
});

test('createdTime: SOURCE_DATE_EPOCH or now, whole seconds', () => {
  assert.equal(createdTime({ SOURCE_DATE_EPOCH: '0' }), '1970-01-01T00:00:00Z');
  assert.match(createdTime({}), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
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

/** A real ELF executable and a real shared library from this machine. */
async function realElves(): Promise<{ exe: Buffer; lib: Buffer }> {
  return {
    exe: await readFile('/usr/bin/true'),
    lib: await readFile('/usr/lib/x86_64-linux-gnu/libz.so.1.2.13'),
  };
}

test('catalogImage: subject, per-layer locations, ownership and unowned binaries of an OCI image', async (t) => {
  const { exe, lib } = await realElves();
  const relocatable = Buffer.from(exe);
  relocatable.writeUInt16LE(1, 16); // ET_REL: an object file, not a program
  const base = await fixtureEntries(BASIC);
  const app: TarEntry[] = [
    { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
    { name: 'usr/lib/x86_64-linux-gnu/libz.so.1.2.13', content: lib },
    { name: 'opt/app/bin/server', content: exe, mode: 0o755 },
    { name: 'opt/app/lib/libextra.so.2', content: lib, mode: 0o644 },
    {
      name: 'opt/app/bin/run.sh',
      content: '#!/bin/sh\nexec /opt/app/bin/server "$@"\n'.padEnd(80, '#'),
      mode: 0o755,
    },
    { name: 'opt/app/obj/part.o', content: relocatable, mode: 0o755 },
    { name: 'bin/bash', content: exe, mode: 0o755 },
    { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
    { name: 'usr/lib/os-release', content: await readFile('/usr/lib/os-release') },
  ];
  const built = await randomImage({ layers: [base, app], platform: { os: 'linux', architecture: 'amd64' } });
  const dir = await tempDir(t, 'vouch-catalog-img-');
  await writeLayout(dir, [{ descriptor: built.descriptor, tag: 'v1' }], built.blobs);
  const source = await openSource(`oci:${dir}:v1`);
  t.after(() => source.close());
  const { image } = await openImage(source);
  const progress: string[] = [];
  const sbom = await catalogImage(image, {
    catalogers: [dpkgCataloger, pyyaml],
    onProgress: (l) => progress.push(l),
  });

  assert.deepEqual(sbom.subject, {
    kind: 'image',
    name: `oci:${dir}:v1`,
    tag: 'v1',
    digest: built.descriptor.digest,
    platform: { os: 'linux', architecture: 'amd64' },
    layers: built.layers.map((l) => l.digest),
  });
  assert.deepEqual(sbom.os, {
    id: 'debian',
    versionId: '12',
    versionCodename: 'bookworm',
    prettyName: 'Debian GNU/Linux 12 (bookworm)',
  });
  const [l0, l1] = built.layers.map((l) => l.digest);
  const zlib = sbom.packages.find((p) => p.name === 'zlib1g')!;
  assert.deepEqual(zlib.locations, [
    { path: '/var/lib/dpkg/status', layer: l0 },
    { path: '/var/lib/dpkg/info/zlib1g:amd64.list', layer: l0 },
  ]);
  assert.equal(
    sbom.packages.find((p) => p.type === 'pypi')!.ownedBy,
    sbom.packages.find((p) => p.name === 'python3-yaml')!.id,
  );
  // /bin/bash is bash's; /usr/lib/x86_64-linux-gnu/libz.so.1.2.13 is zlib1g's through /lib -> usr/lib;
  // the script is not ELF; the object file is not a program. What is left is unexplained:
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  assert.deepEqual(sbom.unowned, [
    { path: '/opt/app/bin/server', kind: 'executable', layer: l1, digest: sha(exe) },
    { path: '/opt/app/lib/libextra.so.2', kind: 'shared-library', layer: l1, digest: sha(lib) },
  ]);
  assert.deepEqual(sbom.problems, []);
  assert.ok(progress.includes('reading layer 1/2 (sha256:' + l0!.slice(7, 19) + ')'), progress.join('\n'));
  assert.ok(progress.includes('cataloging dpkg-db'));
});

function fakeImage(l: Awaited<ReturnType<typeof layer>>, compression: 'gzip' | 'none') {
  return {
    source: { name: 'test:image' },
    descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: l.digest, size: 1 },
    config: { os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [l.digest] } },
    layers: [
      {
        index: 0,
        descriptor: {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: l.digest,
          size: l.bytes.byteLength,
        },
        diffId: l.digest,
        compression,
        open: () => l.open(),
        openUncompressed: () => l.open(),
      },
    ],
  } as unknown as Parameters<typeof catalogImage>[0];
}

test('catalogImage reads each layer a bounded number of times, however many files catalogers open', async () => {
  const { exe } = await realElves();
  const entries: TarEntry[] = [];
  for (let i = 0; i < 40; i++) entries.push({ name: `opt/bin/tool${i}`, content: exe, mode: 0o755 });
  entries.push({ name: 'opt/big.jar', content: Buffer.alloc(6 * 1024 * 1024, 1) });
  let reads = 0;
  const binaries: Cataloger = {
    id: 'reads-every-executable',
    version: 1,
    patterns: ['**/*', '**/*.jar'],
    async catalog(files) {
      for await (const rec of files.walk()) {
        if (rec.type !== 'file') continue;
        for await (const _ of await files.open(rec.path)) reads++;
      }
      return { packages: [], relationships: [], problems: [] };
    },
  };
  // A layer is read once: indexing takes what catalogers and coverage read (executables and
  // the big jar to disk, coverage's ELF headers and digests).
  const plain = await layer(entries);
  const sbom = await catalogImage(fakeImage(plain, 'none'), { catalogers: [binaries] });
  assert.ok(reads >= 41);
  assert.equal(sbom.unowned.length, 40, 'no package owns them');
  assert.equal(plain.opens, 1);
  // A compressed layer too: fetched and decompressed once.
  const gz = await layer(entries);
  await catalogImage(fakeImage(gz, 'gzip'), { catalogers: [binaries] });
  assert.equal(gz.opens, 1);
});

test('a layer failing its diff_id check fails the catalog (nothing is spooled or trusted)', async () => {
  const l = await layer([{ name: 'etc/os-release', content: 'ID=debian\n' }]);
  const image = fakeImage(l, 'gzip');
  const bad = {
    ...image.layers[0]!,
    async openUncompressed() {
      const src = await l.open();
      return (async function* () {
        yield* src;
        throw new VouchError('DIGEST_MISMATCH', 'layer: uncompressed content does not match the diff_id');
      })();
    },
  };
  await assert.rejects(
    catalogImage({ ...image, layers: [bad] }, { catalogers: [dpkgCataloger] }),
    (e: unknown) => isVouchError(e, 'DIGEST_MISMATCH'),
  );
});

test('findUnowned on a directory computes digests itself and skips what packages own', async (t) => {
  const { exe } = await realElves();
  const dir = await tempDir(t, 'vouch-cover-');
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(join(dir, 'usr/bin'), { recursive: true });
  await writeFile(join(dir, 'usr/bin/owned'), exe, { mode: 0o755 });
  await writeFile(join(dir, 'usr/bin/stray'), exe, { mode: 0o755 });
  await writeFile(join(dir, 'usr/bin/notexec'), exe, { mode: 0o644 });
  const view = await openDirectory(dir);
  const owner: Package = {
    id: 'pkg-x',
    type: 'deb',
    name: 'x',
    version: '1',
    purl: 'pkg:deb/debian/x@1',
    licenses: [],
    locations: [{ path: '/var/lib/dpkg/status' }],
    foundBy: 't',
    files: ['/usr/bin/owned'],
  };
  const prepared: string[][] = [];
  const got = await findUnowned(view, [owner], {
    prepare: async (c) => {
      prepared.push(c.map((r) => r.path));
    },
  });
  assert.deepEqual(prepared, [['/usr/bin/stray']]);
  assert.deepEqual(got, [
    {
      path: '/usr/bin/stray',
      kind: 'executable',
      digest: `sha256:${createHash('sha256').update(exe).digest('hex')}`,
    },
  ]);
});

test('isElfProgram', () => {
  const h = Buffer.alloc(20);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]).copy(h);
  h.writeUInt16LE(2, 16);
  assert.equal(isElfProgram(h), true);
  h.writeUInt16LE(4, 16); // core
  assert.equal(isElfProgram(h), false);
  h[5] = 2; // big-endian
  h.writeUInt16BE(3, 16);
  assert.equal(isElfProgram(h), true);
  assert.equal(isElfProgram(Buffer.from('#!/bin/sh\n')), false);
});
