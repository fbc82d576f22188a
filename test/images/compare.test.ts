/**
 * The comparison the real-image tests rely on: it must find what is there and flag every way
 * an SBOM can be wrong (missing, wrong version, wrong source, duplicates, wrong owner,
 * deleted packages still reported). Hand-made truth and SBOMs; runs in `npm test`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Package, packageId, type Sbom } from '../../src/sbom/model.ts';
import { canonicalName, compareWithTruth, formatReport, locatedAt, normalizePython } from './compare.ts';
import { parseCoreMetadata, parseGoVersionM, parseProperties, type Truth } from './truth.ts';

function pkg(p: Omit<Package, 'id' | 'licenses' | 'foundBy'> & { foundBy?: string }): Package {
  return { ...p, id: packageId(p), licenses: [], foundBy: p.foundBy ?? 'test' };
}

const libc = pkg({
  type: 'deb',
  name: 'libc6',
  version: '2.36-9+deb12u10',
  purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12&upstream=glibc',
  locations: [{ path: '/var/lib/dpkg/status' }],
  source: { name: 'glibc', version: '2.36-9+deb12u10' },
  arch: 'amd64',
});
const pyyamlDeb = pkg({
  type: 'deb',
  name: 'python3-yaml',
  version: '6.0-3+b2',
  purl: 'pkg:deb/debian/python3-yaml@6.0-3%2Bb2?arch=amd64&distro=debian-12&upstream=pyyaml%406.0-3',
  locations: [{ path: '/var/lib/dpkg/status' }],
  source: { name: 'pyyaml', version: '6.0-3' },
});
const pyyaml = pkg({
  type: 'pypi',
  name: 'PyYAML',
  version: '6.0',
  purl: 'pkg:pypi/pyyaml@6.0',
  locations: [{ path: '/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA' }],
  ownedBy: pyyamlDeb.id,
});
const guava = pkg({
  type: 'maven',
  name: 'guava',
  version: '31.1-jre',
  purl: 'pkg:maven/com.google.guava/guava@31.1-jre',
  locations: [{ path: '/usr/share/java/guava.jar' }],
});
const babel = pkg({
  type: 'npm',
  name: 'code-frame',
  version: '7.26.2',
  purl: 'pkg:npm/%40babel/code-frame@7.26.2',
  locations: [{ path: '/srv/app/node_modules/@babel/code-frame/package.json' }],
});
const stdlib = pkg({
  type: 'golang',
  name: 'stdlib',
  version: 'go1.19.8',
  purl: 'pkg:golang/stdlib@1.19.8',
  locations: [{ path: '/usr/local/bin/hello' }],
});
const errorsMod = pkg({
  type: 'golang',
  name: 'github.com/pkg/errors',
  version: 'v0.9.1',
  purl: 'pkg:golang/github.com/pkg/errors@v0.9.1',
  locations: [{ path: '/usr/local/bin/hello' }],
});

const truth: Truth = {
  tools: {},
  os: { ID: 'debian' },
  deb: [
    {
      name: 'libc6',
      version: '2.36-9+deb12u10',
      arch: 'amd64',
      sourceName: 'glibc',
      sourceVersion: '2.36-9+deb12u10',
    },
    {
      name: 'python3-yaml',
      version: '6.0-3+b2',
      arch: 'amd64',
      sourceName: 'pyyaml',
      sourceVersion: '6.0-3',
    },
  ],
  python: [
    {
      name: 'PyYAML',
      version: '6.0',
      path: '/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info',
      ownedBy: 'python3-yaml',
    },
  ],
  java: [
    {
      name: 'guava',
      groupId: 'com.google.guava',
      version: '31.1-jre',
      path: '/usr/share/java/guava.jar',
      entry: 'META-INF/maven/com.google.guava/guava/pom.properties',
    },
  ],
  go: [
    { kind: 'stdlib', name: 'stdlib', version: 'go1.19.8', path: '/usr/local/bin/hello' },
    { kind: 'dep', name: 'github.com/pkg/errors', version: 'v0.9.1', path: '/usr/local/bin/hello' },
  ],
  npm: [{ name: '@babel/code-frame', version: '7.26.2', path: '/srv/app/node_modules/@babel/code-frame' }],
  deleted: [{ ecosystem: 'npm', name: 'left-pad', version: '1.3.0', path: '/srv/app/node_modules/left-pad' }],
  jarsWithoutPom: [],
};

function sbomOf(packages: Package[]): Sbom {
  return {
    subject: { kind: 'directory', name: 'rootfs', path: '/tmp/rootfs' },
    packages,
    relationships: [],
    problems: [],
    unowned: [],
    created: '2024-01-01T00:00:00Z',
    tool: { name: 'vouch', version: '0.0.0' },
  };
}

const all = [libc, pyyamlDeb, pyyaml, guava, babel, stdlib, errorsMod];

test('a complete, correct SBOM: everything found, nothing flagged', () => {
  const r = compareWithTruth(sbomOf(all), truth);
  assert.equal(r.deb.found, 2);
  assert.deepEqual(
    [r.deb.missing, r.deb.wrongVersion, r.deb.wrongSource, r.deb.unexpected],
    [[], [], [], []],
  );
  for (const eco of ['python', 'java', 'go', 'npm'] as const) {
    assert.equal(r.ecosystems[eco].recall, 1, eco);
    assert.deepEqual(r.ecosystems[eco].wrongOwner, [], eco);
    assert.deepEqual(r.ecosystems[eco].extra, [], eco);
  }
  assert.deepEqual(r.duplicates, []);
  assert.deepEqual(r.deletedStillThere, []);
  assert.match(formatReport('ok', r), /python {2}recall 100\.0%/);
});

test('missing, wrong version and wrong source are each reported', () => {
  const wrongSrc = { ...libc, source: { name: 'glibc', version: '2.36-9' } };
  const oldYaml = { ...pyyamlDeb, version: '6.0-3' };
  const r = compareWithTruth(sbomOf([wrongSrc, oldYaml, guava]), truth);
  assert.deepEqual(r.deb.wrongSource, ['libc6: dpkg source glibc 2.36-9+deb12u10, vouch glibc 2.36-9']);
  assert.equal(r.deb.wrongVersion.length, 1);
  assert.equal(r.ecosystems.python.recall, 0);
  assert.equal(r.ecosystems.go.recall, 0);
  assert.equal(r.ecosystems.go.missing.length, 2);
});

test('a package found at another path counts by name+version but not by location', () => {
  const elsewhere = {
    ...guava,
    locations: [{ path: '/usr/share/maven-repo/com/google/guava/guava/31.1-jre/guava-31.1-jre.jar' }],
  };
  const r = compareWithTruth(sbomOf([elsewhere]), truth);
  assert.equal(r.ecosystems.java.found, 0);
  assert.equal(r.ecosystems.java.foundByNameVersion, 1);
  assert.equal(r.ecosystems.java.extra.length, 1);
});

test('wrong groupId does not match', () => {
  const other = pkg({ ...guava, purl: 'pkg:maven/org.example/guava@31.1-jre' });
  assert.equal(compareWithTruth(sbomOf([other]), truth).ecosystems.java.found, 0);
});

test('ownership: a deb-owned package without ownedBy, or an unowned one with it, is flagged', () => {
  const loose = { ...pyyaml, ownedBy: undefined };
  assert.equal(compareWithTruth(sbomOf([pyyamlDeb, loose]), truth).ecosystems.python.wrongOwner.length, 1);
  const claimed = { ...guava, ownedBy: pyyamlDeb.id };
  assert.match(
    compareWithTruth(sbomOf([pyyamlDeb, claimed]), truth).ecosystems.java.wrongOwner[0]!,
    /owned by python3-yaml, dpkg says nothing/,
  );
});

test('duplicates and double reports are flagged', () => {
  const r = compareWithTruth(sbomOf([...all, { ...babel }]), truth);
  assert.equal(r.duplicates.length, 1);
  assert.equal(r.ecosystems.npm.reportedTwice.length, 1);
});

test('a package deleted by a whiteout must not be reported at its path', () => {
  const leftPad = pkg({
    type: 'npm',
    name: 'left-pad',
    version: '1.3.0',
    purl: 'pkg:npm/left-pad@1.3.0',
    locations: [{ path: '/srv/app/node_modules/left-pad/package.json' }],
  });
  assert.equal(compareWithTruth(sbomOf([...all, leftPad]), truth).deletedStillThere.length, 1);
  const fromLock = { ...leftPad, locations: [{ path: '/srv/app/package-lock.json' }] };
  const r = compareWithTruth(sbomOf([...all, fromLock]), truth);
  assert.deepEqual(r.deletedStillThere, []);
  assert.match(r.deletedSeenElsewhere[0]!, /lockfile only/);
});

test('names: PEP 503, npm scopes, Go module paths, maven groups', () => {
  assert.equal(normalizePython('Charset_Normalizer'), 'charset-normalizer');
  assert.deepEqual(canonicalName(babel), { name: '@babel/code-frame' });
  assert.deepEqual(canonicalName(errorsMod), { name: 'github.com/pkg/errors' });
  assert.deepEqual(canonicalName(guava), { name: 'guava', group: 'com.google.guava' });
  assert.ok(locatedAt('/a/x.jar!/BOOT-INF/lib/y.jar', '/a/x.jar'));
  assert.ok(!locatedAt('/a/x.jar2', '/a/x.jar'));
});

test('truth parsers: core metadata, pom.properties, go version -m', () => {
  assert.deepEqual(
    parseCoreMetadata('Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\n\nName: not-this\n'),
    {
      name: 'PyYAML',
      version: '6.0',
    },
  );
  assert.deepEqual(
    parseProperties('#Created by Apache Maven\ngroupId=org.slf4j\nartifactId = slf4j-api\nversion=1.7.32\n'),
    {
      groupId: 'org.slf4j',
      artifactId: 'slf4j-api',
      version: '1.7.32',
    },
  );
  const out = [
    '/r/usr/bin/age: go1.19.8',
    '\tpath\tfilippo.io/age/cmd/age',
    '\tbuild\t-compiler=gc',
    '/r/usr/local/bin/hello: go1.19.8',
    '\tpath\texample.com/hello',
    '\tmod\texample.com/hello\t(devel)\t',
    '\tdep\tgithub.com/pkg/errors\tv0.9.1\th1:abc=',
    '\tdep\tgolang.org/x/sys\tv0.1.0',
    '\t=>\t/src/sys\t(devel)',
    '',
  ].join('\n');
  const go = parseGoVersionM(out, '/r');
  assert.deepEqual(
    go.map(
      (g) => `${g.kind} ${g.name} ${g.version} ${g.path}${g.replacedBy ? ` => ${g.replacedBy.name}` : ''}`,
    ),
    [
      'stdlib stdlib go1.19.8 /usr/bin/age',
      'stdlib stdlib go1.19.8 /usr/local/bin/hello',
      'main example.com/hello (devel) /usr/local/bin/hello',
      'dep github.com/pkg/errors v0.9.1 /usr/local/bin/hello',
      'dep golang.org/x/sys v0.1.0 /usr/local/bin/hello => /src/sys',
    ],
  );
  assert.equal(go[3]!.sum, 'h1:abc=');
});
