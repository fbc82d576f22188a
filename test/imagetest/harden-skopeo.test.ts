/**
 * Hardening checked by independent tools: skopeo carries the hardened layout into the real
 * docker-registry on 127.0.0.1 (verifying every digest on the way) and reads its config back;
 * GNU tar lists the new layer (nothing but `.wh.` files) and, after `vouch flatten`, the single
 * squashed layer: the removed paths and their bytes are gone, the kept files are there.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { flattenCommand } from '../../src/cli/commands/flatten.ts';
import { hardenCommand } from '../../src/cli/commands/harden.ts';
import { runCommand } from '../helpers/cli.ts';
import { REGISTRY_BIN, requireBinary, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { debianBase, type FixtureImage, fixtureImage } from './fixtures.ts';

const run = promisify(execFile);
const skip =
  (await requireBinary(REGISTRY_BIN)) || (await requireBinary('skopeo')) || (await requireBinary('tar'));
let reg: TestRegistry;
let fx: FixtureImage;

before(async () => {
  if (skip) return;
  reg = await startRegistry();
  fx = await fixtureImage([debianBase()], {
    Env: ['PATH=/usr/bin:/bin'],
    Cmd: ['/usr/bin/bash'],
    WorkingDir: '/root',
  });
});
after(async () => {
  await reg?.stop();
  await fx?.cleanup();
});

async function skopeo(...args: string[]): Promise<string> {
  return (await run('skopeo', args, { maxBuffer: 64 << 20 })).stdout;
}

/** `tar -tv` of a layer blob: [type char + mode, size, path]. */
async function listLayer(blob: string): Promise<{ mode: string; size: number; path: string }[]> {
  const { stdout } = await run('tar', ['-tvzf', blob], { maxBuffer: 64 << 20 });
  return stdout
    .trim()
    .split('\n')
    .map((l) => {
      const f = l.split(/\s+/);
      // -rw-r--r-- 0/0  1000 1970-01-01 00:00 path [-> target]
      return {
        mode: f[0]!,
        size: Number(f[2]),
        path: f
          .slice(5)
          .join(' ')
          .replace(/ -> .*$/, ''),
      };
    });
}

interface DirImage {
  manifest: { layers: { digest: string; size: number }[] };
  blob(digest: string): string;
}

async function skopeoDir(from: string, to: string): Promise<DirImage> {
  await skopeo('copy', '--src-tls-verify=false', from, `dir:${to}`);
  const manifest = JSON.parse(await readFile(join(to, 'manifest.json'), 'utf8'));
  return { manifest, blob: (d) => join(to, d.slice('sha256:'.length)) };
}

test(
  'skopeo pushes and reads the hardened image; tar sees only whiteouts in the new layer',
  { skip },
  async () => {
    const hardLayout = join(fx.dir, 'hard');
    const h = await runCommand(hardenCommand, [fx.ref, `oci:${hardLayout}:1`, '--format', 'json']);
    assert.equal(h.code, 0, h.stderr);
    const report = JSON.parse(h.stdout);

    const remote = `docker://${reg.host}/harden/app:1`;
    await skopeo('copy', '--dest-tls-verify=false', `oci:${hardLayout}:1`, remote);
    const inspect = JSON.parse(await skopeo('inspect', '--tls-verify=false', remote));
    assert.equal(inspect.Digest, report.descriptor.digest);
    assert.equal(inspect.Layers.length, 2);
    const config = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--config', remote));
    assert.equal(config.config.User, '65532:65532');
    assert.equal(config.config.WorkingDir, '/root');
    assert.deepEqual(config.config.Cmd, ['/usr/bin/bash']);
    assert.equal(config.history.at(-1).created_by, 'vouch harden');

    const pulled = await skopeoDir(remote, join(fx.dir, 'pulled'));
    const whiteouts = await listLayer(pulled.blob(pulled.manifest.layers[1]!.digest));
    assert.equal(whiteouts.length, report.removed.length);
    for (const e of whiteouts) {
      assert.match(e.path, /(^|\/)\.wh\.[^/]+$/, e.path);
      assert.equal(e.size, 0);
      assert.equal(e.mode[0], '-');
    }
    assert.deepEqual(
      whiteouts.map((e) => `/${e.path.replace('.wh.', '')}`).sort(),
      report.removed.map((r: { path: string }) => r.path).sort(),
    );
  },
);

test('vouch flatten after harden drops the removed files and their bytes', { skip }, async () => {
  const remote = `${reg.host}/harden/app:1`;
  const flatLayout = join(fx.dir, 'flat');
  const plainLayout = join(fx.dir, 'plain');
  const f = await runCommand(flattenCommand, [remote, `oci:${flatLayout}:1`, '--compress', 'gzip']);
  assert.equal(f.code, 0, f.stderr);
  const p = await runCommand(flattenCommand, [fx.ref, `oci:${plainLayout}:1`, '--compress', 'gzip']);
  assert.equal(p.code, 0, p.stderr);

  const flat = await skopeoDir(`oci:${flatLayout}:1`, join(fx.dir, 'flat-dir'));
  const plain = await skopeoDir(`oci:${plainLayout}:1`, join(fx.dir, 'plain-dir'));
  assert.equal(flat.manifest.layers.length, 1);
  const flatFiles = await listLayer(flat.blob(flat.manifest.layers[0]!.digest));
  const plainFiles = await listLayer(plain.blob(plain.manifest.layers[0]!.digest));
  const paths = new Set(flatFiles.map((e) => `/${e.path.replace(/\/$/, '')}`));
  for (const gone of [
    '/usr/bin/apt-get',
    '/usr/bin/dpkg',
    '/var/cache/apt/archives/bash.deb',
    '/usr/share/man',
    '/root/.cache/pip/wheel.whl',
    '/var/lib/apt/lists',
  ]) {
    assert.ok(!paths.has(gone), `${gone} is gone`);
  }
  for (const kept of [
    '/usr/bin/bash',
    '/var/lib/dpkg/status',
    '/usr/share/doc/bash/copyright',
    '/usr/share/locale/locale.alias',
    '/tmp',
    '/var/cache',
  ]) {
    assert.ok(paths.has(kept), `${kept} is kept`);
  }
  assert.ok(!flatFiles.some((e) => e.path.includes('.wh.')));
  const bytes = (l: { size: number; mode: string }[]) =>
    l.filter((e) => e.mode[0] === '-').reduce((n, e) => n + e.size, 0);
  // exactly the removed regular files' bytes are gone
  const h = await runCommand(hardenCommand, [fx.ref, `oci:${join(fx.dir, 'again')}:1`, '--format', 'json']);
  const removedBytes = JSON.parse(h.stdout).total.bytes as number;
  assert.equal(bytes(plainFiles) - bytes(flatFiles), removedBytes);
  assert.ok((await stat(flat.blob(flat.manifest.layers[0]!.digest))).size > 0);
});
