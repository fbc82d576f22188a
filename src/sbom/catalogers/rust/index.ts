/**
 * Rust binaries built with `cargo auditable`: crates from the `.dep-v0` section.
 *
 * Like syft's rust-cargo-lock/audit-binary cataloger, only runtime crates are packages (build
 * dependencies such as proc macros and build scripts are not in the binary); the dependency
 * edges between them become depends-on relationships. Binaries without the section give
 * nothing and no problem; a section that is not valid audit data is a located problem. ELF
 * tables are shared with the Go cataloger, which alone reports unparseable ELF files.
 */
import type { FileResolver } from '../../../fs/merged.ts';
import type { FileRecord } from '../../../fs/types.ts';
import type { CatalogContext, Cataloger, CatalogResult, Package, Relationship } from '../../model.ts';
import { packageId } from '../../model.ts';
import { languagePurl } from '../../purl.ts';
import { FileByteSource } from '../golang/byte-source.ts';
import { elfTables, readSection } from '../golang/elf.ts';
import { catalogExecutables, locationOf } from '../golang/shared.ts';
import { AUDIT_SECTION, type AuditData, MAX_SECTION_BYTES, parseAuditSection } from './parse_audit.ts';

export const RUST_AUDIT_CATALOGER_ID = 'rust-audit-binary';
const MAX_BINARY_BYTES = 512 * 1024 ** 2;

export const rustAuditCataloger: Cataloger = {
  id: RUST_AUDIT_CATALOGER_ID,
  version: 1,
  patterns: ['**/*'],
  catalog(files: FileResolver, ctx: CatalogContext): Promise<CatalogResult> {
    return catalogExecutables(
      files,
      ctx,
      { id: RUST_AUDIT_CATALOGER_ID, what: 'Rust audit data', maxBytes: MAX_BINARY_BYTES },
      catalogBinary,
    );
  },
};

async function catalogBinary(files: FileResolver, rec: FileRecord, out: CatalogResult): Promise<void> {
  const elf = await elfTables(files, rec);
  if (elf === undefined || elf instanceof Error) return;
  const section = elf.sections.find((s) => s.name === AUDIT_SECTION);
  if (!section) return;
  const src = new FileByteSource(files, rec.path, rec.size);
  const data = parseAuditSection(await readSection(src, section, MAX_SECTION_BYTES));
  const got = auditPackages(data, rec);
  out.packages.push(...got.packages);
  out.relationships.push(...got.relationships);
}

export function auditPackages(
  data: AuditData,
  rec: FileRecord,
): { packages: Package[]; relationships: Relationship[] } {
  const byIndex = new Map<number, Package>();
  const byId = new Map<string, Package>();
  data.packages.forEach((a, i) => {
    if (a.kind !== 'runtime') return;
    const metadata: Record<string, unknown> = { source: a.source };
    if (a.root) metadata.root = true;
    const p: Package = {
      id: '',
      type: 'cargo',
      name: a.name,
      version: a.version,
      purl: languagePurl('cargo', { name: a.name, version: a.version }),
      licenses: [],
      locations: [locationOf(rec)],
      foundBy: RUST_AUDIT_CATALOGER_ID,
      metadata,
    };
    p.id = packageId(p);
    // The same crate and version twice (two sources) is one package here.
    const seen = byId.get(p.id);
    if (seen) byIndex.set(i, seen);
    else {
      byId.set(p.id, p);
      byIndex.set(i, p);
    }
  });
  const relationships: Relationship[] = [];
  data.packages.forEach((a, i) => {
    const from = byIndex.get(i);
    if (!from) return;
    for (const d of a.dependencies) {
      const to = byIndex.get(d);
      if (to && to.id !== from.id) relationships.push({ from: from.id, to: to.id, type: 'depends-on' });
    }
  });
  return { packages: [...byId.values()], relationships };
}
