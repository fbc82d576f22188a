/**
 * `verify-release`: everything a consumer checks before running a released image, in one go.
 * For a single image: its signature, its SLSA provenance (verified with the same trust, then
 * slsa-verifier's source and builder checks), its SBOM attestation and, when asked, a scan
 * attestation. For an index: the index's own signature and that it lists consistent platform
 * images, then all of the above for each platform image. Every check runs and is reported; the
 * verified SBOMs are written out only when the whole release verified.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Digest, digestHex } from '../digest/digest.ts';
import { type ErrorCode, isVouchError, type VouchError } from '../errors.ts';
import { formatPlatform } from '../oci/platform.ts';
import type { Descriptor } from '../oci/types.ts';
import type { AttachmentStore } from '../sign/image/store.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { CachedStore } from './cached-store.ts';
import {
  checkImageProvenance,
  checkImageSbom,
  checkImageVuln,
  checkSignature,
  type VerifiedSbom,
} from './checks.ts';
import { imagePlatform, platformSlug, readReleaseShape } from './platforms.ts';
import type { CheckOutcome, ReleaseOptions, ReleaseResult, SubjectResult, WrittenSbom } from './types.ts';

/** The release as openImageTarget resolves it: the store, the root digest, the repository name. */
export interface ReleaseTarget {
  store: AttachmentStore;
  image: Descriptor;
  repository: string;
  display: string;
}

interface PendingSbom {
  platform: string;
  digest: Digest;
  sbom: VerifiedSbom;
}

const skipped = (check: CheckOutcome['check']): CheckOutcome => ({
  check,
  status: 'skip',
  reason: 'not required',
});

/** Signature, provenance, SBOM and (optionally) scan checks of one platform image. */
async function checkImage(
  store: AttachmentStore,
  image: Digest,
  platform: string,
  target: ReleaseTarget,
  o: ReleaseOptions,
  sboms: PendingSbom[],
  index?: Digest,
): Promise<SubjectResult> {
  const checks: CheckOutcome[] = [await checkSignature(store, image, target.repository, o)];
  checks.push(
    o.provenance.kind === 'check'
      ? await checkImageProvenance(store, image, o.provenance, o, index)
      : skipped('provenance'),
  );
  const s = await checkImageSbom(store, image, o);
  checks.push(s.outcome);
  if (s.sbom) sboms.push({ platform, digest: image, sbom: s.sbom });
  checks.push(o.requireVuln ? await checkImageVuln(store, image, o) : skipped('vuln'));
  return { role: 'image', platform, digest: image, checks };
}

/** Platform of each index entry (config checked against the entry); failures are the index's. */
async function indexPlatforms(
  store: AttachmentStore,
  entries: readonly Descriptor[],
  o: ReleaseOptions,
): Promise<{ platforms: string[]; check: CheckOutcome }> {
  const platforms: string[] = [];
  const problems: VouchError[] = [];
  for (const e of entries) {
    try {
      platforms.push(formatPlatform(await imagePlatform(store, e.digest, e.platform, o)));
    } catch (err) {
      if (!isVouchError(err) || err.code === 'USAGE' || err.code === 'ABORTED') throw err;
      platforms.push(e.platform ? formatPlatform(e.platform) : `unknown (${e.digest})`);
      problems.push(err);
    }
  }
  const fail = (code: ErrorCode, message: string): CheckOutcome => ({
    check: 'platforms',
    status: 'fail',
    code,
    message,
  });
  if (entries.length === 0)
    return { platforms, check: fail('MANIFEST_INVALID', 'the index lists no images') };
  const check: CheckOutcome =
    problems.length > 0
      ? fail(problems[0]!.code, problems.map((p) => `[${p.code}] ${p.message}`).join('; '))
      : { check: 'platforms', status: 'pass', detail: platforms.join(', '), facts: { platforms } };
  return { platforms, check };
}

/**
 * The index's own provenance: checked like an image's when it has one; none is not a failure
 * (each platform image must have its own, or be named by the index's).
 */
async function indexProvenance(
  store: AttachmentStore,
  index: Digest,
  o: ReleaseOptions,
): Promise<CheckOutcome> {
  if (o.provenance.kind === 'skip') return skipped('provenance');
  const c = await checkImageProvenance(store, index, o.provenance, o);
  if (c.status === 'fail' && c.code === 'SIGNATURE_NOT_FOUND') {
    return { check: 'provenance', status: 'skip', reason: 'none attached to the index itself' };
  }
  return c;
}

/** Write each platform's SBOM as `sbom-<platform>-<format>.json`, atomically. */
async function writeSboms(dir: string, pending: readonly PendingSbom[]): Promise<WrittenSbom[]> {
  await mkdir(dir, { recursive: true });
  const used = new Set<string>();
  const out: WrittenSbom[] = [];
  for (const p of pending) {
    let base = `sbom-${platformSlug(p.platform)}`;
    if (used.has(base)) base += `-${digestHex(p.digest).slice(0, 12)}`;
    used.add(base);
    const path = join(dir, `${base}-${p.sbom.format}.json`);
    await writeFileAtomic(path, `${JSON.stringify(p.sbom.document, null, 2)}\n`);
    out.push({ platform: p.platform, format: p.sbom.format, path });
  }
  return out;
}

/** Verify a release; never throws for a failed check (see `ok`), only for usage errors and bugs. */
export async function verifyRelease(target: ReleaseTarget, o: ReleaseOptions): Promise<ReleaseResult> {
  const store = new CachedStore(target.store);
  const root = target.image.digest;
  const shape = await readReleaseShape(store, target.image, o);
  const subjects: SubjectResult[] = [];
  const pending: PendingSbom[] = [];
  if (shape.kind === 'image') {
    // a config that cannot be read (tampered, missing) is a failed check, not an exception
    const { platforms, check } = await indexPlatforms(store, [{ ...target.image, platform: undefined }], o);
    const image = await checkImage(store, root, platforms[0]!, target, o, pending);
    subjects.push(check.status === 'fail' ? { ...image, checks: [check, ...image.checks] } : image);
  } else {
    const { platforms, check } = await indexPlatforms(store, shape.entries, o);
    subjects.push({
      role: 'index',
      platform: undefined,
      digest: root,
      checks: [
        check,
        await checkSignature(store, root, target.repository, o),
        await indexProvenance(store, root, o),
      ],
    });
    for (const [i, e] of shape.entries.entries()) {
      subjects.push(await checkImage(store, e.digest, platforms[i]!, target, o, pending, root));
    }
  }
  const ok = subjects.every((s) => s.checks.every((c) => c.status !== 'fail'));
  const sboms = ok && o.sbomOutput ? await writeSboms(resolve(o.sbomOutput), pending) : [];
  return { display: target.display, digest: root, kind: shape.kind, ok, subjects, sboms };
}
