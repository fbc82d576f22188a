import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { layer } from '../../test/fs/helpers.ts';
import type { TarEntry } from '../../test/helpers/random-image.ts';
import { openMergedView } from '../fs/merged.ts';
import { detectOs, parseOsRelease } from './os-release.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/sbom/os-release');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

async function view(entries: TarEntry[]) {
  const l = await layer(entries);
  return { view: await openMergedView([l]), digest: l.digest };
}

test('Debian 12 as shipped: /etc/os-release is a symlink to ../usr/lib/os-release', async () => {
  const { view: v } = await view([
    { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
    { name: 'usr/lib/os-release', content: fixture('debian-12.os-release') },
  ]);
  const { os, problems } = await detectOs(v);
  assert.deepEqual(problems, []);
  assert.deepEqual(os, {
    id: 'debian',
    versionId: '12',
    versionCodename: 'bookworm',
    prettyName: 'Debian GNU/Linux 12 (bookworm)',
  });
});

test('Debian: the point release comes from /etc/debian_version, the major from os-release', async () => {
  const { view: v } = await view([
    { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
    { name: 'usr/lib/os-release', content: fixture('debian-12.os-release') },
    { name: 'etc/debian_version', content: fixture('debian-12.7.debian_version') },
  ]);
  const { os, problems } = await detectOs(v);
  assert.deepEqual(problems, []);
  assert.deepEqual(os, {
    id: 'debian',
    versionId: '12',
    release: '12.7',
    versionCodename: 'bookworm',
    prettyName: 'Debian GNU/Linux 12 (bookworm)',
  });
});

test('Debian: testing has no point release; a debian_version of another major is a problem', async () => {
  const testing = await view([
    {
      name: 'etc/os-release',
      content: 'ID=debian\nVERSION_CODENAME=trixie\nPRETTY_NAME="Debian GNU/Linux trixie/sid"\n',
    },
    { name: 'etc/debian_version', content: 'trixie/sid\n' },
  ]);
  assert.deepEqual(await detectOs(testing.view), {
    os: { id: 'debian', versionCodename: 'trixie', prettyName: 'Debian GNU/Linux trixie/sid' },
    problems: [],
  });

  const mixed = await view([
    { name: 'usr/lib/os-release', content: fixture('debian-12.os-release') },
    { name: 'etc/debian_version', content: '11.9\n' },
  ]);
  const got = await detectOs(mixed.view);
  assert.equal(got.os?.versionId, '12');
  assert.equal(got.os?.release, undefined);
  assert.equal(got.problems.length, 1);
  assert.equal(got.problems[0]!.path, '/etc/debian_version');
  assert.match(got.problems[0]!.message, /debian_version says 11\.9 but os-release says VERSION_ID=12/);

  // Not Debian itself: Ubuntu's /etc/debian_version names the Debian it branched from.
  const ubuntu = await view([
    { name: 'etc/os-release', content: fixture('ubuntu-22.04.os-release') },
    { name: 'etc/debian_version', content: 'bookworm/sid\n' },
  ]);
  const u = await detectOs(ubuntu.view);
  assert.equal(u.os?.versionId, '22.04');
  assert.equal(u.os?.release, undefined);
});

test('real distributions: Alpine, Ubuntu (codename, ID_LIKE), RHEL (quoted ID)', async () => {
  const cases: [string, object][] = [
    ['alpine-3.20.os-release', { id: 'alpine', versionId: '3.20.1', prettyName: 'Alpine Linux v3.20' }],
    [
      'ubuntu-22.04.os-release',
      {
        id: 'ubuntu',
        versionId: '22.04',
        versionCodename: 'jammy',
        prettyName: 'Ubuntu 22.04.4 LTS',
        idLike: ['debian'],
      },
    ],
    [
      'rhel-9.os-release',
      { id: 'rhel', versionId: '9.3', prettyName: 'Red Hat Enterprise Linux 9.3 (Plow)', idLike: ['fedora'] },
    ],
  ];
  for (const [file, want] of cases) {
    const { view: v } = await view([{ name: 'etc/os-release', content: fixture(file) }]);
    const got = await detectOs(v);
    assert.deepEqual(got, { os: want, problems: [] }, file);
  }
});

test('the parser agrees with sh sourcing the file (quotes, escapes, comments, repeats)', () => {
  const file = join(FIXTURES, 'tricky.os-release');
  const out = execFileSync('env', ['-i', 'sh', '-c', 'set -a; . "$1"; env -0', 'sh', file]);
  const shell = new Map<string, string>();
  for (const kv of out.toString('utf8').split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0 && !['PWD', 'OLDPWD', 'SHLVL', '_'].includes(kv.slice(0, i)))
      shell.set(kv.slice(0, i), kv.slice(i + 1));
  }
  const { vars, errors } = parseOsRelease(fixture('tricky.os-release'));
  assert.deepEqual(errors, []);
  assert.deepEqual(new Map([...vars].sort()), new Map([...shell].sort()));
  // and the values are the interesting ones, not trivially equal
  assert.equal(vars.get('NAME'), 'Tricky "Linux"');
  assert.equal(vars.get('PRETTY_NAME'), 'Tricky $HOME `x` back\\slash \\n stays');
  assert.equal(vars.get('BARE'), 'value with escapes');
  assert.equal(vars.get('MIXED'), 'abc');
  assert.equal(vars.get('SINGLE'), 'no \\escapes "here"');
  assert.equal(vars.get('VERSION_CODENAME'), 'second');
});

test('tricky values end up in OsInfo lowercased and split', async () => {
  const { view: v } = await view([{ name: 'usr/lib/os-release', content: fixture('tricky.os-release') }]);
  const { os } = await detectOs(v);
  assert.deepEqual(os, {
    id: 'tricky',
    versionId: '1.2',
    versionCodename: 'second',
    prettyName: 'Tricky $HOME `x` back\\slash \\n stays',
    idLike: ['debian', 'ubuntu'],
  });
});

test('bad lines are located problems; the good ones still count', async () => {
  const { view: v, digest } = await view([{ name: 'etc/os-release', content: fixture('broken.os-release') }]);
  const { os, problems } = await detectOs(v);
  assert.deepEqual(os, { id: 'broken', versionId: '7' });
  assert.equal(problems.length, 3);
  for (const p of problems) {
    assert.equal(p.cataloger, 'os-release');
    assert.equal(p.path, '/etc/os-release');
    assert.equal(p.layer, digest);
  }
  assert.match(problems[0]!.message, /line 2: not a KEY=value/);
  assert.match(problems[1]!.message, /line 3: UNTERMINATED: unterminated double quote/);
  assert.match(problems[2]!.message, /line 5: SPACED: unquoted whitespace/);
});

test('fallbacks: /etc/debian_version, /etc/alpine-release, /etc/redhat-release', async () => {
  const cases: [TarEntry[], object | undefined][] = [
    [[{ name: 'etc/debian_version', content: '12.5\n' }], { id: 'debian', versionId: '12', release: '12.5' }],
    [[{ name: 'etc/debian_version', content: 'trixie/sid\n' }], { id: 'debian', versionCodename: 'trixie' }],
    [[{ name: 'etc/alpine-release', content: '3.19.1\n' }], { id: 'alpine', versionId: '3.19.1' }],
    [
      [{ name: 'etc/redhat-release', content: 'Red Hat Enterprise Linux release 8.6 (Ootpa)\n' }],
      { id: 'rhel', versionId: '8.6', prettyName: 'Red Hat Enterprise Linux release 8.6 (Ootpa)' },
    ],
    [
      [
        { name: 'etc/centos-release', content: 'CentOS Linux release 7.9.2009 (Core)\n' },
        { name: 'etc/redhat-release', type: 'symlink', linkname: 'centos-release' },
      ],
      { id: 'centos', versionId: '7', prettyName: 'CentOS Linux release 7.9.2009 (Core)' },
    ],
    // os-release wins over the older files (debian_version adds only the point release)
    [
      [
        { name: 'etc/debian_version', content: '12.9\n' },
        { name: 'usr/lib/os-release', content: fixture('debian-12.os-release') },
      ],
      {
        id: 'debian',
        versionId: '12',
        release: '12.9',
        versionCodename: 'bookworm',
        prettyName: 'Debian GNU/Linux 12 (bookworm)',
      },
    ],
  ];
  for (const [entries, want] of cases) {
    const { view: v } = await view(entries);
    const { os, problems } = await detectOs(v);
    assert.deepEqual(os, want, JSON.stringify(entries));
    assert.deepEqual(problems, []);
  }
});

test('no OS (scratch, static distroless) is no problem; garbage is a located one', async () => {
  const empty = await view([{ name: 'app', content: 'x' }]);
  assert.deepEqual(await detectOs(empty.view), { problems: [] });

  const dangling = await view([
    { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
  ]);
  assert.deepEqual(await detectOs(dangling.view), { problems: [] });

  const garbage = await view([
    { name: 'etc/os-release', content: Buffer.from([0, 1, 2, 0xff, 0xfe, 10]) },
    { name: 'etc/debian_version', content: '\u0000\u0001' },
  ]);
  const got = await detectOs(garbage.view);
  assert.equal(got.os, undefined);
  assert.deepEqual(
    got.problems.map((p) => [p.path, p.layer === garbage.digest]),
    [
      ['/etc/os-release', true],
      ['/etc/os-release', true],
      ['/etc/debian_version', true],
    ],
  );
  assert.match(got.problems[1]!.message, /no ID= line/);

  const huge = await view([
    { name: 'etc/os-release', type: 'symlink', linkname: '../usr/lib/os-release' },
    { name: 'usr/lib/os-release', content: `ID=x\n${'#'.repeat(70 * 1024)}\n` },
  ]);
  const big = await detectOs(huge.view);
  assert.equal(big.os, undefined);
  assert.equal(big.problems.length, 1, 'the file behind the symlink is reported once');
  assert.equal(big.problems[0]!.path, '/usr/lib/os-release');
  assert.match(big.problems[0]!.message, /cannot read: .*over the 65536 byte limit/);
});
