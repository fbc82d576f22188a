/**
 * Static image tests: what is checked (the built-in checks, declared files, container-structure-
 * test files) and the pass/fail list that comes back.
 */
import type { FileResolver } from '../fs/merged.ts';
import type { ContainerConfig } from '../oci/types.ts';
import type { StructureTest } from './cst/types.ts';

export const CHECK_STATUSES = ['pass', 'fail', 'skip'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export interface CheckResult {
  /** What was checked, e.g. "user is not root" or "File Existence Test: app". */
  name: string;
  status: CheckStatus;
  /** One line: why it passed, failed or was skipped. Never contains a secret value. */
  message: string;
  /** Every offending item when there are several (one line each). */
  details?: string[];
  /** Where the check comes from: "builtin", "files" (declared files), or a test file's path. */
  source: string;
}

/** The built-in checks, in the order they run. */
export const BUILTIN_CHECKS = ['user', 'package-managers', 'secrets', 'libraries'] as const;
export type BuiltinCheck = (typeof BUILTIN_CHECKS)[number];

/** A file the image must (or must not) have; the shape vouch.yaml's `tests.files` gives. */
export interface DeclaredFile {
  path: string;
  /** The path must not exist. */
  absent?: boolean;
  /** Permission bits (0o7777), compared exactly. */
  mode?: number;
  uid?: number;
  gid?: number;
  type?: 'file' | 'dir' | 'symlink';
}

export interface ImageTestSpec {
  /** Which built-in checks run: all (default, or true), none (false), or the ones listed. */
  builtin?: boolean | readonly BuiltinCheck[];
  files?: readonly DeclaredFile[];
  structureTests?: readonly StructureTest[];
  /**
   * What a container-structure-test commandTest becomes: a failure (default; a static check
   * cannot run a command, and a silent pass would hide that) or a skip.
   */
  commandTests?: 'fail' | 'skip';
}

/** What the checks look at: the image's container config and its merged filesystem. */
export interface CheckTarget {
  config: ContainerConfig | undefined;
  files: FileResolver;
}
