import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import {
  type Hook,
  listen,
  type MiniRegistry,
  readBody,
  startMiniRegistry,
} from '../../test/helpers/http-server.ts';
import { digestOf } from '../digest/digest.ts';
import { isVouchError } from '../errors.ts';
import { MediaType } from '../oci/media-types.ts';
import type { Reference } from '../oci/reference.ts';
import { RegistryClient } from './client.ts';
import type { RegistryOptions } from './options.ts';

async function* stream(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* parts;
}

interface TokenRequest {
  method: string;
  scopes: string[];
  service: string | null;
  authorization: string | undefined;
  form: URLSearchParams | undefined;
}

interface Fixture {
  reg: MiniRegistry;
  tokenRequests: TokenRequest[];
  ref: Reference;
  /** extra scopes the registry demands for a path, to provoke insufficient_scope */
  extra: Map<string, string[]>;
  close(): Promise<void>;
}

const manifest = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: {}, layers: [] }),
);

function covers(granted: string, need: string): boolean {
  const [gt, gn, ga] = granted.split(':');
  const [nt, nn, na] = need.split(':');
  return gt === nt && gn === nn && (na ?? '').split(',').every((a) => (ga ?? '').split(',').includes(a));
}

async function bearerRegistry(
  o: { user?: string; pass?: string; expiresIn?: number; deny?: string } = {},
): Promise<Fixture> {
  const issued = new Map<string, string[]>();
  const tokenRequests: TokenRequest[] = [];
  const extra = new Map<string, string[]>();
  const ts = await listen((req: IncomingMessage, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = await readBody(req);
      const form = req.method === 'POST' ? new URLSearchParams(body.toString()) : undefined;
      const scopes = form
        ? (form.get('scope') ?? '').split(' ').filter(Boolean)
        : url.searchParams.getAll('scope');
      tokenRequests.push({
        method: req.method ?? '',
        scopes,
        service: form ? form.get('service') : url.searchParams.get('service'),
        authorization: req.headers.authorization,
        form,
      });
      const basicOk =
        !o.user ||
        req.headers.authorization === `Basic ${Buffer.from(`${o.user}:${o.pass}`).toString('base64')}`;
      const refreshOk =
        !form || (form.get('grant_type') === 'refresh_token' && form.get('refresh_token') === 'refresh-good');
      if ((!form && !basicOk) || !refreshOk) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      const t = `tok-${tokenRequests.length}`;
      // the token service may grant less than asked
      issued.set(
        t,
        scopes.filter((x) => !o.deny || !x.startsWith(`repository:${o.deny}:`)),
      );
      const expires = o.expiresIn ?? 300;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(form ? { access_token: t, expires_in: expires } : { token: t, expires_in: expires }),
      );
    })();
  });
  const realm = `${ts.url}/token`;
  const hook: Hook = (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const token = req.headers.authorization?.startsWith('Bearer ')
      ? req.headers.authorization.slice(7)
      : undefined;
    const granted = token ? (issued.get(token) ?? []) : [];
    const m = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(path);
    const from = new URL(req.url ?? '/', 'http://x').searchParams.get('from');
    const need = m
      ? [
          `repository:${m[1]}:${req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'pull,push'}`,
          ...(from ? [`repository:${from}:pull`] : []),
          ...(extra.get(path) ?? []),
        ]
      : [];
    if (path === '/v2/' ? !token : !need.every((n) => granted.some((g) => covers(g, n)))) {
      const scope = need.length ? `,scope="${need.join(' ')}"` : '';
      const err = token ? ',error="insufficient_scope"' : '';
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="${realm}",service="mini.test"${scope}${err}`,
        'content-type': 'application/json',
      });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return true;
    }
    return false;
  };
  const reg = await startMiniRegistry(hook);
  return {
    reg,
    tokenRequests,
    extra,
    ref: { registry: reg.host, repository: 'team/app', tag: 'v1' },
    close: async () => {
      await reg.close();
      await ts.close();
    },
  };
}

async function withClient(
  f: Fixture,
  o: RegistryOptions,
  fn: (c: RegistryClient) => Promise<void>,
): Promise<void> {
  const c = new RegistryClient({ retry: { attempts: 2, baseDelayMs: 5 }, ...o });
  try {
    await fn(c);
  } finally {
    await c.close();
    await f.close();
  }
}

function seed(f: Fixture): void {
  const d = digestOf(manifest);
  for (const k of [`team/app@v1`, `team/app@${d}`])
    f.reg.manifests.set(k, { bytes: manifest, mediaType: MediaType.OciManifest });
}

test('anonymous bearer: one token per scope set, reused, with service and scope', async () => {
  const f = await bearerRegistry();
  seed(f);
  await withClient(f, {}, async (c) => {
    await c.getManifest(f.ref);
    await c.getManifest(f.ref);
    await c.headManifest(f.ref);
    assert.equal(f.tokenRequests.length, 1);
    assert.deepEqual(f.tokenRequests[0]?.scopes, ['repository:team/app:pull']);
    assert.equal(f.tokenRequests[0]?.service, 'mini.test');
    assert.equal(f.tokenRequests[0]?.authorization, undefined);
  });
});

test('concurrent requests share one token request', async () => {
  const f = await bearerRegistry();
  seed(f);
  await withClient(f, {}, async (c) => {
    await Promise.all(Array.from({ length: 6 }, () => c.getManifest(f.ref)));
    assert.equal(f.tokenRequests.length, 1);
  });
});

test('an expired token is replaced', async () => {
  const f = await bearerRegistry({ expiresIn: 1 });
  seed(f);
  await withClient(f, {}, async (c) => {
    await c.getManifest(f.ref);
    await c.getManifest(f.ref);
    assert.equal(f.tokenRequests.length, 1);
    await new Promise((r) => setTimeout(r, 1000));
    await c.getManifest(f.ref);
    assert.equal(f.tokenRequests.length, 2);
  });
});

test('push asks for pull,push; a mount adds pull on the source repository', async () => {
  const f = await bearerRegistry();
  const blob = Buffer.from('layer bytes');
  const desc = { mediaType: 'application/octet-stream', digest: digestOf(blob), size: blob.length };
  await withClient(f, {}, async (c) => {
    await c.putBlob(f.ref, desc, async () => stream(blob));
    assert.deepEqual(f.tokenRequests.at(-1)?.scopes, ['repository:team/app:pull,push']);
    const r = await c.putBlob({ ...f.ref, repository: 'team/copy' }, desc, async () => stream(blob), {
      mountFrom: { registry: f.ref.registry, repository: 'team/app' },
    });
    assert.equal(r, 'mounted');
    assert.deepEqual(f.tokenRequests.at(-1)?.scopes.sort(), [
      'repository:team/app:pull',
      'repository:team/copy:pull,push',
    ]);
  });
});

test('a mount the token service will not allow falls back to uploading the bytes', async () => {
  const f = await bearerRegistry({ deny: 'team/secret' });
  const blob = Buffer.from('layer bytes');
  const desc = { mediaType: 'application/octet-stream', digest: digestOf(blob), size: blob.length };
  await withClient(f, {}, async (c) => {
    const r = await c.putBlob(f.ref, desc, async () => stream(blob), {
      mountFrom: { registry: f.ref.registry, repository: 'team/secret' },
    });
    assert.equal(r, 'uploaded');
    assert.deepEqual(f.reg.blobs.get(`team/app@${desc.digest}`), blob);
    const posts = f.reg.requests.filter((x) => x.method === 'POST').map((x) => x.url);
    assert.ok(posts[0]?.includes('mount='), 'tried the mount first');
    assert.ok(!posts.at(-1)?.includes('mount='), 'then a plain upload');
  });
});

test('insufficient_scope: re-authenticate once with the wider scope', async () => {
  const f = await bearerRegistry();
  seed(f);
  f.extra.set('/v2/team/app/manifests/v1', ['repository:team/extra:pull']);
  await withClient(f, {}, async (c) => {
    await c.getManifest(f.ref);
    assert.equal(f.tokenRequests.length, 2);
    assert.deepEqual(f.tokenRequests[1]?.scopes, ['repository:team/app:pull', 'repository:team/extra:pull']);
    const unauthorized = () => f.reg.requests.filter((r) => r.url.includes('/manifests/')).length;
    const before = unauthorized();
    await c.getManifest(f.ref);
    assert.equal(f.tokenRequests.length, 2, 'the widened token is reused');
    assert.equal(unauthorized(), before + 1, 'no second 401');
  });
});

test('a 401 that persists after re-authentication is UNAUTHORIZED (no loop)', async () => {
  const f = await bearerRegistry();
  seed(f);
  f.extra.set('/v2/team/app/manifests/v1', ['repository:team/extra:pull']);
  const origHook = f.reg.hook;
  // the registry keeps refusing whatever token it gets
  f.reg.hook = (req, res, reg) => {
    if (req.url?.includes('/manifests/'))
      f.extra.set('/v2/team/app/manifests/v1', [`repository:never:${Math.random()}`]);
    return origHook ? origHook(req, res, reg) : false;
  };
  await withClient(f, {}, async (c) => {
    await assert.rejects(c.getManifest(f.ref), (e) => isVouchError(e, 'UNAUTHORIZED'));
    assert.equal(f.tokenRequests.length, 2);
  });
});

test('Basic credentials go to the token realm; wrong ones are UNAUTHORIZED without the password', async () => {
  const f = await bearerRegistry({ user: 'alice', pass: 'correct-horse' });
  seed(f);
  await withClient(f, { credentials: { username: 'alice', password: 'correct-horse' } }, async (c) => {
    await c.getManifest(f.ref);
    assert.equal(
      f.tokenRequests[0]?.authorization,
      `Basic ${Buffer.from('alice:correct-horse').toString('base64')}`,
    );
  });
  const g = await bearerRegistry({ user: 'alice', pass: 'correct-horse' });
  seed(g);
  await withClient(g, { credentials: { username: 'alice', password: 'battery-staple' } }, async (c) => {
    await assert.rejects(c.getManifest(g.ref), (e) => {
      assert.ok(isVouchError(e, 'UNAUTHORIZED'));
      assert.match(e.message, /alice/);
      const text = JSON.stringify({ m: e.message, h: e.hint, c: String((e as Error).cause) });
      assert.ok(!text.includes('battery-staple'), text);
      assert.ok(!text.includes(Buffer.from('alice:battery-staple').toString('base64')), text);
      return true;
    });
  });
});

test('an identity token is exchanged with an OAuth2 refresh_token POST', async () => {
  const f = await bearerRegistry();
  seed(f);
  const env = process.env.DOCKER_AUTH_CONFIG;
  process.env.DOCKER_AUTH_CONFIG = JSON.stringify({
    auths: { [f.ref.registry]: { identitytoken: 'refresh-good' } },
  });
  try {
    await withClient(f, {}, async (c) => {
      await c.getManifest(f.ref);
      const r = f.tokenRequests[0];
      assert.equal(r?.method, 'POST');
      assert.equal(r?.form?.get('grant_type'), 'refresh_token');
      assert.equal(r?.form?.get('refresh_token'), 'refresh-good');
      assert.equal(r?.form?.get('service'), 'mini.test');
      assert.equal(r?.form?.get('client_id'), 'vouch');
      assert.equal(r?.form?.get('scope'), 'repository:team/app:pull');
    });
  } finally {
    if (env === undefined) delete process.env.DOCKER_AUTH_CONFIG;
    else process.env.DOCKER_AUTH_CONFIG = env;
  }
});

test('a registry token is sent as the bearer directly', async () => {
  const reg = await startMiniRegistry((req, res) => {
    if (req.headers.authorization === 'Bearer given-token') return false;
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/never"' }).end();
    return true;
  });
  const env = process.env.DOCKER_AUTH_CONFIG;
  process.env.DOCKER_AUTH_CONFIG = JSON.stringify({
    auths: { [reg.host]: { registrytoken: 'given-token' } },
  });
  const c = new RegistryClient({ retry: { attempts: 1, baseDelayMs: 1 } });
  try {
    const ref = { registry: reg.host, repository: 'a/b', tag: 't' };
    await c.putManifest(ref, manifest, MediaType.OciManifest);
    assert.equal((await c.getManifest(ref)).descriptor.digest, digestOf(manifest));
  } finally {
    if (env === undefined) delete process.env.DOCKER_AUTH_CONFIG;
    else process.env.DOCKER_AUTH_CONFIG = env;
    await c.close();
    await reg.close();
  }
});
