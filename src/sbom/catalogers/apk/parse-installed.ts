/**
 * apk-tools' installed database, /lib/apk/db/installed (Alpine's "apk spec", installed
 * database v2): one record per package separated by blank lines, each line `X:value` with a
 * one-letter key. Keys used here: P name, V version, A arch, L license, o origin (the source
 * package), m maintainer, I installed size, c commit, D dependencies, p provides; F a
 * directory (relative to the root) and R a file in the last F directory. Others (C, S, T, U,
 * t, k, i, r, q, M, a, Z) are known and skipped.
 */

export interface ApkEntry {
  /** 1-based line of the record. */
  line: number;
  name: string;
  version: string;
  arch?: string;
  license?: string;
  origin?: string;
  maintainer?: string;
  installedSize?: number;
  commit?: string;
  /** D: tokens as written (`so:libc.musl-x86_64.so.1`, `busybox>=1.36`, `!conflict`). */
  depends: string[];
  /** p: tokens as written (`so:libcrypto.so.3=3`, `cmd:sh=1.36.1-r29`, `/bin/sh`). */
  provides: string[];
  /** Absolute paths of the package's files (R: lines). */
  files: string[];
}

export interface ApkParse {
  entries: ApkEntry[];
  errors: string[];
}

const KNOWN = new Set('CPVASITULomtckDpiqrFMRaZ'.split(''));

export function parseApkInstalled(text: string): ApkParse {
  const out: ApkParse = { entries: [], errors: [] };
  if (text.includes('\0')) {
    out.errors.push('binary data (NUL bytes): not an apk installed database');
    return out;
  }
  const lines = text.split('\n');
  let rec: Partial<ApkEntry> & { line: number; depends: string[]; provides: string[]; files: string[] } =
    fresh(1);
  let dir = '';
  let started = false;
  const finish = () => {
    if (!started) return;
    if (!rec.name) out.errors.push(`line ${rec.line}: record without a P: (name) line`);
    else if (!rec.version) out.errors.push(`line ${rec.line}: ${rec.name}: no V: (version) line`);
    else out.entries.push(rec as ApkEntry);
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const n = i + 1;
    if (line.trim() === '') {
      finish();
      rec = fresh(n + 1);
      dir = '';
      started = false;
      continue;
    }
    if (!started) {
      rec.line = n;
      started = true;
    }
    const key = line[0]!;
    if (line[1] !== ':' || !KNOWN.has(key)) {
      out.errors.push(`line ${n}: not an "X:value" line: ${JSON.stringify(line.slice(0, 60))}`);
      continue;
    }
    const value = line.slice(2);
    switch (key) {
      case 'P':
        rec.name = value;
        break;
      case 'V':
        rec.version = value;
        break;
      case 'A':
        rec.arch = value;
        break;
      case 'L':
        rec.license = value;
        break;
      case 'o':
        rec.origin = value;
        break;
      case 'm':
        rec.maintainer = value;
        break;
      case 'c':
        rec.commit = value;
        break;
      case 'I':
        if (/^\d+$/.test(value)) rec.installedSize = Number(value);
        else out.errors.push(`line ${n}: I: "${value}" is not a number`);
        break;
      case 'D':
        rec.depends.push(...value.split(/\s+/).filter(Boolean));
        break;
      case 'p':
        rec.provides.push(...value.split(/\s+/).filter(Boolean));
        break;
      case 'F':
        dir = value.replace(/^\/+|\/+$/g, '');
        break;
      case 'R':
        if (value === '' || value.includes('/'))
          out.errors.push(`line ${n}: R: "${value}" is not a file name`);
        else rec.files.push(dir ? `/${dir}/${value}` : `/${value}`);
        break;
    }
  }
  finish();
  return out;
}

function fresh(line: number) {
  return { line, depends: [] as string[], provides: [] as string[], files: [] as string[] };
}

/** The package or virtual name a D:/p: token refers to: `so:libc.so=1` → `so:libc.so`, `a>=1` → `a`. */
export function apkTokenName(token: string): string {
  return token.replace(/^!/, '').split(/[<>=~]/, 1)[0]!;
}

/** Alpine writes SPDX expressions; very old packages a space-separated list of names. */
export function apkLicenses(license: string | undefined): string[] {
  const l = license?.trim();
  if (!l) return [];
  if (/\s(AND|OR|WITH)\s/i.test(l) || !/\s/.test(l)) return [l];
  return l.split(/\s+/);
}
