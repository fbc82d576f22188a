import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { type Hook, type MiniRegistry, startMiniRegistry } from '../../test/helpers/http-server.ts';
import { digestOf } from '../digest/digest.ts';
import { isVouchError } from '../errors.ts';
import type { Descriptor } from '../oci/types.ts';
import { RegistryClient } from './client.ts';

const MiB = 1024 * 1024;
const repo = 'team/app';

function blobOf(size: number): { bytes: Buffer; desc: Descriptor } {
  const bytes = randomBytes(size);
  return { bytes, desc: { mediaType: 'application/octet-stream', digest: digestOf(bytes), size } };
}

/** A source that yields 64 KiB pieces and counts how often it was opened. */
function opener(bytes: Buffer): { open: () => Promise<AsyncIterable<Uint8Array>>; opened: () => number } {
  let n = 0;
  return {
    opened: () => n,
    open: async () => {
      n++;
      return (async function* () {
        for (let i = 0; i < bytes.length; i += 64 * 1024) yield bytes.subarray(i, i + 64 * 1024);
      })();
    },
  };
}

async function withRegistry(
  hook: Hook | undefined,
  fn: (reg: MiniRegistry, c: RegistryClient) => Promise<void>,
  chunkSize = MiB,
): Promise<void> {
  const reg = await startMiniRegistry(hook);
  const c = new RegistryClient({ retry: { attempts: 4, baseDelayMs: 5 }, chunkSize });
  try {
    await fn(reg, c);
  } finally {
    await c.close();
    await reg.close();
  }
}

const calls = (reg: MiniRegistry, method: string): string[] =>
  reg.requests.filter((r) => r.method === method && r.url.includes('/blobs/uploads/')).map((r) => r.url);

test('a small blob goes up in one streamed PUT; a second push is skipped', async () => {
  const { bytes, desc } = blobOf(200_000);
  await withRegistry(undefined, async (reg, c) => {
    const ref = { registry: reg.host, repository: repo };
    assert.equal(await c.putBlob(ref, desc, opener(bytes).open), 'uploaded');
    assert.deepEqual(reg.blobs.get(`${repo}@${desc.digest}`), bytes);
    assert.equal(calls(reg, 'POST').length, 1);
    assert.equal(calls(reg, 'PATCH').length, 0);
    assert.equal(calls(reg, 'PUT').length, 1);
    assert.equal(await c.putBlob(ref, desc, opener(bytes).open), 'exists');
    assert.equal(calls(reg, 'POST').length, 1);
  });
});

test('a large blob goes up in PATCH chunks with Content-Range, then PUT ?digest=', async () => {
  const { bytes, desc } = blobOf(3 * MiB + 123);
  await withRegistry(undefined, async (reg, c) => {
    await c.putBlob({ registry: reg.host, repository: repo }, desc, opener(bytes).open);
    assert.deepEqual(reg.blobs.get(`${repo}@${desc.digest}`), bytes);
    const ranges = reg.requests.filter((r) => r.method === 'PATCH').map((r) => r.headers['content-range']);
    assert.deepEqual(ranges, [
      `0-${MiB - 1}`,
      `${MiB}-${2 * MiB - 1}`,
      `${2 * MiB}-${3 * MiB - 1}`,
      `${3 * MiB}-${3 * MiB + 122}`,
    ]);
    const put = calls(reg, 'PUT');
    assert.equal(put.length, 1);
    assert.match(put[0] ?? '', new RegExp(`digest=${encodeURIComponent(desc.digest)}`));
  });
});

test('OCI-Chunk-Min-Length raises the chunk size', async () => {
  const { bytes, desc } = blobOf(5 * MiB);
  await withRegistry(undefined, async (reg, c) => {
    reg.chunkMin = 2 * MiB;
    await c.putBlob({ registry: reg.host, repository: repo }, desc, opener(bytes).open);
    const ranges = reg.requests.filter((r) => r.method === 'PATCH').map((r) => r.headers['content-range']);
    assert.deepEqual(ranges, [`0-${2 * MiB - 1}`, `${2 * MiB}-${4 * MiB - 1}`, `${4 * MiB}-${5 * MiB - 1}`]);
  });
});

test('a connection reset mid-chunk resumes from the offset the registry reports', async () => {
  const { bytes, desc } = blobOf(3 * MiB);
  let patches = 0;
  let partial = -1;
  const hook: Hook = async (req, _res, reg) => {
    if (req.method !== 'PATCH' || ++patches !== 2) return false;
    const id = new URL(req.url ?? '', 'http://x').pathname.split('/').pop() ?? '';
    const u = reg.uploads.get(id);
    assert.ok(u);
    const socket = req.socket;
    let got = 0;
    for await (const chunk of req) {
      u.data.push(chunk as Buffer);
      u.size += (chunk as Buffer).length;
      got += (chunk as Buffer).length;
      if (got >= 300_000) break;
    }
    partial = u.size;
    socket.destroy();
    return true;
  };
  const src = opener(bytes);
  await withRegistry(hook, async (reg, c) => {
    assert.equal(await c.putBlob({ registry: reg.host, repository: repo }, desc, src.open), 'uploaded');
    assert.deepEqual(reg.blobs.get(`${repo}@${desc.digest}`), bytes);
    assert.ok(partial > MiB && partial < 2 * MiB, String(partial));
    assert.equal(calls(reg, 'GET').length, 1, 'asked the registry for the upload status once');
    const ranges = reg.requests
      .filter((r) => r.method === 'PATCH')
      .map((r) => String(r.headers['content-range']));
    assert.ok(ranges[2]?.startsWith(`${partial}-`), `resumed at ${ranges[2]}, partial ${partial}`);
    assert.equal(calls(reg, 'POST').length, 1, 'same session');
    assert.equal(src.opened(), 2, 'source re-opened once');
  });
});

test('a 416 (the registry lost bytes) is resolved by asking how much it holds', async () => {
  const { bytes, desc } = blobOf(3 * MiB);
  let patches = 0;
  const hook: Hook = async (req, _res, reg) => {
    if (req.method === 'PATCH' && ++patches === 2) {
      // the first chunk shrank behind our back: the next PATCH starts past the end
      const id = new URL(req.url ?? '', 'http://x').pathname.split('/').pop() ?? '';
      const u = reg.uploads.get(id)!;
      const all = Buffer.concat(u.data).subarray(0, 1000);
      u.data = [all];
      u.size = all.length;
    }
    return false;
  };
  const src = opener(bytes);
  await withRegistry(hook, async (reg, c) => {
    await c.putBlob({ registry: reg.host, repository: repo }, desc, src.open);
    assert.deepEqual(reg.blobs.get(`${repo}@${desc.digest}`), bytes);
    const ranges = reg.requests
      .filter((r) => r.method === 'PATCH')
      .map((r) => String(r.headers['content-range']));
    assert.equal(ranges[2], `1000-${1000 + MiB - 1}`);
    assert.equal(src.opened(), 2);
  });
});

test('a lost upload session restarts the upload cleanly', async () => {
  const { bytes, desc } = blobOf(2 * MiB + 5);
  let patches = 0;
  const hook: Hook = async (req, _res, reg) => {
    if (req.method !== 'PATCH' || ++patches !== 2) return false;
    const id = new URL(req.url ?? '', 'http://x').pathname.split('/').pop() ?? '';
    reg.uploads.delete(id);
    req.socket.destroy();
    return true;
  };
  await withRegistry(hook, async (reg, c) => {
    assert.equal(
      await c.putBlob({ registry: reg.host, repository: repo }, desc, opener(bytes).open),
      'uploaded',
    );
    assert.deepEqual(reg.blobs.get(`${repo}@${desc.digest}`), bytes);
    assert.equal(calls(reg, 'POST').length, 2);
  });
});

test('a reset during a single-PUT upload restarts it', async () => {
  const { bytes, desc } = blobOf(500_000);
  let puts = 0;
  const hook: Hook = async (req) => {
    if (req.method !== 'PUT' || !req.url?.includes('/uploads/') || ++puts !== 1) return false;
    const socket = req.socket;
    for await (const _ of req) break;
    socket.destroy();
    return true;
  };
  const src = opener(bytes);
  await withRegistry(hook, async (reg, c) => {
    await c.putBlob({ registry: reg.host, repository: repo }, desc, src.open);
    assert.deepEqual(reg.blobs.get(`${repo}@${desc.digest}`), bytes);
    assert.equal(calls(reg, 'POST').length, 2);
    assert.equal(src.opened(), 2);
  });
});

test('a source whose bytes do not match the digest fails and stores nothing', async () => {
  for (const size of [100_000, 2 * MiB]) {
    const { desc } = blobOf(size);
    const wrong = randomBytes(size);
    const src = opener(wrong);
    await withRegistry(undefined, async (reg, c) => {
      await assert.rejects(c.putBlob({ registry: reg.host, repository: repo }, desc, src.open), (e) =>
        isVouchError(e, 'DIGEST_MISMATCH'),
      );
      assert.equal(reg.blobs.size, 0);
      assert.equal(src.opened(), 1, 'not retried');
      const committed = reg.requests.filter((r) => r.method === 'PUT' && r.url.includes('digest='));
      assert.ok(size > MiB ? committed.length === 0 : committed.length <= 1);
    });
  }
});

test('a failed mount (202) continues the upload in the session it opened', async () => {
  const { bytes, desc } = blobOf(10_000);
  await withRegistry(undefined, async (reg, c) => {
    const r = await c.putBlob({ registry: reg.host, repository: repo }, desc, opener(bytes).open, {
      mountFrom: { registry: reg.host, repository: 'not/there' },
    });
    assert.equal(r, 'uploaded');
    const posts = calls(reg, 'POST');
    assert.equal(posts.length, 1);
    assert.match(posts[0] ?? '', /mount=.*from=not%2Fthere/);
  });
});

test('a mount from another registry is not attempted', async () => {
  const { bytes, desc } = blobOf(10_000);
  await withRegistry(undefined, async (reg, c) => {
    await c.putBlob({ registry: reg.host, repository: repo }, desc, opener(bytes).open, {
      mountFrom: { registry: 'elsewhere.example', repository: 'x/y' },
    });
    assert.ok(!calls(reg, 'POST').some((u) => u.includes('mount=')));
  });
});

test('parallel uploads share the client', async () => {
  const blobs = Array.from({ length: 6 }, (_, i) => blobOf(i % 2 ? 1.5 * MiB : 50_000));
  await withRegistry(undefined, async (reg, c) => {
    const ref = { registry: reg.host, repository: repo };
    await Promise.all(blobs.map((b) => c.putBlob(ref, b.desc, opener(b.bytes).open)));
    for (const b of blobs) assert.deepEqual(reg.blobs.get(`${repo}@${b.desc.digest}`), b.bytes);
  });
});
