import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  debianBase,
  dir,
  exe,
  file,
  fixtureImage,
  link,
  pathsOf,
  viewOf,
  withImage,
} from '../../test/imagetest/fixtures.ts';
import { isVouchError } from '../errors.ts';
import { readTar } from '../fs/tar.ts';
import { openDestination } from '../transport/open.ts';
import { flattenImage } from './flatten.ts';
import { DEFAULT_HARDEN_USER, type HardenOptions, type HardenResult, hardenImage } from './harden.ts';

async function harden(src: string, out: string, o: HardenOptions = {}): Promise<HardenResult> {
  return withImage(src, async (image) => {
    const dst = await openDestination(out);
    try {
      const r = await hardenImage(image, dst, o);
      await dst.commit(r.descriptor);
      return r;
    } finally {
      await dst.close();
    }
  });
}

const REMOVED = [
  '/etc/apt',
  '/etc/dpkg',
  '/home/app/.cache',
  '/root/.cache',
  '/tmp/build.log',
  '/usr/bin/apt',
  '/usr/bin/apt-cache',
  '/usr/bin/apt-config',
  '/usr/bin/apt-get',
  '/usr/bin/apt-key',
  '/usr/bin/dpkg',
  '/usr/bin/dpkg-deb',
  '/usr/bin/dpkg-query',
  '/usr/lib/apt',
  '/usr/sbin/dpkg-reconfigure',
  '/usr/share/doc/bash/changelog.Debian.gz',
  '/usr/share/doc/bash/examples',
  '/usr/share/doc/dpkg/README',
  '/usr/share/info',
  '/usr/share/locale/de',
  '/usr/share/man',
  '/var/cache/apt',
  '/var/cache/debconf',
  '/var/cache/ldconfig',
  '/var/lib/apt',
  '/var/lib/dpkg/status-old',
  '/var/log/apt',
  '/var/log/dpkg.log',
];

test('harden whites out package managers, docs and caches, keeps package databases and licenses', async () => {
  const fx = await fixtureImage([debianBase(), [dir('app'), exe('app/server', 'srv')]], {
    Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'LANG=C.UTF-8'],
    Entrypoint: ['/app/server'],
    Cmd: ['--port', '8080'],
    WorkingDir: '/app',
    ExposedPorts: { '8080/tcp': {} },
    Labels: { 'org.opencontainers.image.source': 'https://example.com/app' },
    StopSignal: 'SIGTERM',
  });
  try {
    const out = join(fx.dir, 'hard');
    const r = await harden(fx.ref, `oci:${out}:h`);
    assert.deepEqual(
      r.removed.map((x) => x.path),
      REMOVED,
    );
    const byPath = new Map(r.removed.map((x) => [x.path, x]));
    assert.equal(byPath.get('/usr/bin/apt')?.category, 'package-managers');
    assert.equal(byPath.get('/var/cache/apt')?.category, 'package-managers');
    assert.equal(byPath.get('/var/cache/debconf')?.category, 'package-managers');
    assert.equal(byPath.get('/var/cache/ldconfig')?.category, 'caches');
    assert.equal(byPath.get('/usr/share/man')?.category, 'docs');
    // a directory whiteout counts everything below it
    assert.deepEqual(byPath.get('/var/cache/apt'), {
      path: '/var/cache/apt',
      category: 'package-managers',
      type: 'dir',
      entries: 3,
      bytes: 3000,
    });
    assert.equal(byPath.get('/root/.cache')?.bytes, 1000);
    const sum = Object.fromEntries(r.summary.map((s) => [s.category, s]));
    assert.deepEqual(Object.keys(sum), ['package-managers', 'docs', 'caches']);
    assert.equal(sum.docs!.bytes, 400 + 40 + 30 + 500 + 10 + 200);
    assert.equal(sum.caches!.bytes, 100 + 1000 + 50 + 20);
    assert.equal(r.total.paths, REMOVED.length);
    assert.equal(
      r.total.bytes,
      r.summary.reduce((n, s) => n + s.bytes, 0),
    );
    assert.deepEqual(r.keptDatabases, ['/var/lib/dpkg/status', '/var/lib/dpkg/info']);
    assert.deepEqual(r.user, {
      before: '',
      after: DEFAULT_HARDEN_USER,
      changed: true,
      reason: `no User is set, so the container runs as root (uid 0); set ${DEFAULT_HARDEN_USER}`,
    });
    assert.equal(r.before.layers, 2);
    assert.equal(r.after.layers, 3);
    assert.equal(r.layer?.whiteouts, REMOVED.length);

    await withImage(`oci:${out}:h`, async (image) => {
      assert.equal(image.descriptor.digest, r.descriptor.digest);
      const c = image.config.config!;
      assert.equal(c.User, DEFAULT_HARDEN_USER);
      assert.deepEqual(c.Entrypoint, ['/app/server']);
      assert.deepEqual(c.Cmd, ['--port', '8080']);
      assert.equal(c.WorkingDir, '/app');
      assert.deepEqual(c.ExposedPorts, { '8080/tcp': {} });
      assert.deepEqual(c.Labels, { 'org.opencontainers.image.source': 'https://example.com/app' });
      assert.equal(c.StopSignal, 'SIGTERM');
      assert.deepEqual(c.Env, ['PATH=/usr/local/bin:/usr/bin:/bin', 'LANG=C.UTF-8']);
      assert.equal(image.config.created, '2024-01-01T00:00:00Z');
      const h = image.config.history!;
      assert.equal(h.length, 3);
      assert.equal(h[2]!.created_by, 'vouch harden');
      assert.equal(h[2]!.empty_layer, undefined);
      assert.match(h[2]!.comment!, /package-managers 18, docs 6, caches 4 paths; user 65532:65532/);
      // the first layers are the original ones, byte for byte
      await withImage(fx.ref, async (orig) => {
        assert.deepEqual(
          image.layers.slice(0, 2).map((l) => l.descriptor.digest),
          orig.layers.map((l) => l.descriptor.digest),
        );
      });
      // the new layer holds nothing but empty whiteout files
      const last = image.layers[2]!;
      const names: string[] = [];
      for await (const e of readTar(await last.openUncompressed(), { what: 'whiteouts' })) {
        assert.equal(e.type, 'file');
        assert.equal(e.size, 0);
        assert.equal(e.mtime, Date.parse('2024-01-01T00:00:00Z') / 1000);
        names.push(e.path);
        for await (const _ of e.body) assert.fail('whiteouts have no content');
      }
      assert.ok(names.every((n) => n.split('/').at(-1)!.startsWith('.wh.')));
      assert.ok(names.includes('usr/bin/.wh.apt-get'));

      const view = await viewOf(image);
      try {
        const paths = new Set(await pathsOf(view));
        for (const p of REMOVED) assert.ok(!paths.has(p), `${p} is gone`);
        for (const p of [
          '/usr/bin/bash',
          '/usr/bin/ls',
          '/usr/bin/aptly-like-tool-not-apt',
          '/usr/lib/libapt-pkg.so.6.0',
          '/usr/share/doc/bash/copyright',
          '/usr/share/doc/dpkg/copyright',
          '/usr/share/doc/libapt-pkg6.0',
          '/usr/share/locale/locale.alias',
          '/var/lib/dpkg/status',
          '/var/lib/dpkg/info/bash.list',
          '/var/cache',
          '/tmp',
          '/var/tmp',
          '/app/server',
          '/etc/passwd',
        ]) {
          assert.ok(paths.has(p), `${p} is kept`);
        }
        assert.equal((await view.lstat('/tmp'))?.mode, 0o1777);
        assert.equal(
          Buffer.from(await view.readFile('/var/lib/dpkg/status')).toString(),
          'Package: bash\nStatus: install ok installed\nVersion: 5.2\n',
        );
        // through the merged-/usr symlink too
        assert.equal(await view.stat('/bin/apt-get'), undefined);
        assert.equal((await view.stat('/bin/bash'))?.path, '/usr/bin/bash');
      } finally {
        await view.close();
      }
    });
  } finally {
    await fx.cleanup();
  }
});

test('harden is reproducible, and flattening afterwards drops the removed bytes', async () => {
  const fx = await fixtureImage([debianBase()]);
  try {
    const a = await harden(fx.ref, `oci:${join(fx.dir, 'a')}:h`);
    const b = await harden(fx.ref, `oci:${join(fx.dir, 'b')}:h`);
    assert.equal(a.descriptor.digest, b.descriptor.digest);
    assert.equal(a.layer?.digest, b.layer?.digest);

    const plain = join(fx.dir, 'plain');
    const flat = join(fx.dir, 'flat');
    const sizes: Record<string, number> = {};
    for (const [ref, out] of [
      [fx.ref, plain],
      [`oci:${join(fx.dir, 'a')}:h`, flat],
    ] as const) {
      await withImage(ref, async (image) => {
        const dst = await openDestination(`oci:${out}:f`);
        try {
          const r = await flattenImage(image, dst, { compression: 'none' });
          await dst.commit(r.descriptor);
          sizes[out] = r.after.size;
        } finally {
          await dst.close();
        }
      });
    }
    // uncompressed: the flattened hardened image is smaller by at least the removed bytes
    assert.ok(
      sizes[plain]! - sizes[flat]! >= a.total.bytes,
      `${sizes[plain]} - ${sizes[flat]} >= ${a.total.bytes}`,
    );
    await withImage(`oci:${flat}:f`, async (image) => {
      assert.equal(image.layers.length, 1);
      assert.equal(image.config.config?.User, DEFAULT_HARDEN_USER);
      const view = await viewOf(image);
      try {
        const paths = await pathsOf(view);
        assert.ok(!paths.includes('/var/cache/apt/archives/bash.deb'));
        assert.ok(!paths.some((p) => p.includes('.wh.')));
        assert.ok(paths.includes('/var/lib/dpkg/status'));
      } finally {
        await view.close();
      }
    });
  } finally {
    await fx.cleanup();
  }
});

test('categories can be kept, pip and __pycache__ removed on request, user paths added', async () => {
  const fx = await fixtureImage(
    [
      [
        ...debianBase(),
        dir('usr/local'),
        dir('usr/local/bin'),
        exe('usr/local/bin/pip'),
        exe('usr/local/bin/pip3.12'),
        dir('usr/local/lib'),
        dir('usr/local/lib/python3.12'),
        dir('usr/local/lib/python3.12/site-packages'),
        dir('usr/local/lib/python3.12/site-packages/pip'),
        file('usr/local/lib/python3.12/site-packages/pip/__init__.py', 'p'),
        dir('usr/local/lib/python3.12/site-packages/pip-24.0.dist-info'),
        file('usr/local/lib/python3.12/site-packages/pip-24.0.dist-info/METADATA', 'Name: pip\n'),
        dir('usr/local/lib/python3.12/site-packages/requests'),
        dir('usr/local/lib/python3.12/site-packages/requests/__pycache__'),
        file('usr/local/lib/python3.12/site-packages/requests/__pycache__/api.cpython-312.pyc', 'pyc'),
        dir('opt'),
        dir('opt/tool'),
        exe('opt/tool/apt-get'),
        file('opt/notes.txt', 'n'),
      ],
    ],
    { Env: ['PATH=/opt/tool:/usr/bin'] },
  );
  try {
    const r = await harden(fx.ref, `oci:${join(fx.dir, 'k')}:h`, {
      categories: ['package-managers', 'pip', 'pycache'],
      remove: ['/bin/ls', '/opt/*.txt', '/nope', '/usr/share/doc'],
      user: 'app',
    });
    const paths = r.removed.map((x) => `${x.category} ${x.path}`);
    for (const p of [
      'package-managers /opt/tool/apt-get',
      'pip /usr/local/bin/pip',
      'pip /usr/local/bin/pip3.12',
      'pip /usr/local/lib/python3.12/site-packages/pip',
      'pip /usr/local/lib/python3.12/site-packages/pip-24.0.dist-info',
      'pycache /usr/local/lib/python3.12/site-packages/requests/__pycache__',
      // through the /bin -> usr/bin symlink, at the real path
      'extra /usr/bin/ls',
      'extra /opt/notes.txt',
      // the user's path wins over the copyright keep rule
      'extra /usr/share/doc',
    ]) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    }
    assert.ok(!paths.some((p) => p.startsWith('caches ')));
    assert.ok(paths.includes('package-managers /var/cache/apt'));
    assert.ok(!r.removed.some((x) => x.path === '/usr/share/man'), 'docs kept');
    assert.ok(!r.removed.some((x) => x.path === '/root/.cache'), 'caches kept');
    assert.deepEqual(r.notFound, ['/nope']);
    assert.deepEqual(
      r.summary.map((s) => s.category),
      ['package-managers', 'pip', 'pycache', 'extra'],
    );
    assert.deepEqual(r.user, {
      before: '',
      after: 'app',
      changed: true,
      reason: 'set as asked: User "app" is uid 1000, gid 1000',
    });
  } finally {
    await fx.cleanup();
  }
});

test('the user: a non-root config user is kept, root and unknown names are replaced or refused', async () => {
  const fx = await fixtureImage([debianBase()], { User: 'app', Env: ['PATH=/usr/bin'] });
  const toor = await fixtureImage([debianBase()], { User: 'toor' });
  const ghost = await fixtureImage([debianBase()], { User: 'ghost:staff' });
  try {
    const kept = await harden(fx.ref, `oci:${join(fx.dir, 'u')}:h`);
    assert.deepEqual(kept.user, {
      before: 'app',
      after: 'app',
      changed: false,
      reason: 'kept: User "app" is uid 1000, gid 1000',
    });
    const root = await harden(toor.ref, `oci:${join(toor.dir, 'u')}:h`);
    assert.equal(root.user.after, DEFAULT_HARDEN_USER);
    assert.match(root.user.reason, /"toor" has uid 0/);
    const g = await harden(ghost.ref, `oci:${join(ghost.dir, 'u')}:h`);
    assert.equal(g.user.after, DEFAULT_HARDEN_USER);
    assert.match(g.user.reason, /no user "ghost" in the image's \/etc\/passwd/);

    for (const [user, re] of [
      ['root', /must not run as root/],
      ['0:1000', /must not run as root/],
      ['toor', /must not run as root/],
      ['nobody', /no user "nobody"/],
      ['1000:nogroup', /no group "nogroup"/],
    ] as const) {
      await assert.rejects(
        harden(fx.ref, `oci:${join(fx.dir, 'x')}:h`, { user }),
        (e) => isVouchError(e, 'USAGE') && re.test(e.message),
      );
    }
    await assert.rejects(
      harden(fx.ref, `oci:${join(fx.dir, 'x')}:h`, { categories: ['docs', 'bogus' as 'docs'] }),
      (e) => isVouchError(e, 'USAGE') && /unknown hardening category "bogus"/.test(e.message),
    );
    await assert.rejects(
      harden(fx.ref, `oci:${join(fx.dir, 'x')}:h`, { remove: ['/'] }),
      (e) => isVouchError(e, 'USAGE') && /root of the image/.test(e.message),
    );
  } finally {
    await fx.cleanup();
    await toor.cleanup();
    await ghost.cleanup();
  }
});

test('nothing to remove: no new layer, one empty_layer history entry; docker flavour kept', async () => {
  const fx = await fixtureImage(
    [[dir('app'), exe('app/run'), link('app/sh', 'run')]],
    { User: '1000' },
    {
      flavour: 'docker',
    },
  );
  try {
    const r = await harden(fx.ref, `oci:${join(fx.dir, 'n')}:h`);
    assert.deepEqual(r.removed, []);
    assert.equal(r.layer, undefined);
    assert.equal(r.user.changed, false);
    await withImage(`oci:${join(fx.dir, 'n')}:h`, async (image) => {
      assert.equal(image.layers.length, 1);
      assert.equal(image.descriptor.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
      const h = image.config.history!;
      assert.equal(h.length, 2);
      assert.deepEqual(h[1], {
        created: '2024-01-01T00:00:00Z',
        created_by: 'vouch harden',
        comment: 'nothing to remove; user 1000',
        empty_layer: true,
      });
    });
  } finally {
    await fx.cleanup();
  }
});
