/**
 * The proof on real images: Debian bookworm root filesystems built by mmdebstrap (build.ts),
 * scanned by vouch as an OCI layout, as a docker-archive and as a directory, and compared with
 * ground truth from the real tools (truth.ts): dpkg-query, METADATA/PKG-INFO, pom.properties,
 * `go version -m`, `npm ls`.
 *
 * Builds take minutes, so this runs only under `npm run test:images` (VOUCH_TEST_IMAGES=1);
 * in `npm test` it is skipped. Images are cached in .cache/test-images/.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { before, describe, test } from 'node:test';
import { openImage } from '../../src/image/describe.ts';
import { catalogDirectory, catalogImage } from '../../src/sbom/catalog.ts';
import { readSbom, serializeCycloneDx, serializeSpdx } from '../../src/sbom/format/index.ts';
import { cycloneDxValidator, schemaErrors, spdxValidator } from '../../src/sbom/format/test-support.ts';
import type { Package, Sbom } from '../../src/sbom/model.ts';
import { openSource } from '../../src/transport/open.ts';
import { type BuiltImage, buildTestImage } from './build.ts';
import { compareWithTruth, formatReport, type Report } from './compare.ts';
import type { RecipeName } from './recipes.ts';
import { ECOSYSTEMS } from './truth.ts';

const enabled = process.env.VOUCH_TEST_IMAGES === '1';
const MIN_RECALL = 0.98;

async function scanImage(ref: string): Promise<{ sbom: Sbom; seconds: number }> {
  const t = performance.now();
  const src = await openSource(ref);
  try {
    const { image } = await openImage(src);
    const sbom = await catalogImage(image);
    return { sbom, seconds: (performance.now() - t) / 1000 };
  } finally {
    await src.close();
  }
}

/** What must hold for any scan of a test image. */
function assertReport(r: Report, what: string): void {
  assert.deepEqual(r.deb.missing, [], `${what}: deb packages missing`);
  assert.deepEqual(r.deb.wrongVersion, [], `${what}: deb packages with the wrong version`);
  assert.deepEqual(r.deb.wrongSource, [], `${what}: deb packages with the wrong source`);
  assert.deepEqual(r.deb.unexpected, [], `${what}: deb packages dpkg does not know`);
  for (const eco of ECOSYSTEMS) {
    const e = r.ecosystems[eco];
    if (e.expected > 0) {
      assert.ok(
        e.recall >= MIN_RECALL,
        `${what}: ${eco} recall ${(e.recall * 100).toFixed(1)}% < ${MIN_RECALL * 100}%; missing ${e.missing
          .map((m) => `${m.name}@${m.version} at ${m.path}`)
          .join(', ')}`,
      );
    }
    assert.deepEqual(e.reportedTwice, [], `${what}: ${eco} packages reported twice`);
    assert.deepEqual(e.wrongOwner, [], `${what}: ${eco} packages with the wrong owner`);
  }
  assert.deepEqual(r.duplicates, [], `${what}: duplicate packages`);
  assert.deepEqual(r.deletedStillThere, [], `${what}: packages deleted by a whiteout still reported`);
}

/** type, name, version and main path: what two scans of the same files must agree on. */
function identities(s: Sbom): string[] {
  const key = (p: Package) => `${p.type} ${p.name} ${p.version} ${p.locations[0]?.path ?? ''}`;
  return s.packages.map(key).sort();
}

describe(
  'real Debian images',
  { skip: enabled ? false : 'set VOUCH_TEST_IMAGES=1 (npm run test:images)' },
  () => {
    for (const name of ['minbase', 'rich'] as RecipeName[]) {
      describe(name, () => {
        let img: BuiltImage;
        let layout: { sbom: Sbom; seconds: number };
        let layoutReport: Report;

        before(async () => {
          const t = performance.now();
          img = await buildTestImage(name, { log: (l) => console.log(l) });
          console.log(
            `[${name}] image ready in ${((performance.now() - t) / 1000).toFixed(1)} s ` +
              `(cached build took ${img.info.seconds.total} s: ${JSON.stringify(img.info.seconds)})`,
          );
          layout = await scanImage(img.layoutRef);
          layoutReport = compareWithTruth(layout.sbom, img.truth);
          console.log(
            formatReport(
              `[${name}] OCI layout scan: ${layout.sbom.packages.length} packages, ${layout.sbom.problems.length} problems, ${layout.seconds.toFixed(1)} s`,
              layoutReport,
            ),
          );
          for (const p of layout.sbom.problems.slice(0, 10))
            console.log(`    problem ${p.cataloger} ${p.path}: ${p.message}`);
          for (const d of layoutReport.deletedSeenElsewhere) console.log(`    note: ${d}`);
        });

        test('OCI layout: every dpkg package with version and source; languages ≥ 98%; no duplicates; whiteouts honoured', () => {
          assert.equal(layout.sbom.os?.id, 'debian');
          assert.equal(layout.sbom.os?.versionId, img.truth.os.VERSION_ID);
          assertReport(layoutReport, `${name} layout`);
          assert.equal(layout.sbom.subject.kind, 'image');
          if (layout.sbom.subject.kind === 'image') {
            assert.equal(layout.sbom.subject.digest, img.info.manifestDigest);
            assert.deepEqual(
              layout.sbom.subject.layers,
              img.info.layers.map((l) => l.digest),
            );
          }
        });

        test('locations name the layer that holds the file', () => {
          const layers = new Set(img.info.layers.map((l) => l.digest));
          const base = img.info.layers[0]!.digest;
          for (const p of layout.sbom.packages) {
            for (const l of p.locations)
              assert.ok(l.layer === undefined || layers.has(l.layer), `${p.name}: ${l.layer}`);
          }
          const deb = layout.sbom.packages.find((p) => p.type === 'deb');
          assert.equal(deb?.locations[0]?.layer, base);
          if (img.info.layers.length > 1) {
            const app = layout.sbom.packages.find(
              (p) => p.type === 'npm' || p.name === 'github.com/pkg/errors',
            );
            assert.equal(
              app?.locations[0]?.layer,
              img.info.layers[1]!.digest,
              'apps are in the second layer',
            );
          }
        });

        test('docker-archive: the same packages as the OCI layout', async () => {
          const archive = await scanImage(img.archiveRef);
          console.log(
            `[${name}] docker-archive scan: ${archive.sbom.packages.length} packages, ${archive.seconds.toFixed(1)} s`,
          );
          assert.deepEqual(identities(archive.sbom), identities(layout.sbom));
        });

        test('directory scan of the root filesystem: same truth, same packages', async () => {
          const t = performance.now();
          const sbom = await catalogDirectory(img.rootfs);
          const r = compareWithTruth(sbom, img.truth);
          console.log(
            formatReport(
              `[${name}] directory scan: ${sbom.packages.length} packages, ${((performance.now() - t) / 1000).toFixed(1)} s`,
              r,
            ),
          );
          assertReport(r, `${name} directory`);
          assert.deepEqual(identities(sbom), identities(layout.sbom));
        });

        test('CycloneDX 1.6 and SPDX 2.3 outputs are valid against the official schemas and read back', async () => {
          const cdx = serializeCycloneDx(layout.sbom);
          const spdx = serializeSpdx(layout.sbom);
          assert.deepEqual(
            schemaErrors(cycloneDxValidator(), JSON.parse(cdx)).slice(0, 10),
            [],
            'CycloneDX schema errors',
          );
          assert.deepEqual(
            schemaErrors(spdxValidator(), JSON.parse(spdx)).slice(0, 10),
            [],
            'SPDX schema errors',
          );
          // The validators are live: a broken component is caught.
          const broken = JSON.parse(cdx) as { components: { type?: string }[] };
          delete broken.components[0]!.type;
          assert.notDeepEqual(schemaErrors(cycloneDxValidator(), broken), []);
          const purls = (s: Sbom) => s.packages.map((p) => p.purl).sort();
          assert.deepEqual(purls(readSbom(cdx)), purls(layout.sbom), 'CycloneDX round trip');
          assert.deepEqual(purls(readSbom(spdx)), purls(layout.sbom), 'SPDX round trip');
          console.log(
            `[${name}] CycloneDX ${(cdx.length / 1024).toFixed(0)} KiB, SPDX ${(spdx.length / 1024).toFixed(0)} KiB: schema-valid`,
          );
        });

        test('ground truth is what the recipe promises', () => {
          const t = img.truth;
          assert.ok(t.deb.length >= 80, `${t.deb.length} deb packages`);
          assert.ok(t.deb.some((d) => d.name === 'libc6' && d.sourceName === 'glibc'));
          if (name === 'rich') {
            for (const eco of ECOSYSTEMS) assert.ok(t[eco].length >= 5, `${eco}: ${t[eco].length}`);
            assert.ok(
              t.python.some((p) => p.ownedBy === undefined),
              'a Python package no deb owns (venv pip)',
            );
            assert.ok(
              t.go.some((g) => g.kind === 'dep'),
              'a Go binary with module deps',
            );
            assert.ok(
              t.go.some((g) => g.ownedBy !== undefined),
              'a Go binary from a deb',
            );
            assert.ok(
              t.npm.some((n) => n.path.includes('/node_modules/express/node_modules/')),
              'nested node_modules',
            );
            assert.deepEqual(t.deleted.map((d) => d.ecosystem).sort(), ['java', 'npm', 'python']);
          }
        });
      });
    }
  },
);
