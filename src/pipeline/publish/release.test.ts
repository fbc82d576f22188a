import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { randomImage, writeLayout } from '../../../test/helpers/random-image.ts';
import { type Digest, digestOf } from '../../digest/digest.ts';
import { VouchError } from '../../errors.ts';
import { encodeJson } from '../../oci/manifest.ts';
import { MediaType } from '../../oci/media-types.ts';
import type { Descriptor } from '../../oci/types.ts';
import { LayoutStore } from '../../sign/image/layout-store.ts';
import type { AttachmentStore } from '../../sign/image/store.ts';
import { signingKeyFromKeyObject } from '../../sign/keys/signing-key.ts';
import { ensureLayout, openLayoutSource } from '../../source/layout/layout.ts';
import type { ImageSource } from '../../source/types.ts';
import type { PipelineSigner } from '../signer.ts';
import { publishRelease, type Release } from './release.ts';
import type { PublishTarget } from './target.ts';

let dir: string;
let source: ImageSource;
let release: Release;
const key = signingKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);

function signer(storage: 'tag' | 'referrers'): PipelineSigner {
  return {
    identity: { kind: 'key', key },
    storage,
    rekorUrl: undefined,
    tsaUrl: undefined,
    key,
    signBlob: async (b) => key.sign(b),
    verifyBlob: (b, s) => key.verify(b, s),
    description: 'test key',
  };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-release-'));
  const img = await randomImage({ layerCount: 2 });
  await writeLayout(join(dir, 'work'), [{ descriptor: img.descriptor, tag: 'x' }], img.blobs);
  source = await openLayoutSource(join(dir, 'work'));
  const { platform: _p, ...descriptor } = img.descriptor;
  const indexBytes = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [{ ...descriptor, platform: { os: 'linux', architecture: 'amd64' } }],
  });
  const index: Descriptor = {
    mediaType: MediaType.OciIndex,
    digest: digestOf(indexBytes),
    size: indexBytes.byteLength,
  };
  release = {
    repository: 'registry.example/team/app',
    images: [
      {
        name: 'amd64',
        tag: '1.0.0-amd64',
        descriptor,
        bytes: img.manifest,
        blobs: [img.configDescriptor, ...img.layers],
        attestations: [
          { what: 'provenance', predicateType: 'https://slsa.dev/provenance/v1', predicate: { a: 1 } },
        ],
      },
    ],
    index: { name: 'index', tag: '1.0.0', descriptor: index, bytes: indexBytes, blobs: [], attestations: [] },
  };
});
after(async () => {
  await source?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A target that records every move, with attachments in a real OCI layout (optionally refusing referrers). */
async function recordingTarget(
  name: string,
  o: { refuseReferrerBeforeSubject?: boolean } = {},
): Promise<PublishTarget & { calls: string[] }> {
  await ensureLayout(join(dir, name));
  const calls: string[] = [];
  const manifests = new Set<Digest>();
  const layout = new LayoutStore(join(dir, name));
  const attachments: AttachmentStore = {
    name: layout.name,
    resolve: (sel) => layout.resolve(sel),
    getTagged: (t) => layout.getTagged(t),
    getManifest: (d) => layout.getManifest(d),
    readBlob: (d, m) => layout.readBlob(d, m),
    putBlob: (d, b) => layout.putBlob(d, b),
    async putManifest(bytes, mt, tag) {
      calls.push(`attach ${tag ?? digestOf(bytes)}`);
      return layout.putManifest(bytes, mt, tag);
    },
    listReferrers: (sub, t) => layout.listReferrers(sub, t),
    async pushReferrer(bytes, mt) {
      const subject = (JSON.parse(Buffer.from(bytes).toString()) as { subject: Descriptor }).subject.digest;
      if (o.refuseReferrerBeforeSubject && !manifests.has(subject)) {
        throw new VouchError('MANIFEST_UNKNOWN', `subject ${subject} unknown`);
      }
      calls.push(`referrer of ${subject}`);
      return layout.pushReferrer(bytes, mt);
    },
    close: async () => {},
  };
  return {
    name,
    calls,
    attachments,
    pinned: (tag, digest) => `${name}:${tag}@${digest}`,
    async putBlob(d) {
      calls.push(`blob ${d.digest}`);
      return 'uploaded';
    },
    async putManifest(d) {
      manifests.add(d.digest);
      calls.push(`manifest ${d.digest}`);
    },
    async putTag(_d, _b, tag) {
      calls.push(`tag ${tag}`);
    },
    close: async () => {},
  };
}

function position(calls: string[], prefix: string): number {
  const i = calls.findIndex((c) => c.startsWith(prefix));
  assert.ok(i >= 0, `no "${prefix}" in ${calls.join(' | ')}`);
  return i;
}

test('order with cosign tags: blobs, then .sig/.att, then manifests by digest, then tags (index last)', async () => {
  const t = await recordingTarget('tags');
  const r = await publishRelease(t, release, { source, signer: signer('tag'), now: new Date(0) });
  const img = release.images[0]!.descriptor.digest.slice(7);
  const idx = release.index.descriptor.digest.slice(7);
  const sig = position(t.calls, `attach sha256-${img}.sig`);
  const att = position(t.calls, `attach sha256-${img}.att`);
  const idxSig = position(t.calls, `attach sha256-${idx}.sig`);
  const manifest = position(t.calls, `manifest ${release.images[0]!.descriptor.digest}`);
  const idxManifest = position(t.calls, `manifest ${release.index.descriptor.digest}`);
  assert.ok(position(t.calls, 'blob ') < sig);
  assert.ok(Math.max(sig, att, idxSig) < Math.min(manifest, idxManifest));
  assert.ok(manifest < idxManifest, 'children before the index');
  assert.deepEqual(t.calls.slice(-2), ['tag 1.0.0-amd64', 'tag 1.0.0']);
  assert.equal(r.manifestsFirst, false);
  assert.equal(r.blobs.uploaded, 3);
  assert.deepEqual(
    r.subjects.map((s) => [s.tag, s.attached.map((a) => `${a.what}:${a.added}`)]),
    [
      ['1.0.0-amd64', ['signature:true', 'provenance:true']],
      ['1.0.0', ['signature:true']],
    ],
  );

  // Again: the same key's signatures are found, nothing is attached twice.
  t.calls.length = 0;
  const again = await publishRelease(t, release, { source, signer: signer('tag'), now: new Date(0) });
  assert.ok(again.subjects.every((s) => s.attached.every((a) => !a.added)));
  assert.ok(!t.calls.some((c) => c.startsWith('attach ')));
});

test('referrers: bundles before manifests; found again on a re-run; a registry refusing them gets the manifests first, tags still last', async () => {
  const t = await recordingTarget('referrers');
  await publishRelease(t, release, { source, signer: signer('referrers'), now: new Date(0) });
  const manifest = position(t.calls, `manifest ${release.images[0]!.descriptor.digest}`);
  assert.ok(position(t.calls, `referrer of ${release.images[0]!.descriptor.digest}`) < manifest);
  t.calls.length = 0;
  const again = await publishRelease(t, release, { source, signer: signer('referrers'), now: new Date(0) });
  assert.ok(
    again.subjects.every((s) => s.attached.every((a) => !a.added)),
    'existing bundles by this key are reused',
  );
  assert.ok(!t.calls.some((c) => c.startsWith('referrer ')));

  const strict = await recordingTarget('strict', { refuseReferrerBeforeSubject: true });
  const r = await publishRelease(strict, release, { source, signer: signer('referrers'), now: new Date(0) });
  assert.equal(r.manifestsFirst, true);
  const m = position(strict.calls, `manifest ${release.images[0]!.descriptor.digest}`);
  const ref = position(strict.calls, `referrer of ${release.images[0]!.descriptor.digest}`);
  assert.ok(m < ref && ref < position(strict.calls, 'tag '));
  assert.deepEqual(strict.calls.slice(-2), ['tag 1.0.0-amd64', 'tag 1.0.0']);
});

test('an error that is not about a missing subject is not retried', async () => {
  const t = await recordingTarget('denied');
  t.attachments.putManifest = async () => {
    throw new VouchError('DENIED', 'push denied');
  };
  await assert.rejects(
    publishRelease(t, release, { source, signer: signer('tag'), now: new Date(0) }),
    (e: unknown) => e instanceof VouchError && e.code === 'DENIED',
  );
  assert.ok(!t.calls.some((c) => c.startsWith('tag ')), 'no tag after a failure');
});
