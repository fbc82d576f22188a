/** One comparator per version scheme; the map over the union makes a missing one a type error. */
export const VERSION_SCHEMES = [
  'deb',
  'apk',
  'rpm',
  'semver',
  'pep440',
  'go',
  'maven',
  'gem',
  'cargo',
] as const;
export type VersionScheme = (typeof VERSION_SCHEMES)[number];

export interface VersionComparator {
  readonly scheme: VersionScheme;
  /** Throws VouchError('VERSION_UNPARSEABLE') when either version is not valid in this scheme. */
  compare(a: string, b: string): -1 | 0 | 1;
  /** True when `v` parses in this scheme. */
  isValid(v: string): boolean;
}
