/**
 * verify-release over OCI layouts: images signed and attested by vouch's own library with a
 * node:crypto key, checked as a consumer would; every failure case asserts its check and code.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  DSSE_ENVELOPE_MEDIA_TYPE,
  encodeEnvelope,
  IN_TOTO_PAYLOAD_TYPE,
  signEnvelope,
} from '../../src/attest/dsse.ts';
import { CYCLONEDX_PREDICATE } from '../../src/attest/predicates.ts';
import { imageStatement } from '../../src/attest/subjects.ts';
import { digestOf } from '../../src/digest/digest.ts';
import { MediaType } from '../../src/oci/media-types.ts';
import { renderText, toJson } from '../../src/release/render.ts';
import type { CheckOutcome, ProvenanceRequirement, ReleaseResult } from '../../src/release/types.ts';
import { verifyRelease } from '../../src/release/verify-release.ts';
import { appendAttachment, CosignAnnotation } from '../../src/sign/image/cosign-tags.ts';
import { attestImage } from '../../src/sign/image/sign.ts';
import { type ImageTarget, openImageTarget } from '../../src/sign/image/target.ts';
import type { VerifyOptions } from '../../src/verify/image.ts';
import { randomImage, randomIndex, writeLayout } from '../helpers/random-image.ts';
import { newKey } from '../sign/helpers.ts';
import {
  cyclonedx,
  described,
  generatorProvenanceV02,
  githubProvenance,
  publish,
  SLSA_V1,
  SLSA_V02,
} from './helpers.ts';

const key = newKey();
const other = newKey();
const byKey: VerifyOptions = { trust: { kind: 'key', key } };
const fromApp: ProvenanceRequirement = { kind: 'check', sourceUri: 'github.com/o/app' };
let dir: string;
let n = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-release-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function layoutImage(): Promise<ImageTarget> {
  const layout = join(dir, `img-${n++}`);
  const img = await randomImage({ layerCount: 1 });
  await writeLayout(layout, [{ descriptor: img.descriptor, tag: '1.0.0-amd64' }], img.blobs);
  return openImageTarget(`oci:${layout}:1.0.0-amd64`);
}

function check(r: ReleaseResult, subject: string, name: CheckOutcome['check']): CheckOutcome {
  const s = r.subjects.find((x) => (x.platform ?? 'index') === subject);
  assert.ok(s, `no subject ${subject} in ${r.subjects.map((x) => x.platform ?? 'index').join(', ')}`);
  const c = s.checks.find((x) => x.check === name);
  assert.ok(c, `no ${name} check for ${subject}`);
  return c;
}

function failed(c: CheckOutcome, code: string, message?: RegExp): void {
  assert.equal(c.status, 'fail', `${c.check} should fail: ${JSON.stringify(c)}`);
  if (c.status !== 'fail') return;
  assert.equal(c.code, code, c.message);
  if (message) assert.match(c.message, message);
}

function passed(r: ReleaseResult): void {
  const bad = r.subjects.flatMap((s) => s.checks.filter((c) => c.status === 'fail'));
  assert.deepEqual(bad, [], 'every check passes');
  assert.equal(r.ok, true);
}

test('a fully published image passes every check, and its verified SBOM is written out', async () => {
  const t = await layoutImage();
  await publish(t.store, t.image, t.repository, { signing: { identity: { kind: 'key', key } }, vuln: true });
  const out = join(dir, 'sboms-ok');
  const r = await verifyRelease(t, { ...byKey, provenance: fromApp, requireVuln: true, sbomOutput: out });
  passed(r);
  assert.equal(r.kind, 'image');
  assert.equal(r.digest, t.image.digest);
  assert.deepEqual(
    r.subjects[0]!.checks.map((c) => [c.check, c.status]),
    [
      ['signature', 'pass'],
      ['provenance', 'pass'],
      ['sbom', 'pass'],
      ['vuln', 'pass'],
    ],
  );
  assert.equal(r.subjects[0]!.platform, 'linux/amd64');
  const prov = check(r, 'linux/amd64', 'provenance');
  assert.ok(prov.status === 'pass');
  assert.match(prov.detail, /SLSA v1, source git\+https:\/\/github\.com\/o\/app@refs\/tags\/v1\.0\.0/);
  assert.ok((prov.facts.checks as string[]).includes(`subject digest: ${t.image.digest}`));
  const sbom = check(r, 'linux/amd64', 'sbom');
  assert.ok(sbom.status === 'pass');
  assert.match(sbom.detail, /^CycloneDX 1\.6, 2 components/);

  assert.deepEqual(await readdir(out), ['sbom-linux-amd64-cyclonedx.json']);
  assert.deepEqual(r.sboms, [
    { platform: 'linux/amd64', format: 'cyclonedx', path: join(out, 'sbom-linux-amd64-cyclonedx.json') },
  ]);
  assert.deepEqual(JSON.parse(await readFile(r.sboms[0]!.path, 'utf8')), cyclonedx());

  const text = renderText(r);
  assert.match(text[0]!, /^Release oci:.*@sha256:[0-9a-f]{64} \(single image\)$/);
  assert.ok(text.some((l) => /^ {2}✓ signature: 1 signature by key /.test(l)));
  assert.equal(text.at(-1), 'PASSED: 4 checks passed');
  const json = JSON.parse(toJson(r)) as { ok: boolean; failures: unknown[]; subjects: unknown[] };
  assert.equal(json.ok, true);
  assert.deepEqual(json.failures, []);
});

test('a missing SBOM attestation fails the sbom check only, and nothing is written', async () => {
  const t = await layoutImage();
  await publish(t.store, t.image, t.repository, { signing: { identity: { kind: 'key', key } }, sbom: false });
  const out = join(dir, 'sboms-missing');
  const r = await verifyRelease(t, { ...byKey, provenance: fromApp, sbomOutput: out });
  assert.equal(r.ok, false);
  assert.equal(check(r, 'linux/amd64', 'signature').status, 'pass');
  assert.equal(check(r, 'linux/amd64', 'provenance').status, 'pass');
  failed(check(r, 'linux/amd64', 'sbom'), 'SIGNATURE_NOT_FOUND', /no SBOM \(CycloneDX or SPDX\) attestation/);
  assert.equal(check(r, 'linux/amd64', 'vuln').status, 'skip');
  assert.deepEqual(r.sboms, []);
  await assert.rejects(readdir(out), { code: 'ENOENT' });
  assert.equal(renderText(r).at(-1), 'FAILED: 1 of 3 checks failed: linux/amd64 sbom [SIGNATURE_NOT_FOUND]');
  assert.deepEqual(
    (JSON.parse(toJson(r)) as { failures: { check: string; code: string }[] }).failures.map((f) => [
      f.check,
      f.code,
    ]),
    [['sbom', 'SIGNATURE_NOT_FOUND']],
  );
});

test('provenance for another repository fails with PROVENANCE_MISMATCH naming both', async () => {
  const t = await layoutImage();
  await publish(t.store, t.image, t.repository, {
    signing: { identity: { kind: 'key', key } },
    provenance: { predicateType: SLSA_V1, predicate: githubProvenance('evil/fork') },
  });
  const r = await verifyRelease(t, { ...byKey, provenance: fromApp });
  failed(
    check(r, 'linux/amd64', 'provenance'),
    'PROVENANCE_MISMATCH',
    /expected git\+https:\/\/github\.com\/o\/app, found .*evil\/fork/,
  );
  assert.equal(check(r, 'linux/amd64', 'signature').status, 'pass');
  assert.equal(check(r, 'linux/amd64', 'sbom').status, 'pass');
});

test('with the wrong key every signed thing fails; vuln is not required so it is skipped', async () => {
  const t = await layoutImage();
  await publish(t.store, t.image, t.repository, { signing: { identity: { kind: 'key', key } } });
  const r = await verifyRelease(t, { trust: { kind: 'key', key: other }, provenance: fromApp });
  assert.equal(r.ok, false);
  // A legacy key signature carries no key: with another key it is just invalid.
  failed(check(r, 'linux/amd64', 'signature'), 'SIGNATURE_INVALID');
  failed(check(r, 'linux/amd64', 'provenance'), 'SIGNATURE_INVALID');
  failed(check(r, 'linux/amd64', 'sbom'), 'SIGNATURE_INVALID');
  assert.match(renderText(r).at(-1)!, /^FAILED: 3 of 3 checks failed: linux\/amd64 signature/);
});

test('referrer bundles by another key fail with KEY_MISMATCH (the bundle names its key)', async () => {
  const t = await layoutImage();
  await publish(t.store, t.image, t.repository, {
    signing: { identity: { kind: 'key', key } },
    storage: 'referrers',
  });
  const ok = await verifyRelease(t, { ...byKey, provenance: fromApp });
  passed(ok);
  const r = await verifyRelease(t, { trust: { kind: 'key', key: other }, provenance: fromApp });
  failed(check(r, 'linux/amd64', 'signature'), 'KEY_MISMATCH');
  failed(check(r, 'linux/amd64', 'sbom'), 'KEY_MISMATCH');
});

test('an SBOM attested with another key does not count', async () => {
  const t = await layoutImage();
  await publish(t.store, t.image, t.repository, { signing: { identity: { kind: 'key', key } }, sbom: false });
  await attestImage(t.store, t.image, t.repository, {
    identity: { kind: 'key', key: other },
    predicateType: CYCLONEDX_PREDICATE,
    predicate: cyclonedx(),
  });
  const r = await verifyRelease(t, { ...byKey, provenance: fromApp });
  failed(check(r, 'linux/amd64', 'sbom'), 'SIGNATURE_INVALID');
});

test('SLSA v0.2 provenance, tag and builder checks; a wrong tag fails; --skip-provenance skips', async () => {
  const t = await layoutImage();
  await publish(t.store, t.image, t.repository, {
    signing: { identity: { kind: 'key', key } },
    provenance: { predicateType: SLSA_V02, predicate: generatorProvenanceV02('o/app', 'v1.2.3') },
    sbom: 'spdx',
  });
  const builderId =
    'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@v2.0.0';
  const good = await verifyRelease(t, {
    ...byKey,
    provenance: { ...fromApp, sourceTag: 'v1.2.3', sourceVersionedTag: 'v1.2', builderId },
  });
  passed(good);
  const prov = check(good, 'linux/amd64', 'provenance');
  assert.ok(prov.status === 'pass' && prov.detail.startsWith('SLSA v0.2'));
  const sbom = check(good, 'linux/amd64', 'sbom');
  assert.ok(sbom.status === 'pass' && sbom.detail.startsWith('SPDX-2.3, 1 package'));

  const wrongTag = await verifyRelease(t, { ...byKey, provenance: { ...fromApp, sourceTag: 'v1.2.4' } });
  failed(
    check(wrongTag, 'linux/amd64', 'provenance'),
    'PROVENANCE_MISMATCH',
    /source tag: expected v1\.2\.4/,
  );
  const wrongBuilder = await verifyRelease(t, {
    ...byKey,
    provenance: { ...fromApp, builderId: 'https://github.com/evil/builder' },
  });
  failed(check(wrongBuilder, 'linux/amd64', 'provenance'), 'PROVENANCE_MISMATCH', /builder id/);

  const skipped = await verifyRelease(t, { ...byKey, provenance: { kind: 'skip' } });
  passed(skipped);
  assert.deepEqual(check(skipped, 'linux/amd64', 'provenance'), {
    check: 'provenance',
    status: 'skip',
    reason: 'not required',
  });
});

test('an index: the index and every platform image are checked; index provenance covers its images', async () => {
  const layout = join(dir, 'index');
  const idx = await randomIndex();
  await writeLayout(layout, [{ descriptor: idx.descriptor, tag: '1.0.0' }], idx.blobs);
  const t = await openImageTarget(`oci:${layout}:1.0.0`);
  const signing = { identity: { kind: 'key' as const, key } };
  // One provenance statement on the index naming the index and both images (no per-image one).
  const predicate = githubProvenance();
  await publish(t.store, t.image, t.repository, { signing, provenance: false, sbom: false });
  const statement = imageStatement(t.repository, t.image.digest, SLSA_V1, predicate);
  for (const img of idx.images)
    statement.subject.push({ name: 'img', digest: { sha256: img.descriptor.digest.slice(7) } });
  const env = await signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), [key]);
  await appendAttachment(t.store, t.image.digest, 'att', {
    mediaType: DSSE_ENVELOPE_MEDIA_TYPE,
    payload: encodeEnvelope(env),
    annotations: { [CosignAnnotation.Signature]: '', [CosignAnnotation.PredicateType]: SLSA_V1 },
  });
  for (const img of idx.images) {
    await publish(t.store, described(img.descriptor), t.repository, { signing, provenance: false });
  }
  const out = join(dir, 'sboms-index');
  const r = await verifyRelease(t, { ...byKey, provenance: fromApp, sbomOutput: out });
  passed(r);
  assert.equal(r.kind, 'index');
  assert.deepEqual(
    r.subjects.map((s) => [s.role, s.platform, s.digest]),
    [
      ['index', undefined, idx.descriptor.digest],
      ['image', 'linux/amd64', idx.images[0]!.descriptor.digest],
      ['image', 'linux/arm64/v8', idx.images[1]!.descriptor.digest],
    ],
  );
  const platforms = check(r, 'index', 'platforms');
  assert.ok(platforms.status === 'pass' && platforms.detail === 'linux/amd64, linux/arm64/v8');
  assert.deepEqual((await readdir(out)).sort(), [
    'sbom-linux-amd64-cyclonedx.json',
    'sbom-linux-arm64-v8-cyclonedx.json',
  ]);
  assert.equal(renderText(r).at(-1), 'PASSED: 9 checks passed, 2 skipped');
  const indexProvenance = check(r, 'index', 'provenance');
  assert.ok(indexProvenance.status === 'pass', 'the index provenance names the index too');

  // Without the index's provenance the platform images have none.
  const bare = join(dir, 'index-bare');
  await writeLayout(bare, [{ descriptor: idx.descriptor, tag: '1.0.0' }], idx.blobs);
  const tb = await openImageTarget(`oci:${bare}:1.0.0`);
  await publish(tb.store, tb.image, tb.repository, { signing, provenance: false, sbom: false });
  for (const img of idx.images) {
    await publish(tb.store, described(img.descriptor), tb.repository, { signing, provenance: false });
  }
  const rb = await verifyRelease(tb, { ...byKey, provenance: fromApp });
  failed(check(rb, 'linux/amd64', 'provenance'), 'SIGNATURE_NOT_FOUND', /SLSA provenance/);
  failed(check(rb, 'linux/arm64/v8', 'provenance'), 'SIGNATURE_NOT_FOUND');
  assert.equal(check(rb, 'index', 'signature').status, 'pass');
  assert.deepEqual(check(rb, 'index', 'provenance'), {
    check: 'provenance',
    status: 'skip',
    reason: 'none attached to the index itself',
  });
});

test('an index that declares the wrong platform for an image fails the platforms check', async () => {
  const layout = join(dir, 'liar');
  const idx = await randomIndex();
  const [amd, arm] = idx.images;
  const lying = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        { ...amd!.descriptor, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
        arm!.descriptor,
      ],
    }),
  );
  const desc = { mediaType: MediaType.OciIndex, digest: digestOf(lying), size: lying.byteLength };
  idx.blobs.set(desc.digest, lying);
  await writeLayout(layout, [{ descriptor: desc, tag: '1.0.0' }], idx.blobs);
  const t = await openImageTarget(`oci:${layout}:1.0.0`);
  const signing = { identity: { kind: 'key' as const, key } };
  await publish(t.store, t.image, t.repository, { signing, provenance: false, sbom: false });
  for (const img of idx.images) await publish(t.store, described(img.descriptor), t.repository, { signing });
  const r = await verifyRelease(t, { ...byKey, provenance: fromApp });
  failed(
    check(r, 'index', 'platforms'),
    'MANIFEST_INVALID',
    /declares sha256:[0-9a-f]{64} as linux\/arm64\/v8, but its config says linux\/amd64/,
  );
  assert.equal(check(r, 'index', 'signature').status, 'pass');
});

test('an SBOM predicate that is not an SBOM document fails with SBOM_INVALID', async () => {
  const t = await layoutImage();
  await publish(t.store, t.image, t.repository, { signing: { identity: { kind: 'key', key } }, sbom: false });
  await attestImage(t.store, t.image, t.repository, {
    identity: { kind: 'key', key },
    predicateType: CYCLONEDX_PREDICATE,
    predicate: { hello: 'world' },
  });
  const r = await verifyRelease(t, { ...byKey, provenance: fromApp });
  failed(check(r, 'linux/amd64', 'sbom'), 'SBOM_INVALID', /must be a CycloneDX document/);
});

test('an unsigned image fails the signature check with SIGNATURE_NOT_FOUND', async () => {
  const t = await layoutImage();
  await publish(t.store, t.image, t.repository, { signing: { identity: { kind: 'key', key } }, sign: false });
  const r = await verifyRelease(t, { ...byKey, provenance: fromApp });
  failed(check(r, 'linux/amd64', 'signature'), 'SIGNATURE_NOT_FOUND');
  assert.equal(check(r, 'linux/amd64', 'sbom').status, 'pass', 'an attestation is no image signature');
});

test("an index's own provenance, when it has one, must pass too", async () => {
  const layout = join(dir, 'index-evil');
  const idx = await randomIndex();
  await writeLayout(layout, [{ descriptor: idx.descriptor, tag: '1.0.0' }], idx.blobs);
  const t = await openImageTarget(`oci:${layout}:1.0.0`);
  const signing = { identity: { kind: 'key' as const, key } };
  await publish(t.store, t.image, t.repository, {
    signing,
    sbom: false,
    provenance: { predicateType: SLSA_V1, predicate: githubProvenance('evil/fork') },
  });
  for (const img of idx.images) await publish(t.store, described(img.descriptor), t.repository, { signing });
  const r = await verifyRelease(t, { ...byKey, provenance: fromApp });
  failed(check(r, 'index', 'provenance'), 'PROVENANCE_MISMATCH', /evil\/fork/);
  assert.equal(check(r, 'linux/amd64', 'provenance').status, 'pass');
  assert.equal(check(r, 'linux/arm64/v8', 'provenance').status, 'pass');
});

test('a tampered config blob is a failed check with its code, not an exception', async () => {
  const layout = join(dir, `img-${n++}`);
  const img = await randomImage({ layerCount: 1 });
  await writeLayout(layout, [{ descriptor: img.descriptor, tag: '1.0.0-amd64' }], img.blobs);
  const t = await openImageTarget(`oci:${layout}:1.0.0-amd64`);
  await publish(t.store, t.image, t.repository, { signing: { identity: { kind: 'key', key } } });
  const manifest = JSON.parse(
    await readFile(join(layout, 'blobs', 'sha256', t.image.digest.slice(7)), 'utf8'),
  ) as { config: { digest: string } };
  const configFile = join(layout, 'blobs', 'sha256', manifest.config.digest.slice(7));
  const bytes = await readFile(configFile);
  bytes[bytes.length - 2]! ^= 0x01;
  await writeFile(configFile, bytes);
  const r = await verifyRelease(t, { ...byKey, provenance: fromApp });
  assert.equal(r.ok, false);
  const platforms = r.subjects[0]?.checks.find((c) => c.check === 'platforms');
  assert.ok(platforms, 'a platforms check is reported');
  failed(platforms, 'DIGEST_MISMATCH');
  assert.equal(r.subjects[0]?.checks.find((c) => c.check === 'signature')?.status, 'pass');
});
