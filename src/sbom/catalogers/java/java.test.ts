import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  catalogEntries,
  counting,
  fixtureDir,
  have,
  imageOf,
  type TarEntry,
} from '../../../../test/fixtures/sbom/lang-helpers.ts';
import { bufferSource } from '../golang/byte-source.ts';
import { fileNameParts, manifestLicenses } from './archive.ts';
import { JAVA_ARCHIVE_CATALOGER_ID, javaArchiveCataloger } from './index.ts';
import { parseManifest, parseProperties } from './parse_manifest.ts';
import { entryContent, entryRange, readZipDirectory } from './zip.ts';

const FIX = fixtureDir('java');
const DEBIAN_JARS = '/usr/share/java';

describe('manifest and properties parsing', () => {
  test('manifest main section with continuation lines', () => {
    const mf = parseManifest(
      'Manifest-Version: 1.0\r\nBundle-Description: a long\r\n  line\r\nImplementation-Version: 3.12.0\r\n\r\nName: x\r\nImplementation-Version: 9\r\n',
    );
    assert.equal(mf.get('bundle-description'), 'a long line');
    assert.equal(mf.get('implementation-version'), '3.12.0');
    assert.equal(mf.size, 3);
  });

  test('java.util.Properties syntax', () => {
    const p = parseProperties(
      '#c\n! c2\ngroupId = org.x\nartifactId:a\\\n  b\nversion 1.0\\u0021\nkey\\=with=eq\n',
    );
    assert.equal(p.get('groupId'), 'org.x');
    assert.equal(p.get('artifactId'), 'ab');
    assert.equal(p.get('version'), '1.0!');
    assert.equal(p.get('key=with'), 'eq');
  });

  test('file names and Bundle-License values', () => {
    assert.deepEqual(fileNameParts('/usr/share/java/commons-lang3-3.12.0.jar'), {
      base: 'commons-lang3-3.12.0',
      name: 'commons-lang3',
      version: '3.12.0',
    });
    assert.deepEqual(fileNameParts('/a/app.war:WEB-INF/lib/guava-31.1-jre.jar').version, '31.1-jre');
    assert.deepEqual(fileNameParts('/usr/share/java/guava.jar'), {
      base: 'guava',
      name: 'guava',
      version: '',
    });
    assert.deepEqual(
      manifestLicenses(
        new Map([['bundle-license', 'https://www.apache.org/licenses/LICENSE-2.0.txt, "EPL-2.0;link=x"']]),
      ),
      ['Apache-2.0', 'EPL-2.0'],
    );
  });
});

describe('zip reader', () => {
  test('reads the central directory and entries of a jar made by the jar tool', async () => {
    const src = bufferSource(readFileSync(join(FIX, 'tiny-1.0.0.jar')));
    const dir = await readZipDirectory(src);
    const pom = dir.entries.find((e) => e.name.endsWith('pom.properties'))!;
    assert.equal(dir.entries.length, 6);
    const r = entryRange(pom, src.size);
    const text = Buffer.from(await entryContent(pom, await src.read(r.offset, r.length), 1024)).toString();
    assert.equal(text, 'groupId=org.example\nartifactId=tiny\nversion=1.0.0\n');
  });

  test('Zip64 archives (zip -fz: Zip64 end records and extra fields)', async () => {
    const bytes = readFileSync(join(FIX, 'zip64.jar'));
    const d = await readZipDirectory(bufferSource(bytes));
    assert.equal(d.zip64, true);
    assert.equal(d.entries.length, 5);
    const pom = d.entries.at(-1)!;
    assert.equal(pom.size, 56);
    const r = await catalogEntries(javaArchiveCataloger, [{ name: 'opt/zip64.jar', content: bytes }]);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.packages.map((p) => p.purl),
      ['pkg:maven/org.example/zipsixtyfour@6.4'],
    );
  });
});

describe('java archive cataloger', () => {
  test('corrupt archives are located problems; good ones still count', async () => {
    const entries: TarEntry[] = ['tiny-1.0.0.jar', 'truncated.jar', 'bad-crc.jar', 'not-a-zip.jar'].map(
      (n) => ({
        name: `app/${n}`,
        content: readFileSync(join(FIX, n)),
      }),
    );
    const r = await catalogEntries(javaArchiveCataloger, entries);
    assert.deepEqual(
      r.packages.map((p) => `${p.purl} ${p.locations[0]!.path}`),
      [
        'pkg:maven/bad-crc/bad-crc@1.0.0 /app/bad-crc.jar',
        'pkg:maven/org.example/tiny@1.0.0 /app/tiny-1.0.0.jar',
      ],
    );
    const msgs = new Map(r.problems.map((p) => [p.path, p.message]));
    assert.equal(r.problems.length, 3);
    assert.ok(r.problems.every((p) => p.cataloger === JAVA_ARCHIVE_CATALOGER_ID && p.layer));
    assert.match(msgs.get('/app/truncated.jar')!, /no end of central directory/);
    assert.match(msgs.get('/app/not-a-zip.jar')!, /no end of central directory/);
    assert.match(msgs.get('/app/bad-crc.jar')!, /pom\.properties.*(CRC-32|invalid)/);
  });

  const jars = existsSync(DEBIAN_JARS)
    ? readdirSync(DEBIAN_JARS)
        .filter((n) => n.endsWith('.jar') && lstatSync(join(DEBIAN_JARS, n)).isFile())
        .sort()
    : [];
  const noJars = jars.length === 0 && 'no jars in /usr/share/java (apt-get install libcommons-lang3-java)';
  test(
    'Debian jars: one package per pom.properties, as Python zipfile reads them',
    { skip: !have('python3') || noJars },
    async () => {
      // Oracle: Python's zipfile reads every pom.properties (one process for all jars).
      const oracle = execFileSync(
        'python3',
        [
          '-c',
          `import sys, zipfile, re
for n in sys.argv[1:]:
    z = zipfile.ZipFile('${DEBIAN_JARS}/' + n)
    for e in z.namelist():
        if re.fullmatch(r'META-INF/maven/[^/]+/[^/]+/pom\\.properties', e):
            kv = dict(l.split('=', 1) for l in z.read(e).decode().splitlines() if '=' in l and not l.startswith('#'))
            print(n, 'pkg:maven/%s/%s@%s' % (kv['groupId'], kv['artifactId'], kv['version']))`,
          ...jars,
        ],
        { encoding: 'utf8' },
      );
      const expected = oracle.split('\n').filter((l) => l !== '');
      const entries: TarEntry[] = jars.map((n) => ({
        name: `usr/share/java/${n}`,
        content: readFileSync(join(DEBIAN_JARS, n)),
      }));
      const view = await imageOf(entries);
      await view.prefetch((rec) => rec.path.endsWith('.jar'));
      const files = counting(view);
      const r = await javaArchiveCataloger.catalog(files, {});
      assert.deepEqual(r.problems, []);
      const got = r.packages
        .filter((p) => !p.metadata?.fromManifest)
        .map((p) => `${p.locations[0]!.path.split('/').pop()} ${p.purl}`);
      assert.deepEqual(got.sort(), expected.sort());
      // Jars without pom.properties are still packages, named from the file.
      const fromManifest = r.packages.filter((p) => p.metadata?.fromManifest);
      for (const p of fromManifest) assert.ok(p.name.length > 0);
      // Each jar: the tail and one pass over the wanted entries; never much more than the file.
      for (const n of jars) {
        const size = readFileSync(join(DEBIAN_JARS, n)).byteLength;
        const read = files.bytesRead.get(`/usr/share/java/${n}`) ?? 0;
        assert.ok(read <= 2 * size + 256 * 1024, `${n}: read ${read} of ${size}`);
      }
    },
  );

  describe('archives assembled with the jar tool', { skip: !have('jar') && 'no jar tool' }, () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'vouch-jar-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    const jarTool = (args: string[], cwd = dir) => execFileSync('jar', args, { cwd, stdio: 'ignore' });

    test('a war with nested jars (deflated and stored), two levels deep, and a manifest-only jar', async () => {
      // level 2: a jar inside a jar inside the war
      mkdirSync(join(dir, 'deep/META-INF/maven/org.deep/deep'), { recursive: true });
      writeFileSync(
        join(dir, 'deep/META-INF/maven/org.deep/deep/pom.properties'),
        'groupId=org.deep\nartifactId=deep\nversion=0.1\n',
      );
      jarTool(['cf', 'deep-0.1.jar', '-C', 'deep', '.']);
      // level 3 would be too deep: inside deep-0.1.jar's parent we also put one more level
      mkdirSync(join(dir, 'inner/lib'), { recursive: true });
      mkdirSync(join(dir, 'inner/META-INF/maven/org.inner/inner'), { recursive: true });
      writeFileSync(
        join(dir, 'inner/META-INF/maven/org.inner/inner/pom.properties'),
        'groupId=org.inner\nartifactId=inner\nversion=2.0\n',
      );
      copyFileSync(join(dir, 'deep-0.1.jar'), join(dir, 'inner/lib/deep-0.1.jar'));
      jarTool(['cf', 'inner-2.0.jar', '-C', 'inner', '.']);
      // manifest only
      writeFileSync(
        join(dir, 'mf.txt'),
        'Implementation-Title: My Lib\nImplementation-Version: 4.5.6\nImplementation-Vendor-Id: com.example\n',
      );
      mkdirSync(join(dir, 'empty'));
      writeFileSync(join(dir, 'empty/readme.txt'), 'x');
      jarTool(['cfm', 'mylib.jar', 'mf.txt', '-C', 'empty', '.']);
      // the war
      mkdirSync(join(dir, 'war/WEB-INF/lib'), { recursive: true });
      mkdirSync(join(dir, 'war/META-INF/maven/com.example/shop'), { recursive: true });
      writeFileSync(
        join(dir, 'war/META-INF/maven/com.example/shop/pom.properties'),
        'groupId=com.example\nartifactId=shop\nversion=1.0\n',
      );
      copyFileSync(join(dir, 'inner-2.0.jar'), join(dir, 'war/WEB-INF/lib/inner-2.0.jar'));
      copyFileSync(join(dir, 'mylib.jar'), join(dir, 'war/WEB-INF/lib/mylib.jar'));
      const debianJar = join(DEBIAN_JARS, 'commons-lang3.jar');
      const haveDebian = lstatSync(debianJar, { throwIfNoEntry: false }) !== undefined;
      if (haveDebian) copyFileSync(debianJar, join(dir, 'war/WEB-INF/lib/commons-lang3.jar'));
      jarTool(['cf', 'shop.war', '-C', 'war', '.']);
      jarTool(['cf0', 'shop-stored.war', '-C', 'war', '.']);

      for (const war of ['shop.war', 'shop-stored.war']) {
        const r = await catalogEntries(javaArchiveCataloger, [
          { name: `srv/${war}`, content: readFileSync(join(dir, war)) },
        ]);
        assert.deepEqual(r.problems, []);
        const purls = r.packages.map((p) => p.purl).sort();
        const want = [
          'pkg:maven/com.example/mylib@4.5.6',
          'pkg:maven/com.example/shop@1.0',
          'pkg:maven/org.deep/deep@0.1',
          'pkg:maven/org.inner/inner@2.0',
          ...(haveDebian ? ['pkg:maven/org.apache.commons/commons-lang3@3.12.0'] : []),
        ].sort();
        assert.deepEqual(purls, want, war);
        const by = new Map(r.packages.map((p) => [p.name, p]));
        assert.equal(
          by.get('deep')!.metadata?.virtualPath,
          `/srv/${war}:WEB-INF/lib/inner-2.0.jar:lib/deep-0.1.jar`,
        );
        assert.ok(r.packages.every((p) => p.locations[0]!.path === `/srv/${war}`));
        const rel = new Set(r.relationships.map((x) => `${x.from}>${x.to}`));
        assert.ok(rel.has(`${by.get('shop')!.id}>${by.get('inner')!.id}`));
        assert.ok(rel.has(`${by.get('inner')!.id}>${by.get('deep')!.id}`));
        assert.equal(by.get('mylib')!.metadata?.title, 'My Lib');
      }
    });

    test('an archive nested deeper than the limit is not opened', async () => {
      // war > a.jar > b.jar > c.jar: c is at level 3
      const mk = (name: string, inner?: string) => {
        const d = join(dir, `n-${name}`);
        mkdirSync(join(d, `META-INF/maven/org.n/${name}`), { recursive: true });
        writeFileSync(
          join(d, `META-INF/maven/org.n/${name}/pom.properties`),
          `groupId=org.n\nartifactId=${name}\nversion=1\n`,
        );
        if (inner) copyFileSync(join(dir, inner), join(d, inner));
        jarTool(['cf', `${name}.jar`, '-C', d, '.']);
      };
      mk('c');
      mk('b', 'c.jar');
      mk('a', 'b.jar');
      mk('top', 'a.jar');
      const r = await catalogEntries(javaArchiveCataloger, [
        { name: 'x/top.jar', content: readFileSync(join(dir, 'top.jar')) },
      ]);
      assert.deepEqual(r.packages.map((p) => p.name).sort(), ['a', 'b', 'top']);
    });

    test('an executable jar with a launch script in front (Spring Boot style)', async () => {
      const jarBytes = readFileSync(join(FIX, 'tiny-1.0.0.jar'));
      const exec = Buffer.concat([Buffer.from('#!/bin/sh\nexec java -jar "$0" "$@"\n'), jarBytes]);
      const r = await catalogEntries(javaArchiveCataloger, [
        { name: 'app/run.jar', content: exec, mode: 0o755 },
      ]);
      assert.deepEqual(r.problems, []);
      assert.deepEqual(
        r.packages.map((p) => p.purl),
        ['pkg:maven/org.example/tiny@1.0.0'],
      );
    });

    test('a broken nested jar is a problem at the outer file; the rest is still cataloged', async () => {
      mkdirSync(join(dir, 'bw/WEB-INF/lib'), { recursive: true });
      copyFileSync(join(FIX, 'truncated.jar'), join(dir, 'bw/WEB-INF/lib/broken.jar'));
      copyFileSync(join(FIX, 'tiny-1.0.0.jar'), join(dir, 'bw/WEB-INF/lib/tiny-1.0.0.jar'));
      jarTool(['cf', 'bw.war', '-C', 'bw', '.']);
      const r = await catalogEntries(javaArchiveCataloger, [
        { name: 'srv/bw.war', content: readFileSync(join(dir, 'bw.war')) },
      ]);
      assert.deepEqual(r.packages.map((p) => p.purl).sort(), [
        'pkg:maven/bw/bw',
        'pkg:maven/org.example/tiny@1.0.0',
      ]);
      assert.equal(r.problems.length, 1);
      assert.equal(r.problems[0]!.path, '/srv/bw.war');
      assert.match(r.problems[0]!.message, /^\/srv\/bw\.war:WEB-INF\/lib\/broken\.jar: not a zip archive/);
    });
  });
});
