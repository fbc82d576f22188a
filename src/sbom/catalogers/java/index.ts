/**
 * Java archives (jar, war, ear and friends) anywhere in the image: Maven packages from
 * pom.properties and manifests, nested archives included (see archive.ts). Each file is read
 * with at most a few streaming passes: the tail for the central directory, then one pass for
 * every wanted entry (poms, manifest, nested archives), each handled as soon as it is in.
 * Symlinks to archives are not followed (the target is cataloged once, at its own path).
 */
import type { FileResolver } from '../../../fs/merged.ts';
import type { FileRecord } from '../../../fs/types.ts';
import type { CatalogContext, Cataloger, CatalogResult } from '../../model.ts';
import { FileByteSource } from '../golang/byte-source.ts';
import {
  cmp,
  errorMessage,
  isFatal,
  problemAt,
  sortPackages,
  sortProblems,
  sortRelationships,
  throwIfAborted,
} from '../golang/shared.ts';
import { ARCHIVE_EXTENSIONS, catalogArchive, JAVA_ARCHIVE_CATALOGER_ID } from './archive.ts';

export { JAVA_ARCHIVE_CATALOGER_ID } from './archive.ts';

/** Largest archive file opened. */
export const MAX_ARCHIVE_BYTES = 2 * 1024 ** 3;

export const javaArchiveCataloger: Cataloger = {
  id: JAVA_ARCHIVE_CATALOGER_ID,
  version: 1,
  patterns: ARCHIVE_EXTENSIONS.map((x) => `**/*.${x}`),
  async catalog(files: FileResolver, ctx: CatalogContext): Promise<CatalogResult> {
    const out: CatalogResult = { packages: [], relationships: [], problems: [] };
    const recs = new Map<string, FileRecord>();
    for (const pattern of this.patterns) {
      for (const rec of await files.glob(pattern)) if (rec.type === 'file') recs.set(rec.path, rec);
    }
    for (const rec of [...recs.values()].sort((a, b) => cmp(a.path, b.path))) {
      throwIfAborted(ctx);
      if (rec.size > MAX_ARCHIVE_BYTES) {
        out.problems.push(
          problemAt(JAVA_ARCHIVE_CATALOGER_ID, rec, `archive of ${rec.size} bytes is too large`),
        );
        continue;
      }
      try {
        const src = new FileByteSource(files, rec.path, rec.size);
        await catalogArchive(src, rec.path, 0, { rec, out, seen: new Set() });
      } catch (e) {
        if (isFatal(e)) throw e;
        out.problems.push(problemAt(JAVA_ARCHIVE_CATALOGER_ID, rec, `${rec.path}: ${errorMessage(e)}`));
      }
    }
    sortPackages(out.packages);
    sortRelationships(out.relationships);
    sortProblems(out.problems);
    return out;
  },
};
