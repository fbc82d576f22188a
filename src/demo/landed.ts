/**
 * Where the demo's results landed, read back from disk (not from what the run meant to write):
 * the layout standing in for the registry with its tags, the artifact store's files, the
 * verified SBOMs, the keys.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { directoryFiles, entryTag, readLayout } from '../source/layout/layout.ts';
import { SIGNATURE_SUFFIX } from '../store/layout.ts';

export interface StoredFile {
  /** Relative to the artifact store's root: `sboms/amd64/sbom-hello-1.0.0-cyclonedx.json`. */
  key: string;
  bytes: number;
  /** Its `.sig` is there. */
  signed: boolean;
}

export interface Landed {
  registry: {
    dir: string;
    /** Release tags (`1.0.0`, `1.0.0-amd64`, ...), sorted. */
    tags: string[];
    /** cosign's `sha256-<hex>.sig` / `.att` tags. */
    attachmentTags: string[];
  };
  artifacts: { dir: string; files: StoredFile[] };
  sboms: string[];
}

/** Every regular file under `dir`, relative and sorted. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

export async function whereLanded(o: {
  registry: string;
  artifacts: string;
  sboms: string;
}): Promise<Landed> {
  const index = await readLayout(directoryFiles(o.registry));
  const all = index.manifests.map(entryTag).filter((t): t is string => t !== undefined);
  const isAttachment = (t: string) => /^sha256-[0-9a-f]{64}\.(sig|att)$/.test(t);
  const files = await filesUnder(o.artifacts);
  const present = new Set(files);
  const stored: StoredFile[] = [];
  for (const key of files) {
    if (key.endsWith(SIGNATURE_SUFFIX)) continue;
    const { size } = await stat(join(o.artifacts, key));
    stored.push({ key, bytes: size, signed: present.has(`${key}${SIGNATURE_SUFFIX}`) });
  }
  return {
    registry: {
      dir: o.registry,
      tags: all.filter((t) => !isAttachment(t)).sort(),
      attachmentTags: all.filter(isAttachment).sort(),
    },
    artifacts: { dir: o.artifacts, files: stored },
    sboms: (await filesUnder(o.sboms)).map((f) => join(o.sboms, f)),
  };
}
