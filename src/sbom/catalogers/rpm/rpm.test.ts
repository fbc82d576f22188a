import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { layer, tempDir } from '../../../../test/fs/helpers.ts';
import { openMergedView } from '../../../fs/merged.ts';
import { openDirectory } from '../../directory.ts';
import type { CatalogResult, OsInfo } from '../../model.ts';
import { headerFiles, parseHeader, RPM_TAG, RPM_TYPE } from './header.ts';
import { rpmCataloger } from './index.ts';
import { sniffBackend } from './rpmdb.ts';

const FIXTURE = join(import.meta.dirname, '../../../../test/fixtures/sbom/rpm');
const RHEL: OsInfo = { id: 'rhel', versionId: '9.3' };
const has = (cmd: string) => {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const HAVE_RPM = has('rpm') && has('rpmbuild');

// --- a header blob built by hand, following rpm's format (independent of header.ts) ---

type Entry = [tag: number, type: number, data: Buffer, count: number];

function headerBlob(entries: Entry[]): Buffer {
  let data = Buffer.alloc(0);
  const index: Buffer[] = [];
  for (const [tag, type, d, count] of entries) {
    const align = type === RPM_TYPE.INT16 ? 2 : type === RPM_TYPE.INT32 ? 4 : type === RPM_TYPE.INT64 ? 8 : 1;
    while (data.length % align !== 0) data = Buffer.concat([data, Buffer.alloc(1)]);
    const e = Buffer.alloc(16);
    e.writeInt32BE(tag, 0);
    e.writeUInt32BE(type, 4);
    e.writeInt32BE(data.length, 8);
    e.writeUInt32BE(count, 12);
    index.push(e);
    data = Buffer.concat([data, d]);
  }
  const pre = Buffer.alloc(8);
  pre.writeUInt32BE(entries.length, 0);
  pre.writeUInt32BE(data.length, 4);
  return Buffer.concat([pre, ...index, data]);
}
const str = (...s: string[]) => Buffer.from(s.map((x) => `${x}\0`).join(''));
const i32 = (...n: number[]) => {
  const b = Buffer.alloc(4 * n.length);
  n.forEach((v, i) => {
    b.writeUInt32BE(v, i * 4);
  });
  return b;
};
const i16 = (...n: number[]) => {
  const b = Buffer.alloc(2 * n.length);
  n.forEach((v, i) => {
    b.writeUInt16BE(v, i * 2);
  });
  return b;
};

function handmade(name: string, extra: Entry[] = []): Buffer {
  return headerBlob([
    [RPM_TAG.NAME, RPM_TYPE.STRING, str(name), 1],
    [RPM_TAG.VERSION, RPM_TYPE.STRING, str('3.1'), 1],
    [RPM_TAG.RELEASE, RPM_TYPE.STRING, str('7.el9'), 1],
    [RPM_TAG.EPOCH, RPM_TYPE.INT32, i32(5), 1],
    [RPM_TAG.LICENSE, RPM_TYPE.STRING, str('MIT'), 1],
    [RPM_TAG.ARCH, RPM_TYPE.STRING, str('noarch'), 1],
    [RPM_TAG.SOURCERPM, RPM_TYPE.STRING, str(`${name}-3.1-7.el9.src.rpm`), 1],
    [RPM_TAG.FILEMODES, RPM_TYPE.INT16, i16(0o40755, 0o100644, 0o120777), 3],
    [RPM_TAG.DIRINDEXES, RPM_TYPE.INT32, i32(0, 1, 1), 3],
    [RPM_TAG.BASENAMES, RPM_TYPE.STRING_ARRAY, str(name, 'a.txt', 'link'), 3],
    [RPM_TAG.DIRNAMES, RPM_TYPE.STRING_ARRAY, str('/usr/share/', `/usr/share/${name}/`), 2],
    ...extra,
  ]);
}

async function rootWithDb(
  t: { after(fn: () => Promise<void>): void },
  db: string,
  wal?: string,
): Promise<string> {
  const root = await tempDir(t, 'vouch-rpm-');
  await mkdir(join(root, 'var/lib/rpm'), { recursive: true });
  await copyFile(db, join(root, 'var/lib/rpm/rpmdb.sqlite'));
  if (wal) await copyFile(wal, join(root, 'var/lib/rpm/rpmdb.sqlite-wal'));
  return root;
}

function summary(r: CatalogResult): string[] {
  return r.packages.map(
    (p) => `${p.name} ${p.version} ${p.arch} ${p.source?.name}@${p.source?.version} ${p.licenses.join('|')}`,
  );
}

test('header.ts reads a hand-built header: strings, int32 epoch, int16 modes, file names', () => {
  const h = parseHeader(handmade('handmade'));
  assert.equal(h.string(RPM_TAG.NAME), 'handmade');
  assert.equal(h.int(RPM_TAG.EPOCH), 5);
  assert.deepEqual(h.ints(RPM_TAG.FILEMODES), [0o40755, 0o100644, 0o120777]);
  assert.deepEqual(headerFiles(h).paths, [
    '/usr/share/handmade',
    '/usr/share/handmade/a.txt',
    '/usr/share/handmade/link',
  ]);
});

test('corrupt header blobs are errors that say what is wrong', () => {
  const good = handmade('x');
  const cases: [Buffer, RegExp][] = [
    [good.subarray(0, 5), /shorter than its 8-byte preamble/],
    [good.subarray(0, good.length - 3), /needs \d+ bytes, the blob has \d+/],
    [Buffer.alloc(8), /claims 0 index entries/],
    [
      (() => {
        const b = Buffer.from(good);
        b.writeInt32BE(0x7fffffff, 8 + 8); // first entry's offset
        return b;
      })(),
      /offset 2147483647 is outside/,
    ],
    [headerBlob([[RPM_TAG.NAME, RPM_TYPE.STRING, Buffer.from('no-nul'), 1]]), /no terminating NUL/],
    [headerBlob([[RPM_TAG.NAME, RPM_TYPE.STRING, str('a', 'b'), 2]]), /a STRING with count 2/],
    [headerBlob([[RPM_TAG.EPOCH, RPM_TYPE.INT32, i32(1), 2]]), /8 bytes at offset 0 run past/],
    [headerBlob([[RPM_TAG.NAME, 42, str('a'), 1]]), /unknown data type 42/],
    [
      (() => {
        const b = headerBlob([
          [RPM_TAG.NAME, RPM_TYPE.STRING, str('abc'), 1],
          [RPM_TAG.EPOCH, RPM_TYPE.INT32, i32(1), 1],
        ]);
        b.writeInt32BE(1, 8 + 16 + 8); // EPOCH's offset, made unaligned
        return b;
      })(),
      /unaligned offset 1/,
    ],
  ];
  for (const [blob, re] of cases) assert.throws(() => parseHeader(blob), re);
  const badIndex = parseHeader(
    headerBlob([
      [RPM_TAG.BASENAMES, RPM_TYPE.STRING_ARRAY, str('a'), 1],
      [RPM_TAG.DIRNAMES, RPM_TYPE.STRING_ARRAY, str('/x/'), 1],
      [RPM_TAG.DIRINDEXES, RPM_TYPE.INT32, i32(3), 1],
    ]),
  );
  assert.throws(() => headerFiles(badIndex), /DIRINDEXES\[0\] = 3 is past the 1 DIRNAMES/);
});

test('the checked-in rpmdb.sqlite (made by rpm 4.18): versions with epoch, sources, files, licenses', async () => {
  const r = await rpmCataloger.catalog(await openDirectory(FIXTURE), { os: RHEL });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(summary(r), [
    'libgreet 0.9-1.fc40 x86_64 libgreet@0.9-1.fc40 LGPL-2.1-or-later',
    'hello-vouch 2:1.2.3-4.el9 x86_64 hello-vouch@2:1.2.3-4.el9 MIT AND (Apache-2.0 OR BSD-3-Clause)',
  ]);
  const [lib, hello] = r.packages;
  assert.deepEqual(hello!.files, ['/usr/bin/hello-vouch', '/usr/share/hello-vouch/data.txt']);
  assert.deepEqual(lib!.files, ['/usr/lib64/libgreet.so.1', '/usr/lib64/libgreet.so.1.0']);
  assert.equal(
    hello!.purl,
    'pkg:rpm/rhel/hello-vouch@1.2.3-4.el9?arch=x86_64&distro=rhel-9.3&epoch=2&upstream=hello-vouch-1.2.3-4.el9.src.rpm',
  );
  assert.deepEqual(hello!.locations, [{ path: '/var/lib/rpm/rpmdb.sqlite' }]);
  assert.deepEqual(hello!.metadata, {
    vendor: 'vouch tests',
    sourceRpm: 'hello-vouch-1.2.3-4.el9.src.rpm',
    size: 23,
  });
  assert.deepEqual(r.relationships, [{ from: hello!.id, to: lib!.id, type: 'depends-on' }]);
});

test(
  'real rpm: packages built and installed by rpm, compared with rpm -qa',
  { skip: !HAVE_RPM },
  async (t) => {
    const work = await tempDir(t, 'vouch-rpmbuild-');
    const top = join(work, 'top');
    for (const d of ['SPECS', 'BUILD', 'RPMS', 'SOURCES', 'SRPMS'])
      await mkdir(join(top, d), { recursive: true });
    const specs: Record<string, string> = {
      'tool.spec': [
        'Name: vouch-tool',
        'Version: 7.0~rc1',
        'Release: 3.fc40',
        'Epoch: 1',
        'Summary: s',
        'License: GPL-2.0-or-later',
        'BuildArch: noarch',
        'Requires: /bin/vouch-sh',
        'AutoReqProv: no',
        '%description',
        'd',
        '%install',
        'mkdir -p %{buildroot}/opt/tool/sub',
        'echo a > %{buildroot}/opt/tool/a',
        'echo b > %{buildroot}/opt/tool/sub/b',
        '%files',
        '/opt/tool',
      ].join('\n'),
      'sh.spec': [
        'Name: vouch-sh',
        'Version: 5.2',
        'Release: 1',
        'Summary: s',
        'License: GPL-3.0-or-later',
        'BuildArch: noarch',
        'AutoReqProv: no',
        '%description',
        'd',
        '%install',
        'mkdir -p %{buildroot}/bin',
        'echo sh > %{buildroot}/bin/vouch-sh',
        '%files',
        '/bin/vouch-sh',
      ].join('\n'),
    };
    for (const [name, text] of Object.entries(specs)) {
      await writeFile(join(top, 'SPECS', name), `${text}\n`);
      execFileSync('rpmbuild', ['--define', `_topdir ${top}`, '-bb', join(top, 'SPECS', name)], {
        stdio: 'ignore',
      });
    }
    const rpms = (await readdir(join(top, 'RPMS/noarch'))).map((f) => join(top, 'RPMS/noarch', f));
    const root = await tempDir(t, 'vouch-rpmroot-');
    const dbpath = join(root, 'var/lib/rpm');
    execFileSync('rpm', ['--dbpath', dbpath, '--initdb']);
    execFileSync('rpm', ['--dbpath', dbpath, '-i', '--justdb', '--nodeps', ...rpms], { stdio: 'ignore' });
    const qa = (fmt: string) =>
      execFileSync('rpm', ['--dbpath', dbpath, '-qa', '--qf', fmt], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .sort();
    const want = qa('%{NAME} %|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE} %{ARCH} %{LICENSE}\n');
    const wantFiles = qa('[%{=NAME} %{FILEMODES:perms} %{FILENAMES}\n]')
      .filter((l) => !l.split(' ')[1]!.startsWith('d'))
      .map((l) => `${l.split(' ')[0]} ${l.split(' ')[2]}`);
    const r = await rpmCataloger.catalog(await openDirectory(root), {
      os: { id: 'fedora', versionId: '40' },
    });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.packages.map((p) => `${p.name} ${p.version} ${p.arch} ${p.licenses[0]}`).sort(), want);
    assert.deepEqual(
      r.packages.flatMap((p) => p.files!.map((f) => `${p.name} ${f}`)).sort(),
      wantFiles.sort(),
    );
    assert.equal(want.length, 2);
    // Requires: /bin/vouch-sh is satisfied by the file of vouch-sh
    const [sh, tool] = ['vouch-sh', 'vouch-tool'].map((n) => r.packages.find((p) => p.name === n)!);
    assert.deepEqual(r.relationships, [{ from: tool!.id, to: sh!.id, type: 'depends-on' }]);
    assert.equal(
      tool!.purl,
      'pkg:rpm/fedora/vouch-tool@7.0~rc1-3.fc40?arch=noarch&distro=fedora-40&epoch=1&upstream=vouch-tool-7.0~rc1-3.fc40.src.rpm',
    );
  },
);

test('real rpm reads the hand-built header the same way header.ts does', { skip: !HAVE_RPM }, async (t) => {
  const dir = await tempDir(t, 'vouch-rpmhb-');
  const dbpath = join(dir, 'db');
  execFileSync('rpm', ['--dbpath', dbpath, '--initdb']);
  const db = new DatabaseSync(join(dbpath, 'rpmdb.sqlite'));
  db.prepare('INSERT INTO Packages (blob) VALUES (?)').run(handmade('handmade'));
  db.close();
  const got = execFileSync(
    'rpm',
    [
      '--dbpath',
      dbpath,
      '-qa',
      '--qf',
      '%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE} %{ARCH} %{LICENSE} %{SOURCERPM}\n[%{FILENAMES}\n]',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(
    got,
    'handmade 5:3.1-7.el9 noarch MIT handmade-3.1-7.el9.src.rpm\n/usr/share/handmade\n/usr/share/handmade/a.txt\n/usr/share/handmade/link\n',
  );
  const r = await rpmCataloger.catalog(
    await openDirectory(await rootWithDb(t, join(dbpath, 'rpmdb.sqlite'))),
    {},
  );
  assert.deepEqual(summary(r), ['handmade 5:3.1-7.el9 noarch handmade@5:3.1-7.el9 MIT']);
  assert.deepEqual(r.packages[0]!.files, ['/usr/share/handmade/a.txt', '/usr/share/handmade/link']);
  assert.equal(
    r.packages[0]!.purl,
    'pkg:rpm/handmade@3.1-7.el9?arch=noarch&epoch=5&upstream=handmade-3.1-7.el9.src.rpm',
  );
});

test('pages still in the -wal file are read; corrupt rows and gpg-pubkey are handled', async (t) => {
  const dir = await tempDir(t, 'vouch-rpmwal-');
  const db = join(dir, 'rpmdb.sqlite');
  await copyFile(join(FIXTURE, 'var/lib/rpm/rpmdb.sqlite'), db);
  const conn = new DatabaseSync(db);
  conn.exec('PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;');
  const insert = conn.prepare('INSERT INTO Packages (blob) VALUES (?)');
  insert.run(handmade('in-wal'));
  insert.run(Buffer.from('not a header at all'));
  insert.run(handmade('gpg-pubkey'));
  // Copy while the connection is open: the new rows live only in the WAL.
  const root = await rootWithDb(t, db, `${db}-wal`);
  conn.close();
  const r = await rpmCataloger.catalog(await openDirectory(root), { os: RHEL });
  assert.deepEqual(
    r.packages.map((p) => p.name),
    ['libgreet', 'hello-vouch', 'in-wal'],
  );
  assert.deepEqual(r.problems, [
    {
      cataloger: 'rpm-db',
      path: '/var/lib/rpm/rpmdb.sqlite',
      message: 'package header 4: header claims 1852797984 index entries',
    },
  ]);
});

test('bad databases: garbage, no Packages table, Berkeley DB and NDB are located problems', async (t) => {
  const bdb = Buffer.alloc(4096);
  bdb.writeUInt32LE(0x061561, 12);
  const ndb = Buffer.concat([Buffer.from('RpmP'), Buffer.alloc(60)]);
  const noTable = join(await tempDir(t, 'vouch-rpmbad-'), 'x.sqlite');
  const c = new DatabaseSync(noTable);
  c.exec('CREATE TABLE Other (x)');
  c.close();
  const l = await layer([
    { name: 'var/lib/rpm/Packages', content: bdb },
    { name: 'usr/lib/sysimage/rpm/Packages.db', content: ndb },
    { name: 'srv/a/var/lib/rpm/rpmdb.sqlite', content: 'garbage, not sqlite at all' },
    { name: 'srv/b/var/lib/rpm/rpmdb.sqlite', content: await readFile(noTable) },
    {
      name: 'srv/c/var/lib/rpm/rpmdb.sqlite',
      content: await readFile(join(FIXTURE, 'var/lib/rpm/rpmdb.sqlite')),
    },
    { name: 'srv/c/var/lib/rpm/Packages', content: bdb },
  ]);
  const r = await rpmCataloger.catalog(await openMergedView([l]), { os: RHEL });
  assert.deepEqual(
    r.problems.map((p) => `${p.path} ${p.layer === l.digest} ${p.message}`),
    [
      '/srv/a/var/lib/rpm/rpmdb.sqlite true not a SQLite database (looks like: unknown): packages installed by rpm are not listed',
      '/srv/b/var/lib/rpm/rpmdb.sqlite true cannot read the rpm database: no such table: Packages',
      '/var/lib/rpm/Packages true unsupported rpmdb backend (bdb): packages installed by rpm are not listed',
      '/usr/lib/sysimage/rpm/Packages.db true unsupported rpmdb backend (ndb): packages installed by rpm are not listed',
    ],
  );
  // the good database below /srv/c is read, its files under that root; its leftover bdb is ignored
  assert.deepEqual(
    r.packages.map((p) => [p.name, p.files![0]]),
    [
      ['libgreet', '/srv/c/usr/lib64/libgreet.so.1'],
      ['hello-vouch', '/srv/c/usr/bin/hello-vouch'],
    ],
  );
  assert.equal(r.packages[0]!.locations[0]!.layer, l.digest);
});

test('sniffBackend', () => {
  assert.equal(sniffBackend(Buffer.from('SQLite format 3\0......')), 'sqlite');
  const be = Buffer.alloc(16);
  be.writeUInt32BE(0x053162, 12);
  assert.equal(sniffBackend(be), 'bdb');
  assert.equal(sniffBackend(Buffer.from('RpmP')), 'ndb');
  assert.equal(sniffBackend(Buffer.alloc(3)), 'unknown');
});
