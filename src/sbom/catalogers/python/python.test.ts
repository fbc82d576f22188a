import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  catalogEntries,
  entriesFromDir,
  exists,
  fixtureDir,
  have,
} from '../../../../test/fixtures/sbom/lang-helpers.ts';
import { PYTHON_CATALOGER_ID, pythonCataloger } from './index.ts';
import {
  metadataLicenses,
  normalizeName,
  parseCoreMetadata,
  parseRecordPaths,
  requiredNames,
} from './parse_metadata.ts';

const SITE = join(fixtureDir('python'), 'site-packages');
const IMAGE_SITE = 'usr/lib/python3/dist-packages';

describe('core metadata parsing', () => {
  test('headers, continuation lines, repeated fields, body ignored', () => {
    const m = parseCoreMetadata(
      'Name: x\nVersion: 1\nLicense: line one\n        |line two\nClassifier: A\nClassifier: B\n\nName: body\n',
    );
    assert.deepEqual(m.headers.get('name'), ['x']);
    assert.deepEqual(m.headers.get('license'), ['line one\nline two']);
    assert.deepEqual(m.headers.get('classifier'), ['A', 'B']);
  });

  test('licenses: expression, then License, then classifiers', () => {
    const lic = (t: string) => metadataLicenses(parseCoreMetadata(t));
    assert.deepEqual(lic('License-Expression: MIT OR Apache-2.0\nLicense: BSD\n'), ['MIT OR Apache-2.0']);
    assert.deepEqual(lic('License: MIT License\n'), ['MIT']);
    assert.deepEqual(lic('License: PSF or ZPL\n'), ['PSF or ZPL']);
    assert.deepEqual(
      lic(
        'License: UNKNOWN\nClassifier: License :: OSI Approved :: Apache Software License\nClassifier: License :: OSI Approved :: BSD License\n',
      ),
      ['Apache-2.0', 'BSD License'],
    );
    assert.deepEqual(lic('License: Copyright (c) 2020\n   all the text of a license\n'), []);
  });

  test('requirements without extras, PEP 503 names, RECORD rows', () => {
    const m = parseCoreMetadata(
      'Requires-Dist: Foo.Bar>=1\nRequires-Dist: baz; extra == "x"\nRequires-Dist: q_x (>=2) ; python_version<"3"\n',
    );
    assert.deepEqual(requiredNames(m), ['foo-bar', 'q-x']);
    assert.equal(normalizeName('Zope.Interface__x'), 'zope-interface-x');
    assert.deepEqual(parseRecordPaths('a/b.py,sha256=x,1\n"c,d.py",,\n"e""f.py",,\n\n'), [
      'a/b.py',
      'c,d.py',
      'e"f.py',
    ]);
  });
});

describe('python cataloger', () => {
  test('fixture site-packages: dist-info, egg-info dir and file, duplicates, problems', async () => {
    const r = await catalogEntries(pythonCataloger, entriesFromDir(SITE, IMAGE_SITE));
    assert.deepEqual(
      r.packages.map((p) => `${p.name} ${p.version} ${p.purl} [${p.licenses.join('|')}]`),
      [
        'Modern_Pkg 2.0.0 pkg:pypi/modern-pkg@2.0.0 [MIT OR Apache-2.0]',
        'PyYAML 6.0 pkg:pypi/pyyaml@6.0 [MIT]',
        'cryptography 38.0.4 pkg:pypi/cryptography@38.0.4 [BSD-3-Clause OR Apache-2.0]',
        'six 1.16.0 pkg:pypi/six@1.16.0 [MIT]',
        'wsgiref 0.1.2 pkg:pypi/wsgiref@0.1.2 [PSF or ZPL]',
      ],
    );
    const by = new Map(r.packages.map((p) => [p.name, p]));
    const crypto = by.get('cryptography')!;
    assert.deepEqual(
      crypto.locations.map((l) => l.path),
      [
        `/${IMAGE_SITE}/cryptography-38.0.4.dist-info/METADATA`,
        `/${IMAGE_SITE}/cryptography-38.0.4.dist-info/RECORD`,
        `/${IMAGE_SITE}/cryptography.egg-info/PKG-INFO`,
      ],
    );
    const modern = by.get('Modern_Pkg')!;
    assert.deepEqual(modern.metadata?.files, [
      '/usr/bin/modern',
      `/${IMAGE_SITE}/Modern_Pkg-2.0.0.dist-info/METADATA`,
      `/${IMAGE_SITE}/Modern_Pkg-2.0.0.dist-info/RECORD`,
      `/${IMAGE_SITE}/modern_pkg/__init__.py`,
      `/${IMAGE_SITE}/modern_pkg/quoted,name.py`,
    ]);
    assert.equal(modern.foundBy, PYTHON_CATALOGER_ID);
    assert.equal(modern.metadata?.sitePackages, `/${IMAGE_SITE}`);
    const rel = r.relationships.map((x) => `${x.from} ${x.to}`).sort();
    assert.deepEqual(
      rel,
      [`${modern.id} ${by.get('PyYAML')!.id}`, `${modern.id} ${by.get('six')!.id}`].sort(),
    );
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]!.path, `/${IMAGE_SITE}/broken-1.0.dist-info/METADATA`);
    assert.match(r.problems[0]!.message, /no Name header/);
    assert.match(r.problems[0]!.layer ?? '', /^sha256:/);
  });

  test('non-UTF-8 bytes and an unreadable RECORD do not stop the scan', async () => {
    const r = await catalogEntries(pythonCataloger, [
      {
        name: 'site/latin-1.0.dist-info/METADATA',
        content: Buffer.from('Name: latin\nVersion: 1.0\nSummary: caf\xe9\n', 'latin1'),
      },
      { name: 'site/latin-1.0.dist-info/RECORD', type: 'directory' },
    ]);
    assert.deepEqual(r.problems, []);
    assert.equal(r.packages[0]!.metadata?.summary, 'caf\ufffd');
  });

  // Oracle: Python's own importlib.metadata over real installed trees.
  const trees = ['/usr/lib/python3/dist-packages', ...pyenvSitePackages()].filter(exists);
  for (const tree of trees) {
    test(
      `${tree}: the distributions importlib.metadata finds`,
      { skip: !have('python3') && 'python3 missing' },
      async () => {
        const script = `import importlib.metadata as m, json, os, sys
out = []
for d in m.distributions(path=[sys.argv[1]]):
    files = sorted({os.path.normpath(str(f.locate())) for f in (d.files or [])}) if (d._path.name.endswith('.dist-info')) else None
    out.append({'name': d.metadata['Name'], 'version': d.version, 'files': files})
print(json.dumps(out))`;
        const oracle = JSON.parse(execFileSync('python3', ['-c', script, tree], { encoding: 'utf8' })) as {
          name: string;
          version: string;
          files: string[] | null;
        }[];
        const entries = entriesFromDir(tree, tree.slice(1), (rel) => {
          const top = rel.split('/')[0]!;
          return /\.(dist|egg)-info$/.test(top);
        });
        const r = await catalogEntries(pythonCataloger, entries);
        assert.deepEqual(r.problems, []);
        const want = [...new Set(oracle.map((d) => `${normalizeName(d.name)}@${d.version}`))].sort();
        const got = [...new Set(r.packages.map((p) => `${normalizeName(p.name)}@${p.version}`))].sort();
        assert.deepEqual(got, want);
        for (const d of oracle) {
          if (!d.files) continue;
          const p = r.packages.find(
            (x) => normalizeName(x.name) === normalizeName(d.name) && x.version === d.version,
          )!;
          assert.deepEqual(p.metadata?.files, d.files, `${d.name} files`);
        }
      },
    );
  }
});

function pyenvSitePackages(): string[] {
  try {
    const out = execFileSync(
      'sh',
      ['-c', 'ls -d /root/.pyenv/versions/*/lib/python*/site-packages 2>/dev/null'],
      {
        encoding: 'utf8',
      },
    );
    return out
      .split('\n')
      .filter((l) => l !== '')
      .slice(0, 2);
  } catch {
    return [];
  }
}
