import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  catalogEntries,
  entriesFromDir,
  exists,
  fixtureDir,
  have,
  type TarEntry,
} from '../../../../test/fixtures/sbom/lang-helpers.ts';
import { GEM_CATALOGER_ID, gemCataloger } from './index.ts';
import { parseGemspec, readLiteral } from './parse_gemspec.ts';

const FIX = fixtureDir('gem');

describe('gemspec literals', () => {
  test('strings, %q forms, arrays, %w and .freeze', () => {
    assert.deepEqual(readLiteral('"a\\"b".freeze')?.value, 'a"b');
    assert.deepEqual(readLiteral("'it''s'")?.value, 'it');
    assert.deepEqual(readLiteral('%q{x y}')?.value, 'x y');
    assert.deepEqual(readLiteral('%q<irb>.freeze, [">= 1"]')?.value, 'irb');
    assert.deepEqual(readLiteral('["a".freeze, %q{b}, \'c\']')?.value, ['a', 'b', 'c']);
    assert.deepEqual(readLiteral('%w[a b  c]')?.value, ['a', 'b', 'c']);
    assert.equal(readLiteral('Foo::VERSION'), undefined);
    assert.equal(readLiteral('"v#{X}"'), undefined);
  });

  test('a constant version is unreadable, not guessed', () => {
    const s = parseGemspec('Gem::Specification.new do |s|\n  s.name = "x"\n  s.version = X::VERSION\nend\n');
    assert.equal(s.name, 'x');
    assert.equal(s.version, undefined);
    assert.deepEqual(s.unreadable, ['version']);
  });
});

describe('gem cataloger', () => {
  const all = entriesFromDir(FIX, '');

  test('fixture gem homes: packages, purls, licenses, dependencies, problems', async () => {
    const r = await catalogEntries(gemCataloger, all);
    assert.deepEqual(
      r.packages.map((p) => `${p.purl} [${p.licenses.join('|')}]`),
      [
        'pkg:gem/debug@1.4.0 [Ruby|BSD-2-Clause]',
        'pkg:gem/handwritten@1.2.0?platform=x86_64-linux [Apache-2.0]',
        'pkg:gem/irb@1.4.1 [Ruby|BSD-2-Clause]',
        'pkg:gem/json@2.6.1 [Ruby]',
        'pkg:gem/oldstyle@0.9.2 [MIT]',
        'pkg:gem/rake@13.0.6 [MIT]',
        'pkg:gem/reline@0.3.0 [Ruby]',
      ],
    );
    const by = new Map(r.packages.map((p) => [p.name, p]));
    const edges = r.relationships.map((x) => `${x.from} ${x.to}`).sort();
    const id = (n: string) => by.get(n)!.id;
    // rake lives in another gem home than oldstyle: no edge; io-console is not installed.
    assert.deepEqual(
      edges,
      [
        `${id('debug')} ${id('irb')}`,
        `${id('debug')} ${id('reline')}`,
        `${id('handwritten')} ${id('oldstyle')}`,
        `${id('irb')} ${id('reline')}`,
      ].sort(),
    );
    assert.deepEqual(by.get('handwritten')!.metadata?.files, [
      '/usr/local/bundle/gems/handwritten-1.2.0-x86_64-linux/lib/handwritten.rb',
      '/usr/local/bundle/gems/handwritten-1.2.0-x86_64-linux/lib/handwritten/native.so',
    ]);
    assert.deepEqual(by.get('handwritten')!.metadata?.executables, ['hw', 'hw-admin']);
    assert.equal(by.get('json')!.metadata?.defaultGem, true);
    assert.equal(by.get('json')!.metadata?.files, undefined);
    assert.equal(
      by.get('rake')!.locations[0]!.path,
      '/usr/share/rubygems-integration/all/specifications/rake-13.0.6.gemspec',
    );
    assert.equal(by.get('rake')!.foundBy, GEM_CATALOGER_ID);
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]!.path, '/usr/local/bundle/specifications/broken-0.1.0.gemspec');
    assert.match(r.problems[0]!.message, /broken: no literal s\.version/);
    assert.match(r.problems[0]!.layer ?? '', /^sha256:/);
  });

  // Oracle: Ruby itself loads every specification (fixtures and the real ones installed here).
  const realDirs = [
    '/usr/lib/ruby/gems/3.1.0/specifications',
    '/usr/lib/ruby/gems/3.1.0/specifications/default',
    '/usr/share/rubygems-integration/all/specifications',
  ].filter(exists);
  test(
    'name, version, licenses, platform and runtime dependencies equal what Ruby loads',
    { skip: !have('ruby') && 'ruby missing' },
    async () => {
      const entries: TarEntry[] = all.filter((e) => !e.name.includes('broken'));
      const specs: string[] = entries
        .filter((e) => e.name.endsWith('.gemspec'))
        .map((e) => join(FIX, e.name));
      for (const d of realDirs) {
        for (const n of readdirSync(d).filter((x) => x.endsWith('.gemspec'))) specs.push(join(d, n));
        entries.push(...entriesFromDir(d, `real${d}`, (rel) => rel.endsWith('.gemspec')));
      }
      const script = `require 'json'
out = ARGV.map { |f| s = Gem::Specification.load(f); [s.name, s.version.to_s, s.licenses, s.platform.to_s, s.runtime_dependencies.map(&:name).uniq] }
puts JSON.generate(out)`;
      const oracle = JSON.parse(execFileSync('ruby', ['-e', script, ...specs], { encoding: 'utf8' })) as [
        string,
        string,
        string[],
        string,
        string[],
      ][];
      const r = await catalogEntries(gemCataloger, entries);
      assert.deepEqual(r.problems, []);
      const want = oracle.map(([n, v, l, p]) => `${n} ${v} ${l.join('|')} ${p}`).sort();
      const got = r.packages
        .map(
          (pk) =>
            `${pk.name} ${pk.version} ${pk.licenses.join('|')} ${/platform=([^&]+)/.exec(pk.purl)?.[1] ?? 'ruby'}`,
        )
        .sort();
      assert.deepEqual(got, want);
      assert.ok(oracle.length >= 8, `${oracle.length} specifications`);
      for (const f of specs) {
        const text = readFileSync(f, 'utf8');
        const [name, , , , deps] = oracle[specs.indexOf(f)]!;
        assert.deepEqual(parseGemspec(text).runtimeDependencies, deps, `${name} dependencies`);
      }
    },
  );
});
