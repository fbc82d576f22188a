/**
 * Python core metadata (METADATA in .dist-info, PKG-INFO in .egg-info): RFC 822 style headers
 * as the email package reads them, where a line starting with whitespace continues the
 * previous header and a blank line ends the headers (the body is the description). Repeated
 * headers (Classifier, Requires-Dist, License-File) keep every value. Also the RECORD file
 * (CSV rows path,hash,size) and egg-info's installed-files.txt and requires.txt.
 */

export interface CoreMetadata {
  /** Header names lowercased → values in order. */
  headers: Map<string, string[]>;
}

export function parseCoreMetadata(text: string): CoreMetadata {
  const headers = new Map<string, string[]>();
  let last: string[] | undefined;
  let lastIndex = -1;
  for (const line of text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/)) {
    if (line === '') break;
    if (/^[ \t]/.test(line)) {
      if (last && lastIndex >= 0) last[lastIndex] = `${last[lastIndex]}\n${line.replace(/^[ \t]+(\|)?/, '')}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const list = headers.get(key) ?? [];
    list.push(value);
    headers.set(key, list);
    last = list;
    lastIndex = list.length - 1;
  }
  return { headers };
}

export function header(m: CoreMetadata, name: string): string | undefined {
  return m.headers.get(name.toLowerCase())?.[0];
}

export function headers(m: CoreMetadata, name: string): string[] {
  return m.headers.get(name.toLowerCase()) ?? [];
}

/** PEP 503 normalised name: lowercase, runs of '-', '_' and '.' become one '-'. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * Licenses as SPDX where the metadata says so: License-Expression (PEP 639), else the License
 * header (one short line, not UNKNOWN; common names mapped to SPDX ids, other text kept), else
 * the license classifiers mapped to SPDX ids (unmapped ones kept as their last part).
 */
export function metadataLicenses(m: CoreMetadata): string[] {
  const expr = header(m, 'License-Expression');
  if (expr) return [expr];
  const lic = header(m, 'License')?.trim();
  if (lic && !lic.includes('\n') && lic.length <= 200 && !/^(unknown|none|)$/i.test(lic)) {
    return [LICENSE_NAMES[lic.toLowerCase()] ?? lic];
  }
  const out: string[] = [];
  for (const c of headers(m, 'Classifier')) {
    if (!c.startsWith('License ::')) continue;
    const spdx = CLASSIFIERS[c.replace(/\s+/g, ' ').trim()];
    if (spdx) out.push(spdx);
    else {
      const last = c.split('::').at(-1)!.trim();
      if (last !== 'OSI Approved') out.push(last);
    }
  }
  return [...new Set(out)];
}

/** Common License header values that name an SPDX license. */
const LICENSE_NAMES: Record<string, string> = {
  mit: 'MIT',
  'mit license': 'MIT',
  'apache 2.0': 'Apache-2.0',
  'apache-2.0': 'Apache-2.0',
  'apache license 2.0': 'Apache-2.0',
  'apache license, version 2.0': 'Apache-2.0',
  'apache software license': 'Apache-2.0',
  'bsd-2-clause': 'BSD-2-Clause',
  'bsd-3-clause': 'BSD-3-Clause',
  isc: 'ISC',
  'isc license': 'ISC',
  'mpl-2.0': 'MPL-2.0',
  'mpl 2.0': 'MPL-2.0',
  psf: 'PSF-2.0',
  'psf-2.0': 'PSF-2.0',
  'lgpl-2.1': 'LGPL-2.1-only',
  'lgpl-3.0': 'LGPL-3.0-only',
  'gpl-2.0': 'GPL-2.0-only',
  'gpl-3.0': 'GPL-3.0-only',
  unlicense: 'Unlicense',
};

/** Trove license classifiers with one SPDX meaning. */
const CLASSIFIERS: Record<string, string> = {
  'License :: OSI Approved :: MIT License': 'MIT',
  'License :: OSI Approved :: MIT No Attribution License (MIT-0)': 'MIT-0',
  'License :: OSI Approved :: Apache Software License': 'Apache-2.0',
  'License :: OSI Approved :: ISC License (ISCL)': 'ISC',
  'License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)': 'MPL-2.0',
  'License :: OSI Approved :: Python Software Foundation License': 'PSF-2.0',
  'License :: OSI Approved :: The Unlicense (Unlicense)': 'Unlicense',
  'License :: OSI Approved :: Zope Public License': 'ZPL-2.1',
  'License :: OSI Approved :: GNU General Public License v2 (GPLv2)': 'GPL-2.0-only',
  'License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)': 'GPL-2.0-or-later',
  'License :: OSI Approved :: GNU General Public License v3 (GPLv3)': 'GPL-3.0-only',
  'License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)': 'GPL-3.0-or-later',
  'License :: OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)': 'LGPL-2.0-only',
  'License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)': 'LGPL-2.0-or-later',
  'License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)': 'LGPL-3.0-only',
  'License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)': 'LGPL-3.0-or-later',
  'License :: OSI Approved :: GNU Affero General Public License v3': 'AGPL-3.0-only',
  'License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)': 'AGPL-3.0-or-later',
  'License :: OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)': 'EPL-2.0',
  'License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)': 'BSL-1.0',
  'License :: OSI Approved :: Historical Permission Notice and Disclaimer (HPND)': 'HPND',
  'License :: OSI Approved :: zlib/libpng License': 'Zlib',
  'License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication': 'CC0-1.0',
};

/** Distribution names a package requires unconditionally (Requires-Dist without an extra marker). */
export function requiredNames(m: CoreMetadata): string[] {
  const out: string[] = [];
  for (const r of headers(m, 'Requires-Dist')) {
    const [spec, marker] = r.split(';', 2);
    if (marker && /\bextra\s*==/.test(marker)) continue;
    const name = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(spec ?? '')?.[1];
    if (name) out.push(normalizeName(name));
  }
  return out;
}

/** egg-info requires.txt: requirement lines before the first [extra] section. */
export function parseRequiresTxt(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const l = line.trim();
    if (l.startsWith('[')) break;
    const name = /^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(l)?.[1];
    if (name) out.push(normalizeName(name));
  }
  return out;
}

/** First field of each CSV row of a RECORD file (quoted fields and "" escapes as Python's csv). */
export function parseRecordPaths(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    if (!line.startsWith('"')) {
      out.push(line.split(',')[0]!);
      continue;
    }
    let v = '';
    let i = 1;
    while (i < line.length) {
      if (line[i] === '"') {
        if (line[i + 1] === '"') {
          v += '"';
          i += 2;
          continue;
        }
        break;
      }
      v += line[i++];
    }
    out.push(v);
  }
  return out.filter((p) => p !== '');
}
