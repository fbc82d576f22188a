/**
 * Licenses from a Debian package's /usr/share/doc/<pkg>/copyright.
 *
 * Machine-readable files (DEP-5, "Format: .../copyright-format/1.0/") name licenses in
 * `License:` lines; their short names (GPL-2+, Expat, BSD-3-clause, ...) are mapped to SPDX ids
 * where the mapping is exact, others are kept as written. Free-text files name licenses by
 * pointing at /usr/share/common-licenses/<name>; those references are used instead.
 * Cheap on purpose: a line scan, no paragraph model.
 */

/** DEP-5 short names (lowercased) → SPDX. */
const DEP5_TO_SPDX: Readonly<Record<string, string>> = {
  'apache-1.0': 'Apache-1.0',
  'apache-1.1': 'Apache-1.1',
  'apache-2': 'Apache-2.0',
  'apache-2.0': 'Apache-2.0',
  'artistic-1.0': 'Artistic-1.0',
  'artistic-2.0': 'Artistic-2.0',
  'bsd-2-clause': 'BSD-2-Clause',
  'bsd-3-clause': 'BSD-3-Clause',
  'bsd-4-clause': 'BSD-4-Clause',
  'bsl-1.0': 'BSL-1.0',
  'cc0-1.0': 'CC0-1.0',
  cc0: 'CC0-1.0',
  'cc-by-3.0': 'CC-BY-3.0',
  'cc-by-4.0': 'CC-BY-4.0',
  'cc-by-sa-3.0': 'CC-BY-SA-3.0',
  'cc-by-sa-4.0': 'CC-BY-SA-4.0',
  'cddl-1.0': 'CDDL-1.0',
  'cpl-1.0': 'CPL-1.0',
  'epl-1.0': 'EPL-1.0',
  'epl-2.0': 'EPL-2.0',
  expat: 'MIT',
  mit: 'MIT',
  'gfdl-1.2': 'GFDL-1.2-only',
  'gfdl-1.2+': 'GFDL-1.2-or-later',
  'gfdl-1.3': 'GFDL-1.3-only',
  'gfdl-1.3+': 'GFDL-1.3-or-later',
  'gpl-1': 'GPL-1.0-only',
  'gpl-1+': 'GPL-1.0-or-later',
  'gpl-2': 'GPL-2.0-only',
  'gpl-2+': 'GPL-2.0-or-later',
  'gpl-2.0': 'GPL-2.0-only',
  'gpl-2.0+': 'GPL-2.0-or-later',
  'gpl-3': 'GPL-3.0-only',
  'gpl-3+': 'GPL-3.0-or-later',
  'gpl-3.0': 'GPL-3.0-only',
  'gpl-3.0+': 'GPL-3.0-or-later',
  'lgpl-2': 'LGPL-2.0-only',
  'lgpl-2+': 'LGPL-2.0-or-later',
  'lgpl-2.0': 'LGPL-2.0-only',
  'lgpl-2.0+': 'LGPL-2.0-or-later',
  'lgpl-2.1': 'LGPL-2.1-only',
  'lgpl-2.1+': 'LGPL-2.1-or-later',
  'lgpl-3': 'LGPL-3.0-only',
  'lgpl-3+': 'LGPL-3.0-or-later',
  'lgpl-3.0': 'LGPL-3.0-only',
  'lgpl-3.0+': 'LGPL-3.0-or-later',
  'agpl-3': 'AGPL-3.0-only',
  'agpl-3+': 'AGPL-3.0-or-later',
  isc: 'ISC',
  'lppl-1.3c': 'LPPL-1.3c',
  'mpl-1.1': 'MPL-1.1',
  'mpl-2.0': 'MPL-2.0',
  'ofl-1.1': 'OFL-1.1',
  openssl: 'OpenSSL',
  'psf-2': 'PSF-2.0',
  'python-2.0': 'Python-2.0',
  'sil-ofl-1.1': 'OFL-1.1',
  unlicense: 'Unlicense',
  w3c: 'W3C',
  wtfpl: 'WTFPL',
  zlib: 'Zlib',
  'zope-2.1': 'ZPL-2.1',
  'zpl-2.1': 'ZPL-2.1',
};

/** Already-SPDX spellings (GPL-2.0-or-later, ...) map to themselves, case fixed. */
const SPDX_CASE: ReadonlyMap<string, string> = new Map(
  Object.values(DEP5_TO_SPDX).map((id) => [id.toLowerCase(), id]),
);

/** One DEP-5 short name → its SPDX id, or the name as written when there is no exact one. */
export function spdxFromDebian(name: string): string {
  const key = name.trim().toLowerCase();
  return DEP5_TO_SPDX[key] ?? SPDX_CASE.get(key) ?? name.trim();
}

const MACHINE_READABLE = /^Format:\s*\S*(copyright-format|dep5)/im;
const COMMON_LICENSES = /\/usr\/share\/common-licenses\/([A-Za-z0-9][A-Za-z0-9_.+-]*[A-Za-z0-9+])/g;

/** Distinct licenses named by a copyright file, sorted. */
export function licensesFromCopyright(text: string): string[] {
  const found = new Set<string>();
  if (MACHINE_READABLE.test(text)) {
    for (const m of text.matchAll(/^License:[ \t]*(.*)$/gim)) {
      for (const name of splitExpression(m[1]!)) found.add(spdxFromDebian(name));
    }
  } else {
    for (const m of text.matchAll(COMMON_LICENSES)) found.add(spdxFromDebian(m[1]!));
  }
  return [...found].sort();
}

/**
 * The license names in a DEP-5 expression: `GPL-2+ or Artistic-1.0`, `(MIT or BSD-3-clause) and
 * GPL-2`, `GPL-3+ with Bison exception` (the exception is dropped: SPDX has no generic form).
 */
function splitExpression(expr: string): string[] {
  return expr
    .split(/[(),]|\s+(?:or|and)\s+/i)
    .map((t) => t.replace(/\s+with\s+.*$/i, '').trim())
    .filter((t) => t !== '' && !/^(or|and)$/i.test(t));
}
