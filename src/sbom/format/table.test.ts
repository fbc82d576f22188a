import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTable, summary } from './table.ts';
import { pkg, sampleDirectorySbom, sampleImageSbom } from './test-support.ts';

describe('renderTable', () => {
  it('prints NAME / VERSION / TYPE aligned and sorted, then the summary', () => {
    const sbom = sampleDirectorySbom();
    sbom.packages.push(
      pkg({ type: 'npm', name: 'accepts', version: '1.3.8', purl: '', path: '/a', foundBy: 'npm' }),
      pkg({ type: 'pypi', name: 'flask', version: '2.0.0', purl: '', path: '/b', foundBy: 'python' }),
    );
    assert.equal(
      renderTable(sbom),
      [
        'NAME     VERSION  TYPE',
        'accepts  1.3.8    npm',
        'express  4.19.2   npm',
        'Flask    3.0.3    pypi',
        'flask    2.0.0    pypi',
        '',
        '4 packages (2 npm, 2 pypi), 0 problems',
      ].join('\n'),
    );
  });

  it('counts every type, problems and unowned files in the summary', () => {
    const sbom = sampleImageSbom();
    assert.equal(
      summary(sbom),
      '19 packages (8 deb, 1 apk, 1 rpm, 2 npm, 2 pypi, 2 golang, 1 maven, 1 cargo, 1 gem), 2 problems, 2 unowned files',
    );
    const lines = renderTable(sbom).split('\n');
    assert.equal(lines.length, 1 + 19 + 2);
    assert.match(lines[0]!, /^NAME {2,}VERSION {2,}TYPE$/);
    // Every row puts VERSION and TYPE in the header's columns.
    const versionAt = lines[0]!.indexOf('VERSION');
    const typeAt = lines[0]!.indexOf('TYPE');
    for (const row of lines.slice(1, 20)) {
      assert.notEqual(row[versionAt], ' ', row);
      assert.equal(row[versionAt - 1], ' ', row);
      assert.notEqual(row[typeAt], ' ', row);
    }
    assert.deepEqual(
      lines.slice(1, 4).map((l) => l.split(/ +/)),
      [
        ['@babel/core', '7.24.0', 'npm'],
        ['bash', '5.2.15-2+b8', 'deb'],
        ['bash', '5.2.26-3.fc40', 'rpm'],
      ],
    );
  });

  it('says so when there are no packages, and uses the singular for one', () => {
    const sbom = sampleDirectorySbom();
    sbom.packages = [];
    sbom.problems = [{ cataloger: 'npm-package', path: '/x/package.json', message: 'not JSON' }];
    assert.equal(renderTable(sbom), 'No packages found\n\n0 packages, 1 problem');
    sbom.packages = [sampleDirectorySbom().packages[0]!];
    assert.equal(summary(sbom), '1 package (1 npm), 1 problem');
  });

  it('never writes control characters from package names to the terminal', () => {
    const sbom = sampleDirectorySbom();
    sbom.packages = [
      pkg({ type: 'npm', name: 'evil\x1b[2Jname', version: '1.0\r', purl: '', path: '/e', foundBy: 'npm' }),
    ];
    const out = renderTable(sbom);
    assert.doesNotMatch(out, /[\x00-\x09\x0b-\x1f\x7f]/);
    assert.match(out, /evil\\x1b\[2Jname {2}1\.0\\x0d {2}npm/);
  });
});
