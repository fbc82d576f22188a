import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalLicenseId,
  classifyLicense,
  isLicenseExpression,
  joinConjuncts,
  LICENSE_LIST_VERSION,
  licenseRefs,
  normalizeLicenseExpression,
  splitConjuncts,
} from './license.ts';

describe('SPDX license expressions', () => {
  it('knows the SPDX list shipped with the CycloneDX schema, case-insensitively', () => {
    assert.equal(LICENSE_LIST_VERSION, '3.29');
    assert.equal(canonicalLicenseId('mit'), 'MIT');
    assert.equal(canonicalLicenseId('apache-2.0'), 'Apache-2.0');
    assert.equal(canonicalLicenseId('Classpath-exception-2.0'), 'Classpath-exception-2.0');
    assert.equal(canonicalLicenseId('GPL-2.0+'), 'GPL-2.0+', 'deprecated ids are on the list');
    assert.equal(canonicalLicenseId('Expat'), undefined, "Debian's Expat is not an SPDX id");
    assert.equal(canonicalLicenseId('GPL-2+'), undefined);
  });

  // [declared license, expected classification]
  const cases: [string, ReturnType<typeof classifyLicense>][] = [
    ['MIT', { kind: 'id', id: 'MIT' }],
    ['mit', { kind: 'id', id: 'MIT' }],
    [' Apache-2.0 ', { kind: 'id', id: 'Apache-2.0' }],
    ['GPL-2.0+', { kind: 'id', id: 'GPL-2.0+' }],
    ['GPL-2.0-only+', { kind: 'expression', expression: 'GPL-2.0-only+', top: 'simple' }],
    ['MIT OR Apache-2.0', { kind: 'expression', expression: 'MIT OR Apache-2.0', top: 'OR' }],
    ['mit or apache-2.0', { kind: 'expression', expression: 'MIT OR Apache-2.0', top: 'OR' }],
    ['(MIT OR Apache-2.0)', { kind: 'expression', expression: 'MIT OR Apache-2.0', top: 'OR' }],
    ['((MIT))', { kind: 'id', id: 'MIT' }],
    [
      'MIT AND (GPL-2.0-only OR BSD-3-Clause)',
      { kind: 'expression', expression: 'MIT AND (GPL-2.0-only OR BSD-3-Clause)', top: 'AND' },
    ],
    [
      'GPL-2.0-only WITH Classpath-exception-2.0',
      { kind: 'expression', expression: 'GPL-2.0-only WITH Classpath-exception-2.0', top: 'simple' },
    ],
    [
      'EPL-2.0 OR GPL-2.0 WITH Classpath-exception-2.0',
      { kind: 'expression', expression: 'EPL-2.0 OR GPL-2.0 WITH Classpath-exception-2.0', top: 'OR' },
    ],
    ['LicenseRef-Beerware-4.2', { kind: 'expression', expression: 'LicenseRef-Beerware-4.2', top: 'simple' }],
    [
      'DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2',
      { kind: 'expression', expression: 'DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2', top: 'simple' },
    ],
    // Debian copyright short names and other free text are not expressions.
    ['GPL-2+', { kind: 'text', text: 'GPL-2+' }],
    ['Artistic or GPL-1+', { kind: 'text', text: 'Artistic or GPL-1+' }],
    ['BSD-like', { kind: 'text', text: 'BSD-like' }],
    ['public-domain', { kind: 'text', text: 'public-domain' }],
    ['MIT AND', { kind: 'text', text: 'MIT AND' }],
    ['(MIT', { kind: 'text', text: '(MIT' }],
    ['MIT)', { kind: 'text', text: 'MIT)' }],
    ['()', { kind: 'text', text: '()' }],
    ['MIT WITH MIT-exception-nope', { kind: 'text', text: 'MIT WITH MIT-exception-nope' }],
    ['MIT Apache-2.0', { kind: 'text', text: 'MIT Apache-2.0' }],
    ['', { kind: 'text', text: '' }],
    ['LicenseRef-', { kind: 'text', text: 'LicenseRef-' }],
    ['The MIT License (MIT)', { kind: 'text', text: 'The MIT License (MIT)' }],
  ];
  for (const [input, want] of cases) {
    it(`classifies ${JSON.stringify(input)}`, () => {
      assert.deepEqual(classifyLicense(input), want);
      assert.equal(isLicenseExpression(input), want.kind !== 'text');
    });
  }

  it('normalises spelling but keeps the grouping the expression was written with', () => {
    assert.equal(
      normalizeLicenseExpression('mit  AND  (bsd-3-clause or zlib)'),
      'MIT AND (BSD-3-Clause OR Zlib)',
    );
    assert.equal(normalizeLicenseExpression('(MIT AND Zlib) AND X11'), '(MIT AND Zlib) AND X11');
    assert.equal(normalizeLicenseExpression('not a license'), undefined);
  });

  it('splits top-level ANDs and leaves parenthesised groups whole', () => {
    assert.deepEqual(splitConjuncts('MIT AND (Apache-2.0 OR BSD-3-Clause) AND (Zlib AND X11)'), [
      'MIT',
      'Apache-2.0 OR BSD-3-Clause',
      'Zlib AND X11',
    ]);
    assert.deepEqual(splitConjuncts('(LGPL-2.0-only AND LicenseRef-3)'), ['LGPL-2.0-only AND LicenseRef-3']);
    assert.deepEqual(splitConjuncts('MIT OR Apache-2.0'), ['MIT OR Apache-2.0']);
    assert.equal(splitConjuncts('GPL-2+ AND MIT'), undefined);
  });

  it('joins licenses so that splitting gives each back', () => {
    const sets = [
      ['MIT'],
      ['MIT', 'Apache-2.0'],
      ['MIT AND Zlib'],
      ['MIT OR Zlib'],
      ['MIT', 'Apache-2.0 OR BSD-3-Clause', 'Zlib AND X11', 'GPL-2.0-only WITH Classpath-exception-2.0'],
    ];
    for (const set of sets) {
      const joined = joinConjuncts(set);
      assert.ok(isLicenseExpression(joined), joined);
      assert.deepEqual(splitConjuncts(joined), set, joined);
    }
    assert.equal(joinConjuncts(['MIT', 'Apache-2.0 OR Zlib']), 'MIT AND (Apache-2.0 OR Zlib)');
    assert.equal(joinConjuncts(['MIT AND Zlib']), '(MIT AND Zlib)');
  });

  it('lists the LicenseRefs an expression uses', () => {
    assert.deepEqual(licenseRefs('LicenseRef-a OR (MIT AND LicenseRef-b WITH Classpath-exception-2.0)'), [
      'LicenseRef-a',
      'LicenseRef-b',
    ]);
    assert.deepEqual(licenseRefs('DocumentRef-x:LicenseRef-y'), []);
    assert.deepEqual(licenseRefs('GPL-2+'), []);
  });
});
