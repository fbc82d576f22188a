import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { flipBytes } from '../../../test/vuln-db/corrupt.ts';
import { OSV_GO, recordFiles } from '../../../test/vuln-db/osv-data.ts';
import { writeZip } from '../../../test/vuln-db/zip-writer.ts';
import { isVouchError } from '../../errors.ts';
import { planZipTasks, readZipDirectory, readZipTask, type ZipDirectory, type ZipMemberData } from './zip.ts';

let dir: string;
const hasPython = spawnSync('python3', ['-c', 'import zipfile'], { stdio: 'ignore' }).status === 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-zip-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function readAll(d: ZipDirectory, maxMembers?: number): ZipMemberData[] {
  const out: ZipMemberData[] = [];
  for (const t of planZipTasks(d, maxMembers)) {
    for (const m of readZipTask(t)) {
      assert.ok(!('problem' in m), `unexpected problem in ${m.name}`);
      out.push(m);
    }
  }
  return out;
}

const small = [
  { name: 'A-1.json', data: Buffer.from('{"id":"A-1"}') },
  { name: 'dir/B-2.json', data: Buffer.from('{"id":"B-2","x":"héllo"}') },
  { name: 'empty.json', data: Buffer.alloc(0) },
  { name: 'C-3.json', data: Buffer.from('x'.repeat(5000)) },
];

for (const variant of [
  { label: 'deflate', o: {} },
  { label: 'stored', o: { method: 'store' as const } },
  { label: 'ZIP64 records', o: { zip64: true } },
]) {
  test(`zip round trip: ${variant.label}`, async () => {
    const p = join(dir, `rt-${variant.label}.zip`);
    await writeZip(p, small, variant.o);
    const d = await readZipDirectory(p);
    assert.deepEqual(
      d.members.map((m) => m.name),
      small.map((s) => s.name),
    );
    // One member per task too: task boundaries must not change what is read.
    for (const per of [1, 2, 256]) {
      const got = readAll(d, per);
      assert.deepEqual(
        got.map((g) => [g.name, Buffer.from(g.data).toString('latin1')]),
        small.map((s) => [s.name, s.data.toString('latin1')]),
      );
      for (const g of got) assert.equal(g.deflated === undefined, variant.o.method === 'store');
    }
  });
}

test('real Go records: written, read back byte for byte, deflate stream kept for storage', async () => {
  const files = recordFiles(OSV_GO);
  const p = join(dir, 'go.zip');
  await writeZip(p, files);
  const d = await readZipDirectory(p);
  assert.equal(d.members.length, files.length);
  const tasks = planZipTasks(d);
  assert.ok(tasks.length >= Math.ceil(files.length / 256));
  // Tasks cover the members exactly once, in order, with contiguous byte ranges.
  assert.deepEqual(
    tasks.flatMap((t) => t.members.map((m) => m.name)),
    files.map((f) => f.name),
  );
  for (const [i, t] of tasks.entries()) {
    if (i > 0) assert.equal(t.start, tasks[i - 1]!.end);
  }
  const got = readAll(d);
  for (const [i, g] of got.entries()) assert.ok(Buffer.from(g.data).equals(files[i]!.data), g.name);
});

test(
  'python zipfile reads what the test writer writes (the writer is a fair stand-in for OSV exports)',
  {
    skip: !hasPython && 'python3 not available',
  },
  async () => {
    const p = join(dir, 'py-check.zip');
    await writeZip(p, recordFiles(OSV_GO).slice(0, 300), { zip64: true });
    const out = execFileSync('python3', [
      '-c',
      'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print(z.testzip(), len(z.namelist()))',
      p,
    ]).toString();
    assert.equal(out.trim(), 'None 300');
  },
);

test(
  'zips written by python zipfile (deflate, forced ZIP64, and 70,000 members) read correctly',
  {
    skip: !hasPython && 'python3 not available',
    timeout: 120_000,
  },
  async () => {
    const script = `
import zipfile, sys, os
src, out = sys.argv[1], sys.argv[2]
names = sorted(os.listdir(src))[:500]
with zipfile.ZipFile(out + '/py.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    for n in names: z.write(os.path.join(src, n), n)
with zipfile.ZipFile(out + '/py64.zip', 'w', zipfile.ZIP_DEFLATED) as z:
    for n in names:
        with open(os.path.join(src, n), 'rb') as f, z.open(n, 'w', force_zip64=True) as w: w.write(f.read())
with zipfile.ZipFile(out + '/many.zip', 'w', zipfile.ZIP_STORED) as z:
    for i in range(70000): z.writestr('m/%06d.json' % i, '{"n":%d}' % i)
`;
    execFileSync('python3', ['-c', script, OSV_GO, dir]);
    const files = recordFiles(OSV_GO).slice(0, 500);
    for (const name of ['py.zip', 'py64.zip']) {
      const got = readAll(await readZipDirectory(join(dir, name)));
      assert.equal(got.length, 500, name);
      for (const [i, g] of got.entries()) {
        assert.equal(g.name, files[i]!.name);
        assert.ok(Buffer.from(g.data).equals(files[i]!.data), `${name}: ${g.name}`);
      }
    }
    const many = await readZipDirectory(join(dir, 'many.zip'));
    assert.equal(many.members.length, 70_000);
    const got = readAll(many);
    assert.equal(Buffer.from(got[69_999]!.data).toString(), '{"n":69999}');
    assert.equal(got[12_345]!.name, 'm/012345.json');
  },
);

/** Offsets inside a zip the test writer made (no comments, no extra fields unless ZIP64). */
function layout(b: Buffer) {
  const eocd = b.length - 22;
  const cd = b.readUInt32LE(eocd + 16);
  const members: { local: number; central: number; data: number; nameLen: number }[] = [];
  for (let p = cd; p < eocd; ) {
    const nameLen = b.readUInt16LE(p + 28);
    const local = b.readUInt32LE(p + 42);
    members.push({ local, central: p, data: local + 30 + nameLen, nameLen });
    p += 46 + nameLen + b.readUInt16LE(p + 30) + b.readUInt16LE(p + 32);
  }
  return { eocd, cd, members };
}

type Mutation = { label: string; expect: RegExp; mutate(b: Buffer): Buffer; stored?: boolean };
const mutations: Mutation[] = [
  { label: 'empty file', expect: /too short/, mutate: () => Buffer.alloc(0) },
  {
    label: 'not a zip',
    expect: /no end of central directory/,
    mutate: () => Buffer.from('{"id": "X"}'.repeat(10)),
  },
  {
    label: 'truncated by one byte',
    expect: /no end of central directory/,
    mutate: (b) => b.subarray(0, b.length - 1),
  },
  {
    label: 'truncated in half',
    expect: /no end of central directory/,
    mutate: (b) => b.subarray(0, b.length >> 1),
  },
  {
    label: 'central directory offset past the end',
    expect: /out of bounds/,
    mutate: (b) => {
      b.writeUInt32LE(b.length, b.length - 22 + 16);
      return b;
    },
  },
  {
    label: 'more entries claimed than present',
    expect: /too small|damaged/,
    mutate: (b) => {
      const e = b.length - 22;
      b.writeUInt16LE(b.readUInt16LE(e + 10) + 5, e + 8);
      b.writeUInt16LE(b.readUInt16LE(e + 10) + 5, e + 10);
      return b;
    },
  },
  {
    label: 'encrypted member',
    expect: /encrypted/,
    mutate: (b) => {
      const m = layout(b).members[1]!;
      b.writeUInt16LE(b.readUInt16LE(m.central + 8) | 1, m.central + 8);
      return b;
    },
  },
  {
    label: 'unsupported method (bzip2)',
    expect: /compression method 12/,
    mutate: (b) => {
      b.writeUInt16LE(12, layout(b).members[0]!.central + 10);
      return b;
    },
  },
  {
    label: 'overlapping members (two entries, one offset)',
    expect: /overlaps/,
    mutate: (b) => {
      const { members } = layout(b);
      b.writeUInt32LE(members[0]!.local, members[1]!.central + 42);
      return b;
    },
  },
  {
    label: 'local header signature damaged',
    expect: /local header missing/,
    mutate: (b) => {
      b.writeUInt32LE(0x12345678, layout(b).members[2]!.local);
      return b;
    },
  },
  {
    label: 'deflate data corrupted',
    expect: /corrupt|CRC-32|bytes, the directory says/,
    mutate: (b) => {
      const m = layout(b).members[3]!;
      flipBytes(b, m.data + 2, 8, 0xff);
      return b;
    },
  },
  {
    label: 'stored data corrupted',
    stored: true,
    expect: /CRC-32 mismatch/,
    mutate: (b) => {
      flipBytes(b, layout(b).members[0]!.data + 3, 1, 0x20);
      return b;
    },
  },
  {
    label: 'wrong uncompressed size in the directory',
    expect: /more bytes than the directory says/,
    mutate: (b) => {
      const m = layout(b).members[3]!;
      b.writeUInt32LE(b.readUInt32LE(m.central + 24) - 10, m.central + 24);
      return b;
    },
  },
];

for (const m of mutations) {
  test(`corrupt zip → DB_INVALID naming the file: ${m.label}`, async () => {
    const good = join(dir, `good-${m.stored ? 's' : 'd'}.zip`);
    await writeZip(good, small, m.stored ? { method: 'store' } : {});
    const p = join(dir, 'bad.zip');
    await writeFile(p, m.mutate(Buffer.from(await readFile(good))));
    await assert.rejects(
      async () => readAll(await readZipDirectory(p, 'https://example.test/PyPI/all.zip')),
      (e: unknown) => {
        assert.ok(isVouchError(e, 'DB_INVALID'), String(e));
        assert.match(e.message, /^https:\/\/example\.test\/PyPI\/all\.zip: /);
        assert.match(e.message, m.expect);
        assert.ok(e.hint);
        return true;
      },
    );
  });
}

test('a missing file is FILE_NOT_FOUND, not DB_INVALID', async () => {
  await assert.rejects(readZipDirectory(join(dir, 'nope.zip')), (e: unknown) =>
    isVouchError(e, 'FILE_NOT_FOUND'),
  );
});

test('a member over the size limit is a problem, not a crash or an allocation', async () => {
  const p = join(dir, 'big.zip');
  await writeZip(p, small.slice(0, 2));
  const b = Buffer.from(await readFile(p));
  const m = layout(b).members[0]!;
  b.writeUInt32LE(0xfffffff0, m.central + 24); // claims ~4 GiB uncompressed
  await writeFile(p, b);
  const out = [...readZipTask(planZipTasks(await readZipDirectory(p))[0]!)];
  assert.ok('problem' in out[0]! && /over the .*limit/.test(out[0].problem));
  assert.equal((out[1] as ZipMemberData).name, 'dir/B-2.json');
});
