import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Hook, listen, sendError, startMiniRegistry } from '../../test/helpers/http-server.ts';
import { makeSelfSignedCert } from '../../test/helpers/registry.ts';
import { type Digest, digestOf } from '../digest/digest.ts';
import { isVouchError } from '../errors.ts';
import { MediaType } from '../oci/media-types.ts';
import type { Reference } from '../oci/reference.ts';
import { RegistryClient } from './client.ts';

async function* stream(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* parts;
}

const fast = { retry: { attempts: 4, baseDelayMs: 5 } };
const manifest = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: {}, layers: [] }),
);

async function withRegistry(
  hook: Hook | undefined,
  fn: (
    ref: Reference,
    reg: Awaited<ReturnType<typeof startMiniRegistry>>,
    c: RegistryClient,
  ) => Promise<void>,
  opts = {},
) {
  const reg = await startMiniRegistry(hook);
  const c = new RegistryClient({ ...fast, ...opts });
  try {
    await fn({ registry: reg.host, repository: 'team/app', tag: 'v1' }, reg, c);
  } finally {
    await c.close();
    await reg.close();
  }
}

test('manifest round trip: byte-exact, digest computed, HEAD agrees', async () => {
  await withRegistry(undefined, async (ref, reg, c) => {
    const put = await c.putManifest(ref, manifest, MediaType.OciManifest);
    assert.equal(put.digest, digestOf(manifest));
    assert.equal(put.subject, undefined);
    const got = await c.getManifest(ref);
    assert.deepEqual(Buffer.from(got.bytes), manifest);
    assert.deepEqual(got.descriptor, {
      mediaType: MediaType.OciManifest,
      digest: put.digest,
      size: manifest.length,
    });
    assert.deepEqual(await c.headManifest(ref), got.descriptor);
    assert.equal(await c.headManifest({ ...ref, tag: 'nope' }), undefined);
    const byDigest = await c.getManifest({
      registry: ref.registry,
      repository: ref.repository,
      digest: put.digest,
    });
    assert.equal(byDigest.descriptor.digest, put.digest);
    assert.equal(reg.requests.filter((r) => r.method === 'PUT').length, 1);
  });
});

test('pushing bytes to a digest they do not hash to fails before any request', async () => {
  await withRegistry(undefined, async (ref, reg, c) => {
    const wrong = digestOf('other');
    await assert.rejects(
      c.putManifest(
        { registry: ref.registry, repository: ref.repository, digest: wrong },
        manifest,
        MediaType.OciManifest,
      ),
      (e) => isVouchError(e, 'DIGEST_MISMATCH'),
    );
    assert.equal(reg.requests.filter((r) => r.method === 'PUT').length, 0);
  });
});

test('a lying Docker-Content-Digest on a by-tag fetch is DIGEST_MISMATCH', async () => {
  const lie: Hook = (req, res) => {
    if (req.method !== 'GET' || !req.url?.includes('/manifests/')) return false;
    res.writeHead(200, {
      'content-type': MediaType.OciManifest,
      'docker-content-digest': digestOf('something else'),
    });
    res.end(manifest);
    return true;
  };
  await withRegistry(lie, async (ref, _reg, c) => {
    await assert.rejects(c.getManifest(ref), (e) => {
      assert.ok(isVouchError(e, 'DIGEST_MISMATCH'));
      assert.match(e.message, new RegExp(digestOf(manifest)));
      return true;
    });
  });
});

test('a by-digest fetch whose content differs is DIGEST_MISMATCH even without headers', async () => {
  const swap: Hook = (req, res) => {
    if (req.method !== 'GET' || !req.url?.includes('/manifests/')) return false;
    res.writeHead(200, { 'content-type': MediaType.OciManifest });
    res.end(manifest);
    return true;
  };
  await withRegistry(swap, async (ref, _reg, c) => {
    const want = digestOf('{"schemaVersion":2}');
    await assert.rejects(
      c.getManifest({ registry: ref.registry, repository: ref.repository, digest: want }),
      (e) => isVouchError(e, 'DIGEST_MISMATCH'),
    );
  });
});

test('missing manifests and blobs map to MANIFEST_UNKNOWN / BLOB_UNKNOWN', async () => {
  await withRegistry(undefined, async (ref, _reg, c) => {
    await assert.rejects(c.getManifest(ref), (e) => isVouchError(e, 'MANIFEST_UNKNOWN'));
    await assert.rejects(c.getBlob(ref, digestOf('x'), 1), (e) => isVouchError(e, 'BLOB_UNKNOWN'));
    assert.equal(await c.headBlob(ref, digestOf('x')), undefined);
  });
});

test('429 with Retry-After is waited for, then the request succeeds', async () => {
  let n = 0;
  const limited: Hook = (req, res) => {
    if (req.method !== 'GET' || !req.url?.includes('/manifests/') || n++ > 0) return false;
    res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }));
    return true;
  };
  await withRegistry(limited, async (ref, _reg, c) => {
    await c.putManifest(ref, manifest, MediaType.OciManifest);
    const t = Date.now();
    await c.getManifest(ref);
    assert.ok(Date.now() - t >= 950, `waited ${Date.now() - t} ms`);
  });
});

test('429 that outlasts the attempts surfaces TOO_MANY_REQUESTS', async () => {
  const always: Hook = (req, res) => {
    if (!req.url?.includes('/manifests/')) return false;
    sendError(res, 429, 'TOOMANYREQUESTS', 'slow down');
    return true;
  };
  await withRegistry(always, async (ref, reg, c) => {
    await assert.rejects(c.getManifest(ref), (e) => isVouchError(e, 'TOO_MANY_REQUESTS'));
    assert.equal(reg.requests.filter((r) => r.url.includes('/manifests/')).length, 4);
  });
});

test('503 then success; 500 retried for GET but not for POST; 4xx never retried', async () => {
  const counts = new Map<string, number>();
  const flaky: Hook = (req, res) => {
    const key = `${req.method} ${req.url?.replace(/\?.*/, '')}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    if (req.url?.includes('/manifests/flaky') && n === 1) {
      res.writeHead(503).end('unavailable');
      return true;
    }
    if (req.url?.includes('/manifests/err500') && n <= 2) {
      res.writeHead(500).end('oops');
      return true;
    }
    if (req.method === 'POST') {
      res.writeHead(500).end('oops');
      return true;
    }
    if (req.url?.includes('/manifests/bad')) {
      sendError(res, 400, 'MANIFEST_INVALID', 'nope');
      return true;
    }
    return false;
  };
  await withRegistry(flaky, async (ref, _reg, c) => {
    await c.putManifest({ ...ref, tag: 'flaky' }, manifest, MediaType.OciManifest);
    await c.putManifest({ ...ref, tag: 'err500' }, manifest, MediaType.OciManifest);
    assert.equal((await c.getManifest({ ...ref, tag: 'flaky' })).descriptor.digest, digestOf(manifest));
    assert.equal(counts.get('GET /v2/team/app/manifests/flaky'), 2);
    assert.equal(counts.get('PUT /v2/team/app/manifests/flaky'), 2);
    await c.getManifest({ ...ref, tag: 'err500' });
    assert.equal(counts.get('PUT /v2/team/app/manifests/err500'), 3);
    assert.equal(counts.get('GET /v2/team/app/manifests/err500'), 3);
    await assert.rejects(
      c.putBlob(ref, { mediaType: 'x', digest: digestOf('b'), size: 1 }, async () =>
        stream(Buffer.from('b')),
      ),
      (e) => isVouchError(e, 'REGISTRY_ERROR') && (e as { status?: number }).status === 500,
    );
    assert.equal(counts.get('POST /v2/team/app/blobs/uploads/'), 1);
    await assert.rejects(c.putManifest({ ...ref, tag: 'bad' }, manifest, MediaType.OciManifest), (e) =>
      isVouchError(e, 'MANIFEST_INVALID'),
    );
    assert.equal(counts.get('PUT /v2/team/app/manifests/bad'), 1);
  });
});

test('listTags follows Link pagination', async () => {
  await withRegistry(undefined, async (ref, reg, c) => {
    for (const t of ['a', 'b', 'c', 'd', 'e'])
      await c.putManifest({ ...ref, tag: t }, manifest, MediaType.OciManifest);
    assert.deepEqual(await c.listTags(ref, { pageSize: 2 }), ['a', 'b', 'c', 'd', 'e']);
    assert.equal(reg.requests.filter((r) => r.url.includes('/tags/list')).length, 3);
  });
});

test('a blob redirect to another origin does not carry the Authorization header', async () => {
  const blob = Buffer.from('stored elsewhere');
  const digest = digestOf(blob);
  const seen: (string | undefined)[] = [];
  const storage = await listen((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(200, { 'content-length': String(blob.length) }).end(blob);
  });
  const basic = `Basic ${Buffer.from('alice:wonderland').toString('base64')}`;
  const hook: Hook = (req, res) => {
    if (req.headers.authorization !== basic) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="mini"' }).end();
      return true;
    }
    if (req.url?.includes('/blobs/sha256:')) {
      res.writeHead(307, { location: `${storage.url}/bucket/data?X-Amz-Signature=sig` }).end();
      return true;
    }
    return false;
  };
  try {
    await withRegistry(
      hook,
      async (ref, reg, c) => {
        const parts: Uint8Array[] = [];
        for await (const p of await c.getBlob(ref, digest, blob.length)) parts.push(p);
        assert.deepEqual(Buffer.concat(parts), blob);
        assert.deepEqual(seen, [undefined]);
        assert.ok(reg.requests.some((r) => r.url.includes('/blobs/') && r.headers.authorization === basic));
      },
      { credentials: { username: 'alice', password: 'wonderland' } },
    );
  } finally {
    await storage.close();
  }
});

test('wrong Basic credentials: UNAUTHORIZED that never shows the password, even if echoed', async () => {
  const echo: Hook = (req, res) => {
    if (req.headers.authorization === `Basic ${Buffer.from('bob:right').toString('base64')}`) return false;
    res.writeHead(401, { 'www-authenticate': 'Basic realm="mini"', 'content-type': 'application/json' });
    const auth = req.headers.authorization ?? '';
    const decoded = Buffer.from(auth.replace('Basic ', ''), 'base64').toString();
    res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: `bad ${auth} (${decoded})` }] }));
    return true;
  };
  await withRegistry(
    echo,
    async (ref, _reg, c) => {
      await assert.rejects(c.getManifest(ref), (e) => {
        assert.ok(isVouchError(e, 'UNAUTHORIZED'));
        const all = JSON.stringify({ m: e.message, h: e.hint });
        assert.ok(!all.includes('hunter2-secret'), all);
        assert.ok(!all.includes(Buffer.from('bob:hunter2-secret').toString('base64')), all);
        return true;
      });
    },
    { credentials: { username: 'bob', password: 'hunter2-secret' } },
  );
});

test('connection refused is REGISTRY_UNREACHABLE with a hint', async () => {
  const srv = await listen(() => {});
  const host = srv.host;
  await srv.close();
  const c = new RegistryClient(fast);
  try {
    await assert.rejects(c.ping(host), (e) => {
      assert.ok(isVouchError(e, 'REGISTRY_UNREACHABLE'));
      assert.match(e.hint ?? '', /running/);
      return true;
    });
  } finally {
    await c.close();
  }
});

test('plain http is refused for non-loopback registries unless insecure', async () => {
  const c = new RegistryClient(fast);
  try {
    await assert.rejects(
      c.transport.send({ method: 'GET', url: new URL('http://registry.invalid/v2/') }),
      (e) => isVouchError(e, 'REGISTRY_ERROR') && /refusing plain http/.test(e.message),
    );
    assert.equal(c.transport.allowsHttp('registry.invalid'), false);
    assert.equal(c.transport.allowsHttp('localhost:5000'), true);
    assert.equal(c.transport.allowsHttp('127.0.0.1:5000'), true);
    assert.equal(c.transport.allowsHttp('[::1]:5000'), true);
    assert.equal(new RegistryClient({ insecure: true }).transport.allowsHttp('registry.invalid'), true);
  } finally {
    await c.close();
  }
});

let tlsDir: string;
let tls: { key: string; cert: string };
before(async () => {
  tlsDir = await mkdtemp(join(tmpdir(), 'vouch-tls-'));
  tls = await makeSelfSignedCert(tlsDir);
});
after(async () => {
  await rm(tlsDir, { recursive: true, force: true });
});

test('https with a self-signed certificate: rejected by default, accepted with caFile or insecure', async () => {
  const srv = await listen((_req, res) => {
    res.writeHead(200).end();
  }, tls);
  try {
    const strict = new RegistryClient(fast);
    await assert.rejects(strict.ping(srv.host), (e) => {
      assert.ok(isVouchError(e, 'REGISTRY_UNREACHABLE'));
      assert.match(e.hint ?? '', /--ca-file/);
      return true;
    });
    await strict.close();
    for (const o of [{ caFile: join(tlsDir, 'cert.pem') }, { insecure: true }]) {
      const c = new RegistryClient({ ...fast, ...o });
      await c.ping(srv.host);
      const ep = await c.transport.endpoint(srv.host);
      assert.equal(ep.base.protocol, 'https:');
      await c.close();
    }
  } finally {
    await srv.close();
  }
});

test('a loopback registry speaking plain http is reached over http after https fails', async () => {
  await withRegistry(undefined, async (ref, _reg, c) => {
    const ep = await c.transport.endpoint(ref.registry);
    assert.equal(ep.base.protocol, 'http:');
  });
});

test('a download cut mid-stream resumes with a Range request and verifies', async () => {
  const blob = Buffer.alloc(300_000, 7);
  blob.write('start');
  const digest: Digest = digestOf(blob);
  let cut = 0;
  const hook: Hook = (req, res) => {
    if (req.method === 'GET' && req.url?.includes('/blobs/sha256:') && !req.headers.range && cut++ === 0) {
      res.writeHead(200, { 'content-length': String(blob.length) });
      res.write(blob.subarray(0, 100_000), () => setTimeout(() => res.destroy(), 20));
      return true;
    }
    return false;
  };
  await withRegistry(hook, async (ref, reg, c) => {
    reg.blobs.set(`team/app@${digest}`, blob);
    const parts: Uint8Array[] = [];
    for await (const p of await c.getBlob(ref, digest, blob.length)) parts.push(p);
    assert.deepEqual(Buffer.concat(parts), blob);
    const ranged = reg.requests.filter((r) => r.headers.range);
    assert.equal(ranged.length, 1);
    assert.match(String(ranged[0]?.headers.range), /^bytes=\d+-$/);
  });
});

test('blob bytes that do not match the digest fail with DIGEST_MISMATCH', async () => {
  await withRegistry(undefined, async (ref, reg, c) => {
    const good = Buffer.from('good bytes');
    const digest = digestOf(good);
    reg.blobs.set(`team/app@${digest}`, Buffer.from('evil bytes'));
    await assert.rejects(
      (async () => {
        for await (const _ of await c.getBlob(ref, digest, good.length)) {
          // drain
        }
      })(),
      (e) => isVouchError(e, 'DIGEST_MISMATCH'),
    );
    await assert.rejects(c.getBlob(ref, digest, 3), (e) => isVouchError(e, 'SIZE_MISMATCH'));
  });
});

test('a registry that ignores Range on resume: the bytes already had are skipped', async () => {
  const blob = Buffer.alloc(300_000, 3);
  blob.write('head');
  const digest: Digest = digestOf(blob);
  let n = 0;
  const hook: Hook = (req, res) => {
    if (req.method !== 'GET' || !req.url?.includes('/blobs/sha256:')) return false;
    res.writeHead(200, { 'content-length': String(blob.length) });
    if (n++ === 0) res.write(blob.subarray(0, 120_000), () => setTimeout(() => res.destroy(), 20));
    else res.end(blob);
    return true;
  };
  await withRegistry(hook, async (ref, _reg, c) => {
    assert.deepEqual(await collectBlob(c, ref, digest, blob.length), blob);
    assert.equal(n, 2);
  });
});

test('an aborted signal stops a request with ABORTED', async () => {
  const hang: Hook = (req) => req.url?.includes('/manifests/') === true; // never answers
  await withRegistry(hang, async (ref, _reg, c) => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(c.getManifest(ref, undefined, { signal: ac.signal }), (e) =>
      isVouchError(e, 'ABORTED'),
    );
  });
});

async function collectBlob(c: RegistryClient, ref: Reference, digest: Digest, size: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of await c.getBlob(ref, digest, size)) parts.push(p);
  return Buffer.concat(parts);
}
