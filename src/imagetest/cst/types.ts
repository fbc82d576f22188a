/**
 * A container-structure-test file (schemaVersion 2.0.0, 1.0.0 read the same way), parsed and
 * checked: regular expressions compiled (Go semantics, see ../re2.ts), defaults applied
 * (shouldExist true, uid/gid unchecked), every test located in its file for messages.
 */

export const EXECUTABLE_BY = ['owner', 'group', 'other', 'any'] as const;
export type ExecutableBy = (typeof EXECUTABLE_BY)[number];

export interface Pattern {
  source: string;
  re: RegExp;
}

export interface KeyValueTest {
  key: string;
  value: string;
  /** Set when isRegex: the value as a Go regular expression. */
  re?: RegExp;
}

export interface MetadataTest {
  /** file:line:col of `metadataTest`. */
  at: string;
  env: KeyValueTest[];
  unboundEnv: string[];
  labels: KeyValueTest[];
  /** Exact arrays; undefined = not checked, [] = must be empty. */
  entrypoint?: string[];
  cmd?: string[];
  exposedPorts: string[];
  unexposedPorts: string[];
  volumes: string[];
  unmountedVolumes: string[];
  workdir?: string;
  user?: string;
}

export interface FileExistenceTest {
  at: string;
  name: string;
  path: string;
  shouldExist: boolean;
  /** Go FileMode.String() form, e.g. "-rwxr-xr-x". */
  permissions?: string;
  uid?: number;
  gid?: number;
  isExecutableBy?: ExecutableBy;
}

export interface FileContentTest {
  at: string;
  name: string;
  path: string;
  expectedContents: Pattern[];
  excludedContents: Pattern[];
}

export interface LicenseTest {
  at: string;
  /** Every /usr/share/doc/<package> directory must hold a copyright file. */
  debian: boolean;
  /** Files whose text must not name a refused license. */
  files: string[];
}

export interface CommandTest {
  at: string;
  name: string;
  command: string;
}

export interface StructureTest {
  /** The file it was read from (names results). */
  file: string;
  schemaVersion: '2.0.0' | '1.0.0';
  metadata?: MetadataTest;
  fileExistence: FileExistenceTest[];
  fileContent: FileContentTest[];
  licenses: LicenseTest[];
  /** Need a container runtime: refused by the static runner. */
  commands: CommandTest[];
}
