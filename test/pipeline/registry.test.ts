/**
 * The whole pipeline against the real docker-registry (distribution 2.8) on 127.0.0.1, behind a
 * recording proxy that sees every request in order. Proves the sign-before-push order (for each
 * image and the index: signature and attestations, then the manifest by digest, then the tag,
 * and the tags only after everything else), that skopeo reads what was pushed, that `vouch verify`
 * and `verify-attestation` accept it with the key, and that a re-run changes nothing: same
 * digests, the artifact store byte for byte, no signature written twice. Both storage schemes:
 * cosign `.sig`/`.att` tags and Sigstore bundle referrers (tag-schema fallback on this registry).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { verifyCommand } from '../../src/cli/commands/verify.ts';
import { verifyAttestationCommand } from '../../src/cli/commands/verify-attestation.ts';
import { runCommand } from '../helpers/cli.ts';
import { REGISTRY_BIN, requireBinary, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import { makeProject, type Project, type Ran, runIn, snapshot } from './project.ts';
import { type RecordedRequest, type RecordingProxy, startRecordingProxy } from './recording-proxy.ts';

const run = promisify(execFile);
const skip = (await requireBinary(REGISTRY_BIN)) || (await requireBinary('skopeo'));

let reg: TestRegistry;
let proxy: RecordingProxy;

before(async () => {
  if (skip) return;
  reg = await startRegistry();
  proxy = await startRecordingProxy(reg.url);
});

after(async () => {
  await proxy?.close();
  await reg?.stop();
});

interface Put {
  seq: number;
  ref: string;
}

/** Manifest PUTs to `repo` in arrival order, the reference (tag or digest) decoded. */
function manifestPuts(requests: readonly RecordedRequest[], repo: string): Put[] {
  const prefix = `/v2/${repo}/manifests/`;
  return requests
    .filter((r) => r.method === 'PUT' && r.url.startsWith(prefix))
    .map((r) => {
      assert.ok(r.status !== undefined && r.status < 300, `PUT ${r.url} answered ${r.status}`);
      return { seq: r.seq, ref: decodeURIComponent(r.url.slice(prefix.length).split('?')[0] ?? '') };
    });
}

function first(puts: readonly Put[], ref: string): number {
  const p = puts.find((x) => x.ref === ref);
  assert.ok(p, `no PUT of manifests/${ref}; PUTs: ${puts.map((x) => x.ref).join(', ')}`);
  return p.seq;
}

function subjects(r: Ran, version: string): { digest: string; tag: string }[] {
  assert.ok(r.index, 'the run computed an index');
  return [
    ...Object.entries(r.images).map(([arch, digest]) => ({ digest, tag: `${version}-${arch}` })),
    { digest: r.index, tag: version },
  ];
}

async function skopeo(...args: string[]): Promise<string> {
  return (await run('skopeo', args, { maxBuffer: 64 << 20 })).stdout;
}

async function verifyAll(p: Project, name: string, r: Ran, version: string): Promise<void> {
  const io = { env: p.env, cwd: p.dir, rethrow: true };
  for (const s of subjects(r, version)) {
    const v = await runCommand(verifyCommand, ['--key', p.publicKey, `${name}:${s.tag}`], io);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, new RegExp(`Verified 1 signature of .*${s.digest}`));
  }
  for (const type of ['slsaprovenance1', 'cyclonedx', 'spdxjson', 'vuln']) {
    const v = await runCommand(
      verifyAttestationCommand,
      ['--key', p.publicKey, '--type', type, `${name}:${version}-amd64`],
      io,
    );
    assert.equal(v.code, 0, `${type}: ${v.stderr}`);
  }
}

test(
  'tag storage: every .sig and .att lands before its manifest, manifests before tags; skopeo reads it, vouch verifies it, a re-run changes nothing',
  { skip },
  async () => {
    const repo = 'team/hello';
    const name = `${proxy.host}/${repo}`;
    const p = await makeProject({ name });
    try {
      proxy.clear();
      const r = await runIn(p);
      assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
      assert.deepEqual(Object.keys(r.images), ['amd64', 'arm64']);
      const puts = manifestPuts(proxy.requests, repo);
      const versionTags = new Set(['1.2.3', '1.2.3-amd64', '1.2.3-arm64']);
      for (const s of subjects(r, '1.2.3')) {
        const hex = s.digest.slice('sha256:'.length);
        const sig = first(puts, `sha256-${hex}.sig`);
        const att = first(puts, `sha256-${hex}.att`);
        const byDigest = first(puts, s.digest);
        const tag = first(puts, s.tag);
        assert.ok(
          sig < byDigest && att < byDigest,
          `${s.tag}: signature (${sig}) and attestations (${att}) precede the manifest (${byDigest})`,
        );
        assert.ok(byDigest < tag, `${s.tag}: the manifest by digest (${byDigest}) precedes the tag (${tag})`);
        // Every later write to the .att tag (SBOMs, scan) also comes before the tag.
        for (const x of puts.filter((q) => q.ref.startsWith(`sha256-${hex}.`))) assert.ok(x.seq < tag);
      }
      const firstTag = Math.min(...puts.filter((x) => versionTags.has(x.ref)).map((x) => x.seq));
      const lastOther = Math.max(...puts.filter((x) => !versionTags.has(x.ref)).map((x) => x.seq));
      assert.ok(lastOther < firstTag, 'no version tag is written before every signature and manifest is in');
      assert.equal(puts.filter((x) => x.ref === '1.2.3').length, 1);
      assert.equal(puts.at(-1)?.ref, '1.2.3', 'the index tag is the very last write');
      const pushEnd = r.events.find((e) => e.event === 'stage-end' && e.stage === 'push');
      assert.equal(
        pushEnd?.event === 'stage-end' && pushEnd.figures.order,
        'blobs, signatures, manifests, tags',
      );

      // skopeo, an independent client, reads the images and the index with the same digests.
      const inspect = JSON.parse(
        await skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/${repo}:1.2.3-arm64`),
      ) as {
        Digest: string;
        Architecture: string;
        Labels: Record<string, string>;
      };
      assert.equal(inspect.Digest, r.images.arm64);
      assert.equal(inspect.Architecture, 'arm64');
      assert.equal(inspect.Labels['org.opencontainers.image.version'], '1.2.3');
      assert.equal(inspect.Labels['org.opencontainers.image.created'], '2023-11-14T22:13:20Z');
      const raw = await skopeo(
        'inspect',
        '--tls-verify=false',
        '--raw',
        `docker://${reg.host}/${repo}:1.2.3`,
      );
      assert.equal(`sha256:${createHash('sha256').update(raw).digest('hex')}`, r.index);
      assert.equal(r.pinned, `${name}:1.2.3@${r.index}`);

      await verifyAll(p, name, r, '1.2.3');

      // Re-run: same digests, the store unchanged, no signature or attestation written again.
      const store = await snapshot(join(p.dir, 'artifacts'));
      assert.equal(store.size, 16, [...store.keys()].join(', '));
      proxy.clear();
      const again = await runIn(p);
      assert.equal(again.exitCode, 0, JSON.stringify(again.failed));
      assert.deepEqual(again.images, r.images);
      assert.equal(again.index, r.index);
      assert.deepEqual(await snapshot(join(p.dir, 'artifacts')), store);
      const rewritten = manifestPuts(proxy.requests, repo).filter((x) =>
        /^sha256-[0-9a-f]{64}\./.test(x.ref),
      );
      assert.deepEqual(rewritten, [], 'no .sig or .att manifest is written again');
      const tags = JSON.parse(
        await skopeo('list-tags', '--tls-verify=false', `docker://${reg.host}/${repo}`),
      ) as {
        Tags: string[];
      };
      assert.equal(tags.Tags.length, 9, tags.Tags.join(', ')); // 3 version tags + .sig and .att of 3 subjects
    } finally {
      await p.cleanup();
    }
  },
);

test(
  'referrers storage: bundle referrers and their fallback index land before the manifest and the tag; verify accepts them; a re-run adds none',
  { skip },
  async () => {
    const repo = 'team/hello-referrers';
    const name = `${proxy.host}/${repo}`;
    const p = await makeProject({ name, storage: 'referrers', version: '2.0.0', architectures: ['amd64'] });
    try {
      proxy.clear();
      const r = await runIn(p);
      assert.equal(r.exitCode, 0, JSON.stringify(r.failed));
      const puts = manifestPuts(proxy.requests, repo);
      for (const s of subjects(r, '2.0.0')) {
        const hex = s.digest.slice('sha256:'.length);
        const fallback = first(puts, `sha256-${hex}`);
        const byDigest = first(puts, s.digest);
        const tag = first(puts, s.tag);
        assert.ok(
          fallback < byDigest,
          `${s.tag}: referrers (${fallback}) precede the manifest (${byDigest})`,
        );
        assert.ok(byDigest < tag);
        for (const x of puts.filter((q) => q.ref === `sha256-${hex}`)) assert.ok(x.seq < tag);
      }
      await verifyAll(p, name, r, '2.0.0');

      proxy.clear();
      const again = await runIn(p);
      assert.equal(again.exitCode, 0, JSON.stringify(again.failed));
      assert.deepEqual(again.images, r.images);
      const rewritten = manifestPuts(proxy.requests, repo).filter((x) => /^sha256-[0-9a-f]{64}$/.test(x.ref));
      assert.deepEqual(rewritten, [], 'no referrer is pushed again');
    } finally {
      await p.cleanup();
    }
  },
);
