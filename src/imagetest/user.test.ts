import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GROUP, PASSWD, viewOfLayers } from '../../test/imagetest/fixtures.ts';
import { parseGroup, parsePasswd } from './passwd.ts';
import { resolveUser } from './user.ts';

const view = (entries: { name: string; content: string }[]) => viewOfLayers([entries]);

test('passwd and group parsing skips comments and malformed lines', () => {
  assert.deepEqual(
    parsePasswd(
      '# comment\nroot:x:0:0:root:/root:/bin/bash\nbroken:x:zz:0::/:/bin/sh\nshort:x:1\n\napp:x:1000:100::/home/app:/bin/sh',
    ),
    [
      { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' },
      { name: 'app', uid: 1000, gid: 100, home: '/home/app', shell: '/bin/sh' },
    ],
  );
  assert.deepEqual(parseGroup('staff:x:50:app,bob\nroot:x:0:\nbad:x::\n'), [
    { name: 'staff', gid: 50, members: ['app', 'bob'] },
    { name: 'root', gid: 0, members: [] },
  ]);
});

test('resolveUser: empty, root and uid 0 are root; names go through the image', async () => {
  const v = await view([
    { name: 'etc/passwd', content: PASSWD },
    { name: 'etc/group', content: GROUP },
  ]);
  const none = await view([{ name: 'etc/hostname', content: 'x' }]);
  try {
    const cases: [string | undefined, string, RegExp][] = [
      [undefined, 'root', /no User is set/],
      ['', 'root', /no User is set/],
      ['  ', 'root', /no User is set/],
      ['root', 'root', /is root/],
      ['0', 'root', /is uid 0$/],
      ['0:0', 'root', /is uid 0$/],
      ['0:1000', 'root', /is uid 0$/],
      ['root:staff', 'root', /is root/],
      ['toor', 'root', /"toor" has uid 0 in \/etc\/passwd/],
      ['65532', 'non-root', /uid 65532$/],
      ['65532:65532', 'non-root', /uid 65532, gid 65532/],
      ['app', 'non-root', /uid 1000, gid 1000/],
      ['app:staff', 'non-root', /uid 1000, gid 50/],
      ['1000:0', 'non-root', /uid 1000, gid 0/],
      ['daemon', 'non-root', /uid 1, gid 1/],
      ['nobody', 'unresolvable', /no user "nobody"/],
      ['app:nogroup', 'unresolvable', /no group "nogroup"/],
      [':50', 'unresolvable', /empty user part/],
      ['99999999999', 'unresolvable', /no user "99999999999"/],
    ];
    for (const [user, kind, reason] of cases) {
      const r = await resolveUser(user, v);
      assert.equal(r.kind, kind, `${user}: ${r.reason}`);
      assert.match(r.reason, reason, String(user));
    }
    // numeric ids need no /etc/passwd; names do
    assert.equal((await resolveUser('1000:1000', none)).kind, 'non-root');
    const r = await resolveUser('app', none);
    assert.equal(r.kind, 'unresolvable');
    assert.match(r.reason, /has no \/etc\/passwd/);
  } finally {
    await v.close();
    await none.close();
  }
});
