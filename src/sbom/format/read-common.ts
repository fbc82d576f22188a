/**
 * Helpers both SBOM readers share: structural checks that name the wrong field by its JSON
 * path, unique package ids, and what a purl says about a package.
 */
import { VouchError } from '../../errors.ts';
import { PACKAGE_TYPES, type Package, type PackageType, packageId } from '../model.ts';
import { parsePurl } from '../purl.ts';

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Structural checks that collect every problem and throw once (SBOM_INVALID), listing the JSON
 * paths: `components[3].name: expected a string, got number`.
 */
export class Shape {
  readonly #issues: string[] = [];
  readonly #what: string;

  constructor(what: string) {
    this.#what = what;
  }

  fail(path: string, message: string): void {
    this.#issues.push(`${path}: ${message}`);
  }

  /** The value when it is a string (or absent: undefined); records a problem otherwise. */
  str(obj: JsonObject, key: string, path: string, required = false): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (required) this.fail(`${path}.${key}`, 'missing');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.fail(`${path}.${key}`, `expected a string, got ${kindOf(v)}`);
      return undefined;
    }
    return v;
  }

  arr(obj: JsonObject, key: string, path: string): unknown[] {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.fail(`${path}.${key}`, `expected an array, got ${kindOf(v)}`);
      return [];
    }
    return v;
  }

  obj(v: unknown, path: string): JsonObject | undefined {
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) {
      this.fail(path, `expected an object, got ${kindOf(v)}`);
      return undefined;
    }
    return v;
  }

  /** Throw SBOM_INVALID listing the problems (the first 20), if any. */
  check(): void {
    if (this.#issues.length === 0) return;
    const shown = this.#issues.slice(0, 20);
    const more =
      this.#issues.length > shown.length ? `\n  … and ${this.#issues.length - shown.length} more` : '';
    throw new VouchError(
      'SBOM_INVALID',
      `invalid ${this.#what} (${this.#issues.length} problem${this.#issues.length === 1 ? '' : 's'}):\n  ${shown.join('\n  ')}${more}`,
      { hint: 'check the document against its JSON schema; vouch writes documents that validate' },
    );
  }
}

export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Package ids unique within the document: the preferred one when free, else packageId(), suffixed on clashes. */
export class IdAllocator {
  readonly #used = new Set<string>();

  take(preferred: string | undefined, p: Pick<Package, 'type' | 'name' | 'version' | 'locations'>): string {
    if (preferred !== undefined && preferred !== '' && preferred !== 'root' && !this.#used.has(preferred)) {
      this.#used.add(preferred);
      return preferred;
    }
    const base = packageId(p);
    let id = base;
    for (let n = 2; this.#used.has(id); n++) id = `${base}-${n}`;
    this.#used.add(id);
    return id;
  }
}

export interface PurlFacts {
  type?: PackageType;
  /** The purl's own type, also when vouch does not model it (nuget, generic, ...). */
  purlType: string;
  name: string;
  namespace?: string;
  version?: string;
  arch?: string;
  /** deb/apk `upstream=<name>[@<version>]` (syft's way of naming the source package). */
  upstream?: { name: string; version?: string };
}

/** The facts a purl gives; throws PURL_INVALID when it is not a purl. */
export function purlFacts(purl: string): PurlFacts {
  const p = parsePurl(purl);
  const out: PurlFacts = { purlType: p.type, name: p.name };
  if ((PACKAGE_TYPES as readonly string[]).includes(p.type)) out.type = p.type as PackageType;
  if (p.namespace !== undefined) out.namespace = p.namespace;
  if (p.version !== undefined) out.version = p.version;
  const q = p.qualifiers ?? {};
  if (q.arch) out.arch = q.arch;
  if (q.upstream && (p.type === 'deb' || p.type === 'apk')) {
    const at = q.upstream.indexOf('@');
    out.upstream =
      at === -1 ? { name: q.upstream } : { name: q.upstream.slice(0, at), version: q.upstream.slice(at + 1) };
  }
  return out;
}

/** Where a reader puts the producing vouch version when the document names none. */
export const UNKNOWN_TOOL_VERSION = 'unknown';
