/** The top-level `manifest.json` of a docker archive: parsing, checking and choosing an image. */
import { VouchError } from '../../errors.ts';
import { familiarReference, type Reference } from '../../oci/reference.ts';
import { archiveTagOf, parseRepoTag, sameRepoTag } from './repo-tags.ts';

export const MANIFEST_JSON = 'manifest.json';
export const REPOSITORIES = 'repositories';

export interface ArchiveImage {
  /** Position in manifest.json, the `@N` of `docker-archive:FILE:@N`. */
  position: number;
  /** Member path of the image config. */
  config: string;
  repoTags: string[];
  /** Member paths of the layers, base first. */
  layers: string[];
}

export interface ImageSelector {
  ref?: Reference;
  index?: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse manifest.json; every problem is reported at once, by field. */
export function parseArchiveManifest(bytes: Uint8Array, file: string): ArchiveImage[] {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new VouchError(
      'ARCHIVE_INVALID',
      `${file}: ${MANIFEST_JSON} is not valid JSON (${(e as Error).message})`,
      {
        cause: e,
      },
    );
  }
  if (!Array.isArray(v)) {
    throw new VouchError('ARCHIVE_INVALID', `${file}: ${MANIFEST_JSON} must be a JSON array of images`);
  }
  const problems: string[] = [];
  const images = v.map((item, i): ArchiveImage => {
    const at = `${MANIFEST_JSON}[${i}]`;
    if (!isObject(item)) {
      problems.push(`${at}: not an object`);
      return { position: i, config: '', repoTags: [], layers: [] };
    }
    const config = typeof item.Config === 'string' && item.Config !== '' ? item.Config : '';
    if (config === '') problems.push(`${at}.Config: missing`);
    // docker writes `"RepoTags": null` for an untagged image
    const tags = item.RepoTags ?? [];
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) {
      problems.push(`${at}.RepoTags: must be an array of strings`);
    }
    const layers = item.Layers;
    if (!Array.isArray(layers) || layers.some((l) => typeof l !== 'string' || l === '')) {
      problems.push(`${at}.Layers: must be an array of member paths`);
    }
    return {
      position: i,
      config,
      repoTags: Array.isArray(tags) ? (tags as string[]) : [],
      layers: Array.isArray(layers) ? (layers as string[]) : [],
    };
  });
  if (problems.length > 0) {
    throw new VouchError('ARCHIVE_INVALID', `${file}: ${MANIFEST_JSON} is invalid: ${problems.join('; ')}`);
  }
  return images;
}

function describe(images: ArchiveImage[]): string {
  return images
    .map((img) => `@${img.position} ${img.repoTags.length > 0 ? img.repoTags.join(', ') : '(untagged)'}`)
    .join('; ');
}

/** Pick the image a reference (RepoTags match), an `@N` index, or nothing (the only one) names. */
export function selectImage(images: ArchiveImage[], file: string, sel: ImageSelector): ArchiveImage {
  const { ref, index } = sel;
  if (ref !== undefined && index !== undefined) {
    throw new VouchError('USAGE', `choose a docker-archive image by reference or by @N, not both`);
  }
  if (index !== undefined) {
    const img = Number.isSafeInteger(index) && index >= 0 ? images[index] : undefined;
    if (!img) {
      throw new VouchError(
        'IMAGE_NOT_FOUND',
        `${file} holds ${images.length} image(s): @${index} is out of range${images.length ? ` (${describe(images)})` : ''}`,
      );
    }
    return img;
  }
  if (ref !== undefined) {
    archiveTagOf(ref); // refuses a digest-only reference before anything else
    for (const img of images) {
      const hit = img.repoTags.some((t, j) =>
        sameRepoTag(parseRepoTag(t, file, `${MANIFEST_JSON}[${img.position}].RepoTags[${j}]`), ref),
      );
      if (hit) return img;
    }
    throw new VouchError(
      'IMAGE_NOT_FOUND',
      `${file} has no image tagged ${familiarReference(ref)}; it holds ${images.length ? describe(images) : 'no images'}`,
    );
  }
  if (images.length === 1) return images[0]!;
  if (images.length === 0) throw new VouchError('IMAGE_NOT_FOUND', `${file} holds no images`);
  throw new VouchError('IMAGE_AMBIGUOUS', `${file} holds ${images.length} images: ${describe(images)}`, {
    hint: 'choose one with docker-archive:FILE:NAME:TAG or docker-archive:FILE:@N',
  });
}
