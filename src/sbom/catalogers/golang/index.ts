/**
 * Go binaries: modules compiled into executables, from their embedded build info.
 *
 * Only executable regular files are opened (any x bit, 64 bytes to 512 MiB), and each one
 * first with a small read for the ELF magic; ELF tables are shared with the Rust cataloger
 * (elf.ts), so a C binary is streamed once for both. Files that are not ELF, and ELF files
 * without a .go.buildinfo section, give nothing and no problem; malformed ELF or build info
 * gives a located problem (this cataloger also reports ELF executables it cannot parse at all;
 * the Rust cataloger does not, so each appears once).
 */
import type { FileResolver } from '../../../fs/merged.ts';
import type { FileRecord } from '../../../fs/types.ts';
import type { CatalogContext, Cataloger, CatalogResult } from '../../model.ts';
import { parseModInfo, readGoBuildInfo } from './buildinfo.ts';
import { FileByteSource } from './byte-source.ts';
import { elfTables } from './elf.ts';
import { goPackages } from './package.ts';
import { catalogExecutables, locationOf } from './shared.ts';

export const GO_BINARY_CATALOGER_ID = 'go-binary';
/** Largest executable looked at. */
export const MAX_BINARY_BYTES = 512 * 1024 ** 2;

export const goBinaryCataloger: Cataloger = {
  id: GO_BINARY_CATALOGER_ID,
  version: 1,
  // Binaries can be anywhere: the real prefilter is "regular file with an x bit".
  patterns: ['**/*'],
  catalog(files: FileResolver, ctx: CatalogContext): Promise<CatalogResult> {
    return catalogExecutables(
      files,
      ctx,
      { id: GO_BINARY_CATALOGER_ID, what: 'Go binary', maxBytes: MAX_BINARY_BYTES },
      catalogBinary,
    );
  },
};

async function catalogBinary(files: FileResolver, rec: FileRecord, out: CatalogResult): Promise<void> {
  const elf = await elfTables(files, rec);
  if (elf === undefined) return;
  // A broken ELF executable is reported here only (the Rust cataloger stays quiet about it).
  if (elf instanceof Error) throw new Error(`malformed ELF file: ${elf.message}`);
  if (!elf.sections.some((s) => s.name === '.go.buildinfo') && elf.sections.length > 0) return;
  const src = new FileByteSource(files, rec.path, rec.size);
  const info = await readGoBuildInfo(elf, src);
  if (!info) return;
  const mod = parseModInfo(info.modinfo);
  const got = goPackages(info, mod, locationOf(rec), GO_BINARY_CATALOGER_ID);
  out.packages.push(...got.packages);
  out.relationships.push(...got.relationships);
}
