import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { compilePolicy, loadPolicyFile, type PolicyViolation } from './cel.ts';

const here = (name: string) => new URL(`./testdata/${name}`, import.meta.url);
const v1 = JSON.parse(await readFile(here('slsa-v1-github.json'), 'utf8')) as Record<string, unknown>;
const v02 = JSON.parse(await readFile(here('slsa-v02-generator.json'), 'utf8')) as Record<string, unknown>;

/** A deep copy of `s` with the value at each path replaced. */
function edited(
  s: Record<string, unknown>,
  ...edits: [path: (string | number)[], value: unknown][]
): unknown {
  const c = structuredClone(s);
  for (const [path, value] of edits) {
    let at: unknown = c;
    for (const k of path.slice(0, -1)) at = (at as Record<string | number, unknown>)[k];
    (at as Record<string | number, unknown>)[path.at(-1)!] = value;
  }
  return c;
}

function policyError(fn: () => unknown, ...fragments: (string | RegExp)[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isVouchError(e, 'POLICY_INVALID'), `expected POLICY_INVALID, got ${String(e)}`);
    for (const f of fragments) {
      if (typeof f === 'string') assert.ok(e.message.includes(f), `"${e.message}" lacks "${f}"`);
      else assert.match(e.message, f);
    }
    return true;
  });
}

const rules = (vs: PolicyViolation[]) => vs.map((v) => v.rule);

test('the SLSA v1 release policy (YAML) admits the GitHub provenance it was written for', async () => {
  const p = await loadPolicyFile(here('github-release.yaml').pathname);
  assert.deepEqual(p.rules, [
    'provenance-v1',
    'builder',
    'source-repository',
    'github-hosted',
    'source-from-tag',
    'one-sha256-subject',
  ]);
  assert.deepEqual(p.evaluate(v1), []);
});

test('a different builder or source repository is a violation naming the rule and its message', async () => {
  const p = await loadPolicyFile(here('github-release.yaml').pathname);
  const otherBuilder = edited(v1, [
    ['predicate', 'runDetails', 'builder', 'id'],
    'https://github.com/o/r/.github/workflows/build.yml@refs/heads/main',
  ]);
  assert.deepEqual(p.evaluate(otherBuilder), [
    { rule: 'builder', message: "built by o/r's release workflow at a v1 tag" },
  ]);
  // A look-alike repository must not pass an equality rule (no substring matching anywhere).
  const fork = edited(
    v1,
    [
      ['predicate', 'buildDefinition', 'externalParameters', 'workflow', 'repository'],
      'https://github.com/o/r-fork',
    ],
    [
      ['predicate', 'buildDefinition', 'resolvedDependencies', 0, 'uri'],
      'git+https://github.com/o/r-fork@refs/tags/v1',
    ],
  );
  const vs = p.evaluate(fork);
  assert.deepEqual(rules(vs), ['source-repository', 'source-from-tag']);
  assert.match(vs[0]!.message, /expression is false: predicate\.buildDefinition\.externalParameters/);
  assert.equal(vs[0]!.error, undefined);
});

test('the v1 policy over v0.2 provenance: missing fields are violations with "no such key", never passes', async () => {
  const p = await loadPolicyFile(here('github-release.yaml').pathname);
  const vs = p.evaluate(v02);
  assert.deepEqual(rules(vs), [
    'provenance-v1',
    'builder',
    'source-repository',
    'github-hosted',
    'source-from-tag',
  ]);
  const builder = vs.find((v) => v.rule === 'builder')!;
  assert.match(builder.error ?? '', /^no such key: runDetails \(at \d+:\d+ of the expression\)$/);
  assert.equal(builder.message, `built by o/r's release workflow at a v1 tag [${builder.error}]`);
  const repo = vs.find((v) => v.rule === 'source-repository')!;
  assert.match(repo.error ?? '', /no such key: buildDefinition/);
  assert.match(repo.message, /^expression could not be evaluated: .* \[no such key: buildDefinition \(at /);
  // has() on a missing leaf is false, not an error
  assert.equal(vs.find((v) => v.rule === 'provenance-v1')!.error, undefined);
});

test('the v0.2 generator policy (.cel with comments, matches, timestamps) admits its provenance only', async () => {
  const p = await loadPolicyFile(here('generator-v02.cel').pathname);
  assert.deepEqual(p.rules, ['policy']);
  assert.deepEqual(p.evaluate(v02), []);
  // the v1 statement has none of the v0.2 fields
  const vs = p.evaluate(v1);
  assert.equal(vs.length, 1);
  assert.equal(vs[0]!.rule, 'policy');
  // `predicateType == ...` is false first, so && short-circuits: a plain false
  assert.match(vs[0]!.message, /^expression is false: \/\/ slsa-github-generator/);
  // an unanchored look-alike builder (a fork of the generator) fails the anchored regex
  const fork = edited(v02, [
    ['predicate', 'builder', 'id'],
    'https://github.com/evil/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.0.0',
  ]);
  assert.equal(p.evaluate(fork).length, 1);
  const branch = edited(v02, [
    ['predicate', 'invocation', 'configSource', 'uri'],
    'git+https://github.com/o/r@refs/heads/main',
  ]);
  assert.equal(p.evaluate(branch).length, 1);
  const old = edited(v02, [['predicate', 'metadata', 'buildFinishedOn'], '2024-12-31T23:59:59Z']);
  assert.equal(p.evaluate(old).length, 1);
});

test('exists() over subjects, has(), startsWith and variables bound from the statement', () => {
  const p = compilePolicy(
    [
      'apiVersion: vouch.dev/v1',
      'kind: AttestationPolicy',
      'rules:',
      '  - name: subject',
      '    expression: subject.exists(s, s.digest.sha256 == "7d865e959b2466918c9863afca942d0fb89d7c9ac0c99bafc3749504ded97730")',
      '  - name: statement-type',
      '    expression: statement._type.startsWith("https://in-toto.io/Statement/")',
      '  - name: has-byproducts',
      '    expression: has(predicate.runDetails.byproducts)',
      '  - name: same-views',
      '    expression: statement.predicate == predicate && statement.subject == subject',
    ].join('\n'),
    'inline.yaml',
  );
  assert.deepEqual(rules(p.evaluate(v1)), ['has-byproducts']);
  assert.equal(p.evaluate(v1)[0]!.error, undefined);
  const other = edited(v1, [['subject', 0, 'digest', 'sha256'], '0'.repeat(64)]);
  assert.deepEqual(rules(p.evaluate(other)), ['subject', 'has-byproducts']);
});

test('JSON numbers compare with CEL ints and doubles; no prototype keys are visible', () => {
  const p = compilePolicy(
    [
      'predicate.metadata.completeness.parameters == true &&',
      'size(predicate.materials) == 1 &&',
      'int(predicate.invocation.environment.github_run_number) == 42 &&',
      '!has(predicate.constructor) && !has(statement.toString)',
    ].join('\n'),
    'numbers.cel',
  );
  assert.deepEqual(p.evaluate(v02), []);
  const json = compilePolicy('statement.n == 3 && statement.f == 1.5', 'n.cel');
  assert.deepEqual(json.evaluate({ n: 3, f: 1.5 }), []);
  assert.equal(json.evaluate({ n: 4, f: 1.5 }).length, 1);
  // a "__proto__" key in the JSON is just a key
  const proto = compilePolicy('has(statement.evil)', 'proto.cel');
  assert.equal(proto.evaluate(JSON.parse('{"__proto__": {"evil": true}}')).length, 1);
});

test('matches() is RE2: a backtracking-prone pattern over hostile text stays fast', () => {
  const p = compilePolicy('predicate.x.matches("^(a+)+$")', 're.cel');
  const started = Date.now();
  const vs = p.evaluate({ predicate: { x: `${'a'.repeat(50_000)}!` } });
  assert.equal(vs.length, 1);
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});

test('a type error at evaluation is a violation with the CEL error, and the other rules still run', () => {
  const p = compilePolicy(
    JSON.stringify({
      apiVersion: 'vouch.dev/v1',
      kind: 'AttestationPolicy',
      rules: [
        { name: 'typed', expression: 'predicate.runDetails.builder.id > 3' },
        { name: 'fine', expression: 'predicateType == "https://slsa.dev/provenance/v1"' },
        { name: 'index', expression: 'subject[3].name == "x"' },
      ],
    }),
    'policy.json',
  );
  const vs = p.evaluate(v1);
  assert.deepEqual(rules(vs), ['typed', 'index']);
  assert.match(vs[0]!.error ?? '', /no matching overload/);
  assert.match(vs[1]!.error ?? '', /out of bounds/);
});

test('a rule that yields a non-bool is POLICY_INVALID: statically when it can only be one, else at evaluation', () => {
  policyError(() => compilePolicy('size(subject)', 'p.cel'), 'p.cel:1:', 'yields int, not bool');
  policyError(() => compilePolicy('"a" + "b"', 'p.cel'), 'not bool');
  policyError(() => compilePolicy('subject.map(s, s.name)', 'p.cel'), 'yields list');
  policyError(() => compilePolicy('true ? 1 : "x"', 'p.cel'), 'int or string');
  const dyn = compilePolicy('predicate.runDetails.builder.id', 'dyn.cel');
  policyError(() => dyn.evaluate(v1), 'dyn.cel', 'yielded string, not bool');
  // a dyn value that happens to be a bool is fine
  assert.deepEqual(compilePolicy('predicate.metadata.reproducible == false', 'b.cel').evaluate(v02), []);
});

test('syntax errors, unknown variables and unknown functions name the file, the rule and the position', () => {
  const doc = (expression: string) =>
    [
      'apiVersion: vouch.dev/v1',
      'kind: AttestationPolicy',
      'rules:',
      '  - name: ok',
      '    expression: "true"',
      '  - name: broken',
      `    expression: '${expression}'`,
    ].join('\n');
  policyError(
    () => compilePolicy(doc('predicate.x == '), 'p.yaml'),
    'p.yaml:7: rule "broken" at 1:',
    'syntax error',
  );
  policyError(
    () => compilePolicy(doc('predicat.x == 1'), 'p.yaml'),
    'rule "broken"',
    'unknown variable "predicat"',
  );
  policyError(
    () => compilePolicy(doc('predicate.x.startWith("a")'), 'p.yaml'),
    'rule "broken" at 1:',
    'unknown function "startWith"',
  );
  // in a .cel file the position is the file's own line and column
  policyError(
    () => compilePolicy('predicateType == "x" &&\n  bogus.y', 'p.cel'),
    'p.cel:2:3:',
    'unknown variable "bogus"',
  );
  policyError(() => compilePolicy('  \n// only a comment\n', 'p.cel'), /p\.cel/);
  // comprehension variables are only in scope inside the macro
  policyError(
    () => compilePolicy('subject.exists(s, true) && s.name == "x"', 'p.cel'),
    'unknown variable "s"',
  );
});

test('malformed or incomplete policy documents are POLICY_INVALID naming the problem', () => {
  const head = 'apiVersion: vouch.dev/v1\nkind: AttestationPolicy\n';
  policyError(
    () => compilePolicy(`${head}rules: [\n  {name: a, expression: "true"\n`, 'p.yaml'),
    /^p\.yaml:\d+: not valid YAML/,
  );
  policyError(() => compilePolicy(`${head}rules: []\n`, 'p.yaml'), 'no rules');
  policyError(() => compilePolicy(head, 'p.yaml'), 'no rules');
  policyError(
    () => compilePolicy(`${head}rule:\n  - {name: a, expression: "true"}\n`, 'p.yaml'),
    'p.yaml:3',
    'unknown key "rule"',
  );
  policyError(
    () => compilePolicy(`${head}rules:\n  - {name: a, expr: "true"}\n`, 'p.yaml'),
    'rules[0] has unknown key "expr"',
  );
  policyError(() => compilePolicy(`${head}rules:\n  - {name: a}\n`, 'p.yaml'), 'rule "a" has no expression');
  policyError(
    () => compilePolicy(`${head}rules:\n  - {expression: "true"}\n`, 'p.yaml'),
    'rules[0] has no name',
  );
  policyError(
    () =>
      compilePolicy(
        `${head}rules:\n  - {name: a, expression: "true"}\n  - {name: a, expression: "true"}\n`,
        'p.yaml',
      ),
    'two rules are named "a"',
  );
  policyError(
    () => compilePolicy(`${head}rules:\n  - {name: a, expression: true}\n`, 'p.yaml'),
    'expression must be a string',
  );
  policyError(
    () => compilePolicy('apiVersion: vouch.dev/v2\nkind: AttestationPolicy\nrules: []\n', 'p.yaml'),
    'p.yaml:1',
    'expected "vouch.dev/v1"',
  );
  policyError(() => compilePolicy('apiVersion: vouch.dev/v1\nkind: Policy\n', 'p.yaml'), 'kind is "Policy"');
  policyError(
    () => compilePolicy(`${head}rules:\n  - {name: a, expression: "true"}\nrules: []\n`, 'p.yaml'),
    'not valid YAML',
  );
  policyError(() => compilePolicy('- 1\n- 2\n', 'p.yaml'), 'not a mapping');
  policyError(
    () => compilePolicy('{"apiVersion": "vouch.dev/v1", "kind": "AttestationPolicy", "rules": 3}', 'p.json'),
    'rules is not a list',
  );
});

test('a file with another extension is a document when it reads as a mapping, else an expression', () => {
  const doc = compilePolicy(
    'apiVersion: vouch.dev/v1\nkind: AttestationPolicy\nrules:\n  - {name: t, expression: "predicateType != \'\'"}\n',
    'policy',
  );
  assert.deepEqual(doc.rules, ['t']);
  const expr = compilePolicy('predicateType == "https://slsa.dev/provenance/v1"', 'policy.txt');
  assert.deepEqual(expr.rules, ['policy']);
  assert.deepEqual(expr.evaluate(v1), []);
  assert.equal(expr.evaluate(v02).length, 1);
});

test('evaluate refuses what is not a JSON statement object', () => {
  const p = compilePolicy('true', 't.cel');
  for (const bad of [null, 'x', [1], { a: Number.NaN }, { a: () => 1 }, { a: new Date() }]) {
    assert.throws(
      () => p.evaluate(bad),
      (e: unknown) => isVouchError(e, 'STATEMENT_INVALID'),
    );
  }
  assert.deepEqual(p.evaluate({}), []);
  // undefined properties (an optional predicate left unset) are absent keys, as in JSON
  const absent = compilePolicy('!has(statement.predicate) && statement.l[0] == null', 'u.cel');
  assert.deepEqual(absent.evaluate({ predicate: undefined, l: [undefined] }), []);
  // without predicate, predicate.* is an error (a violation)
  const q = compilePolicy('predicate.x == 1', 'q.cel');
  assert.match(q.evaluate({ predicateType: 'x' })[0]!.error ?? '', /./);
});

test('loadPolicyFile: unreadable, oversized and non-UTF-8 files are POLICY_INVALID', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-policy-'));
  try {
    await assert.rejects(loadPolicyFile(join(dir, 'missing.cel')), (e: unknown) => {
      return isVouchError(e, 'POLICY_INVALID') && /missing\.cel \(ENOENT\)/.test(e.message);
    });
    await writeFile(join(dir, 'big.cel'), `true${' '.repeat(1024 * 1024)}`);
    await assert.rejects(loadPolicyFile(join(dir, 'big.cel')), (e: unknown) =>
      isVouchError(e, 'POLICY_INVALID'),
    );
    await writeFile(join(dir, 'bin.cel'), Buffer.from([0x74, 0xff, 0xfe]));
    await assert.rejects(loadPolicyFile(join(dir, 'bin.cel')), (e: unknown) =>
      isVouchError(e, 'POLICY_INVALID'),
    );
    await writeFile(
      join(dir, 'ok.yml'),
      'apiVersion: vouch.dev/v1\nkind: AttestationPolicy\nrules:\n  - {name: t, expression: "true"}\n',
    );
    assert.deepEqual((await loadPolicyFile(join(dir, 'ok.yml'))).evaluate(v1), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
