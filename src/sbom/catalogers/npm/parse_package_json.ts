/**
 * package.json of an installed package (node_modules/<name>/package.json): name and version
 * (both required), licenses and the dependency names Node would resolve at run time.
 */
import { FormatError } from '../golang/byte-source.ts';

export interface PackageJson {
  name: string;
  version: string;
  licenses: string[];
  /** dependencies and optionalDependencies names. */
  dependencies: string[];
  description?: string;
  homepage?: string;
  author?: string;
  private?: boolean;
}

/** Parse; FormatError for bad JSON or a missing name/version. */
export function parsePackageJson(text: string): PackageJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new FormatError(`not JSON: ${(e as Error).message}`);
  }
  if (!isObject(raw)) throw new FormatError('not a JSON object');
  const name = raw.name;
  const version = raw.version;
  if (typeof name !== 'string' || name === '') throw new FormatError('no "name"');
  if (typeof version !== 'string' || version === '') throw new FormatError(`${name}: no "version"`);
  const out: PackageJson = {
    name,
    version,
    licenses: packageLicenses(raw),
    dependencies: [...new Set([...depNames(raw.dependencies), ...depNames(raw.optionalDependencies)])],
  };
  if (typeof raw.description === 'string') out.description = raw.description;
  if (typeof raw.homepage === 'string') out.homepage = raw.homepage;
  if (typeof raw.author === 'string') out.author = raw.author;
  else if (isObject(raw.author) && typeof raw.author.name === 'string') out.author = raw.author.name;
  if (raw.private === true) out.private = true;
  return out;
}

/**
 * `license` as a string (an SPDX expression, or "SEE LICENSE IN ..."), or the legacy forms
 * `license: {type}` and `licenses: [{type} | string]`.
 */
export function packageLicenses(raw: Record<string, unknown>): string[] {
  const out: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.trim() !== '') out.push(v.trim());
    else if (isObject(v) && typeof v.type === 'string' && v.type.trim() !== '') out.push(v.type.trim());
  };
  add(raw.license);
  if (Array.isArray(raw.license)) raw.license.forEach(add);
  if (Array.isArray(raw.licenses)) raw.licenses.forEach(add);
  else add(raw.licenses);
  return [...new Set(out)];
}

export function depNames(v: unknown): string[] {
  return isObject(v) ? Object.keys(v) : [];
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** 'npm:real-name@1.2.3' (an alias) → { name, version }; undefined otherwise. */
export function parseAlias(spec: string): { name: string; version: string } | undefined {
  if (!spec.startsWith('npm:')) return undefined;
  const rest = spec.slice(4);
  const at = rest.lastIndexOf('@');
  if (at <= 0) return undefined;
  return { name: rest.slice(0, at), version: rest.slice(at + 1) };
}

/** Split a package spec 'name@range' or '@scope/name@range' at the version separator. */
export function splitSpec(spec: string): { name: string; range: string } {
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  return at < 0 ? { name: spec, range: '' } : { name: spec.slice(0, at), range: spec.slice(at + 1) };
}
