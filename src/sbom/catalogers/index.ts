/**
 * Every cataloger vouch runs, as one explicit list (syft's package_tasks.go idea, without
 * init() registration). To add an ecosystem: write its folder with an index.ts exporting a
 * Cataloger, import it here, add it to the list. Order is the order they run; OS package
 * catalogers come first so their file lists are known when language packages are tied to them.
 */
import { VouchError } from '../../errors.ts';
import type { Cataloger } from '../model.ts';
import { apkCataloger } from './apk/index.ts';
import { dpkgCataloger } from './dpkg/index.ts';
import { gemCataloger } from './gem/index.ts';
import { goBinaryCataloger } from './golang/index.ts';
import { javaArchiveCataloger } from './java/index.ts';
import { javascriptCataloger } from './npm/index.ts';
import { pythonCataloger } from './python/index.ts';
import { rpmCataloger } from './rpm/index.ts';
import { rustAuditCataloger } from './rust/index.ts';

export const OS_CATALOGERS: readonly Cataloger[] = [dpkgCataloger, apkCataloger, rpmCataloger];

export const LANGUAGE_CATALOGERS: readonly Cataloger[] = [
  javascriptCataloger,
  pythonCataloger,
  gemCataloger,
  goBinaryCataloger,
  rustAuditCataloger,
  javaArchiveCataloger,
];

export const ALL_CATALOGERS: readonly Cataloger[] = [...OS_CATALOGERS, ...LANGUAGE_CATALOGERS];

/** The catalogers whose id is listed, in list order; unknown ids are an error naming the known ones. */
export function selectCatalogers(ids: readonly string[]): Cataloger[] {
  const known = new Map(ALL_CATALOGERS.map((c) => [c.id, c]));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new VouchError('USAGE', `unknown cataloger ${unknown.join(', ')}`, {
      hint: `known catalogers: ${[...known.keys()].join(', ')}`,
    });
  }
  return ALL_CATALOGERS.filter((c) => ids.includes(c.id));
}
