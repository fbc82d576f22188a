/**
 * copyAttachments without external tools: OCI layouts (directory and tar), and the in-memory
 * registry taught the Referrers API (which Debian's docker-registry lacks). The real-registry
 * and skopeo checks are in test/copy-referrers/.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  BUNDLE_TYPE,
  type Built,
  bundleReferrer,
  cosignSignature,
  EMPTY,
  pushBuilt,
  sbomReferrer,
} from '../../test/copy-referrers/attachments.ts';
import { type Hook, type MiniRegistry, readBody, startMiniRegistry } from '../../test/helpers/http-server.ts';
import { randomImage, writeLayout } from '../../test/helpers/random-image.ts';
import { type Digest, digestOf } from '../digest/digest.ts';
import { isVouchError } from '../errors.ts';
import { parseManifest } from '../oci/manifest.ts';
import { MediaType } from '../oci/media-types.ts';
import type { Descriptor, ImageIndex } from '../oci/types.ts';
import { RegistryClient } from '../registry/client.ts';
import { pushReferrer, referrersTag } from '../registry/referrers.ts';
import { writeLayoutTar } from '../source/layout/layout.ts';
import { openDestination, openSource } from '../transport/open.ts';
import { type CopyResult, copyImage } from './copy.ts';
import { attachmentTag, openAttachmentEndpoints } from './referrers.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-referrers-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function copy(from: string, to: string): Promise<CopyResult> {
  const src = await openSource(from);
  const dst = await openDestination(to);
  const attachments = await openAttachmentEndpoints(from, to);
  try {
    return await copyImage(src, dst, { attachments });
  } finally {
    await attachments.close();
    await dst.close();
    await src.close();
  }
}

async function readIndex(layout: string): Promise<ImageIndex> {
  return JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as ImageIndex;
}

const refName = (d: Descriptor) => d.annotations?.['org.opencontainers.image.ref.name'];

/** A layout holding an image, its cosign .sig, an SBOM referrer and a bundle on the SBOM. */
async function sourceLayout(name: string) {
  const img = await randomImage();
  const sig = cosignSignature(img.descriptor.digest, 'example.com/app');
  const sbom = sbomReferrer(img.descriptor);
  const sbomBundle = bundleReferrer(sbom.descriptor);
  const blobs = new Map(img.blobs);
  for (const b of [sig, sbom, sbomBundle]) {
    for (const [d, bytes] of b.blobs) blobs.set(d, bytes);
    blobs.set(b.descriptor.digest, b.bytes);
  }
  const path = join(dir, name);
  await writeLayout(
    path,
    [
      { descriptor: img.descriptor, tag: 'v1' },
      { descriptor: sig.descriptor, tag: attachmentTag(img.descriptor.digest, 'sig') },
      { descriptor: sbom.descriptor },
      { descriptor: sbomBundle.descriptor },
    ],
    blobs,
  );
  return { path, img, sig, sbom, sbomBundle };
}

test('attachmentTag is cosign’s sha256-<hex>.<suffix>', () => {
  const d = digestOf('x');
  assert.equal(attachmentTag(d, 'sig'), `sha256-${d.slice(7)}.sig`);
  assert.equal(attachmentTag(d, 'att'), `sha256-${d.slice(7)}.att`);
  assert.equal(attachmentTag(d, 'sbom'), `sha256-${d.slice(7)}.sbom`);
});

test('layout → layout: tags and nested referrers become index.json entries, once', async () => {
  const s = await sourceLayout('src1');
  const out = join(dir, 'out1');
  const r = await copy(`oci:${s.path}:v1`, `oci:${out}:v1`);
  const a = r.attachments!;
  assert.deepEqual(
    a.carried.map((c) => [c.kind, c.digest, c.subject, c.tag]),
    [
      ['referrer', s.sbom.descriptor.digest, s.img.descriptor.digest, undefined],
      [
        'signature',
        s.sig.descriptor.digest,
        s.img.descriptor.digest,
        attachmentTag(s.img.descriptor.digest, 'sig'),
      ],
      ['referrer', s.sbomBundle.descriptor.digest, s.sbom.descriptor.digest, undefined],
    ],
  );
  assert.equal(a.carried[2]!.artifactType, BUNDLE_TYPE);
  const index = await readIndex(out);
  assert.deepEqual(
    index.manifests.map((d) => [d.digest, refName(d), d.artifactType]),
    [
      [s.sbom.descriptor.digest, undefined, s.sbom.descriptor.artifactType],
      [s.sig.descriptor.digest, attachmentTag(s.img.descriptor.digest, 'sig'), undefined],
      [s.sbomBundle.descriptor.digest, undefined, BUNDLE_TYPE],
      [s.img.descriptor.digest, 'v1', undefined],
    ],
  );
  for (const b of [s.sig, s.sbom, s.sbomBundle]) {
    const stored = await readFile(join(out, 'blobs', 'sha256', b.descriptor.digest.slice(7)));
    assert.ok(stored.equals(b.bytes));
    for (const [d, bytes] of b.blobs)
      assert.ok((await readFile(join(out, 'blobs', 'sha256', d.slice(7)))).equals(bytes));
  }
  // the copy reads back as a layout whose referrers are found again
  const again = await openSource(`oci:${out}:v1`);
  const listed = await again.listReferrers!(s.img.descriptor);
  await again.close();
  assert.deepEqual(
    listed.map((d) => d.digest),
    [s.sbom.descriptor.digest],
  );
  const before = await readFile(join(out, 'index.json'));
  const second = await copy(`oci:${s.path}:v1`, `oci:${out}:v1`);
  assert.equal(second.attachments!.carried.length, 3);
  assert.ok(
    (await readFile(join(out, 'index.json'))).equals(before),
    'index.json unchanged by a second copy',
  );
});

test('an untagged layout destination keeps the image readable: attachments are skipped with a note', async () => {
  const s = await sourceLayout('src4');
  const out = join(dir, 'out4');
  const r = await copy(`oci:${s.path}:v1`, `oci:${out}`);
  assert.deepEqual(r.attachments!.carried, []);
  assert.equal(r.attachments!.skipped.length, 3);
  assert.match(
    r.attachments!.notes[0]!,
    new RegExp(`^3 attachments not copied to oci:.*: name the image \\(oci:${out}:TAG\\)`),
  );
  assert.deepEqual(
    (await readIndex(out)).manifests.map((d) => d.digest),
    [s.img.descriptor.digest],
  );
  const back = await openSource(`oci:${out}`);
  assert.equal((await back.resolve()).digest, s.img.descriptor.digest);
  await back.close();
});

test('an oci-archive source has its tags and referrers read too', async () => {
  const s = await sourceLayout('src2');
  const tar = join(dir, 'src2.tar');
  await writeLayoutTar(s.path, tar);
  const out = join(dir, 'out2');
  const r = await copy(`oci-archive:${tar}:v1`, `oci:${out}:v1`);
  assert.equal(r.attachments!.carried.length, 3);
  const tags = (await readIndex(out)).manifests.map(refName);
  assert.ok(tags.includes(attachmentTag(s.img.descriptor.digest, 'sig')));
});

test('an empty config blob a producer left out of the source is written from its well-known bytes', async () => {
  const s = await sourceLayout('src3');
  await unlink(join(s.path, 'blobs', 'sha256', EMPTY.digest.slice(7)));
  const out = join(dir, 'out3');
  const r = await copy(`oci:${s.path}:v1`, `oci:${out}:v1`);
  assert.equal(r.attachments!.carried.length, 3);
  assert.equal(await readFile(join(out, 'blobs', 'sha256', EMPTY.digest.slice(7)), 'utf8'), '{}');
});

/** The in-memory registry with the Referrers API: OCI-Subject on push, GET /referrers/<digest>. */
function referrersApi(): Hook {
  const bySubject = new Map<string, Descriptor[]>();
  return async (req, res, reg) => {
    const url = new URL(req.url ?? '/', reg.url);
    const ref = /^\/v2\/(.+)\/referrers\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (ref && req.method === 'GET') {
      const manifests = bySubject.get(`${ref[1]}@${ref[2]}`) ?? [];
      res.writeHead(200, { 'content-type': MediaType.OciIndex });
      res.end(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
      return true;
    }
    const put = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (!put || req.method !== 'PUT') return false;
    const bytes = await readBody(req);
    const mediaType = String(req.headers['content-type'] ?? '');
    const digest = digestOf(bytes);
    reg.manifests.set(`${put[1]}@${put[2]}`, { bytes, mediaType });
    reg.manifests.set(`${put[1]}@${digest}`, { bytes, mediaType });
    const p = parseManifest(bytes, mediaType);
    const m = p.kind === 'index' ? p.index : p.manifest;
    const headers: Record<string, string> = { 'docker-content-digest': digest };
    if (m.subject) {
      const key = `${put[1]}@${m.subject.digest}`;
      const list = bySubject.get(key) ?? [];
      if (!list.some((d) => d.digest === digest)) {
        list.push({
          mediaType,
          digest,
          size: bytes.length,
          ...(m.artifactType ? { artifactType: m.artifactType } : {}),
        });
      }
      bySubject.set(key, list);
      headers['oci-subject'] = m.subject.digest;
    }
    res.writeHead(201, headers).end();
    return true;
  };
}

async function pushImage(c: RegistryClient, host: string, repository: string, built: Built, tag: string) {
  await pushBuilt(c, { registry: host, repository }, built, tag);
}

test('with a Referrers API on both sides no fallback tag is read or written', async () => {
  const reg: MiniRegistry = await startMiniRegistry(referrersApi());
  const c = new RegistryClient({ retry: { attempts: 1, baseDelayMs: 1 } });
  try {
    const img = await randomImage();
    const blobs = new Map(img.blobs);
    blobs.delete(img.descriptor.digest);
    await pushImage(c, reg.host, 'src/app', { descriptor: img.descriptor, bytes: img.manifest, blobs }, 'v1');
    const bundle = bundleReferrer(img.descriptor);
    await pushBuilt(c, { registry: reg.host, repository: 'src/app' }, bundle);
    const pushed = await pushReferrer(
      c,
      { registry: reg.host, repository: 'src/app' },
      bundle.bytes,
      MediaType.OciManifest,
    );
    assert.equal(pushed.fallbackTag, undefined);
    const r = await copy(`docker://${reg.host}/src/app:v1`, `docker://${reg.host}/dst/app:v1`);
    assert.deepEqual(
      r.attachments!.carried.map((x) => [x.kind, x.digest, x.tag]),
      [['referrer', bundle.descriptor.digest, undefined]],
    );
    const fallback = referrersTag(img.descriptor.digest);
    assert.equal(reg.manifests.get(`dst/app@${fallback}`), undefined);
    assert.ok(!reg.requests.some((q) => q.url.endsWith(`/manifests/${fallback}`)), 'no fallback tag request');
    const got = reg.manifests.get(`dst/app@${bundle.descriptor.digest}`);
    assert.ok(got?.bytes.equals(bundle.bytes));
  } finally {
    await c.close();
    await reg.close();
  }
});

test('a failing source registry fails the copy before the tag is written, naming --no-attachments', async () => {
  const reg = await startMiniRegistry((req, res) => {
    if (!/\.sig$/.test(req.url ?? '')) return false;
    res.writeHead(403, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'DENIED', message: 'no signatures for you' }] }));
    return true;
  });
  const c = new RegistryClient({ retry: { attempts: 1, baseDelayMs: 1 } });
  try {
    const img = await randomImage();
    const blobs = new Map(img.blobs);
    blobs.delete(img.descriptor.digest);
    await pushImage(c, reg.host, 'src/app', { descriptor: img.descriptor, bytes: img.manifest, blobs }, 'v1');
    await assert.rejects(
      copy(`docker://${reg.host}/src/app:v1`, `docker://${reg.host}/dst/app:v1`),
      (e: unknown) => {
        assert.ok(isVouchError(e, 'DENIED'), String(e));
        assert.match(e.message, /^copying signatures and referrers to docker:\/\//);
        assert.match(e.hint ?? '', /--no-attachments/);
        return true;
      },
    );
    assert.equal(reg.manifests.get('dst/app@v1'), undefined, 'the destination tag was not written');
    assert.ok(reg.manifests.get(`dst/app@${img.descriptor.digest as Digest}`), 'the image itself was');
  } finally {
    await c.close();
    await reg.close();
  }
});
