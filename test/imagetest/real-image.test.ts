/**
 * Hardening and static tests on the real Debian bookworm "rich" image (test/images: mmdebstrap,
 * python, java, go, npm apps; 800+ dynamically linked ELF files). Builds take minutes, so this
 * runs only with VOUCH_TEST_IMAGES=1 (`npm run test:images` builds the cache first).
 *
 * What it proves: hardening removes apt/dpkg/debconf, docs and caches and nothing a program
 * needs (every ELF file still finds its libraries); the dpkg database and copyright files are
 * kept, so the SBOM still lists every package dpkg-query listed (the ground truth), with the
 * same licenses; flattening afterwards makes the image smaller.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type FlattenResult, flattenImage } from '../../src/build/flatten.ts';
import { type HardenResult, hardenImage } from '../../src/build/harden.ts';
import { parseStructureTest } from '../../src/imagetest/cst/parse.ts';
import { runImageChecks } from '../../src/imagetest/run.ts';
import type { CheckResult } from '../../src/imagetest/types.ts';
import { catalogImage } from '../../src/sbom/catalog.ts';
import type { Sbom } from '../../src/sbom/model.ts';
import { openDestination } from '../../src/transport/open.ts';
import { type BuiltImage, buildTestImage } from '../images/build.ts';
import { pathsOf, viewOf, withImage } from './fixtures.ts';

const enabled = process.env.VOUCH_TEST_IMAGES === '1';

const CST = `schemaVersion: 2.0.0
metadataTest:
  user: "65532:65532"
  workdir: /srv/app
  envVars:
    - key: PATH
      value: "^/opt/venv/bin:"
      isRegex: true
fileExistenceTests:
  - name: no apt-get
    path: /usr/bin/apt-get
    shouldExist: false
  - name: dpkg status kept
    path: /var/lib/dpkg/status
    shouldExist: true
    permissions: "-rw-r--r--"
  - name: python
    path: /usr/bin/python3
    shouldExist: true
  - name: python interpreter
    path: /usr/bin/python3.11
    isExecutableBy: any
fileContentTests:
  - name: os-release
    path: /etc/os-release
    expectedContents: ['(?m)^ID=debian$', 'VERSION_CODENAME=bookworm']
licenseTests:
  - debian: true
`;

const status = (rs: CheckResult[]) => Object.fromEntries(rs.map((r) => [r.name, r.status]));

describe(
  'hardening the real rich Debian image',
  { skip: enabled ? false : 'set VOUCH_TEST_IMAGES=1 (npm run test:images)' },
  () => {
    let img: BuiltImage;
    let work: string;
    let hardRef: string;
    let hardened: HardenResult;
    let beforeChecks: CheckResult[];

    before(async () => {
      img = await buildTestImage('rich', { log: (l) => console.log(l) });
      work = await mkdtemp(join(tmpdir(), 'vouch-real-harden-'));
      hardRef = `oci:${join(work, 'hard')}:rich`;
      const t = performance.now();
      hardened = await withImage(img.layoutRef, async (image) => {
        beforeChecks = await runImageChecks(image);
        const dst = await openDestination(hardRef);
        try {
          const r = await hardenImage(image, dst);
          await dst.commit(r.descriptor);
          return r;
        } finally {
          await dst.close();
        }
      });
      console.log(
        `[rich] checks + harden ${((performance.now() - t) / 1000).toFixed(1)} s: ${hardened.summary
          .map((s) => `${s.category} ${s.paths} paths ${s.entries} entries ${s.bytes} B`)
          .join('; ')}`,
      );
    });
    after(async () => {
      if (work) await rm(work, { recursive: true, force: true });
    });

    test('before hardening: root and package managers fail, libraries pass', () => {
      assert.deepEqual(status(beforeChecks), {
        'user is not root': 'fail',
        'package managers are gone': 'fail',
        'no secrets in env or labels': 'pass',
        'needed shared libraries are present': 'pass',
      });
      const pm = beforeChecks.find((r) => r.name === 'package managers are gone')!;
      for (const p of ['/usr/bin/apt-get', '/usr/bin/dpkg', '/usr/bin/debconf'])
        assert.ok(pm.details!.includes(p), p);
      assert.match(beforeChecks.at(-1)!.message, /^all \d{3,} dynamically linked ELF objects/);
    });

    test('harden removes package managers, docs and caches; keeps the dpkg database and copyrights', () => {
      const paths = new Set(hardened.removed.map((r) => r.path));
      for (const p of [
        '/usr/bin/apt-get',
        '/usr/bin/dpkg',
        '/etc/apt',
        '/var/lib/apt',
        '/var/cache/apt',
        '/usr/share/man',
      ]) {
        assert.ok(paths.has(p), `${p} removed`);
      }
      assert.ok(![...paths].some((p) => p.startsWith('/var/lib/dpkg/info') || p === '/var/lib/dpkg/status'));
      assert.ok(![...paths].some((p) => p.endsWith('/copyright')));
      assert.deepEqual(hardened.keptDatabases, ['/var/lib/dpkg/status', '/var/lib/dpkg/info']);
      const docs = hardened.summary.find((s) => s.category === 'docs')!;
      assert.ok(docs.bytes > 1024 * 1024, `docs: ${docs.bytes} bytes`);
      assert.equal(hardened.user.after, '65532:65532');
    });

    test('after hardening: every built-in check and a cst file with license tests pass', async () => {
      const st = parseStructureTest(CST, 'rich.yaml');
      const results = await withImage(hardRef, (image) => runImageChecks(image, { structureTests: [st] }));
      assert.deepEqual(
        results
          .filter((r) => r.status !== 'pass')
          .map((r) => `${r.name}: ${r.message} ${(r.details ?? []).slice(0, 5).join('; ')}`),
        [],
      );
      const libs = results.find((r) => r.name === 'needed shared libraries are present')!;
      console.log(`[rich] hardened: ${libs.message}`);
      const license = results.find((r) => r.name === 'License Test')!;
      assert.match(license.message, /licenses of \d{2,} Debian packages checked/);
    });

    test('the SBOM still lists every dpkg package, with the same licenses', async () => {
      const sbomOf = (ref: string): Promise<Sbom> => withImage(ref, (image) => catalogImage(image));
      const [orig, hard] = [await sbomOf(img.layoutRef), await sbomOf(hardRef)];
      const debs = (s: Sbom) =>
        new Map(
          s.packages
            .filter((p) => p.type === 'deb')
            .map((p) => [`${p.name}@${p.version}`, p.licenses.join(' ')]),
        );
      const truth = new Set(img.truth.deb.map((d) => `${d.name}@${d.version}`));
      const h = debs(hard);
      assert.deepEqual(
        [...truth].filter((k) => !h.has(k)),
        [],
        'dpkg packages missing from the hardened SBOM',
      );
      assert.deepEqual(h, debs(orig));
      assert.ok(
        [...h.values()].filter((l) => l !== '').length > truth.size / 2,
        'licenses come from the kept copyright files',
      );
    });

    test('flattened, the hardened image is smaller and the removed files are gone', async () => {
      const flatRef = `oci:${join(work, 'flat')}:rich`;
      const flat: FlattenResult = await withImage(hardRef, async (image) => {
        const dst = await openDestination(flatRef);
        try {
          const r = await flattenImage(image, dst);
          await dst.commit(r.descriptor);
          return r;
        } finally {
          await dst.close();
        }
      });
      const original = img.info.layers.reduce((n, l) => n + l.size, 0);
      console.log(`[rich] original layers ${original} B, hardened + flattened ${flat.after.size} B`);
      assert.ok(flat.after.size < original, `${flat.after.size} < ${original}`);
      await withImage(flatRef, async (image) => {
        const view = await viewOf(image);
        try {
          const paths = new Set(await pathsOf(view));
          assert.ok(!paths.has('/usr/bin/apt-get'));
          assert.ok(!paths.has('/usr/share/man'));
          assert.ok(paths.has('/var/lib/dpkg/status'));
          assert.ok(paths.has('/usr/bin/python3.11'));
        } finally {
          await view.close();
        }
      });
    });
  },
);
