import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { layer } from '../../../../test/fs/helpers.ts';
import { openMergedView } from '../../../fs/merged.ts';
import { openDirectory } from '../../directory.ts';
import type { OsInfo } from '../../model.ts';
import { apkCataloger } from './index.ts';
import { apkLicenses, apkTokenName, parseApkInstalled } from './parse-installed.ts';

const FIXTURE = join(import.meta.dirname, '../../../../test/fixtures/sbom/apk/alpine');
const ALPINE: OsInfo = { id: 'alpine', versionId: '3.20.1', prettyName: 'Alpine Linux v3.20' };

test('the Alpine installed database: packages, origin as source, files, licenses, purls', async () => {
  const r = await apkCataloger.catalog(await openDirectory(FIXTURE), { os: ALPINE });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(
    r.packages.map((p) => `${p.name} ${p.version} ${p.source!.name} ${p.arch}`),
    [
      'musl 1.2.5-r0 musl x86_64',
      'busybox 1.36.1-r29 busybox x86_64',
      'libcrypto3 3.3.1-r0 openssl x86_64',
      'libssl3 3.3.1-r0 openssl x86_64',
      'ca-certificates-bundle 20240226-r0 ca-certificates x86_64',
      'alpine-baselayout 3.6.5-r0 alpine-baselayout x86_64',
      'scanelf-old 1.3.7-r2 pax-utils x86_64',
    ],
  );
  const [musl, busybox, crypto, , certs, , old] = r.packages;
  assert.equal(
    crypto!.purl,
    'pkg:apk/alpine/libcrypto3@3.3.1-r0?arch=x86_64&distro=alpine-3.20.1&upstream=openssl',
  );
  assert.equal(musl!.purl, 'pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.1');
  assert.deepEqual(musl!.files, ['/lib/ld-musl-x86_64.so.1', '/lib/libc.musl-x86_64.so.1']);
  assert.deepEqual(busybox!.files, [
    '/bin/busybox',
    '/bin/sh',
    '/etc/logrotate.d/acpid',
    '/etc/securetty',
    '/etc/udhcpd.conf',
    '/usr/share/udhcpc/default.script',
  ]);
  assert.deepEqual(certs!.licenses, ['MPL-2.0 AND MIT']);
  assert.deepEqual(old!.licenses, ['GPL2', 'BSD']);
  assert.deepEqual(musl!.locations, [{ path: '/lib/apk/db/installed' }]);
  assert.deepEqual(busybox!.metadata, {
    maintainer: 'Sören Tempel <soeren+alpine@soeren-tempel.net>',
    installedSize: 946176,
    commit: '1747d01a1f67ec8b8ecc5cc4e4d4cfd5a0a1b3b3',
    provides: ['/bin/sh', 'cmd:busybox=1.36.1-r29', 'cmd:sh=1.36.1-r29'],
  });
  // depends-on through so: provides and the virtual /bin/sh; conflicts and missing ones are not edges
  const name = new Map(r.packages.map((p) => [p.id, p.name]));
  assert.deepEqual(r.relationships.map((e) => `${name.get(e.from)} -> ${name.get(e.to)}`).sort(), [
    'alpine-baselayout -> busybox',
    'busybox -> musl',
    'libcrypto3 -> musl',
    'libssl3 -> libcrypto3',
    'libssl3 -> musl',
  ]);
  assert.equal(new Set(r.packages.map((p) => p.id)).size, r.packages.length);
});

test('in an image the location carries the layer; a wolfi db gets the wolfi namespace', async () => {
  const db = await readFile(join(FIXTURE, 'lib/apk/db/installed'));
  const l = await layer([{ name: 'lib/apk/db/installed', content: db }]);
  const r = await apkCataloger.catalog(await openMergedView([l]), {
    os: { id: 'wolfi', versionId: '20230201' },
  });
  assert.deepEqual(r.packages[0]!.locations, [{ path: '/lib/apk/db/installed', layer: l.digest }]);
  assert.match(r.packages[0]!.purl, /^pkg:apk\/wolfi\/musl@1\.2\.5-r0\?arch=x86_64&distro=wolfi-20230201$/);
});

test('corrupt databases: located problems, the good records still count', async () => {
  const bad = [
    'P:good',
    'V:1.0-r0',
    'A:x86_64',
    'garbage line',
    'I:big',
    'R:nested/name',
    '',
    'P:noversion',
    'A:x86_64',
    '',
    'V:2.0-r0',
    'A:x86_64',
    '',
  ].join('\n');
  const l = await layer([
    { name: 'lib/apk/db/installed', content: bad },
    { name: 'chroot/lib/apk/db/installed', content: Buffer.from([0x50, 0x3a, 0, 0xff, 10]) },
  ]);
  const r = await apkCataloger.catalog(await openMergedView([l]), {
    os: { id: 'alpine', versionId: '3.20.1' },
  });
  assert.deepEqual(
    r.problems.map((p) => `${p.cataloger} ${p.path} ${p.layer === l.digest} ${p.message}`),
    [
      'apk-db /chroot/lib/apk/db/installed true binary data (NUL bytes): not an apk installed database',
      'apk-db /lib/apk/db/installed true line 4: not an "X:value" line: "garbage line"',
      'apk-db /lib/apk/db/installed true line 5: I: "big" is not a number',
      'apk-db /lib/apk/db/installed true line 6: R: "nested/name" is not a file name',
      'apk-db /lib/apk/db/installed true line 8: noversion: no V: (version) line',
      'apk-db /lib/apk/db/installed true line 11: record without a P: (name) line',
    ],
  );
  assert.deepEqual(
    r.packages.map((p) => p.name),
    ['good'],
  );
});

test('truncated database: the cut record is reported, earlier ones kept', async () => {
  const db = await readFile(join(FIXTURE, 'lib/apk/db/installed'), 'utf8');
  const cut = db.slice(0, db.indexOf('P:libssl3') + 'P:libssl3'.length);
  const r = parseApkInstalled(cut);
  assert.deepEqual(
    r.entries.map((e) => e.name),
    ['musl', 'busybox', 'libcrypto3'],
  );
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]!, /libssl3: no V: \(version\) line/);
});

test('token names and licenses', () => {
  assert.equal(apkTokenName('so:libc.musl-x86_64.so.1=1'), 'so:libc.musl-x86_64.so.1');
  assert.equal(apkTokenName('busybox>=1.36'), 'busybox');
  assert.equal(apkTokenName('!alpine-baselayout-old'), 'alpine-baselayout-old');
  assert.equal(apkTokenName('py3-foo~1.2'), 'py3-foo');
  assert.deepEqual(apkLicenses('GPL-2.0-or-later WITH Linux-syscall-note'), [
    'GPL-2.0-or-later WITH Linux-syscall-note',
  ]);
  assert.deepEqual(apkLicenses('MIT'), ['MIT']);
  assert.deepEqual(apkLicenses(''), []);
});
