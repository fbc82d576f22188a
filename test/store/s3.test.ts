/**
 * S3Store against s3rver on 127.0.0.1 (a child process, see s3-server.ts), plus a recording
 * proxy in front of it to see exactly what vouch sends.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { isVouchError } from '../../src/errors.ts';
import type { PipelineConfig } from '../../src/pipeline/config.ts';
import { openStore } from '../../src/store/open.ts';
import { S3Store, type S3StoreOptions } from '../../src/store/s3.ts';
import { listAll, readAll } from '../../src/store/store.ts';
import { storeContract } from './contract.ts';
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from './s3-server.ts';

const JSON_TYPE = { contentType: 'application/json' };
const BUCKET = 'vouch-test';

let s3: TestS3Server;
before(async () => {
  s3 = await startS3Server([BUCKET]);
});
after(async () => {
  await s3?.stop();
});

/** A store on a fresh prefix of the shared bucket, so tests do not see each other's keys. */
function freshStore(options: S3StoreOptions = {}, prefix = `t-${randomBytes(6).toString('hex')}`): S3Store {
  return new S3Store(
    { bucket: BUCKET, prefix, endpoint: s3.endpoint, forcePathStyle: true },
    { credentials: S3RVER_CREDENTIALS, maxAttempts: 1, ...options },
  );
}

describe('S3Store', () => {
  // Small pages so the contract's listings cross several ListObjectsV2 continuation tokens.
  storeContract('S3Store (s3rver)', async () => {
    const store = freshStore({ pageSize: 4 });
    return {
      store,
      async dispose() {
        for (const e of await listAll(store)) await store.delete(e.key);
        await store.close();
      },
    };
  });

  test('PutObject carries the content type, x-amz-checksum-sha256 and x-amz-meta-sha256, under the prefix', async () => {
    await using proxy = await recordingProxy(s3.port);
    const store = new S3Store(
      { bucket: BUCKET, prefix: '/releases/app/', endpoint: proxy.endpoint, forcePathStyle: true },
      { credentials: S3RVER_CREDENTIALS },
    );
    try {
      const body = Buffer.from('{"spdxVersion":"SPDX-2.3"}');
      await store.put('sboms/amd64/sbom-app-1.0-spdx.json', body, { contentType: 'application/spdx+json' });
      const put = proxy.requests.find((r) => r.method === 'PUT');
      assert.ok(put);
      assert.equal(put.url.split('?')[0], `/${BUCKET}/releases/app/sboms/amd64/sbom-app-1.0-spdx.json`);
      assert.equal(put.headers['content-type'], 'application/spdx+json');
      assert.equal(put.headers['x-amz-checksum-sha256'], createHash('sha256').update(body).digest('base64'));
      assert.equal(put.headers['x-amz-meta-sha256'], createHash('sha256').update(body).digest('hex'));
      assert.deepEqual(put.body, body);
      // no aws-chunked trailer encoding: S3-compatible servers often cannot read it
      assert.equal(put.headers['content-encoding'], undefined);
      assert.equal(store.description, `s3://${BUCKET}/releases/app/ at ${proxy.endpoint}`);
    } finally {
      await store.close();
    }
  });

  test('list follows continuation tokens (one ListObjectsV2 request per page)', async () => {
    await using proxy = await recordingProxy(s3.port);
    const store = new S3Store(
      { bucket: BUCKET, prefix: `p-${randomBytes(4).toString('hex')}`, endpoint: proxy.endpoint },
      { credentials: S3RVER_CREDENTIALS, pageSize: 3 },
    );
    try {
      const keys = Array.from({ length: 10 }, (_, i) => `scans/amd64/k${i}.json`);
      for (const k of keys) await store.put(k, Buffer.from(k), JSON_TYPE);
      proxy.requests.length = 0;
      assert.deepEqual(
        (await listAll(store, 'scans/')).map((e) => e.key),
        keys,
      );
      const lists = proxy.requests.filter((r) => r.url.includes('list-type=2'));
      assert.equal(lists.length, 4);
      assert.equal(lists.filter((r) => r.url.includes('continuation-token=')).length, 3);
    } finally {
      await store.close();
    }
  });

  test('bytes changed on the server after the upload are detected on read (DIGEST_MISMATCH)', async () => {
    const prefix = `tamper-${randomBytes(4).toString('hex')}`;
    const store = freshStore({}, prefix);
    try {
      await store.put('scans/amd64/scan-app-1.0.json', Buffer.from('{"findings":[]}'), JSON_TYPE);
      const file = s3.objectPath(BUCKET, `${prefix}/scans/amd64/scan-app-1.0.json`);
      assert.equal(await readFile(file, 'utf8'), '{"findings":[]}');
      await writeFile(file, '{"findings":{}}'); // same size, other bytes
      const obj = await store.get('scans/amd64/scan-app-1.0.json');
      assert.ok(obj);
      await assert.rejects(
        readAll(obj),
        (e) =>
          isVouchError(e, 'DIGEST_MISMATCH') && e.message.includes(`s3://${BUCKET}/${prefix}/scans/amd64/`),
      );
      // head still reports the recorded sha256; once the server recomputes its MD5 (ETag) from
      // the changed bytes, head exposes it so uploads can tell the object differs.
      await unlink(`${file}.md5`);
      const head = await store.head('scans/amd64/scan-app-1.0.json');
      assert.equal(head?.md5, createHash('md5').update('{"findings":{}}').digest('hex'));
    } finally {
      await store.close();
    }
  });

  test('a missing bucket is a STORE_ERROR naming the bucket, key and HTTP status', async () => {
    const store = new S3Store(
      { bucket: 'no-such-bucket', endpoint: s3.endpoint },
      { credentials: S3RVER_CREDENTIALS, maxAttempts: 1 },
    );
    try {
      await assert.rejects(store.put('scans/amd64/x.json', Buffer.from('x'), JSON_TYPE), (e) => {
        assert.ok(isVouchError(e, 'STORE_ERROR'));
        assert.match(
          e.message,
          /PutObject s3:\/\/no-such-bucket\/scans\/amd64\/x\.json failed: NoSuchBucket \(HTTP 404\)/,
        );
        assert.match(e.hint ?? '', /create the bucket "no-such-bucket"/);
        return true;
      });
      await assert.rejects(
        store.get('scans/amd64/x.json'),
        (e) => isVouchError(e, 'STORE_ERROR') && /NoSuchBucket/.test(e.message),
      );
      await assert.rejects(
        listAll(store),
        (e) => isVouchError(e, 'STORE_ERROR') && /ListObjectsV2 s3:\/\/no-such-bucket\//.test(e.message),
      );
      await assert.rejects(
        store.delete('x.json'),
        (e) => isVouchError(e, 'STORE_ERROR') && /NoSuchBucket/.test(e.message),
      );
    } finally {
      await store.close();
    }
  });

  test('refused credentials are a STORE_ERROR with the status, and the secret appears nowhere', async () => {
    const secret = `SECRET-${randomBytes(12).toString('hex')}`;
    const store = new S3Store(
      { bucket: BUCKET, endpoint: s3.endpoint },
      { env: { AWS_ACCESS_KEY_ID: 'NOT-A-KEY', AWS_SECRET_ACCESS_KEY: secret }, maxAttempts: 1 },
    );
    try {
      await assert.rejects(store.put('scans/amd64/x.json', Buffer.from('x'), JSON_TYPE), (e) => {
        assert.ok(isVouchError(e, 'STORE_ERROR'));
        assert.match(e.message, /InvalidAccessKeyId \(HTTP 403\)/);
        assert.match(e.hint ?? '', /AWS_ACCESS_KEY_ID/);
        const everything = `${e.message} ${e.hint} ${String(e.cause)} ${e.stack} ${JSON.stringify(e)}`;
        assert.ok(!everything.includes(secret));
        return true;
      });
    } finally {
      await store.close();
    }
  });

  test('an unreachable endpoint is a STORE_ERROR naming the object and the system error', async () => {
    const closed = await freePort();
    const store = new S3Store(
      { bucket: BUCKET, endpoint: `http://127.0.0.1:${closed}` },
      { credentials: S3RVER_CREDENTIALS, maxAttempts: 1 },
    );
    try {
      await assert.rejects(
        store.head('scans/amd64/x.json'),
        (e) =>
          isVouchError(e, 'STORE_ERROR') &&
          /HeadObject s3:\/\/vouch-test\/scans\/amd64\/x\.json failed: .*ECONNREFUSED/.test(e.message),
      );
    } finally {
      await store.close();
    }
  });

  test('configuration mistakes are named: bucket, endpoint, half-set credentials', () => {
    assert.throws(
      () => new S3Store({ bucket: 'No_Such' }, { credentials: S3RVER_CREDENTIALS }),
      (e) => isVouchError(e, 'STORE_ERROR') && e.message.includes('"No_Such"'),
    );
    assert.throws(
      () => new S3Store({ bucket: 'bkt', endpoint: 'ftp://127.0.0.1' }, { credentials: S3RVER_CREDENTIALS }),
      (e) => isVouchError(e, 'STORE_ERROR') && e.message.includes('http:// or https://'),
    );
    assert.throws(
      () =>
        new S3Store(
          { bucket: 'bkt', endpoint: 'http://user:pw@127.0.0.1:9000' },
          { credentials: S3RVER_CREDENTIALS },
        ),
      (e) => isVouchError(e, 'STORE_ERROR') && !e.message.includes('pw@') && e.message.includes('***@'),
    );
    assert.throws(
      () => new S3Store({ bucket: 'bkt' }, { env: { AWS_ACCESS_KEY_ID: 'AKIA' } }),
      (e) => isVouchError(e, 'CREDENTIALS_ERROR') && e.message.includes('AWS_SECRET_ACCESS_KEY'),
    );
    assert.throws(
      () => new S3Store({ bucket: 'bkt', prefix: 'a/../b' }, { credentials: S3RVER_CREDENTIALS }),
      (e) => isVouchError(e, 'UNSAFE_PATH'),
    );
  });

  test('openStore takes the store section of vouch.yaml and credentials from the given environment', async () => {
    const section: PipelineConfig['store'] = {
      kind: 's3',
      bucket: BUCKET,
      prefix: `cfg-${randomBytes(4).toString('hex')}`,
      endpoint: s3.endpoint,
      forcePathStyle: true,
    };
    const store = await openStore(section, { env: s3.env });
    try {
      await store.put('attestations/arm64/attestation-app-1.0.json', Buffer.from('{}'), JSON_TYPE);
      assert.deepEqual(await listAll(store), [
        { key: 'attestations/arm64/attestation-app-1.0.json', size: 2 },
      ]);
      // the same bucket without the prefix sees the full key
      const root = new S3Store({ bucket: BUCKET, endpoint: s3.endpoint }, { env: s3.env });
      const keys = (await listAll(root, `${section.prefix}/`)).map((e) => e.key);
      await root.close();
      assert.deepEqual(keys, [`${section.prefix}/attestations/arm64/attestation-app-1.0.json`]);
    } finally {
      await store.close();
    }
  });

  test('objects another tool wrote without checksum metadata are read unverified, and listed', async () => {
    const prefix = `foreign-${randomBytes(4).toString('hex')}`;
    const store = freshStore({}, prefix);
    try {
      await store.put('scans/amd64/a.json', Buffer.from('{"a":1}'), JSON_TYPE);
      // Drop vouch's metadata, as if another client had uploaded the object.
      const meta = `${s3.objectPath(BUCKET, `${prefix}/scans/amd64/a.json`).replace(/object$/, 'metadata.json')}`;
      const json = JSON.parse(await readFile(meta, 'utf8')) as Record<string, string>;
      delete json['x-amz-meta-sha256'];
      await writeFile(meta, JSON.stringify(json));
      const head = await store.head('scans/amd64/a.json');
      assert.equal(head?.sha256, undefined);
      assert.equal(head?.size, 7);
      const obj = await store.get('scans/amd64/a.json');
      assert.equal(Buffer.from(await readAll(obj!)).toString(), '{"a":1}');
    } finally {
      await store.close();
    }
  });
});

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** An HTTP proxy on 127.0.0.1 that records each request and forwards it to s3rver. */
async function recordingProxy(
  port: number,
): Promise<{ endpoint: string; requests: Recorded[]; [Symbol.asyncDispose](): Promise<void> }> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const up = request(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${own}`,
    requests,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}
