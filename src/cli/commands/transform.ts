/**
 * What the commands that turn one image into another (flatten, harden) share: the --compress
 * flag, and opening SRC's image and DST around the work so both are closed whatever happens.
 */
import { VouchError } from '../../errors.ts';
import { openImage } from '../../image/describe.ts';
import type { Image } from '../../image/image.ts';
import type { Compression } from '../../oci/media-types.ts';
import type { ImageDestination, ImageSource } from '../../source/types.ts';
import { openDestination, openSource } from '../../transport/open.ts';
import { openOptions, platformOf } from './common.ts';

const COMPRESSIONS = ['gzip', 'zstd', 'none'] as const satisfies readonly Compression[];

/** --compress: gzip, zstd or none; `fallback` when the flag is absent. */
export function compressionOf(v: unknown, fallback: Compression): Compression {
  const c = v ?? fallback;
  if (!(COMPRESSIONS as readonly unknown[]).includes(c)) {
    throw new VouchError('USAGE', `--compress must be gzip, zstd or none, not "${String(c)}"`);
  }
  return c as Compression;
}

/**
 * Open SRC (an index narrowed by --platform), then DST, and run `work` on them; `work` writes
 * and commits the new image. DST is closed before SRC, each even when `work` fails.
 */
export async function transformImage<T>(
  src: string,
  dst: string,
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  work: (image: Image, source: ImageSource, dest: ImageDestination) => Promise<T>,
): Promise<T> {
  const oo = openOptions(values, env);
  const source = await openSource(src, oo);
  try {
    const platform = platformOf(values);
    const { image } = await openImage(source, platform ? { platform } : {});
    const dest = await openDestination(dst, oo);
    try {
      return await work(image, source, dest);
    } finally {
      await dest.close();
    }
  } finally {
    await source.close();
  }
}
