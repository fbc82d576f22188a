/**
 * The tamper proofs, each on its own copy of the published layout:
 *  - swap: someone with write access to the registry changes an image's entrypoint, re-points its
 *    tag at the new manifest and copies the old signature and attestation tags along. Every blob
 *    hashes correctly; verification rejects it because the signatures name another digest.
 *  - flip: one byte of a layer changes on disk. The signed manifest still names the original
 *    layer digest, so pulling the verified image rejects the layer.
 */
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { copyImage } from '../copy/copy.ts';
import { digestHex, digestOf } from '../digest/digest.ts';
import { type ErrorCode, isVouchError, VouchError } from '../errors.ts';
import type { Descriptor, ImageManifest } from '../oci/types.ts';
import { failures } from '../release/render.ts';
import { verifyRelease } from '../release/verify-release.ts';
import { LayoutStore } from '../sign/image/layout-store.ts';
import { MAX_ATTACHMENT_BYTES } from '../sign/image/store.ts';
import { openImageTarget } from '../sign/image/target.ts';
import { openDestination, openSource } from '../transport/open.ts';
import type { Trust } from '../verify/image.ts';

export const TAMPER_ATTACKS = ['swap', 'flip'] as const;
export type TamperAttack = (typeof TAMPER_ATTACKS)[number];

export type TamperOutcome =
  | { attack: TamperAttack; what: string; rejected: true; code: ErrorCode; message: string }
  | { attack: TamperAttack; what: string; rejected: false; message: string };

/** The entrypoint the swapped image would run. */
const EVIL_ENTRYPOINT = ['/data/payload.sh'];

/** The image manifest `tag` names in the layout. */
async function taggedManifest(store: LayoutStore, tag: string): Promise<{ d: Descriptor; m: ImageManifest }> {
  const s = await store.getTagged(tag);
  if (!s) throw new VouchError('IMAGE_NOT_FOUND', `${store.name} has no tag ${tag}`);
  const m = JSON.parse(Buffer.from(s.bytes).toString('utf8')) as ImageManifest;
  if (!m.config || !m.layers?.[0]) {
    throw new VouchError('MANIFEST_INVALID', `${store.name}:${tag} is not an image manifest with layers`);
  }
  return { d: s.descriptor, m };
}

/** Swap the entrypoint of `tag` in `dir`, carrying the old signatures over; then verify as a consumer. */
export async function swapAttack(dir: string, tag: string, trust: Trust): Promise<TamperOutcome> {
  const what = `change the entrypoint of ${tag}, re-point the tag, copy its signatures along`;
  const store = new LayoutStore(dir);
  const { d: old, m } = await taggedManifest(store, tag);
  const config = JSON.parse(
    Buffer.from(await store.readBlob(m.config, MAX_ATTACHMENT_BYTES)).toString('utf8'),
  ) as {
    config?: { Entrypoint?: string[] };
  };
  config.config = { ...config.config, Entrypoint: EVIL_ENTRYPOINT };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDesc = { ...m.config, digest: digestOf(configBytes), size: configBytes.byteLength };
  await store.putBlob(configDesc, configBytes);
  const manifestBytes = Buffer.from(JSON.stringify({ ...m, config: configDesc }));
  const swapped = await store.putManifest(manifestBytes, old.mediaType, tag);
  for (const suffix of ['sig', 'att']) {
    const s = await store.getTagged(`sha256-${digestHex(old.digest)}.${suffix}`);
    if (s)
      await store.putManifest(
        s.bytes,
        s.descriptor.mediaType,
        `sha256-${digestHex(swapped.digest)}.${suffix}`,
      );
  }
  await store.close();

  const target = await openImageTarget(`oci:${dir}:${tag}`);
  try {
    const r = await verifyRelease(target, { trust, provenance: { kind: 'skip' }, requireVuln: true });
    const f = failures(r).find((x) => x.check === 'signature') ?? failures(r)[0];
    if (!f)
      return { attack: 'swap', what, rejected: false, message: 'verify-release passed the swapped image' };
    return { attack: 'swap', what, rejected: true, code: f.code, message: `${f.check}: ${f.message}` };
  } finally {
    await target.store.close();
  }
}

/** Flip one byte in the middle of the first layer of `tag`, then pull it as a consumer would. */
export async function flipAttack(dir: string, tag: string, scratch: string): Promise<TamperOutcome> {
  const store = new LayoutStore(dir);
  const { m } = await taggedManifest(store, tag);
  await store.close();
  const layer = m.layers[0]!;
  const what = `flip one byte of the ${tag} layer ${layer.digest.slice(0, 19)}…`;
  const file = join(dir, 'blobs', 'sha256', digestHex(layer.digest));
  const bytes = await readFile(file);
  bytes[bytes.length >> 1]! ^= 0x01;
  await writeFile(file, bytes);
  const src = await openSource(`oci:${dir}:${tag}`);
  const dst = await openDestination(`oci:${scratch}:${tag}`);
  try {
    await copyImage(src, dst);
    return { attack: 'flip', what, rejected: false, message: 'the pull accepted the flipped layer' };
  } catch (e) {
    if (!isVouchError(e)) throw e;
    return { attack: 'flip', what, rejected: true, code: e.code, message: `pull: ${e.message}` };
  } finally {
    await dst.close();
    await src.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Both attacks on copies of `published` under `dir` (removed afterwards). */
export async function tamperProofs(
  published: string,
  dir: string,
  tag: string,
  trust: Trust,
): Promise<TamperOutcome[]> {
  try {
    const swap = join(dir, 'swapped');
    const flip = join(dir, 'flipped');
    await cp(published, swap, { recursive: true });
    await cp(published, flip, { recursive: true });
    return [await swapAttack(swap, tag, trust), await flipAttack(flip, tag, join(dir, 'pulled'))];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
