import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { OsvAffected, OsvEvent, OsvRange } from '../osv.ts';
import type { VersionScheme } from '../version/types.ts';
import { compileAffected, fixedVersions, isAffected } from './range.ts';

const eco = (...events: OsvEvent[]): OsvRange => ({ type: 'ECOSYSTEM', events });
const sem = (...events: OsvEvent[]): OsvRange => ({ type: 'SEMVER', events });
const git = (...events: OsvEvent[]): OsvRange => ({ type: 'GIT', repo: 'https://example.invalid/x', events });
const entry = (ranges?: OsvRange[], versions?: string[]): OsvAffected => ({
  package: { ecosystem: 'X', name: 'x' },
  ...(ranges ? { ranges } : {}),
  ...(versions ? { versions } : {}),
});

type Want = 'affected' | 'not-affected' | 'unknown';
interface Case {
  scheme: VersionScheme;
  affected: OsvAffected;
  version: string;
  want: Want;
  /** expected range text for affected results */
  range?: string;
  why: string;
}

const openssl12 = entry([eco({ introduced: '0' }, { fixed: '3.0.11-1~deb12u2' })]);
const twoBranches = entry([
  eco({ introduced: '0' }, { fixed: '1.5' }, { introduced: '2.0' }, { fixed: '2.5' }),
]);
const unsorted = entry([eco({ fixed: '2.5' }, { introduced: '2.0' }, { fixed: '1.5' }, { introduced: '0' })]);
const lastAffected = entry([eco({ introduced: '1.2' }, { last_affected: '1.4' })]);
const limited = entry([eco({ introduced: '1.0' }, { limit: '1.5' })]);
const limitStar = entry([eco({ introduced: '0' }, { limit: '*' })]);
const goRange = entry([sem({ introduced: '0' }, { fixed: '1.6.0' })]);
const goPseudo = entry([
  sem({ introduced: '0.0.0-20200101000000-abcdefabcdef' }, { fixed: '0.0.0-20210101000000-abcdefabcdef' }),
]);
const pypi = entry(
  [
    git({ introduced: '0' }, { fixed: '74ea7cf7a6a27a4eeb2ae24e162bcc942a6706d5' }),
    eco({ introduced: '2.3.0' }, { fixed: '2.31.0' }),
  ],
  ['2.3.0', '2.30.0'],
);
const gitOnlyListed = entry([git({ introduced: '0' }, { fixed: 'abc123' })], ['1.0', '1.1']);
const gitOnly = entry([git({ introduced: '0' }, { fixed: 'abc123' })]);
const badEvent = entry([eco({ introduced: '0' }, { fixed: 'not a version!' })]);
const noIntroduced = entry([eco({ fixed: '1.0' })]);
const twoKeys = entry([eco({ introduced: '0', fixed: '1.0' })]);
const alpineNever = entry([eco({ introduced: '0' }, { fixed: '0' })]);
const everything = entry();

const CASES: Case[] = [
  // Debian: source versions, tilde backports, binNMUs
  {
    scheme: 'deb',
    affected: openssl12,
    version: '3.0.9-1',
    want: 'affected',
    range: 'introduced 0, fixed 3.0.11-1~deb12u2',
    why: 'below the fix',
  },
  {
    scheme: 'deb',
    affected: openssl12,
    version: '3.0.11-1~deb12u1',
    want: 'affected',
    why: 'previous stable update',
  },
  {
    scheme: 'deb',
    affected: openssl12,
    version: '3.0.11-1~deb12u2',
    want: 'not-affected',
    why: 'exactly the fix',
  },
  {
    scheme: 'deb',
    affected: openssl12,
    version: '3.0.11-1~deb12u2+b1',
    want: 'not-affected',
    why: 'binNMU of the fix',
  },
  {
    scheme: 'deb',
    affected: openssl12,
    version: '3.0.11-1',
    want: 'not-affected',
    why: '~ sorts before the end',
  },
  {
    scheme: 'deb',
    affected: openssl12,
    version: '3.0.11-1~deb12u1+b3',
    want: 'affected',
    why: 'binNMU of a vulnerable source',
  },
  {
    scheme: 'deb',
    affected: openssl12,
    version: '1:3.0.0-1',
    want: 'not-affected',
    why: 'an epoch outranks everything',
  },
  {
    scheme: 'deb',
    affected: openssl12,
    version: 'not a version!',
    want: 'unknown',
    why: 'unparseable is never safe',
  },
  { scheme: 'deb', affected: openssl12, version: '', want: 'unknown', why: 'empty version' },
  // several intervals, in and out of order in the record
  {
    scheme: 'semver',
    affected: twoBranches,
    version: '1.0.0',
    want: 'unknown',
    why: '1.5 is not SemVer: bad record data',
  },
  {
    scheme: 'pep440',
    affected: twoBranches,
    version: '1.0',
    want: 'affected',
    range: 'introduced 0, fixed 1.5',
    why: 'first interval',
  },
  { scheme: 'pep440', affected: twoBranches, version: '1.5', want: 'not-affected', why: 'first fix' },
  { scheme: 'pep440', affected: twoBranches, version: '1.9', want: 'not-affected', why: 'between intervals' },
  {
    scheme: 'pep440',
    affected: twoBranches,
    version: '2.0',
    want: 'affected',
    range: 'introduced 2.0, fixed 2.5',
    why: 'second introduced',
  },
  {
    scheme: 'pep440',
    affected: twoBranches,
    version: '2.4.99',
    want: 'affected',
    why: 'inside second interval',
  },
  {
    scheme: 'pep440',
    affected: twoBranches,
    version: '2.5.0',
    want: 'not-affected',
    why: 'second fix, other spelling',
  },
  { scheme: 'pep440', affected: twoBranches, version: '3.0', want: 'not-affected', why: 'above everything' },
  {
    scheme: 'pep440',
    affected: unsorted,
    version: '1.0',
    want: 'affected',
    why: 'events sorted before the walk',
  },
  {
    scheme: 'pep440',
    affected: unsorted,
    version: '1.7',
    want: 'not-affected',
    why: 'events sorted before the walk',
  },
  {
    scheme: 'pep440',
    affected: unsorted,
    version: '2.2',
    want: 'affected',
    why: 'events sorted before the walk',
  },
  // last_affected and limit
  { scheme: 'semver', affected: lastAffected, version: '1.1.9', want: 'unknown', why: '1.2 is not SemVer' },
  {
    scheme: 'maven',
    affected: lastAffected,
    version: '1.1.9',
    want: 'not-affected',
    why: 'below introduced',
  },
  {
    scheme: 'maven',
    affected: lastAffected,
    version: '1.2',
    want: 'affected',
    range: 'introduced 1.2, last_affected 1.4',
    why: 'introduced itself',
  },
  { scheme: 'maven', affected: lastAffected, version: '1.4', want: 'affected', why: 'last_affected itself' },
  { scheme: 'maven', affected: lastAffected, version: '1.4.0', want: 'affected', why: 'Maven: 1.4.0 == 1.4' },
  {
    scheme: 'maven',
    affected: lastAffected,
    version: '1.4.1',
    want: 'not-affected',
    why: 'after last_affected',
  },
  {
    scheme: 'pep440',
    affected: limited,
    version: '1.2',
    want: 'affected',
    range: 'introduced 1.0, limit 1.5',
    why: 'below the limit',
  },
  { scheme: 'pep440', affected: limited, version: '1.5', want: 'not-affected', why: 'at the limit' },
  { scheme: 'pep440', affected: limited, version: '0.9', want: 'not-affected', why: 'below introduced' },
  { scheme: 'pep440', affected: limitStar, version: '99', want: 'affected', why: 'limit * is infinity' },
  // Go: SEMVER ranges without v, pseudo-versions
  {
    scheme: 'go',
    affected: goRange,
    version: '1.5.9',
    want: 'affected',
    range: 'introduced 0, fixed 1.6.0',
    why: 'below the fix',
  },
  { scheme: 'go', affected: goRange, version: '1.6.0-rc.1', want: 'affected', why: 'pre-release of the fix' },
  { scheme: 'go', affected: goRange, version: '1.6.0', want: 'not-affected', why: 'the fix' },
  {
    scheme: 'go',
    affected: goRange,
    version: '2.0.0+incompatible',
    want: 'not-affected',
    why: 'build metadata ignored',
  },
  {
    scheme: 'go',
    affected: goPseudo,
    version: '0.0.0-20200601000000-123456789abc',
    want: 'affected',
    why: 'pseudo-version between',
  },
  {
    scheme: 'go',
    affected: goPseudo,
    version: '0.0.0-20210601000000-123456789abc',
    want: 'not-affected',
    why: 'pseudo-version after the fix',
  },
  { scheme: 'semver', affected: goRange, version: '1.5.9', want: 'affected', why: 'npm: SemVer' },
  {
    scheme: 'semver',
    affected: goRange,
    version: '1.6.0-beta.1',
    want: 'affected',
    why: 'npm: pre-release of the fix',
  },
  // PyPI: GIT ranges ignored, versions list counts, other spellings of a listed version
  {
    scheme: 'pep440',
    affected: pypi,
    version: '2.30.0',
    want: 'affected',
    range: 'listed version',
    why: 'listed',
  },
  {
    scheme: 'pep440',
    affected: pypi,
    version: '2.29.0',
    want: 'affected',
    range: 'introduced 2.3.0, fixed 2.31.0',
    why: 'in the ECOSYSTEM range',
  },
  { scheme: 'pep440', affected: pypi, version: '2.31.0', want: 'not-affected', why: 'the fix' },
  {
    scheme: 'pep440',
    affected: pypi,
    version: '2.2',
    want: 'not-affected',
    why: 'GIT introduced 0 is not a version range',
  },
  { scheme: 'pep440', affected: gitOnlyListed, version: '1.1', want: 'affected', why: 'listed' },
  {
    scheme: 'pep440',
    affected: gitOnlyListed,
    version: '1.1.0',
    want: 'affected',
    range: 'listed version',
    why: 'same version, other spelling',
  },
  { scheme: 'pep440', affected: gitOnlyListed, version: '1.2', want: 'not-affected', why: 'not listed' },
  { scheme: 'pep440', affected: gitOnly, version: '1.2', want: 'unknown', why: 'commits cannot be compared' },
  // bad records
  { scheme: 'pep440', affected: badEvent, version: '1.0', want: 'unknown', why: 'unparseable event version' },
  {
    scheme: 'pep440',
    affected: noIntroduced,
    version: '0.5',
    want: 'unknown',
    why: 'a range needs an introduced event',
  },
  {
    scheme: 'pep440',
    affected: twoKeys,
    version: '0.5',
    want: 'unknown',
    why: 'an event has exactly one key',
  },
  // Alpine's "fixed 0": never affected
  {
    scheme: 'apk',
    affected: alpineNever,
    version: '1.0-r0',
    want: 'not-affected',
    why: 'fixed 0 closes the range at once',
  },
  { scheme: 'apk', affected: alpineNever, version: '1.0-r0-r1', want: 'unknown', why: 'invalid apk version' },
  // neither ranges nor versions: everything
  {
    scheme: 'pep440',
    affected: everything,
    version: '1.0',
    want: 'affected',
    range: 'all versions (no ranges or versions given)',
    why: 'osv-scanner reads it so',
  },
];

describe('isAffected', () => {
  for (const c of CASES) {
    test(`${c.scheme} ${JSON.stringify(c.version)} → ${c.want} (${c.why})`, () => {
      const r = isAffected(c.version, c.affected, c.scheme);
      assert.equal(r.kind, c.want, JSON.stringify(r));
      if (c.range !== undefined && r.kind === 'affected') assert.equal(r.range, c.range);
      if (r.kind === 'unknown') assert.ok(r.reason.length > 10, r.reason);
    });
  }

  test('unknown reasons name the problem', () => {
    const r = isAffected('1.0', badEvent, 'pep440');
    assert.equal(r.kind, 'unknown');
    assert.match(
      r.kind === 'unknown' ? r.reason : '',
      /fixed "not a version!" is not a valid pep440 version/,
    );
    const v = isAffected('zz top', openssl12, 'deb');
    assert.match(v.kind === 'unknown' ? v.reason : '', /deb version "zz top"/);
  });

  test('an affected range wins over a broken one', () => {
    const a = entry([eco({ introduced: '0' }, { fixed: '??' }), eco({ introduced: '0' }, { fixed: '2.0' })]);
    assert.equal(isAffected('1.0', a, 'pep440').kind, 'affected');
    assert.equal(isAffected('3.0', a, 'pep440').kind, 'unknown');
  });

  test('a compiled entry answers many versions the same way as isAffected', () => {
    const ev = compileAffected(twoBranches, 'pep440');
    for (const v of ['0', '1.0', '1.5', '2.0', '2.5', '9']) {
      assert.deepEqual(ev.evaluate(v), isAffected(v, twoBranches, 'pep440'));
    }
  });
});

describe('fixedVersions', () => {
  const TABLE: [OsvAffected, VersionScheme, string, string | undefined][] = [
    [openssl12, 'deb', '3.0.9-1', '3.0.11-1~deb12u2'],
    [openssl12, 'deb', '3.0.11-1~deb12u2', undefined],
    [twoBranches, 'pep440', '1.0', '1.5'],
    [twoBranches, 'pep440', '2.1', '2.5'],
    [unsorted, 'pep440', '2.1', '2.5'],
    [twoBranches, 'pep440', '1.7', '2.5'],
    [lastAffected, 'maven', '1.3', undefined],
    [
      entry([eco({ introduced: '0' }, { fixed: '1.5' }), eco({ introduced: '0' }, { fixed: '1.2' })]),
      'pep440',
      '1.0',
      '1.2',
    ],
    [pypi, 'pep440', '2.30.0', '2.31.0'],
    [goRange, 'go', '1.0.0', '1.6.0'],
    [entry([eco({ introduced: '0' })]), 'deb', '1.0-1', undefined],
    [openssl12, 'deb', 'garbage!', undefined],
  ];
  for (const [a, scheme, installed, want] of TABLE) {
    test(`${scheme} ${installed} → ${want ?? 'none'}`, () => {
      assert.equal(fixedVersions(a, installed, scheme), want);
    });
  }
});
