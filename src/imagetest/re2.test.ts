/**
 * The Go regexp translation, checked against Go's own regexp package: every case is compiled
 * and matched (MatchString, unanchored) by a small Go program, and vouch must agree on whether
 * the pattern compiles and on every match.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { haveGo, runGo } from '../../test/imagetest/go-oracle.ts';
import { isVouchError } from '../errors.ts';
import { compileGoRegexp } from './re2.ts';

/** [pattern, inputs]: inputs exercise the differences between Go and JS. */
const CASES: [string, string[]][] = [
  ['^nonroot:', ['nonroot:x:65532', 'x\nnonroot:', 'root:x']],
  ['.*httpredir\\.debian\\.org.*', ['deb http://httpredir.debian.org/debian', 'httpredirXdebian.org']],
  ['a.c', ['abc', 'a\nc', 'a\rc', 'a\u2028c', 'ac']],
  ['(?s)a.c', ['a\nc', 'abc']],
  ['(?m)^b$', ['a\nb\nc', 'a\r\nb\r\nc', 'b', 'ab']],
  ['^b$', ['b', 'b\n', 'a\nb']],
  ['\\Ab\\z', ['b', 'b\n', 'ab']],
  ['(?i)HeLLo', ['hello', 'HELLO', 'help']],
  ['a(?i)b', ['aB', 'AB', 'ab']],
  ['(a(?i)b)c', ['aBc', 'aBC', 'Abc']],
  ['(?i:a)b', ['Ab', 'AB']],
  ['(?i)a(?-i)b', ['Ab', 'AB']],
  ['\\s+', ['\t', '\u00a0', '\v', ' ']],
  ['\\S', ['\u00a0', ' ']],
  ['^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}$', ['2024-01-02T03:04:05.123456', '2024-01-02']],
  ['(?P<major>\\d+)\\.(\\d+)', ['v1.22', 'v1']],
  ['\\Qa.b*c\\E', ['a.b*c', 'aXbbc']],
  ['\\Qa.b', ['a.b', 'axb']],
  ['x{2,3}', ['xx', 'x']],
  ['x{,3}', ['x{,3}', 'xxx']],
  ['a{', ['a{', 'a']],
  ['a}', ['a}']],
  ['a]', ['a]']],
  ['[]a]', [']', 'a', 'b']],
  ['[^]a]', [']', 'b']],
  ['[[:alpha:]]+[[:digit:]]', ['abc1', '123']],
  ['[[:punct:]]', ['!', '`', 'a', '~']],
  ['[\\d\\s]', ['5', ' ', 'a', '\u00a0']],
  ['[a\\-z]', ['-', 'b']],
  ['[\\#\\.]', ['#', '.', 'a']],
  ['\\#\\!\\-\\:', ['#!-:']],
  ['\\x41\\x{42}', ['AB']],
  ['\\101', ['A']],
  ['\\0', ['\0', '0']],
  ['\\pL+', ['héllo', '123']],
  ['\\p{Greek}', ['α', 'a']],
  ['\\PL', ['a', '1']],
  ['\\p{^L}', ['a', '1']],
  ['a.b', ['aéb', 'a😀b']],
  ['😀+', ['😀😀']],
  ['[😀-😂]', ['😁']],
  ['a|b|', ['', 'c']],
  ['colou?r', ['color', 'colour']],
  ['x*?y', ['xxy']],
  ['a/b', ['a/b']],
  ['\\bfoo\\b', ['a foo b', 'afoob']],
  ['[\\x{1F600}-\\x{1F64F}]', ['😀', 'a']],
  ['\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$', ['.*+?()[]{}|^$']],
  // what Go refuses
  ['(?=x)', ['x']],
  ['(?!x)', ['x']],
  ['(?<=x)', ['x']],
  ['(a)\\1', ['aa']],
  ['\\8', ['8']],
  ['\\e', ['e']],
  ['\\Z', ['Z']],
  ['x{1001}', ['x']],
  ['x{3,2}', ['x']],
  ['[z-a]', ['a']],
  ['(', ['(']],
  [')', [')']],
  ['[a', ['a']],
  ['a**', ['a']],
  ['(?U)a+', ['aa']],
  ['(?U)^(a+)b', ['aab']],
  ['(?U)<.+>$', ['<a><b>']],
  ['(?U)<.+?>x', ['<a>x<b>x', '<a>']],
  ['\\', ['\\']],
];

const GO_ORACLE = `package main

import (
	"encoding/json"
	"os"
	"regexp"
)

type c struct {
	Pattern string   \`json:"pattern"\`
	Inputs  []string \`json:"inputs"\`
}

type r struct {
	Err     bool   \`json:"err"\`
	Matches []bool \`json:"matches"\`
}

func main() {
	var cases []c
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	out := []r{}
	for _, k := range cases {
		re, err := regexp.Compile(k.Pattern)
		if err != nil {
			out = append(out, r{Err: true})
			continue
		}
		m := []bool{}
		for _, in := range k.Inputs {
			m = append(m, re.MatchString(in))
		}
		out = append(out, r{Matches: m})
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
`;

const go = await haveGo();

test(
  'Go regexp semantics: vouch agrees with Go on every pattern and input',
  { skip: go ? false : 'go is not installed (apt-get install golang-go)' },
  async () => {
    const out = await runGo(
      GO_ORACLE,
      JSON.stringify(CASES.map(([pattern, inputs]) => ({ pattern, inputs }))),
    );
    const answers = JSON.parse(out) as { err: boolean; matches?: boolean[] }[];
    const disagreements: string[] = [];
    CASES.forEach(([pattern, inputs], i) => {
      const want = answers[i]!;
      let re: RegExp | undefined;
      try {
        re = compileGoRegexp(pattern);
      } catch (e) {
        assert.ok(isVouchError(e, 'USAGE'), `${pattern}: ${e}`);
      }
      if (want.err !== (re === undefined)) {
        disagreements.push(
          `${JSON.stringify(pattern)}: Go ${want.err ? 'refuses' : 'compiles'} it, vouch does not`,
        );
        return;
      }
      if (!re) return;
      inputs.forEach((input, j) => {
        const got = re.test(input);
        if (got !== want.matches![j]) {
          disagreements.push(
            `${JSON.stringify(pattern)} on ${JSON.stringify(input)}: Go ${want.matches![j]}, vouch ${got}`,
          );
        }
      });
    });
    assert.deepEqual(disagreements, []);
  },
);

test('Go regexp translation: matching is unanchored, errors name the pattern', () => {
  assert.ok(compileGoRegexp('bar').test('foobarbaz'));
  assert.ok(!compileGoRegexp('^bar').test('foobar'));
  assert.ok(compileGoRegexp('(?m)^nonroot:').test('root:x:0\nnonroot:x:65532'));
  assert.throws(
    () => compileGoRegexp('(?=x)'),
    (e) =>
      isVouchError(e, 'USAGE') &&
      /regular expression "\(\?=x\)": Go regular expressions have no lookahead/.test(e.message),
  );
  assert.throws(
    () => compileGoRegexp('a('),
    (e) => isVouchError(e, 'USAGE') && /"a\("/.test(e.message),
  );
});
