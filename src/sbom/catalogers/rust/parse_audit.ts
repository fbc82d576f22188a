/**
 * cargo-auditable data: the `.dep-v0` ELF section holds zlib-compressed JSON
 * `{"format"?: n, "packages": [{name, version, source, kind?, dependencies?, root?}]}`
 * (rust-secure-code/cargo-auditable, auditable-serde). `kind` is "runtime" (default) or
 * "build"; `dependencies` are indexes into `packages`; `source` is "crates.io", "git",
 * "local", "registry" or {"Other": "..."}.
 */
import { inflateSync } from 'node:zlib';
import { FormatError } from '../golang/byte-source.ts';

export const AUDIT_SECTION = '.dep-v0';
/** Compressed section bigger than this is refused (real ones are a few KiB). */
export const MAX_SECTION_BYTES = 8 * 1024 ** 2;
const MAX_JSON_BYTES = 64 * 1024 ** 2;

export interface AuditPackage {
  name: string;
  version: string;
  source: string;
  kind: 'runtime' | 'build';
  dependencies: number[];
  root: boolean;
}

export interface AuditData {
  format?: number;
  packages: AuditPackage[];
}

/** Decompress and validate the section; FormatError with the reason when it is not audit data. */
export function parseAuditSection(compressed: Uint8Array): AuditData {
  let json: Buffer;
  try {
    json = inflateSync(compressed, { maxOutputLength: MAX_JSON_BYTES });
  } catch (e) {
    throw new FormatError(`${AUDIT_SECTION} is not zlib data: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(json.toString('utf8'));
  } catch (e) {
    throw new FormatError(`${AUDIT_SECTION} is not JSON: ${(e as Error).message}`);
  }
  if (!isObject(raw) || !Array.isArray(raw.packages)) {
    throw new FormatError(`${AUDIT_SECTION} JSON has no "packages" array`);
  }
  const n = raw.packages.length;
  const packages = raw.packages.map((p: unknown, i: number): AuditPackage => {
    const where = `${AUDIT_SECTION} package ${i}`;
    if (!isObject(p)) throw new FormatError(`${where} is not an object`);
    if (typeof p.name !== 'string' || p.name === '') throw new FormatError(`${where} has no name`);
    if (typeof p.version !== 'string' || p.version === '') {
      throw new FormatError(`${where} (${p.name}) has no version`);
    }
    const kind = p.kind ?? 'runtime';
    if (kind !== 'runtime' && kind !== 'build')
      throw new FormatError(`${where}: unknown kind ${String(kind)}`);
    const deps = p.dependencies ?? [];
    if (!Array.isArray(deps) || !deps.every((d) => Number.isInteger(d) && d >= 0 && d < n && d !== i)) {
      throw new FormatError(`${where} (${p.name}) has bad dependency indexes`);
    }
    return {
      name: p.name,
      version: p.version,
      source: sourceOf(p.source),
      kind,
      dependencies: deps as number[],
      root: p.root === true,
    };
  });
  const out: AuditData = { packages };
  if (typeof raw.format === 'number') out.format = raw.format;
  return out;
}

function sourceOf(s: unknown): string {
  if (typeof s === 'string') return s;
  if (isObject(s) && typeof s.Other === 'string') return s.Other;
  return 'unknown';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
