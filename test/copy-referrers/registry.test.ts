/**
 * `copy` carries signatures, attestations and referrers between repositories of the real
 * docker-registry (distribution 2.8: no Referrers API, so referrers live in the tag-schema
 * fallback index), through an OCI layout (air gap), idempotently; checked with the registry
 * client and with skopeo as the independent reader.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type CopyOptions, type CopyResult, copyImage } from '../../src/copy/copy.ts';
import { attachmentTag, openAttachmentEndpoints } from '../../src/copy/referrers.ts';
import type { Digest } from '../../src/digest/digest.ts';
import { isVouchError } from '../../src/errors.ts';
import { encodeJson, parseManifest } from '../../src/oci/manifest.ts';
import { MediaType } from '../../src/oci/media-types.ts';
import type { Reference } from '../../src/oci/reference.ts';
import type { Descriptor, ImageIndex } from '../../src/oci/types.ts';
import { RegistryClient } from '../../src/registry/client.ts';
import { listReferrers, pushReferrer, referrersTag } from '../../src/registry/referrers.ts';
import { openDestination, openSource } from '../../src/transport/open.ts';
import { type BuiltIndex, randomImage, randomIndex } from '../helpers/random-image.ts';
import { REGISTRY_BIN, requireBinary, startRegistry, type TestRegistry } from '../helpers/registry.ts';
import {
  BUNDLE_TYPE,
  type Built,
  bundleReferrer,
  cosignAttestation,
  cosignSignature,
  pushBuilt,
  SPDX_TYPE,
  sbomReferrer,
} from './attachments.ts';

const run = promisify(execFile);
const VOUCH = fileURLToPath(new URL('../../bin/vouch.js', import.meta.url));
const skip = (await requireBinary(REGISTRY_BIN)) || (await requireBinary('skopeo'));

let reg: TestRegistry;
let client: RegistryClient;
let dir: string;
let image: BuiltIndex;

/** Everything attached to `image` in the source repository, and where it hangs. */
interface Expected {
  built: Built;
  subject: Digest;
  /** cosign tag; undefined for referrers */
  tag?: string;
}
let expected: Expected[];

const repo = (repository: string, tag?: string): Reference => ({
  registry: reg.host,
  repository,
  ...(tag ? { tag } : {}),
});

before(async () => {
  if (skip) return;
  reg = await startRegistry();
  client = new RegistryClient({ retry: { attempts: 2, baseDelayMs: 10 } });
  dir = await mkdtemp(join(tmpdir(), 'vouch-copy-referrers-'));
  image = await randomIndex();
  const src = repo('src/app');
  await pushIndex('src/app', image, 'v1');
  const child0 = image.images[0]!.descriptor;
  const indexSig = cosignSignature(image.descriptor.digest, `${reg.host}/src/app`);
  const childSig = cosignSignature(child0.digest, `${reg.host}/src/app`);
  const att = cosignAttestation(image.descriptor.digest);
  const bundle = bundleReferrer(image.descriptor);
  const sbom = sbomReferrer(image.descriptor);
  const sbomBundle = bundleReferrer(sbom.descriptor);
  const sbomSig = cosignSignature(sbom.descriptor.digest, `${reg.host}/src/app`);
  expected = [
    { built: indexSig, subject: image.descriptor.digest, tag: attachmentTag(image.descriptor.digest, 'sig') },
    { built: childSig, subject: child0.digest, tag: attachmentTag(child0.digest, 'sig') },
    { built: att, subject: image.descriptor.digest, tag: attachmentTag(image.descriptor.digest, 'att') },
    { built: bundle, subject: image.descriptor.digest },
    { built: sbom, subject: image.descriptor.digest },
    { built: sbomBundle, subject: sbom.descriptor.digest },
    { built: sbomSig, subject: sbom.descriptor.digest, tag: attachmentTag(sbom.descriptor.digest, 'sig') },
  ];
  for (const e of expected) {
    if (e.tag) {
      await pushBuilt(client, src, e.built, e.tag);
    } else {
      await pushBuilt(client, src, { ...e.built, blobs: e.built.blobs }, undefined);
      await pushReferrer(client, src, e.built.bytes, e.built.descriptor.mediaType);
    }
  }
});

after(async () => {
  await client?.close();
  await reg?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function pushIndex(repository: string, idx: BuiltIndex, tag: string): Promise<void> {
  const dst = await openDestination(`docker://${reg.host}/${repository}:${tag}`);
  try {
    for (const img of idx.images) {
      for (const d of [img.configDescriptor, ...img.layers]) {
        const bytes = img.blobs.get(d.digest)!;
        await dst.putBlob(d, async () => once(bytes));
      }
      await dst.putManifest(img.descriptor, img.manifest);
    }
    await dst.putManifest(idx.descriptor, idx.index);
    await dst.commit(idx.descriptor);
  } finally {
    await dst.close();
  }
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

async function copy(from: string, to: string, o: CopyOptions = {}, attachments = true): Promise<CopyResult> {
  const src = await openSource(from);
  const dst = await openDestination(to);
  const endpoints = attachments ? await openAttachmentEndpoints(from, to) : undefined;
  try {
    return await copyImage(src, dst, { ...o, ...(endpoints ? { attachments: endpoints } : {}) });
  } finally {
    await endpoints?.close();
    await dst.close();
    await src.close();
  }
}

async function skopeoRaw(ref: string): Promise<string> {
  return (await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout;
}

async function fallbackIndex(
  repository: string,
  subject: Digest,
): Promise<{ bytes: Uint8Array; index: ImageIndex }> {
  const m = await client.getManifest(repo(repository, referrersTag(subject)));
  const p = parseManifest(m.bytes, m.mediaType);
  assert.equal(p.kind, 'index');
  return { bytes: m.bytes, index: (p as { index: ImageIndex }).index };
}

/** Every expected attachment is in `repository`, byte-identical, with its blobs and placement. */
async function assertCarried(repository: string): Promise<void> {
  for (const e of expected) {
    const want = Buffer.from(e.built.bytes).toString();
    if (e.tag) {
      const got = await client.getManifest(repo(repository, e.tag));
      assert.equal(Buffer.from(got.bytes).toString(), want, `${e.tag} in ${repository}`);
      assert.equal(await skopeoRaw(`${reg.host}/${repository}:${e.tag}`), want, `skopeo ${e.tag}`);
    } else {
      const got = await client.getManifest({ ...repo(repository), digest: e.built.descriptor.digest });
      assert.equal(Buffer.from(got.bytes).toString(), want);
      const listed = await listReferrers(client, repo(repository), e.subject);
      const entry = listed.find((d) => d.digest === e.built.descriptor.digest);
      assert.ok(entry, `${e.built.descriptor.digest} is a referrer of ${e.subject} in ${repository}`);
      assert.equal(entry.artifactType, e.built.descriptor.artifactType);
    }
    for (const [digest, bytes] of e.built.blobs) {
      assert.deepEqual(await client.headBlob(repo(repository), digest), { size: bytes.byteLength }, digest);
    }
  }
}

test(
  'registry → registry: .sig/.att tags, referrers and nested ones arrive byte-identical',
  { skip },
  async () => {
    const r = await copy(`docker://${reg.host}/src/app:v1`, `docker://${reg.host}/dst/app:v1`);
    assert.equal(r.descriptor.digest, image.descriptor.digest);
    const a = r.attachments!;
    assert.deepEqual(a.notes, []);
    assert.deepEqual(a.skipped, []);
    assert.equal(a.carried.length, expected.length);
    for (const e of expected) {
      const c = a.carried.find((x) => x.digest === e.built.descriptor.digest && x.subject === e.subject);
      assert.ok(c, `carried ${e.built.descriptor.digest}`);
      if (e.tag) {
        assert.equal(c.tag, e.tag);
        assert.equal(c.kind, e.tag.endsWith('.att') ? 'attestation' : 'signature');
      } else {
        assert.equal(c.kind, 'referrer');
        // no Referrers API in distribution 2.8: the fallback index tag is reported
        assert.equal(c.tag, referrersTag(e.subject));
        assert.equal(c.artifactType, e.built.descriptor.artifactType);
      }
    }
    assert.deepEqual(
      new Set(a.carried.filter((c) => c.kind === 'referrer').map((c) => c.artifactType)),
      new Set([BUNDLE_TYPE, SPDX_TYPE]),
    );
    await assertCarried('dst/app');
    // the image itself is untouched
    assert.equal(await skopeoRaw(`${reg.host}/dst/app:v1`), Buffer.from(image.index).toString());
  },
);

test(
  'skopeo reads a carried .sig as a sigstore attachment and copies its signature on',
  { skip },
  async () => {
    await copy(`docker://${reg.host}/src/app:v1`, `docker://${reg.host}/sk/app:v1`);
    const regd = await mkdtemp(join(dir, 'registries.d-'));
    await writeFile(
      join(regd, 'vouch-test.yaml'),
      `docker:\n  ${reg.host}:\n    use-sigstore-attachments: true\n`,
    );
    const child0 = image.images[0]!.descriptor.digest;
    await run('skopeo', [
      'copy',
      '--registries.d',
      regd,
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${reg.host}/sk/app@${child0}`,
      `docker://${reg.host}/sk-out/app:c0`,
    ]);
    // skopeo writes its own .sig manifest: the signed payload layer and its signature must be ours
    const theirs = parseManifest((await client.getManifest(repo('sk-out/app', expected[1]!.tag))).bytes);
    const ours = parseManifest(expected[1]!.built.bytes);
    assert.equal(theirs.kind, 'manifest');
    assert.equal(ours.kind, 'manifest');
    const layer = (m: typeof theirs) => (m.kind === 'manifest' ? m.manifest.layers : []);
    assert.deepEqual(layer(theirs), layer(ours));
  },
);

test('copying twice adds nothing: fallback indexes keep one entry per referrer', { skip }, async () => {
  await copy(`docker://${reg.host}/src/app:v1`, `docker://${reg.host}/again/app:v1`);
  const first = await fallbackIndex('again/app', image.descriptor.digest);
  const second = await copy(`docker://${reg.host}/src/app:v1`, `docker://${reg.host}/again/app:v1`);
  assert.equal(second.attachments!.carried.length, expected.length);
  const after2 = await fallbackIndex('again/app', image.descriptor.digest);
  assert.equal(Buffer.from(after2.bytes).toString(), Buffer.from(first.bytes).toString());
  const digests = after2.index.manifests.map((d) => d.digest);
  assert.equal(digests.length, 2); // bundle + sbom on the image
  assert.equal(new Set(digests).size, digests.length);
  const nested = await fallbackIndex('again/app', expected[4]!.built.descriptor.digest);
  assert.deepEqual(
    nested.index.manifests.map((d) => d.digest),
    [expected[5]!.built.descriptor.digest],
  );
  await assertCarried('again/app');
});

test('air gap: registry → OCI layout → registry carries everything', { skip }, async () => {
  const layout = join(dir, 'airgap');
  const out = await copy(`docker://${reg.host}/src/app:v1`, `oci:${layout}:v1`);
  assert.equal(out.attachments!.carried.length, expected.length);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as ImageIndex;
  const refName = (d: Descriptor) => d.annotations?.['org.opencontainers.image.ref.name'];
  for (const e of expected) {
    const entry = index.manifests.find((d) => d.digest === e.built.descriptor.digest && refName(d) === e.tag);
    assert.ok(entry, `index.json entry for ${e.tag ?? e.built.descriptor.digest}`);
    if (!e.tag) assert.equal(entry.artifactType, e.built.descriptor.artifactType);
    const stored = await readFile(join(layout, 'blobs', 'sha256', e.built.descriptor.digest.slice(7)));
    assert.equal(stored.toString(), Buffer.from(e.built.bytes).toString());
  }
  assert.equal(index.manifests.filter((d) => refName(d) === 'v1').length, 1);
  // the layout copy is idempotent too
  await copy(`docker://${reg.host}/src/app:v1`, `oci:${layout}:v1`);
  const again = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as ImageIndex;
  assert.deepEqual(again, index);

  const back = await copy(`oci:${layout}:v1`, `docker://${reg.host}/airgap/app:v1`);
  assert.equal(back.descriptor.digest, image.descriptor.digest);
  assert.deepEqual(back.attachments!.notes, []);
  assert.equal(back.attachments!.carried.length, expected.length);
  await assertCarried('airgap/app');
});

test('vouch copy prints what it carried; --no-attachments copies the image alone', { skip }, async () => {
  const env = { ...process.env, HOME: dir };
  const { stdout } = await run(
    process.execPath,
    [VOUCH, 'copy', `${reg.host}/src/app:v1`, `${reg.host}/cli/app:v1`],
    { env },
  );
  assert.match(stdout, /attachments: 7/);
  assert.match(stdout, new RegExp(`signature +${expected[0]!.built.descriptor.digest} ${expected[0]!.tag}`));
  assert.match(stdout, new RegExp(`referrer +${expected[3]!.built.descriptor.digest} sha256-`));
  await assertCarried('cli/app');
  const json = await run(
    process.execPath,
    [VOUCH, 'copy', `${reg.host}/src/app:v1`, `${reg.host}/cli/app:v1`, '--json'],
    { env },
  );
  assert.equal(JSON.parse(json.stdout).attachments.carried.length, expected.length);

  await run(
    process.execPath,
    [VOUCH, 'copy', `${reg.host}/src/app:v1`, `${reg.host}/bare/app:v1`, '--no-attachments'],
    {
      env,
    },
  );
  assert.equal(await skopeoRaw(`${reg.host}/bare/app:v1`), Buffer.from(image.index).toString());
  for (const tag of [expected[0]!.tag!, referrersTag(image.descriptor.digest)]) {
    await assert.rejects(client.getManifest(repo('bare/app', tag)), (e: unknown) =>
      isVouchError(e, 'MANIFEST_UNKNOWN'),
    );
  }
});

test(
  'a docker-archive rewrites the image: its attachments are listed as skipped with a note',
  { skip },
  async () => {
    const tar = join(dir, 'app.tar');
    const child0 = image.images[0]!.descriptor;
    const r = await copy(`docker://${reg.host}/src/app:v1`, `docker-archive:${tar}:app:v1`, {
      platform: child0.platform!,
    });
    const a = r.attachments!;
    assert.deepEqual(a.carried, []);
    // only the chosen child was copied: its .sig
    assert.deepEqual(
      a.skipped.map((s) => s.tag),
      [expected[1]!.tag],
    );
    assert.equal(a.notes.length, 1);
    assert.match(
      a.notes[0]!,
      new RegExp(`^1 attachment of ${child0.digest} not copied: the copy rewrote it as sha256:`),
    );
  },
);

test(
  'an oci-archive keeps digests but cannot take attachments yet: all are listed as skipped',
  { skip },
  async () => {
    const r = await copy(`docker://${reg.host}/src/app:v1`, `oci-archive:${join(dir, 'app.oci.tar')}:v1`);
    assert.equal(r.descriptor.digest, image.descriptor.digest);
    const a = r.attachments!;
    assert.deepEqual(a.carried, []);
    // nested ones too: the walk goes on to know what is left behind
    assert.deepEqual(
      new Set(a.skipped.map((s) => s.digest)),
      new Set(expected.map((e) => e.built.descriptor.digest)),
    );
    assert.equal(a.notes.length, 1);
    assert.match(a.notes[0]!, /^7 attachments not copied to oci-archive:.*oci-archive files/);
  },
);

test('a rewritten manifest (--format) leaves its attachments behind with a note', { skip }, async () => {
  const r = await copy(`docker://${reg.host}/src/app:v1`, `docker://${reg.host}/docker/app:v1`, {
    format: 'docker',
  });
  assert.notEqual(r.descriptor.digest, image.descriptor.digest);
  const a = r.attachments!;
  assert.deepEqual(a.carried, []);
  // the index (.sig, .att, bundle, sbom) and child 0 (.sig); child 1 has none, so no note
  assert.equal(a.skipped.length, 5);
  assert.equal(a.notes.length, 2);
  assert.match(a.notes[0]!, new RegExp(`^1 attachment of ${image.images[0]!.descriptor.digest} not copied`));
  assert.match(
    a.notes[1]!,
    new RegExp(`^4 attachments of ${image.descriptor.digest} not copied: the copy rewrote it`),
  );
  await assert.rejects(
    client.getManifest(repo('docker/app', referrersTag(image.descriptor.digest))),
    (e: unknown) => isVouchError(e, 'MANIFEST_UNKNOWN'),
  );
  await assert.rejects(client.getManifest(repo('docker/app', expected[0]!.tag!)), (e: unknown) =>
    isVouchError(e, 'MANIFEST_UNKNOWN'),
  );
});

test('a fallback index entry whose manifest names another subject is not spread', { skip }, async () => {
  const img = await randomImage();
  const other = await randomImage();
  const dst = await openDestination(`docker://${reg.host}/forged/app:v1`);
  for (const i of [img, other]) {
    for (const d of [i.configDescriptor, ...i.layers]) {
      const bytes = i.blobs.get(d.digest)!;
      await dst.putBlob(d, async () => once(bytes));
    }
    await dst.putManifest(i.descriptor, i.manifest);
  }
  await dst.commit(img.descriptor);
  await dst.close();
  const stray = bundleReferrer(other.descriptor);
  await pushBuilt(client, repo('forged/app'), stray);
  // hand-written fallback index for img listing a referrer of `other`
  const forged = encodeJson({
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [{ ...stray.descriptor }],
  });
  await client.putManifest(
    repo('forged/app', referrersTag(img.descriptor.digest)),
    forged,
    MediaType.OciIndex,
  );
  const r = await copy(`docker://${reg.host}/forged/app:v1`, `docker://${reg.host}/forged-copy/app:v1`);
  assert.deepEqual(r.attachments!.carried, []);
  assert.equal(r.attachments!.notes.length, 1);
  assert.match(
    r.attachments!.notes[0]!,
    new RegExp(`${stray.descriptor.digest} .* its subject is ${other.descriptor.digest}`),
  );
});
