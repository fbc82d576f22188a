import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Hook, type MiniRegistry, startMiniRegistry } from '../../test/helpers/http-server.ts';
import { digestOf } from '../digest/digest.ts';
import { isVouchError } from '../errors.ts';
import { MediaType } from '../oci/media-types.ts';
import type { Reference } from '../oci/reference.ts';
import type { Descriptor } from '../oci/types.ts';
import { RegistryClient } from './client.ts';
import { listReferrers, pushReferrer, referrersTag } from './referrers.ts';

const subjectBytes = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: {}, layers: [] }),
);
const subject: Descriptor = {
  mediaType: MediaType.OciManifest,
  digest: digestOf(subjectBytes),
  size: subjectBytes.length,
};
const EMPTY: Descriptor = {
  mediaType: MediaType.OciEmpty,
  digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a' as Descriptor['digest'],
  size: 2,
};

function referrer(artifactType: string, note: string): { bytes: Buffer; desc: Descriptor } {
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType,
      config: EMPTY,
      layers: [EMPTY],
      subject,
      annotations: { note },
    }),
  );
  return {
    bytes,
    desc: {
      mediaType: MediaType.OciManifest,
      digest: digestOf(bytes),
      size: bytes.length,
      artifactType,
      annotations: { note },
    },
  };
}

async function withRegistry(
  hook: Hook | undefined,
  fn: (ref: Reference, reg: MiniRegistry, c: RegistryClient) => Promise<void>,
) {
  const reg = await startMiniRegistry(hook);
  const c = new RegistryClient({ retry: { attempts: 2, baseDelayMs: 5 } });
  try {
    await fn({ registry: reg.host, repository: 'team/app' }, reg, c);
  } finally {
    await c.close();
    await reg.close();
  }
}

test('referrersTag follows the tag schema', () => {
  assert.equal(referrersTag(subject.digest), `sha256-${subject.digest.slice(7)}`);
  const d512 = `sha512:${'a'.repeat(128)}` as Descriptor['digest'];
  assert.equal(referrersTag(d512), `sha512-${'a'.repeat(64)}`);
});

function apiHook(pages: Descriptor[][], o: { filters: boolean }): Hook {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith('/v2/team/app/referrers/')) return false;
    const page = Number(url.searchParams.get('page') ?? 0);
    const type = url.searchParams.get('artifactType');
    const all = pages[page] ?? [];
    const manifests = o.filters && type ? all.filter((d) => d.artifactType === type) : all;
    const headers: Record<string, string> = { 'content-type': MediaType.OciIndex };
    if (page + 1 < pages.length) {
      const next = new URL(url);
      next.searchParams.set('page', String(page + 1));
      headers.link = `<${next.pathname}${next.search}>; rel="next"`;
    }
    if (o.filters && type) headers['oci-filters-applied'] = 'artifactType';
    res.writeHead(200, headers);
    res.end(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
    return true;
  };
}

test('Referrers API: pages are followed; a filter the registry applied is trusted', async () => {
  const a = referrer('application/vnd.example.sig', 'a').desc;
  const b = referrer('application/vnd.example.sbom', 'b').desc;
  const c2 = referrer('application/vnd.example.sig', 'c').desc;
  await withRegistry(apiHook([[a, b], [c2]], { filters: true }), async (ref, reg, c) => {
    assert.deepEqual(await listReferrers(c, ref, subject.digest), [a, b, c2]);
    assert.deepEqual(
      await listReferrers(c, ref, subject.digest, { artifactType: 'application/vnd.example.sig' }),
      [a, c2],
    );
    assert.ok(reg.requests.some((r) => r.url.includes('artifactType=application%2Fvnd.example.sig')));
    assert.ok(!reg.requests.some((r) => r.url.includes('/manifests/sha256-')), 'no tag fallback');
  });
});

test('Referrers API without OCI-Filters-Applied: the client filters itself', async () => {
  const a = referrer('application/vnd.example.sig', 'a').desc;
  const b = referrer('application/vnd.example.sbom', 'b').desc;
  await withRegistry(apiHook([[a], [b]], { filters: false }), async (ref, _reg, c) => {
    assert.deepEqual(
      await listReferrers(c, ref, subject.digest, { artifactType: 'application/vnd.example.sbom' }),
      [b],
    );
  });
});

test('no Referrers API: pushReferrer maintains the tag-schema index, listReferrers reads it', async () => {
  await withRegistry(undefined, async (ref, reg, c) => {
    assert.deepEqual(await listReferrers(c, ref, subject.digest), [], 'nothing yet');
    const sig = referrer('application/vnd.example.sig', 'sig');
    const sbom = referrer('application/vnd.example.sbom', 'sbom');
    const r1 = await pushReferrer(c, ref, sig.bytes, MediaType.OciManifest);
    assert.equal(r1.fallbackTag, referrersTag(subject.digest));
    assert.equal(r1.digest, sig.desc.digest);
    await pushReferrer(c, ref, sbom.bytes, MediaType.OciManifest);
    const indexPuts = () =>
      reg.requests.filter((r) => r.method === 'PUT' && r.url.includes('/manifests/sha256-')).length;
    assert.equal(indexPuts(), 2);
    await pushReferrer(c, ref, sig.bytes, MediaType.OciManifest);
    assert.equal(indexPuts(), 2, 'an entry already there is not added twice');
    assert.deepEqual(await listReferrers(c, ref, subject.digest), [sig.desc, sbom.desc]);
    assert.deepEqual(
      await listReferrers(c, ref, subject.digest, { artifactType: 'application/vnd.example.sbom' }),
      [sbom.desc],
    );
    const stored = reg.manifests.get(`team/app@${referrersTag(subject.digest)}`);
    assert.equal(stored?.mediaType, MediaType.OciIndex);
  });
});

test('a registry that answers OCI-Subject gets no fallback index', async () => {
  const hook: Hook = (req, res, reg) => {
    if (req.method !== 'PUT' || !req.url?.includes('/manifests/')) return false;
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const ch of req) chunks.push(ch as Buffer);
      const bytes = Buffer.concat(chunks);
      const d = digestOf(bytes);
      reg.manifests.set(`team/app@${d}`, { bytes, mediaType: String(req.headers['content-type']) });
      res.writeHead(201, { 'docker-content-digest': d, 'oci-subject': subject.digest }).end();
    })();
    return true;
  };
  await withRegistry(hook, async (ref, reg, c) => {
    const sig = referrer('application/vnd.example.sig', 'sig');
    const r = await pushReferrer(c, ref, sig.bytes, MediaType.OciManifest);
    assert.equal(r.fallbackTag, undefined);
    assert.equal(reg.requests.filter((x) => x.method === 'PUT').length, 1);
  });
});

test('a manifest without subject is refused', async () => {
  await withRegistry(undefined, async (ref, _reg, c) => {
    await assert.rejects(pushReferrer(c, ref, subjectBytes, MediaType.OciManifest), (e) =>
      isVouchError(e, 'MANIFEST_INVALID'),
    );
  });
});
