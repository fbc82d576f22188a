/**
 * The behaviour every ArtifactStore must have, run against DirectoryStore and S3Store alike
 * (test/store/directory.test.ts, test/store/s3.test.ts).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isVouchError } from '../../src/errors.ts';
import { type ArtifactStore, listAll, readAll } from '../../src/store/store.ts';
import { tempDir } from '../helpers/layout.ts';

export interface StoreFixture {
  store: ArtifactStore;
  /** Close the store and remove everything it held. */
  dispose(): Promise<void>;
}

const JSON_TYPE = { contentType: 'application/json' };

function sha(b: Uint8Array | string): string {
  return createHash('sha256').update(b).digest('hex');
}

async function text(store: ArtifactStore, key: string): Promise<string | undefined> {
  const obj = await store.get(key);
  return obj === undefined ? undefined : Buffer.from(await readAll(obj)).toString('utf8');
}

async function* chunks(parts: string[], failAfter?: number): AsyncGenerator<Uint8Array> {
  let i = 0;
  for (const p of parts) {
    if (failAfter !== undefined && i++ === failAfter) throw new Error('source broke mid-stream');
    yield Buffer.from(p);
  }
}

export const UNSAFE_KEYS = [
  '../escape.json',
  'a/../../escape.json',
  '/etc/passwd',
  'a//b.json',
  'a/./b.json',
  'a/b/',
  'a\\b.json',
  'a\0b.json',
  'a/b c.json',
  'x..y.json',
  'sboms/amd64/x.json.0123456789ab.tmp',
  '',
];

/** Register the contract's tests for one implementation. */
export function storeContract(name: string, open: () => Promise<StoreFixture>): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    test('put, head, get and list round-trip bytes, size and sha256', async () => {
      const f = await open();
      try {
        const body = Buffer.from('{"bomFormat":"CycloneDX"}\n');
        const put = await f.store.put('sboms/amd64/sbom-app-1.0-cyclonedx.json', body, JSON_TYPE);
        assert.deepEqual(put, {
          key: 'sboms/amd64/sbom-app-1.0-cyclonedx.json',
          size: body.length,
          sha256: sha(body),
        });
        const head = await f.store.head('sboms/amd64/sbom-app-1.0-cyclonedx.json');
        assert.equal(head?.size, body.length);
        assert.equal(head?.sha256, sha(body));
        const obj = await f.store.get('sboms/amd64/sbom-app-1.0-cyclonedx.json');
        assert.ok(obj);
        assert.equal(obj.size, body.length);
        assert.deepEqual(Buffer.from(await readAll(obj)), body);
        assert.deepEqual(await listAll(f.store), [
          { key: 'sboms/amd64/sbom-app-1.0-cyclonedx.json', size: body.length },
        ]);
      } finally {
        await f.dispose();
      }
    });

    test('a missing key is undefined for get and head, and delete of it succeeds', async () => {
      const f = await open();
      try {
        assert.equal(await f.store.get('scans/amd64/none.json'), undefined);
        assert.equal(await f.store.head('scans/amd64/none.json'), undefined);
        await f.store.delete('scans/amd64/none.json');
        await f.store.put('scans/amd64/one.json', Buffer.from('1'), JSON_TYPE);
        await f.store.delete('scans/amd64/one.json');
        assert.equal(await f.store.head('scans/amd64/one.json'), undefined);
        assert.deepEqual(await listAll(f.store), []);
      } finally {
        await f.dispose();
      }
    });

    test('put replaces the previous content whole', async () => {
      const f = await open();
      try {
        await f.store.put(
          'scans/arm64/scan-app-1.0.json',
          Buffer.from('a much longer first version'),
          JSON_TYPE,
        );
        await f.store.put('scans/arm64/scan-app-1.0.json', Buffer.from('v2'), JSON_TYPE);
        assert.equal(await text(f.store, 'scans/arm64/scan-app-1.0.json'), 'v2');
        assert.equal((await f.store.head('scans/arm64/scan-app-1.0.json'))?.sha256, sha('v2'));
      } finally {
        await f.dispose();
      }
    });

    test('put takes a file or a stream as well as bytes', async () => {
      const f = await open();
      await using dir = await tempDir('store-src');
      try {
        const file = join(dir.path, 'spdx.json');
        await writeFile(file, '{"spdxVersion":"SPDX-2.3"}');
        const r = await f.store.put('sboms/s390x/from-file.json', { file }, JSON_TYPE);
        assert.equal(r.sha256, sha('{"spdxVersion":"SPDX-2.3"}'));
        assert.equal(await text(f.store, 'sboms/s390x/from-file.json'), '{"spdxVersion":"SPDX-2.3"}');
        const s = await f.store.put(
          'sboms/s390x/from-stream.json',
          { stream: chunks(['ab', 'cd', 'ef']) },
          JSON_TYPE,
        );
        assert.deepEqual([s.size, s.sha256], [6, sha('abcdef')]);
        assert.equal(await text(f.store, 'sboms/s390x/from-stream.json'), 'abcdef');
        await assert.rejects(
          f.store.put('sboms/s390x/missing.json', { file: join(dir.path, 'nope.json') }, JSON_TYPE),
          (e) => isVouchError(e, 'FILE_NOT_FOUND') && e.message.includes('nope.json'),
        );
      } finally {
        await f.dispose();
      }
    });

    test('a write that fails part-way leaves the previous object and no trace', async () => {
      const f = await open();
      try {
        await f.store.put('attestations/amd64/attestation-app-1.0.json', Buffer.from('old'), JSON_TYPE);
        await assert.rejects(
          f.store.put(
            'attestations/amd64/attestation-app-1.0.json',
            { stream: chunks(['new', 'er', 'content'], 2) },
            JSON_TYPE,
          ),
          /source broke mid-stream/,
        );
        assert.equal(await text(f.store, 'attestations/amd64/attestation-app-1.0.json'), 'old');
        await assert.rejects(
          f.store.put('attestations/amd64/new.json', { stream: chunks(['x', 'y'], 1) }, JSON_TYPE),
          /source broke/,
        );
        assert.equal(await f.store.head('attestations/amd64/new.json'), undefined);
        assert.deepEqual(
          (await listAll(f.store)).map((e) => e.key),
          ['attestations/amd64/attestation-app-1.0.json'],
        );
      } finally {
        await f.dispose();
      }
    });

    test('list filters by string prefix, in key order, across directories', async () => {
      const f = await open();
      try {
        const keys = [
          'scans/arm64/scan-app-1.0.json',
          'sboms/arm64/sbom-app-1.0-spdx.json.sig',
          'sboms/amd64/sbom-app-1.0-spdx.json',
          'sboms/amd64/sbom-app-1.0-spdx.json.sig',
          'sboms/arm64/sbom-app-1.0-spdx.json',
          'attestations/amd64/attestation-app-1.0.json',
        ];
        for (const k of keys) await f.store.put(k, Buffer.from(k), JSON_TYPE);
        const all = await listAll(f.store);
        assert.deepEqual(
          all.map((e) => e.key),
          [...keys].sort(),
        );
        assert.deepEqual(
          all.map((e) => e.size),
          [...keys].sort().map((k) => k.length),
        );
        assert.deepEqual(
          (await listAll(f.store, 'sboms/')).map((e) => e.key),
          [
            'sboms/amd64/sbom-app-1.0-spdx.json',
            'sboms/amd64/sbom-app-1.0-spdx.json.sig',
            'sboms/arm64/sbom-app-1.0-spdx.json',
            'sboms/arm64/sbom-app-1.0-spdx.json.sig',
          ],
        );
        // A prefix is a string prefix, as in S3: a partial segment matches.
        assert.deepEqual(
          (await listAll(f.store, 'sboms/arm')).map((e) => e.key),
          ['sboms/arm64/sbom-app-1.0-spdx.json', 'sboms/arm64/sbom-app-1.0-spdx.json.sig'],
        );
        assert.deepEqual(
          (await listAll(f.store, 'sboms/amd64/sbom-app-1.0-spdx.json.')).map((e) => e.key),
          ['sboms/amd64/sbom-app-1.0-spdx.json.sig'],
        );
        assert.deepEqual(await listAll(f.store, 'nothing/'), []);
      } finally {
        await f.dispose();
      }
    });

    test('list pages through many keys', async () => {
      const f = await open();
      try {
        const keys = Array.from(
          { length: 23 },
          (_, i) => `scans/riscv64/scan-${String(i).padStart(3, '0')}.json`,
        );
        for (const k of keys) await f.store.put(k, Buffer.from(k), JSON_TYPE);
        assert.deepEqual(
          (await listAll(f.store, 'scans/')).map((e) => e.key),
          keys,
        );
      } finally {
        await f.dispose();
      }
    });

    test('unsafe keys and prefixes are refused before anything is touched', async () => {
      const f = await open();
      try {
        for (const key of UNSAFE_KEYS) {
          const refused = (e: unknown) => isVouchError(e, 'UNSAFE_PATH');
          await assert.rejects(
            f.store.put(key, Buffer.from('x'), JSON_TYPE),
            refused,
            `put ${JSON.stringify(key)}`,
          );
          await assert.rejects(f.store.get(key), refused, `get ${JSON.stringify(key)}`);
          await assert.rejects(f.store.head(key), refused, `head ${JSON.stringify(key)}`);
          await assert.rejects(f.store.delete(key), refused, `delete ${JSON.stringify(key)}`);
        }
        for (const prefix of ['../', '/abs', 'a/../', 'a\0']) {
          await assert.rejects(listAll(f.store, prefix), (e) => isVouchError(e, 'UNSAFE_PATH'), prefix);
        }
        assert.deepEqual(await listAll(f.store), []);
      } finally {
        await f.dispose();
      }
    });

    test('an aborted signal stops an operation with ABORTED', async () => {
      const f = await open();
      try {
        const signal = AbortSignal.abort();
        await assert.rejects(
          f.store.put('scans/386/x.json', Buffer.from('x'), { ...JSON_TYPE, signal }),
          (e) => isVouchError(e, 'ABORTED'),
        );
        await assert.rejects(f.store.head('scans/386/x.json', { signal }), (e) => isVouchError(e, 'ABORTED'));
        assert.equal(await f.store.head('scans/386/x.json'), undefined);
      } finally {
        await f.dispose();
      }
    });
  });
}
