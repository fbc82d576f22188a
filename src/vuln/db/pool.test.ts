import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { isVouchError } from '../../errors.ts';
import type { DecodeBatch, DecodeTask } from './decode.ts';
import { DecodePool } from './pool.ts';

let dir: string;
let tasks: DecodeTask[];

/** 12 tasks of 20 small records each, plus a bad one in the middle of the files. */
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-pool-'));
  const files: string[] = [];
  for (let i = 0; i < 240; i++) {
    const name = `REC-${String(i).padStart(4, '0')}.json`;
    const rec = {
      id: `REC-${i}`,
      modified: '2024-01-01T00:00:00Z',
      aliases: [`CVE-2024-${1000 + i}`],
      affected: [{ package: { ecosystem: 'PyPI', name: `pkg-${i % 7}` }, versions: ['1.0'] }],
    };
    await writeFile(join(dir, name), i === 117 ? '{ not json' : JSON.stringify(rec));
    files.push(name);
  }
  tasks = [];
  for (let i = 0; i < files.length; i += 20)
    tasks.push({ kind: 'files', root: dir, files: files.slice(i, i + 20) });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function decodeAll(pool: DecodePool, ts: DecodeTask[]): Promise<DecodeBatch[]> {
  const out: DecodeBatch[] = [];
  try {
    for await (const b of pool.run(ts)) out.push(b);
  } finally {
    await pool.close();
  }
  return out;
}

/** What a batch says, comparable across threads (typed arrays come back as plain copies). */
const view = (bs: DecodeBatch[]) =>
  bs.map((b) => ({
    ids: b.ids,
    keys: b.keys,
    aliases: b.aliases,
    problems: b.problems,
    hashes: b.hashes,
    blobs: Buffer.from(b.blobs).toString('base64'),
    ends: [...b.blobEnds],
  }));

test('workers and the helping importing thread give the batches of the in-thread run, in task order', async () => {
  const alone = await decodeAll(new DecodePool(0), tasks);
  assert.equal(alone.length, tasks.length);
  assert.equal(alone.flatMap((b) => b.ids).length, 239);
  assert.deepEqual(
    alone.flatMap((b) => b.problems.map((p) => p.entry)),
    ['REC-0117.json'],
  );
  for (const size of [1, 2]) {
    const pool = new DecodePool(size);
    const got = await decodeAll(pool, tasks);
    assert.deepEqual(view(got), view(alone), `${size} worker(s)`);
    // more tasks than the workers hold in flight: this thread took some while they started
    assert.ok(pool.decodedHere > 0 && pool.decodedHere < tasks.length, `decoded here: ${pool.decodedHere}`);
  }
});

test('a failing task fails the run at its turn, after the batches before it, whoever decoded it', async () => {
  const bad: DecodeTask = {
    kind: 'zip',
    zip: {
      path: join(dir, 'REC-0000.json'),
      label: 'broken.zip',
      start: 0,
      end: 10,
      members: [{ name: 'x.json', offset: 0, compressedSize: 1, size: 1, method: 0, crc: 0 }],
    },
  };
  for (const at of [0, 5, 11]) {
    for (const size of [0, 1]) {
      const ts = [...tasks.slice(0, at), bad, ...tasks.slice(at)];
      const pool = new DecodePool(size);
      let seen = 0;
      await assert.rejects(
        (async () => {
          try {
            for await (const _ of pool.run(ts)) seen++;
          } finally {
            await pool.close();
          }
        })(),
        (e: unknown) =>
          isVouchError(e, 'DB_INVALID') && /broken\.zip: .*local header missing/.test(e.message),
      );
      assert.equal(seen, at, `task ${at}, ${size} worker(s)`);
    }
  }
});

test('workers start when vouch runs from `node --input-type=module -e` (flags inherited without the code)', async () => {
  const pool = new URL('./pool.ts', import.meta.url).href;
  const code = `
    const { DecodePool } = await import(${JSON.stringify(pool)});
    const p = new DecodePool(1);
    let n = 0;
    try {
      for await (const b of p.run(${JSON.stringify(tasks.slice(0, 2))})) n += b.ids.length;
    } finally {
      await p.close();
    }
    console.log(n);`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code]);
  assert.equal(stdout.trim(), '40');
});
