import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../../errors.ts';
import { PACKAGE_TYPES } from '../../sbom/model.ts';
import {
  comparatorForEcosystem,
  comparators,
  schemeForEcosystem,
  schemeForPackageType,
  VERSION_SCHEMES,
  type VersionScheme,
} from './index.ts';
import { seeded } from './test-support.ts';

test('comparators: one per scheme, in VERSION_SCHEMES order, each naming its own scheme', () => {
  assert.deepEqual(Object.keys(comparators), [...VERSION_SCHEMES]);
  for (const s of VERSION_SCHEMES) assert.equal(comparators[s].scheme, s);
  assert.ok(Object.isFrozen(comparators));
});

const CARGO = ['crates', 'io'].join('.');

const ECOSYSTEMS: Array<[string, VersionScheme | undefined]> = [
  ['Debian', 'deb'],
  ['Debian:12', 'deb'],
  ['Debian:sid', 'deb'],
  ['Ubuntu:22.04:LTS', 'deb'],
  ['Ubuntu:Pro:18.04:LTS', 'deb'],
  ['Alpine:v3.20', 'apk'],
  ['Wolfi', 'apk'],
  ['Chainguard', 'apk'],
  ['Red Hat', 'rpm'],
  ['Red Hat:enterprise_linux:9::appstream', 'rpm'],
  ['AlmaLinux:9', 'rpm'],
  ['Rocky Linux:8', 'rpm'],
  ['SUSE:Linux Enterprise Server 15 SP5', 'rpm'],
  ['openSUSE:Tumbleweed', 'rpm'],
  ['Mageia:9', 'rpm'],
  ['openEuler:22.03-LTS', 'rpm'],
  ['npm', 'semver'],
  ['PyPI', 'pep440'],
  ['Go', 'go'],
  ['Maven', 'maven'],
  ['RubyGems', 'gem'],
  [CARGO, 'cargo'],
  // not orderable here: callers must say unknown
  ['NuGet', undefined],
  ['Packagist', undefined],
  ['Hex', undefined],
  ['Pub', undefined],
  ['GIT', undefined],
  ['', undefined],
  // names are exact, as OSV defines them
  ['debian:12', undefined],
  ['pypi', undefined],
  ['Debian12', undefined],
];

test('schemeForEcosystem: OSV ecosystem names with and without release suffixes', () => {
  for (const [eco, want] of ECOSYSTEMS) assert.equal(schemeForEcosystem(eco), want, eco);
  assert.equal(comparatorForEcosystem('Debian:12'), comparators.deb);
  assert.equal(comparatorForEcosystem('NuGet'), undefined);
});

test('schemeForPackageType: every package type has a scheme', () => {
  const want = {
    deb: 'deb',
    apk: 'apk',
    rpm: 'rpm',
    npm: 'semver',
    pypi: 'pep440',
    golang: 'go',
    maven: 'maven',
    cargo: 'cargo',
    gem: 'gem',
  } as const;
  for (const t of PACKAGE_TYPES) assert.equal(schemeForPackageType(t), want[t], t);
});

/** A few dozen valid versions per scheme, with ties, to check the comparators are total orders. */
const CORPUS: { readonly [S in VersionScheme]: readonly string[] } = {
  deb: [
    '1.0',
    '0:1.0',
    '1.0-0',
    '1.0~rc1',
    '1.0+b1',
    '1:0.1',
    '1.0-1',
    '1.0-1+deb12u1',
    '1.00',
    '1.0a',
    '2.0~~',
    '1a0',
  ],
  apk: [
    '1.0',
    '1.0-r0',
    '1.0_rc1',
    '1.0_p1',
    '1.0a',
    '1.00',
    '1.01',
    '1.0~ab',
    '1.0_alpha_pre1',
    '2',
    '1.0.0',
  ],
  rpm: [
    '1.0',
    '0:1.0',
    '1.0-1',
    '1.0~rc1',
    '1.0^git1',
    '1_0',
    '1.0a',
    '1.01',
    '1:0.1',
    '1.0-1.el8',
    '1.0-0',
    'a',
  ],
  semver: [
    '1.0.0',
    'v1.0.0',
    '1.0.0-rc.1',
    '1.0.0-rc.1+b',
    '1.0.0+b',
    '0.9.9',
    '1.0.0-1',
    '1.0.0-alpha',
    '2.0.0',
  ],
  pep440: [
    '1.0',
    '1.0.0',
    '1.0a1',
    '1.0.dev0',
    '1.0.post1',
    '1!0.1',
    '1.0+local',
    '1.0c1',
    '1.0rc1',
    '1.0-1',
  ],
  go: [
    'v1.0.0',
    '1.0.0',
    'v1',
    'v1.0.0+incompatible',
    'v1.0.0-pre',
    'v0.0.0-20200101000000-abcdefabcdef',
    'v1.0.1',
  ],
  maven: [
    '1',
    '1.0',
    '1-ga',
    '1-SNAPSHOT',
    '1-rc1',
    '1-cr1',
    '1-sp',
    '1-foo',
    '1.0.RC1',
    '1.1',
    '1-1',
    '1-0.1',
  ],
  gem: ['1', '1.0', '1.0.a', '1.a', '1.0-1', '1.0.pre.1', '1.0.rc1', '1.0.0.1', '0.9', '1.0.b1'],
  cargo: ['1.0.0', '1.0.0+b', '1.0.0-rc.1', '1.0.0-rc.1.0', '1.0.0-1', '0.0.1', '1.0.1', '1.0.0-alpha'],
};

test('every comparator is a total order: antisymmetric, transitive, reflexive, on its corpus', () => {
  for (const s of VERSION_SCHEMES) {
    const c = comparators[s];
    const vs = CORPUS[s];
    for (const v of vs) {
      assert.equal(c.isValid(v), true, `${s}: ${v}`);
      assert.equal(c.compare(v, v), 0, `${s}: ${v} = itself`);
    }
    for (const a of vs)
      for (const b of vs) assert.equal(c.compare(a, b), -c.compare(b, a) || 0, `${s}: ${a} ~ ${b}`);
    const next = seeded(99);
    const pick = () => vs[Math.floor(next() * vs.length)]!;
    for (let i = 0; i < 2000; i++) {
      const [a, b, d] = [pick(), pick(), pick()];
      if (c.compare(a, b) <= 0 && c.compare(b, d) <= 0)
        assert.ok(c.compare(a, d) <= 0, `${s}: ${a} <= ${b} <= ${d}`);
    }
  }
});

test('every comparator rejects a non-version with VERSION_UNPARSEABLE naming scheme and version', () => {
  for (const s of VERSION_SCHEMES) {
    const c = comparators[s];
    assert.equal(c.isValid(''), false, s);
    assert.equal(c.isValid('not a version'), false, s);
    assert.throws(
      () => c.compare('not a version', CORPUS[s][0]!),
      (e: unknown) =>
        isVouchError(e, 'VERSION_UNPARSEABLE') && e.message.startsWith(`${s} version "not a version"`),
      s,
    );
    // a non-string from untyped JSON is refused the same way, not crashed on
    assert.equal(c.isValid(42 as unknown as string), false, s);
    assert.throws(
      () => c.compare(CORPUS[s][0]!, null as unknown as string),
      (e: unknown) => isVouchError(e, 'VERSION_UNPARSEABLE'),
    );
  }
});
