/**
 * Publish a release so that no tag ever names an unsigned image (design principle 4):
 *
 *   1. blobs (layers and configs) of every image;
 *   2. signatures and attestations of every image and of the index: they name the subject by
 *      digest only (cosign `sha256-<hex>.sig|.att` tags, or referrers carrying `subject`), so
 *      the registry takes them before the subject's manifest exists;
 *   3. the image manifests by digest, then the index by digest (it needs its children);
 *   4. only then the tags `{version}-{arch}`, and `{version}` last.
 *
 * A registry that refuses a referrer whose subject it does not have yet gets the manifests by
 * digest first (3 before 2); the tags still come last. Everything is serial: the referrers
 * fallback index must not be written by two writers at once.
 */
import type { Digest } from '../../digest/digest.ts';
import { isVouchError } from '../../errors.ts';
import type { Descriptor } from '../../oci/types.ts';
import type { ImageSource } from '../../source/types.ts';
import type { PipelineSigner } from '../signer.ts';
import { type Attached, type AttestationInput, ensureAttestation, ensureSignature } from './attach.ts';
import type { PublishTarget } from './target.ts';

export interface ReleaseSubject {
  /** `amd64`, ... or `index`. */
  name: string;
  tag: string;
  descriptor: Descriptor;
  bytes: Uint8Array;
  /** Config and layers (none for the index). */
  blobs: Descriptor[];
  attestations: AttestationInput[];
}

export interface Release {
  /** cosign's docker-reference / statement subject name. */
  repository: string;
  images: ReleaseSubject[];
  index: ReleaseSubject;
}

export interface PublishedSubject {
  name: string;
  digest: Digest;
  tag: string;
  pinned: string;
  attached: Attached[];
}

export interface PublishReport {
  target: string;
  blobs: { uploaded: number; exists: number; mounted: number; bytes: number };
  subjects: PublishedSubject[];
  /** True when the registry needed the manifests before the referrers (step 3 before 2). */
  manifestsFirst: boolean;
}

export interface PublishOptions {
  /** Where the blobs are read (the work layout). */
  source: ImageSource;
  signer: PipelineSigner;
  now: Date;
  signal?: AbortSignal;
  /** One line per step, for the log. */
  progress?: (line: string) => void;
}

/** Codes a registry answers with when a referrer's subject is not there yet. */
const SUBJECT_MISSING = ['MANIFEST_INVALID', 'MANIFEST_UNKNOWN', 'BLOB_UNKNOWN', 'REGISTRY_ERROR'] as const;

export async function publishRelease(
  target: PublishTarget,
  release: Release,
  o: PublishOptions,
): Promise<PublishReport> {
  const say = o.progress ?? (() => {});
  const subjects = [...release.images, release.index];
  const blobs = { uploaded: 0, exists: 0, mounted: 0, bytes: 0 };

  for (const img of release.images) {
    for (const b of img.blobs) {
      const r = await target.putBlob(b, () => o.source.openBlob(b, o.signal ? { signal: o.signal } : {}));
      blobs[r]++;
      if (r === 'uploaded') blobs.bytes += b.size;
    }
  }
  say(
    `blobs: ${blobs.uploaded} uploaded (${blobs.bytes} bytes), ${blobs.exists + blobs.mounted} already there`,
  );

  const pushManifests = async () => {
    for (const s of subjects) {
      await target.putManifest(s.descriptor, s.bytes);
      say(`manifest ${s.name} ${s.descriptor.digest} (by digest, untagged)`);
    }
  };

  const attached = new Map<string, Attached[]>();
  const attachAll = async () => {
    for (const s of subjects) {
      const done: Attached[] = [];
      const opts = { now: o.now, ...(o.signal ? { signal: o.signal } : {}) };
      done.push(await ensureSignature(target.attachments, s.descriptor, release.repository, o.signer, opts));
      for (const a of s.attestations) {
        done.push(
          await ensureAttestation(target.attachments, s.descriptor, release.repository, o.signer, a, opts),
        );
      }
      attached.set(s.name, done);
      for (const d of done)
        say(`${d.what} of ${s.name} ${d.added ? 'stored' : 'already there'}: ${d.location}`);
    }
  };

  let manifestsFirst = false;
  try {
    await attachAll();
  } catch (e) {
    if (o.signer.storage !== 'referrers' || !SUBJECT_MISSING.some((c) => isVouchError(e, c))) throw e;
    say(
      `${target.name} refused a referrer before its subject (${(e as Error).message}); pushing manifests first`,
    );
    manifestsFirst = true;
    await pushManifests();
    await attachAll();
  }
  if (!manifestsFirst) await pushManifests();

  const published: PublishedSubject[] = [];
  for (const s of subjects) {
    await target.putTag(s.descriptor, s.bytes, s.tag);
    const pinned = target.pinned(s.tag, s.descriptor.digest);
    say(`tag ${s.tag} → ${s.descriptor.digest}`);
    published.push({
      name: s.name,
      digest: s.descriptor.digest,
      tag: s.tag,
      pinned,
      attached: attached.get(s.name) ?? [],
    });
  }
  return { target: target.name, blobs, subjects: published, manifestsFirst };
}
