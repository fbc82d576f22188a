/**
 * Small helpers shared by the language catalogers (npm, python, golang, java, rust, gem):
 * locations, located problems, the read cap, abort checks, stable sorting.
 */
import { isVouchError, VouchError } from '../../../errors.ts';
import type { FileResolver } from '../../../fs/merged.ts';
import type { FileRecord } from '../../../fs/types.ts';
import type {
  CatalogContext,
  CatalogResult,
  Location,
  Package,
  Relationship,
  SbomProblem,
} from '../../model.ts';

/** Largest metadata file read whole (package.json, METADATA, gemspec, lockfiles). */
export const MAX_METADATA_BYTES = 16 * 1024 ** 2;

/** Where a record came from: its path, and its layer when it has one (not in a directory scan). */
export function locationOf(rec: FileRecord): Location {
  return rec.layerDigest ? { path: rec.path, layer: rec.layerDigest } : { path: rec.path };
}

export function problemAt(cataloger: string, rec: FileRecord, message: string): SbomProblem {
  return rec.layerDigest
    ? { cataloger, path: rec.path, layer: rec.layerDigest, message }
    : { cataloger, path: rec.path, message };
}

/** The message of anything thrown, for a problem (cause chain flattened). */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) {
    const cause = e.cause === undefined ? '' : `: ${errorMessage(e.cause)}`;
    return `${e.message}${cause}`;
  }
  return String(e);
}

export function throwIfAborted(ctx: CatalogContext): void {
  if (ctx.signal?.aborted)
    throw new VouchError('ABORTED', 'cataloging was aborted', { cause: ctx.signal.reason });
}

/** Errors that mean the scan itself must stop (not just this file). */
export function isFatal(e: unknown): boolean {
  return isVouchError(e, 'ABORTED');
}

/** Packages by type, name, version, then first location: the order every cataloger returns. */
export function sortPackages(pkgs: Package[]): Package[] {
  return pkgs.sort(
    (a, b) =>
      cmp(a.type, b.type) ||
      cmp(a.name, b.name) ||
      cmp(a.version, b.version) ||
      cmp(a.locations[0]?.path ?? '', b.locations[0]?.path ?? '') ||
      cmp(a.id, b.id),
  );
}

export function sortRelationships(rels: Relationship[]): Relationship[] {
  const seen = new Set<string>();
  const out: Relationship[] = [];
  for (const r of rels) {
    const k = `${r.from}\0${r.to}\0${r.type}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out.sort((a, b) => cmp(a.from, b.from) || cmp(a.to, b.to) || cmp(a.type, b.type));
}

export function sortProblems(problems: SbomProblem[]): SbomProblem[] {
  return problems.sort((a, b) => cmp(a.path, b.path) || cmp(a.message, b.message));
}

/** Byte-order string comparison (locale independent). */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Is this an executable regular file worth opening as a binary (exec bit, sane size)? */
export function isExecutableCandidate(rec: FileRecord, maxBytes: number): boolean {
  return rec.type === 'file' && (rec.mode & 0o111) !== 0 && rec.size >= 64 && rec.size <= maxBytes;
}

/**
 * Run `fn` on every executable of the tree (the Go and Rust binary catalogers): one located
 * problem per binary that fails, sorted output.
 */
export async function catalogExecutables(
  files: FileResolver,
  ctx: CatalogContext,
  o: { id: string; what: string; maxBytes: number },
  fn: (files: FileResolver, rec: FileRecord, out: CatalogResult) => Promise<void>,
): Promise<CatalogResult> {
  const out: CatalogResult = { packages: [], relationships: [], problems: [] };
  for await (const rec of files.walk()) {
    if (!isExecutableCandidate(rec, o.maxBytes)) continue;
    throwIfAborted(ctx);
    try {
      await fn(files, rec, out);
    } catch (e) {
      if (isFatal(e)) throw e;
      out.problems.push(problemAt(o.id, rec, `${o.what}: ${errorMessage(e)}`));
    }
  }
  sortPackages(out.packages);
  sortRelationships(out.relationships);
  sortProblems(out.problems);
  return out;
}
