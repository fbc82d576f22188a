/**
 * "Needed shared libraries are present": every dynamically linked ELF executable and shared
 * object of the image (regular files with an x bit or a `.so` name) must find its interpreter
 * and each DT_NEEDED library the way the image's loader would (ld-path.ts). A library removed
 * by hardening, or a binary copied in without its libraries, fails here instead of at run time.
 *
 * Each object is checked with its own search path, as `ldd` on that file would: an RPATH that a
 * plugin only inherits from the program loading it is not seen (rare; such a plugin is
 * reported).
 */
import type { FileRecord } from '../fs/types.ts';
import { FormatError } from '../sbom/catalogers/golang/byte-source.ts';
import { readElfDynamic } from './elf-dynamic.ts';
import { librarySearch } from './ld-path.ts';
import type { CheckTarget } from './types.ts';

export interface MissingLibrary {
  /** The ELF file (real path). */
  object: string;
  kind: 'library' | 'interpreter';
  /** The DT_NEEDED name or the interpreter path. */
  name: string;
  /** Directories searched (libraries only). */
  searched?: string[];
}

export interface LibraryReport {
  /** Dynamically linked ELF objects checked. */
  objects: number;
  missing: MissingLibrary[];
  /** ELF files whose tables could not be read (not counted as failures). */
  unreadable: { path: string; reason: string }[];
  /** Where each checked object's libraries resolved: object → (name → real path). */
  resolved: Map<string, Map<string, string>>;
}

const SHARED_LIBRARY = /\.so(\.[^/]*)?$/;
/** Larger files are not read (they are not programs worth the time). */
const MAX_OBJECT_BYTES = 1024 ** 3;

/** A file the library check reads: an x bit or a shared-library name. */
export function isElfCandidate(f: { path: string; size: number; mode: number }): boolean {
  return (
    f.size >= 52 && f.size <= MAX_OBJECT_BYTES && ((f.mode & 0o111) !== 0 || SHARED_LIBRARY.test(f.path))
  );
}

export async function checkLibraries(t: CheckTarget): Promise<LibraryReport> {
  const env = t.config?.Env ?? [];
  const search = librarySearch(t.files, env, t.config?.WorkingDir || '/');
  const report: LibraryReport = { objects: 0, missing: [], unreadable: [], resolved: new Map() };
  const candidates: FileRecord[] = [];
  for await (const rec of t.files.walk()) {
    if (rec.type === 'file' && isElfCandidate(rec)) candidates.push(rec);
  }
  for (const rec of candidates) {
    // A hardlink is checked under the name it links to.
    if (rec.hardlinkOf !== undefined && (await t.files.lstat(rec.hardlinkOf))?.type === 'file') continue;
    const dyn = await readElfDynamic(t.files, rec.path, rec.size);
    if (dyn === undefined) continue;
    if (dyn instanceof FormatError) {
      report.unreadable.push({ path: rec.path, reason: dyn.message });
      continue;
    }
    report.objects++;
    if (dyn.interpreter !== undefined && (await t.files.stat(dyn.interpreter))?.type !== 'file') {
      report.missing.push({ object: rec.path, kind: 'interpreter', name: dyn.interpreter });
    }
    const found = new Map<string, string>();
    for (const name of dyn.needed) {
      const at = await search.find(dyn, rec.path, name);
      if (at !== undefined) found.set(name, at);
      else {
        report.missing.push({
          object: rec.path,
          kind: 'library',
          name,
          searched: await search.dirs(dyn, rec.path),
        });
      }
    }
    report.resolved.set(rec.path, found);
  }
  return report;
}

/** One line per missing library, naming the binary and the library. */
export function describeMissing(m: MissingLibrary): string {
  return m.kind === 'interpreter'
    ? `${m.object}: its interpreter ${m.name} is missing`
    : `${m.object}: needs ${m.name}, not found in ${m.searched?.join(':') ?? 'the search path'}`;
}
