/**
 * Installed Ruby gems from their specifications (syft's ruby-installedgemspec-cataloger):
 * `**\/specifications/**\/*.gemspec`, which covers a gem home (/usr/local/bundle,
 * /var/lib/gems/3.1.0), Ruby's default gems (specifications/default/) and Debian's
 * rubygems-integration directories. Purl pkg:gem/<name>@<version> (with `platform` for native
 * gems built for one platform). Runtime dependencies become depends-on relationships to gems
 * installed under the same gem home. Files of regular gems are listed as absolute paths under
 * <gem home>/gems/<name>-<version>/ in metadata.files.
 */
import type { FileResolver } from '../../../fs/merged.ts';
import type { CatalogContext, Cataloger, CatalogResult, Package } from '../../model.ts';
import { packageId } from '../../model.ts';
import { languagePurl } from '../../purl.ts';
import {
  errorMessage,
  isFatal,
  locationOf,
  MAX_METADATA_BYTES,
  problemAt,
  sortPackages,
  sortProblems,
  sortRelationships,
  throwIfAborted,
} from '../golang/shared.ts';
import { parseGemspec } from './parse_gemspec.ts';

export const GEM_CATALOGER_ID = 'ruby-gemspec';

export const gemCataloger: Cataloger = {
  id: GEM_CATALOGER_ID,
  version: 1,
  patterns: ['**/specifications/**/*.gemspec'],
  async catalog(files: FileResolver, ctx: CatalogContext): Promise<CatalogResult> {
    const out: CatalogResult = { packages: [], relationships: [], problems: [] };
    const homes = new Map<string, { pkg: Package; deps: string[] }[]>();
    for (const rec of await files.glob(this.patterns[0]!)) {
      if (rec.type !== 'file') continue;
      throwIfAborted(ctx);
      try {
        const text = new TextDecoder('utf-8').decode(
          await files.readFile(rec.path, { maxBytes: MAX_METADATA_BYTES }),
        );
        const spec = parseGemspec(text);
        if (!spec.name) throw new Error('no literal s.name');
        if (!spec.version) throw new Error(`${spec.name}: no literal s.version`);
        const i = rec.path.lastIndexOf('/specifications/');
        const home = rec.path.slice(0, i);
        const isDefault = rec.path.slice(i).startsWith('/specifications/default/');
        const metadata: Record<string, unknown> = { gemHome: home };
        if (isDefault) metadata.defaultGem = true;
        if (spec.authors.length > 0) metadata.authors = spec.authors;
        if (spec.homepage) metadata.homepage = spec.homepage;
        if (spec.summary) metadata.summary = spec.summary;
        if (spec.executables.length > 0) metadata.executables = spec.executables;
        if (!isDefault && spec.files.length > 0) {
          const dir = `${home}/gems/${spec.name}-${spec.version}${spec.platform && spec.platform !== 'ruby' ? `-${spec.platform}` : ''}`;
          metadata.files = [...new Set(spec.files.map((f) => `${dir}/${f.replace(/^\.\//, '')}`))].sort();
        }
        const platform = spec.platform && spec.platform !== 'ruby' ? spec.platform : undefined;
        const pkg: Package = {
          id: '',
          type: 'gem',
          name: spec.name,
          version: spec.version,
          purl: languagePurl('gem', {
            name: spec.name,
            version: spec.version,
            ...(platform ? { qualifiers: { platform } } : {}),
          }),
          licenses: spec.licenses.filter((l) => l.trim() !== ''),
          locations: [locationOf(rec)],
          foundBy: GEM_CATALOGER_ID,
          metadata,
        };
        pkg.id = packageId(pkg);
        out.packages.push(pkg);
        const list = homes.get(home) ?? [];
        list.push({ pkg, deps: spec.runtimeDependencies });
        homes.set(home, list);
      } catch (e) {
        if (isFatal(e)) throw e;
        out.problems.push(problemAt(GEM_CATALOGER_ID, rec, `gemspec: ${errorMessage(e)}`));
      }
    }
    for (const gems of homes.values()) {
      const byName = new Map<string, Package[]>();
      for (const g of gems) byName.set(g.pkg.name, [...(byName.get(g.pkg.name) ?? []), g.pkg]);
      for (const g of gems) {
        for (const d of g.deps) {
          for (const to of byName.get(d) ?? [])
            out.relationships.push({ from: g.pkg.id, to: to.id, type: 'depends-on' });
        }
      }
    }
    sortPackages(out.packages);
    sortRelationships(out.relationships);
    sortProblems(out.problems);
    return out;
  },
};
