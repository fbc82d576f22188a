import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  catalogEntries,
  entriesFromDir,
  entriesFromTar,
  fixtureDir,
  type TarEntry,
} from '../../../../test/fixtures/sbom/lang-helpers.ts';
import type { CatalogResult } from '../../model.ts';
import { JAVASCRIPT_CATALOGER_ID, javascriptCataloger, npmPurl } from './index.ts';
import { packageLicenses, parsePackageJson } from './parse_package_json.ts';
import { nodeResolve, parsePackageLock } from './parse_package_lock.ts';
import { parsePnpmLock } from './parse_pnpm_lock.ts';
import { parseYarnLock } from './parse_yarn_lock.ts';

const FIX = fixtureDir('npm');
const text = (rel: string) => readFileSync(join(FIX, rel), 'utf8');

/** The six packages `npm install` resolved for the fixture project (see the README). */
const ALL = [
  '@isaacs/string-locale-compare@1.1.0',
  'debug@2.6.9',
  'is-number@7.0.0',
  'ms@2.0.0',
  'ms@2.1.2',
  'ms@2.1.3',
];
const PROD = ALL.filter((x) => x !== 'is-number@7.0.0');

const nv = (pkgs: { name: string; version: string }[]) => pkgs.map((p) => `${p.name}@${p.version}`).sort();

function edges(r: CatalogResult): string[] {
  const by = new Map(r.packages.map((p) => [p.id, `${p.name}@${p.version}`]));
  return r.relationships.map((x) => `${by.get(x.from)} -> ${by.get(x.to)}`).sort();
}

describe('lockfile parsers on lockfiles written by the real tools', () => {
  for (const dir of ['npm-v1-lock', 'npm-v2-lock', 'npm-v3']) {
    test(`package-lock.json in ${dir}`, () => {
      const lock = parsePackageLock(text(`${dir}/package-lock.json`));
      assert.deepEqual(nv(lock.entries), ALL);
      const dev = lock.entries.filter((e) => e.dev).map((e) => e.name);
      assert.deepEqual(dev, ['is-number']);
      const alias = lock.entries.find((e) => e.key === 'node_modules/my-ms')!;
      assert.deepEqual([alias.name, alias.version], ['ms', '2.1.2']);
      const debug = lock.entries.find((e) => e.name === 'debug')!;
      assert.deepEqual(debug.deps, ['node_modules/debug/node_modules/ms']);
    });
  }

  test('yarn.lock classic and berry', () => {
    const project = {
      prod: new Map([
        ['debug', '2.6.9'],
        ['ms', '2.1.3'],
        ['@isaacs/string-locale-compare', '1.1.0'],
        ['my-ms', 'npm:ms@2.1.2'],
      ]),
      dev: new Map([['is-number', '7.0.0']]),
    };
    for (const dir of ['yarn-v1', 'yarn-berry']) {
      const lock = parseYarnLock(text(`${dir}/yarn.lock`), project);
      assert.deepEqual(nv(lock.entries), ALL, dir);
      assert.deepEqual(
        lock.entries.filter((e) => e.dev).map((e) => e.name),
        ['is-number'],
        dir,
      );
      const debug = lock.entries.find((e) => e.name === 'debug')!;
      const ms = lock.entries.find((e) => e.key === debug.deps[0])!;
      assert.equal(ms.version, '2.0.0', dir);
    }
    assert.equal(parseYarnLock(text('yarn-berry/yarn.lock')).lockfileVersion, '8');
    // Without the project's package.json, dev cannot be told.
    assert.ok(parseYarnLock(text('yarn-v1/yarn.lock')).entries.every((e) => e.dev === undefined));
  });

  for (const [dir, version] of [
    ['pnpm-v5-lock', '5.4'],
    ['pnpm-v6-lock', '6.0'],
    ['pnpm-v9', '9.0'],
  ] as const) {
    test(`pnpm-lock.yaml ${version}`, () => {
      const lock = parsePnpmLock(text(`${dir}/pnpm-lock.yaml`));
      assert.equal(lock.lockfileVersion, version);
      assert.deepEqual(nv(lock.entries), ALL);
      assert.deepEqual(
        lock.entries.filter((e) => e.dev).map((e) => e.name),
        ['is-number'],
      );
      const debug = lock.entries.find((e) => e.name === 'debug')!;
      assert.equal(lock.entries.find((e) => e.key === debug.deps[0])?.version, '2.0.0');
    });
  }

  test('pnpm keys with peers, scopes and underscores', () => {
    const v6 = parsePnpmLock(
      "lockfileVersion: '6.0'\npackages:\n  /lodash_fp@1.0.0:\n    dev: false\n  /@s/a@2.0.0(react@18.0.0):\n    dependencies:\n      lodash_fp: 1.0.0\n    dev: false\n",
    );
    assert.deepEqual(nv(v6.entries), ['@s/a@2.0.0', 'lodash_fp@1.0.0']);
    assert.deepEqual(v6.entries.find((e) => e.name === '@s/a')!.deps, ['lodash_fp@1.0.0']);
    const v5 = parsePnpmLock('lockfileVersion: 5.3\npackages:\n  /@s/a/2.0.0_react@18.0.0:\n    dev: true\n');
    assert.deepEqual(nv(v5.entries), ['@s/a@2.0.0']);
  });

  test('broken lockfiles are errors with a reason', () => {
    assert.throws(() => parsePackageLock(text('broken/npm/package-lock.json')), /not JSON/);
    assert.throws(() => parseYarnLock(text('broken/yarn/yarn.lock')), /line \d+/);
    assert.throws(() => parsePnpmLock(text('broken/pnpm/pnpm-lock.yaml')), /not YAML/);
    assert.throws(
      () => parsePackageLock('{"lockfileVersion": 7, "packages": {}}'),
      /unsupported lockfileVersion 7/,
    );
  });
});

describe('package.json', () => {
  test('license forms', () => {
    assert.deepEqual(packageLicenses({ license: 'MIT' }), ['MIT']);
    assert.deepEqual(packageLicenses({ license: { type: 'ISC', url: 'x' } }), ['ISC']);
    assert.deepEqual(packageLicenses({ licenses: [{ type: 'MIT' }, 'Apache-2.0'] }), ['MIT', 'Apache-2.0']);
    assert.deepEqual(packageLicenses({ license: '' }), []);
  });
  test('name and version are required', () => {
    assert.throws(() => parsePackageJson('{"name":"x"}'), /x: no "version"/);
    assert.throws(() => parsePackageJson('[1]'), /not a JSON object/);
    assert.equal(
      parsePackageJson('{"name":"x","version":"1","optionalDependencies":{"y":"1"}}').dependencies[0],
      'y',
    );
  });
  test('purls: scoped names get the scope as namespace', () => {
    assert.equal(
      npmPurl('@isaacs/string-locale-compare', '1.1.0'),
      'pkg:npm/%40isaacs/string-locale-compare@1.1.0',
    );
    assert.equal(npmPurl('ms', '2.1.3'), 'pkg:npm/ms@2.1.3');
  });
  test('node lookup over install paths', () => {
    const paths = new Set([
      'node_modules/a',
      'node_modules/a/node_modules/b',
      'node_modules/b',
      'node_modules/c',
    ]);
    assert.equal(nodeResolve(paths, 'node_modules/a', 'b'), 'node_modules/a/node_modules/b');
    assert.equal(nodeResolve(paths, 'node_modules/a/node_modules/b', 'c'), 'node_modules/c');
    assert.equal(nodeResolve(paths, 'node_modules/c', 'z'), undefined);
  });
});

describe('javascript cataloger', () => {
  /** A fixture scenario under `prefix`: its files, and its node_modules.tar unpacked. */
  const at = async (dir: string, prefix = 'app'): Promise<TarEntry[]> => {
    const files = entriesFromDir(join(FIX, dir), prefix, (rel) => rel !== 'node_modules.tar');
    const tarFile = join(FIX, dir, 'node_modules.tar');
    return existsSync(tarFile) ? [...files, ...(await entriesFromTar(readFileSync(tarFile), prefix))] : files;
  };

  test('npm v3: installed packages with the lockfile as second location, one package each', async () => {
    const r = await catalogEntries(javascriptCataloger, await at('npm-v3'));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(nv(r.packages), ALL);
    for (const p of r.packages) {
      assert.equal(p.locations.length, 2, p.name);
      assert.match(p.locations[0]!.path, /^\/app\/node_modules\/.*package\.json$/);
      assert.equal(p.locations[1]!.path, '/app/package-lock.json');
      assert.equal(p.foundBy, JAVASCRIPT_CATALOGER_ID);
    }
    const alias = r.packages.find((p) => p.locations[0]!.path === '/app/node_modules/my-ms/package.json')!;
    assert.equal(alias.purl, 'pkg:npm/ms@2.1.2');
    assert.deepEqual(edges(r), ['debug@2.6.9 -> ms@2.0.0']);
    const scoped = r.packages.find((p) => p.name.startsWith('@'))!;
    assert.deepEqual(scoped.licenses, ['ISC']);
    assert.equal(scoped.purl, 'pkg:npm/%40isaacs/string-locale-compare@1.1.0');
  });

  test('lockfiles alone (nothing installed): declared packages without dev ones', async () => {
    for (const dir of ['npm-v1-lock', 'npm-v2-lock', 'yarn-berry', 'pnpm-v5-lock', 'pnpm-v6-lock']) {
      const r = await catalogEntries(javascriptCataloger, await at(dir));
      assert.deepEqual(r.problems, [], dir);
      assert.deepEqual(nv(r.packages), PROD, dir);
      assert.ok(
        r.packages.every((p) => p.metadata?.declaredOnly === true && p.locations.length === 1),
        dir,
      );
      assert.deepEqual(edges(r), ['debug@2.6.9 -> ms@2.0.0'], dir);
    }
  });

  test('yarn v1 with node_modules: installed packages, yarn.lock as second location', async () => {
    const r = await catalogEntries(javascriptCataloger, await at('yarn-v1'));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(nv(r.packages), ALL);
    assert.ok(
      r.packages.every((p) => p.locations[1]?.path === '/app/yarn.lock' && !p.metadata?.declaredOnly),
    );
  });

  test('pnpm v9 layout: packages under .pnpm, edges through its symlinks', async () => {
    const r = await catalogEntries(javascriptCataloger, await at('pnpm-v9'));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(nv(r.packages), ALL);
    assert.ok(r.packages.every((p) => p.locations[0]!.path.includes('/node_modules/.pnpm/')));
    assert.ok(r.packages.every((p) => p.locations[1]?.path === '/app/pnpm-lock.yaml'));
    assert.deepEqual(edges(r), ['debug@2.6.9 -> ms@2.0.0']);
  });

  test('an installed tree wins over lockfile entries that are not installed', async () => {
    // Like `npm ci --omit=dev`: is-number is in the lockfile but not in node_modules.
    const entries = (await at('npm-v3')).filter((e) => !e.name.includes('is-number'));
    const r = await catalogEntries(javascriptCataloger, entries);
    assert.deepEqual(nv(r.packages), PROD);
  });

  test('legacy licenses, scoped packages, bad package.json files and lockfiles are located', async () => {
    const r = await catalogEntries(javascriptCataloger, await at('legacy'), await at('broken', 'srv'));
    assert.deepEqual(
      r.packages.map((p) => `${p.purl} [${p.licenses.join('|')}]`),
      [
        'pkg:npm/%40scope/spdx-expr@3.0.0 [(MIT OR Apache-2.0)]',
        'pkg:npm/old-license-object@0.1.0 [MIT]',
        'pkg:npm/old-licenses-array@1.0.0-beta.2 [MIT|Apache-2.0]',
      ],
    );
    assert.deepEqual(edges(r), [
      '@scope/spdx-expr@3.0.0 -> old-licenses-array@1.0.0-beta.2',
      'old-licenses-array@1.0.0-beta.2 -> old-license-object@0.1.0',
    ]);
    const problems = r.problems.map((p) => `${p.path}: ${p.message.split(':').slice(0, 2).join(':')}`);
    assert.deepEqual(problems, [
      '/app/node_modules/corrupt/package.json: package.json: not JSON',
      '/app/node_modules/no-version/package.json: package.json: no-version',
      '/srv/npm/package-lock.json: package-lock.json: not JSON',
      '/srv/pnpm/pnpm-lock.yaml: pnpm-lock.yaml: not YAML',
      '/srv/yarn/yarn.lock: yarn.lock: yarn.lock line 5',
    ]);
    assert.ok(
      r.problems.every((p) => p.cataloger === JAVASCRIPT_CATALOGER_ID && p.layer?.startsWith('sha256:')),
    );
    // The project's own package.json and npm's hidden lockfile are not packages.
    assert.ok(!r.packages.some((p) => p.name === 'legacy-project'));
  });

  // Oracle: Node's own module lookup (require.resolve.paths) over a real installed tree, the
  // npm that ships with Node on this machine.
  const NPM_TREE = '/usr/lib/node_modules/npm';
  test(
    'a real node_modules tree: packages and edges as Node resolves them',
    { skip: !existsSync(`${NPM_TREE}/node_modules`) && 'no npm tree' },
    async () => {
      const roots: string[] = [];
      const walk = (dir: string) => {
        const nm = join(dir, 'node_modules');
        if (!existsSync(nm)) return;
        for (const n of readdirSync(nm)) {
          const names = n.startsWith('@') ? readdirSync(join(nm, n)).map((x) => `${n}/${x}`) : [n];
          for (const name of names) {
            const pdir = join(nm, name);
            if (!statSync(pdir).isDirectory() || !existsSync(join(pdir, 'package.json'))) continue;
            roots.push(pdir);
            walk(pdir);
          }
        }
      };
      // npm itself is a package too: /usr/lib/node_modules/npm is a package root.
      roots.push(NPM_TREE);
      walk(NPM_TREE);
      const wantPkgs: string[] = [];
      const wantEdges: string[] = [];
      const label = (dir: string) => {
        const j = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
        return `${j.name}@${j.version}`;
      };
      for (const dir of roots) {
        const j = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
        wantPkgs.push(`${j.name}@${j.version}`);
        const req = createRequire(join(realpathSync(dir), 'package.json'));
        for (const dep of new Set([
          ...Object.keys(j.dependencies ?? {}),
          ...Object.keys(j.optionalDependencies ?? {}),
        ])) {
          const hit = (req.resolve.paths(dep) ?? [])
            .filter((p) => p.startsWith(`${NPM_TREE}/`))
            .map((p) => join(p, dep))
            .find((p) => existsSync(join(p, 'package.json')));
          if (hit) wantEdges.push(`${j.name}@${j.version} -> ${label(hit)}`);
        }
      }
      const entries = entriesFromDir(NPM_TREE, NPM_TREE.slice(1), (rel, isDir) =>
        isDir ? rel === 'node_modules' || rel.startsWith('node_modules/') : rel.endsWith('package.json'),
      );
      const r = await catalogEntries(javascriptCataloger, entries);
      assert.deepEqual(r.problems, []);
      assert.deepEqual(nv(r.packages), wantPkgs.sort());
      assert.ok(r.packages.length > 50, `${r.packages.length} packages`);
      assert.deepEqual(edges(r), [...new Set(wantEdges)].sort());
    },
  );
});
