/**
 * The library check on real programs: this machine's /bin/ls and every library `ldd` says it
 * loads, copied into an image at the same paths (symlinks included) with this machine's
 * /etc/ld.so.conf. vouch must resolve each DT_NEEDED to the file ldd resolved it to, and fail,
 * naming the binary and the library, once a library is deleted by a later layer.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { test } from 'node:test';
import { checkLibraries } from '../../src/imagetest/libraries.ts';
import { runImageChecks } from '../../src/imagetest/run.ts';
import type { TarEntry } from '../helpers/random-image.ts';
import { file, fixtureImage, viewOfLayers, withImage } from './fixtures.ts';
import { hostEntries, ldd } from './host-elf.ts';

const BINARY = '/bin/ls';
const found = existsSync(BINARY) ? await ldd(BINARY).catch(() => undefined) : undefined;
const skip = found && found.libraries.size > 0 ? false : `needs ${BINARY} and ldd (libc-bin)`;

async function hostImageEntries(): Promise<TarEntry[]> {
  const conf = ['/etc/ld.so.conf'];
  if (existsSync('/etc/ld.so.conf.d')) {
    for (const f of readdirSync('/etc/ld.so.conf.d')) conf.push(`/etc/ld.so.conf.d/${f}`);
  }
  return hostEntries([
    BINARY,
    ...found!.libraries.values(),
    found!.interpreter!,
    ...conf.filter((p) => existsSync(p)),
  ]);
}

/** Where each library ldd named is on this machine, by its real path. */
function lddReal(): Map<string, string> {
  const m = new Map([...found!.libraries].map(([name, path]) => [name, realpathSync(path)]));
  // ldd lists the loader by path; libc names it by base name.
  const ld = found!.interpreter!;
  m.set(ld.slice(ld.lastIndexOf('/') + 1), realpathSync(ld));
  return m;
}

test('every DT_NEEDED of ls and its libraries resolves where ldd resolves it', { skip }, async () => {
  const v = await viewOfLayers([await hostImageEntries()]);
  try {
    const r = await checkLibraries({ config: { Env: ['PATH=/usr/bin:/bin'] }, files: v });
    assert.deepEqual(r.missing, []);
    assert.deepEqual(r.unreadable, []);
    const want = lddReal();
    // ls, each library and the loader itself
    assert.equal(r.objects, want.size + 1);
    let compared = 0;
    for (const [object, libs] of r.resolved) {
      for (const [name, at] of libs) {
        assert.equal(at, want.get(name), `${object}: ${name}`);
        compared++;
      }
    }
    assert.ok(compared >= found!.libraries.size, `${compared} lookups compared`);
    assert.ok(r.resolved.get(realpathSync(BINARY))!.size > 0);
  } finally {
    await v.close();
  }
});

test('deleting a library ls needs fails the check, naming both', { skip }, async () => {
  const entries = await hostImageEntries();
  const direct = [...(await checkDirect(entries))];
  const lib = direct.find((n) => n !== 'libc.so.6') ?? 'libc.so.6';
  const real = lddReal().get(lib)!;
  const dir = real.slice(1, real.lastIndexOf('/'));
  const base = real.slice(real.lastIndexOf('/') + 1);
  const fx = await fixtureImage([entries, [file(`${dir}/.wh.${base}`, '')]], {
    User: '65532',
    Env: ['PATH=/usr/bin'],
  });
  try {
    const results = await withImage(fx.ref, (image) => runImageChecks(image, { builtin: ['libraries'] }));
    assert.equal(results.length, 1);
    const [r] = results;
    assert.equal(r!.status, 'fail');
    assert.ok(
      r!.details!.some((d) => d.startsWith(`${realpathSync(BINARY)}: needs ${lib}, not found in `)),
      r!.details!.join('\n'),
    );
  } finally {
    await fx.cleanup();
  }
});

/** The direct needs of the binary, as vouch reads them. */
async function checkDirect(entries: TarEntry[]): Promise<Set<string>> {
  const v = await viewOfLayers([entries]);
  try {
    const r = await checkLibraries({ config: {}, files: v });
    return new Set(r.resolved.get(realpathSync(BINARY))!.keys());
  } finally {
    await v.close();
  }
}
