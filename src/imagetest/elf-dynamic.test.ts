import assert from 'node:assert/strict';
import { existsSync, realpathSync } from 'node:fs';
import { test } from 'node:test';
import { buildElf } from '../../test/imagetest/elf-builder.ts';
import { exe, file, viewOfLayers } from '../../test/imagetest/fixtures.ts';
import { hostEntries, readelfInterpreter, readelfNeeded } from '../../test/imagetest/host-elf.ts';
import { FormatError } from '../sbom/catalogers/golang/byte-source.ts';
import { type ElfDynamic, readElfDynamic } from './elf-dynamic.ts';

async function dynOf(content: Uint8Array): Promise<ElfDynamic | FormatError | undefined> {
  const v = await viewOfLayers([[exe('x', content)]]);
  try {
    const rec = await v.stat('/x');
    return await readElfDynamic(v, '/x', rec!.size);
  } finally {
    await v.close();
  }
}

test('reads interpreter, NEEDED, RPATH, RUNPATH and SONAME in every class and byte order', async () => {
  for (const [is64, littleEndian, machine] of [
    [true, true, 62],
    [true, false, 22],
    [false, true, 3],
    [false, false, 20],
  ] as const) {
    const d = await dynOf(
      buildElf({
        is64,
        littleEndian,
        machine,
        type: 2,
        interpreter: '/lib/ld-linux.so.2',
        needed: ['libfoo.so.1', 'libc.so.6'],
        rpath: '/opt/r1:/opt/r2',
        runpath: '$ORIGIN/../lib',
        soname: 'tool.so',
      }),
    );
    assert.ok(d && !(d instanceof FormatError), String(d));
    assert.deepEqual(d, {
      is64,
      littleEndian,
      machine,
      type: 2,
      interpreter: '/lib/ld-linux.so.2',
      needed: ['libfoo.so.1', 'libc.so.6'],
      rpath: ['/opt/r1', '/opt/r2'],
      runpath: ['$ORIGIN/../lib'],
      soname: 'tool.so',
      noDefaultLib: false,
    });
  }
});

test('static programs, non-ELF files and broken ELF files', async () => {
  assert.equal(await dynOf(buildElf({ static: true })), undefined);
  assert.equal(await dynOf(Buffer.from(`#!/bin/sh\n${'echo hi\n'.repeat(20)}`)), undefined);
  // a relocatable object (ET_REL) is not loaded by ld.so
  assert.equal(await dynOf(buildElf({ type: 1, needed: ['libc.so.6'] })), undefined);
  const truncated = buildElf({ needed: ['libc.so.6'] }).subarray(0, 100);
  const r = await dynOf(truncated);
  assert.ok(r instanceof FormatError, `a truncated ELF is a FormatError, got ${String(r)}`);
});

const HOST = [
  '/bin/ls',
  '/bin/bash',
  '/usr/bin/python3',
  '/lib/x86_64-linux-gnu/libc.so.6',
  '/usr/bin/openssl',
].filter((p) => existsSync(p));

test(
  "agrees with readelf on this machine's programs",
  { skip: (await readelfNeeded('/bin/ls')) ? false : 'readelf is not installed (apt-get install binutils)' },
  async () => {
    const v = await viewOfLayers([await hostEntries(HOST)]);
    try {
      for (const p of HOST) {
        const real = realpathSync(p);
        const rec = await v.stat(real);
        const d = await readElfDynamic(v, real, rec!.size);
        assert.ok(d && !(d instanceof FormatError), `${p}: ${String(d)}`);
        assert.deepEqual(d.needed, await readelfNeeded(real), p);
        assert.equal(d.interpreter, await readelfInterpreter(real), p);
      }
    } finally {
      await v.close();
    }
  },
);

test('a file too small for ELF is not read', async () => {
  const v = await viewOfLayers([[file('tiny', '\x7fELF')]]);
  try {
    assert.equal(await readElfDynamic(v, '/tiny', 4), undefined);
  } finally {
    await v.close();
  }
});
