/**
 * Go modules as packages, following syft's go-module-binary-cataloger:
 *  - the main module (version '(devel)' when built from a checkout: kept as is, marked
 *    `devel: true`, and its purl carries no version, since '(devel)' is not a version);
 *  - every dependency; a replaced one is reported as its replacement (path and version), but a
 *    replacement by a local directory ('../lib', '/src/lib') keeps the original module path,
 *    with the directory in metadata;
 *  - the toolchain as 'stdlib' with version 'go1.22.1' and purl pkg:golang/stdlib@1.22.1
 *    (exactly what syft emits), license BSD-3-Clause.
 * The main module depends on every dependency and on stdlib.
 */
import type { Location, Package, Relationship } from '../../model.ts';
import { packageId } from '../../model.ts';
import { languagePurl } from '../../purl.ts';
import type { GoBuildInfo, GoModInfo, GoModule } from './buildinfo.ts';

export const DEVEL = '(devel)';

export interface GoPackages {
  packages: Package[];
  relationships: Relationship[];
}

export function goPackages(
  info: GoBuildInfo,
  mod: GoModInfo,
  location: Location,
  foundBy: string,
): GoPackages {
  const settings: Record<string, string> = {};
  for (const s of mod.settings) settings[s.key] = s.value;
  const common: Record<string, unknown> = { goVersion: info.goVersion };
  const mainPath = mod.main?.path ?? mod.path;
  if (mainPath) common.mainModule = mainPath;
  if (settings.GOARCH) common.goArch = settings.GOARCH;
  const packages: Package[] = [];
  const relationships: Relationship[] = [];

  let main: Package | undefined;
  if (mainPath) {
    const m = mod.main ?? { path: mainPath, version: DEVEL };
    const version = m.version || DEVEL;
    const metadata: Record<string, unknown> = { ...common, main: true };
    if (version === DEVEL) metadata.devel = true;
    if (m.sum) metadata.sum = m.sum;
    if (!mod.main) metadata.fromPackagePath = true;
    if (mod.settings.length > 0) metadata.buildSettings = settings;
    main = make(mainPath, version, location, foundBy, metadata);
    packages.push(main);
  }

  for (const dep of mod.deps) {
    const p = depPackage(dep, location, foundBy, common);
    packages.push(p);
    if (main) relationships.push({ from: main.id, to: p.id, type: 'depends-on' });
  }

  const std = stdlibPackage(info.goVersion, location, foundBy);
  if (std) {
    packages.push(std);
    if (main) relationships.push({ from: main.id, to: std.id, type: 'depends-on' });
  }
  return { packages, relationships };
}

function depPackage(
  dep: GoModule,
  location: Location,
  foundBy: string,
  common: Record<string, unknown>,
): Package {
  const metadata: Record<string, unknown> = { ...common };
  const r = dep.replace;
  if (!r) {
    if (dep.sum) metadata.sum = dep.sum;
    return make(dep.path, dep.version || DEVEL, location, foundBy, metadata);
  }
  metadata.replaces = { path: dep.path, version: dep.version };
  if (r.sum) metadata.sum = r.sum;
  if (isLocalPath(r.path)) {
    metadata.replacedByDirectory = r.path;
    const version = r.version || DEVEL;
    if (version === DEVEL) metadata.devel = true;
    return make(dep.path, version, location, foundBy, metadata);
  }
  return make(r.path, r.version || DEVEL, location, foundBy, metadata);
}

function isLocalPath(p: string): boolean {
  return p.startsWith('./') || p.startsWith('../') || p.startsWith('/') || p === '.' || p === '..';
}

/** 'go1.22.1' (possibly 'go1.22.1 X:boringcrypto') → stdlib package; undefined for odd versions. */
export function stdlibPackage(goVersion: string, location: Location, foundBy: string): Package | undefined {
  const v = goVersion.split(/\s/)[0] ?? '';
  if (!/^go\d+(\.\d+)*([a-z]+\d*)?$/.test(v)) return undefined;
  const p = make('stdlib', v, location, foundBy, { goVersion }, ['BSD-3-Clause']);
  p.purl = languagePurl('golang', { name: 'stdlib', version: v.slice(2) });
  return p;
}

function make(
  path: string,
  version: string,
  location: Location,
  foundBy: string,
  metadata: Record<string, unknown>,
  licenses: string[] = [],
): Package {
  const p: Package = {
    id: '',
    type: 'golang',
    name: path,
    version,
    purl: goPurl(path, version),
    licenses,
    locations: [location],
    foundBy,
    metadata,
  };
  p.id = packageId(p);
  return p;
}

/** pkg:golang/<path up to the last '/'>/<last element>@<version>; no version for '(devel)'. */
export function goPurl(path: string, version: string): string {
  const i = path.lastIndexOf('/');
  const namespace = i < 0 ? undefined : path.slice(0, i);
  const name = i < 0 ? path : path.slice(i + 1);
  const v = version === '' || version === DEVEL ? undefined : version;
  return languagePurl('golang', { ...(namespace ? { namespace } : {}), name, ...(v ? { version: v } : {}) });
}
