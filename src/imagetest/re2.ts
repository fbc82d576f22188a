/**
 * Go regular expressions (RE2 syntax, as container-structure-test compiles them with
 * `regexp.Compile` and runs `MatchString`: unanchored) translated to JavaScript RegExps with
 * the same meaning, checked against Go itself in re2.test.ts.
 *
 * Where the two differ, the translation spells Go's meaning out:
 *  - `.` is "anything but \n" (JS also stops at \r, U+2028, U+2029), or anything under (?s);
 *  - `^`/`$` under (?m) break at \n only (JS also at \r); `\A`, `\z` are the text's ends;
 *  - `\s` is [\t\n\f\r ] (JS's is Unicode);
 *  - inline flags `(?i)` in the middle of a pattern hold to the end of their group
 *    (JS modifiers `(?i:…)` are opened there and closed with the group);
 *  - `(?P<name>…)`, `\Q…\E`, `\x{…}`, octal `\123`, `\pL`, `[[:alpha:]]` are rewritten;
 *  - a `{` that does not start a valid repeat is a literal, as in Go.
 *  - under (?U) every quantifier's greediness is swapped.
 * Go has no lookaround and no backreferences: those are refused, like Go does, as are negated
 * POSIX classes (`[[:^alpha:]]`, not expressible in a JS class).
 */
import { VouchError } from '../errors.ts';

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  /** Ungreedy: `x*` is lazy and `x*?` greedy. */
  U: boolean;
}

interface Frame {
  flags: Flags;
  /** JS modifier groups opened by (?flags) inside this group, closed with it. */
  extraCloses: number;
}

const GENERAL_CATEGORIES = new Set(
  'C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(
    ' ',
  ),
);

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const GO_SPACE = '\\t\\n\\f\\r ';
/** Characters with a meaning in JS patterns: escaped when Go means them literally. */
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const MAX_REPEAT = 1000;

/** Compile a Go regular expression; USAGE error (naming the pattern) when Go would refuse it. */
export function compileGoRegexp(pattern: string): RegExp {
  let source: string;
  let flags: string;
  try {
    ({ source, flags } = translate(pattern));
  } catch (e) {
    if (e instanceof SyntaxError)
      throw new VouchError('USAGE', `regular expression "${pattern}": ${e.message}`);
    throw e;
  }
  try {
    return new RegExp(source, flags);
  } catch (e) {
    throw new VouchError('USAGE', `regular expression "${pattern}": ${(e as Error).message}`, { cause: e });
  }
}

/** The JS source and flags for a Go pattern; SyntaxError for what Go refuses. */
export function translate(pattern: string): { source: string; flags: string } {
  const cps = [...pattern];
  let pos = 0;
  const global: Flags = { i: false, m: false, s: false, U: false };
  // Leading (?flags) apply to the whole pattern: the i flag becomes the RegExp's own.
  for (;;) {
    const m = /^\(\?([imsU-]+)\)/.exec(cps.slice(pos).join(''));
    if (!m) break;
    applyFlags(global, m[1]!);
    pos += m[0].length;
  }
  const stack: Frame[] = [{ flags: { ...global }, extraCloses: 0 }];
  const top = () => stack[stack.length - 1]!;
  let out = '';
  let lastAtom = false;

  while (pos < cps.length) {
    const c = cps[pos]!;
    if (c === '\\') {
      const { js, next } = escapeOutside(cps, pos);
      out += js;
      pos = next;
      lastAtom = true;
      continue;
    }
    if (c === '[') {
      const { js, next } = charClass(cps, pos);
      out += js;
      pos = next;
      lastAtom = true;
      continue;
    }
    if (c === '(') {
      const rest = cps.slice(pos).join('');
      const frame: Frame = { flags: { ...top().flags }, extraCloses: 0 };
      if (rest.startsWith('(?P<') || rest.startsWith('(?<')) {
        const start = rest.startsWith('(?P<') ? 4 : 3;
        const end = rest.indexOf('>');
        const name = end < 0 ? '' : rest.slice(start, end);
        if (rest[start] === '=' || rest[start] === '!')
          throw new SyntaxError('Go regular expressions have no lookbehind');
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
          throw new SyntaxError(`invalid named capture "${rest.slice(0, end + 1)}"`);
        out += `(?<${name}>`;
        pos += [...rest.slice(0, end + 1)].length;
        stack.push(frame);
        lastAtom = false;
        continue;
      }
      if (rest.startsWith('(?=') || rest.startsWith('(?!'))
        throw new SyntaxError('Go regular expressions have no lookahead');
      const fm = /^\(\?([imsU-]*)([:)])/.exec(rest);
      if (rest.startsWith('(?') && !fm)
        throw new SyntaxError(`invalid or unsupported Perl syntax "${rest.slice(0, 3)}"`);
      if (fm) {
        const before = top().flags.i;
        if (fm[2] === ')') {
          // (?flags) in mid-pattern: to the end of the enclosing group.
          if (fm[1] === '') throw new SyntaxError('missing flags in "(?)"');
          applyFlags(top().flags, fm[1]!);
          if (top().flags.i !== before) {
            out += top().flags.i ? '(?i:' : '(?-i:';
            top().extraCloses++;
          }
          pos += fm[0].length;
          continue;
        }
        applyFlags(frame.flags, fm[1]!);
        out += frame.flags.i !== before ? (frame.flags.i ? '(?i:' : '(?-i:') : '(?:';
        pos += fm[0].length;
        stack.push(frame);
        lastAtom = false;
        continue;
      }
      out += '(';
      pos++;
      stack.push(frame);
      lastAtom = false;
      continue;
    }
    if (c === ')') {
      if (stack.length === 1) throw new SyntaxError('unexpected )');
      const f = stack.pop()!;
      out += `${')'.repeat(f.extraCloses)})`;
      pos++;
      lastAtom = true;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(cps.slice(pos, pos + 24).join(''));
      if (m && lastAtom) {
        const min = Number(m[1]);
        const max = m[2] === undefined ? min : m[3] === '' ? undefined : Number(m[3]);
        if (min > MAX_REPEAT || (max !== undefined && (max > MAX_REPEAT || max < min))) {
          throw new SyntaxError(`invalid repeat count "${m[0]}"`);
        }
        out += m[0];
        pos += m[0].length;
        pos = laziness(cps, pos, top().flags, (q) => {
          out += q;
        });
        continue;
      }
      out += '\\{';
      pos++;
      lastAtom = true;
      continue;
    }
    if (c === '*' || c === '+' || c === '?') {
      out += c;
      pos = laziness(cps, pos + 1, top().flags, (q) => {
        out += q;
      });
      continue;
    }
    if (c === '}' || c === ']') {
      out += `\\${c}`;
      pos++;
      lastAtom = true;
      continue;
    }
    if (c === '.') {
      out += top().flags.s ? '[\\s\\S]' : '[^\\n]';
      pos++;
      lastAtom = true;
      continue;
    }
    if (c === '^') {
      out += top().flags.m ? '(?<![^\\n])' : '^';
      pos++;
      lastAtom = false;
      continue;
    }
    if (c === '$') {
      out += top().flags.m ? '(?![^\\n])' : '$';
      pos++;
      lastAtom = false;
      continue;
    }
    if (c === '|') {
      out += '|';
      pos++;
      lastAtom = false;
      continue;
    }
    out += c === '/' ? '\\/' : c;
    pos++;
    lastAtom = true;
  }
  if (stack.length !== 1) throw new SyntaxError('missing closing )');
  out += ')'.repeat(stack[0]!.extraCloses);
  return { source: out, flags: global.i ? 'iu' : 'u' };
}

/** After a quantifier: a `?` makes it lazy, (?U) swaps that; returns the next position. */
function laziness(cps: string[], pos: number, flags: Flags, emit: (s: string) => void): number {
  const lazy = cps[pos] === '?';
  if (lazy !== flags.U) emit('?');
  return lazy ? pos + 1 : pos;
}

function applyFlags(f: Flags, spec: string): void {
  let on = true;
  let seenMinus = false;
  for (const ch of spec) {
    if (ch === '-') {
      if (seenMinus) throw new SyntaxError(`invalid flags "${spec}"`);
      seenMinus = true;
      on = false;
      continue;
    }
    f[ch as keyof Flags] = on;
  }
  if (spec.endsWith('-')) throw new SyntaxError(`invalid flags "${spec}"`);
}

/** An escape outside a class, at cps[pos] === '\\'. */
function escapeOutside(cps: string[], pos: number): { js: string; next: number } {
  const e = cps[pos + 1];
  if (e === undefined) throw new SyntaxError('trailing backslash at end of expression');
  switch (e) {
    case 'A':
      return { js: '^', next: pos + 2 };
    case 'z':
      return { js: '$', next: pos + 2 };
    case 'b':
    case 'B':
    case 'd':
    case 'D':
    case 'w':
    case 'W':
      return { js: `\\${e}`, next: pos + 2 };
    case 's':
      return { js: `[${GO_SPACE}]`, next: pos + 2 };
    case 'S':
      return { js: `[^${GO_SPACE}]`, next: pos + 2 };
    case 'Q': {
      // Literal text up to \E; like Go, a \Q without \E runs to the end.
      let stop = pos + 2;
      while (stop < cps.length && !(cps[stop] === '\\' && cps[stop + 1] === 'E')) stop++;
      return {
        js: cps
          .slice(pos + 2, stop)
          .map(literal)
          .join(''),
        next: stop < cps.length ? stop + 2 : stop,
      };
    }
    default: {
      const shared = sharedEscape(cps, pos);
      if (shared) return { js: shared.js, next: shared.next };
      throw new SyntaxError(`invalid escape sequence "\\${e}"`);
    }
  }
}

/** Escapes with the same meaning inside and outside classes: chars, \p, punctuation. */
function sharedEscape(cps: string[], pos: number): { js: string; next: number; char?: string } | undefined {
  const e = cps[pos + 1]!;
  const simple: Record<string, string> = { a: '\\x07', f: '\\f', t: '\\t', n: '\\n', r: '\\r', v: '\\v' };
  const controls: Record<string, string> = { a: '\x07', f: '\f', t: '\t', n: '\n', r: '\r', v: '\v' };
  if (simple[e]) return { js: simple[e]!, next: pos + 2, char: controls[e]! };
  if (e === 'x') {
    if (cps[pos + 2] === '{') {
      const end = cps.indexOf('}', pos + 3);
      const hex = end < 0 ? '' : cps.slice(pos + 3, end).join('');
      if (!/^[0-9A-Fa-f]{1,8}$/.test(hex) || Number.parseInt(hex, 16) > 0x10ffff) {
        throw new SyntaxError('invalid escape sequence "\\x{"');
      }
      return { js: `\\u{${hex}}`, next: end + 1, char: String.fromCodePoint(Number.parseInt(hex, 16)) };
    }
    const hex = cps.slice(pos + 2, pos + 4).join('');
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new SyntaxError('invalid escape sequence "\\x"');
    return { js: `\\x${hex}`, next: pos + 4, char: String.fromCodePoint(Number.parseInt(hex, 16)) };
  }
  if (e >= '0' && e <= '7') {
    // Go: \0-\7 start an octal code of up to three digits (\8, \9 are errors); \1-\7 alone is
    // not a backreference in Go but Go refuses \1 as "invalid escape" unless followed by digits.
    let end = pos + 1;
    while (end < pos + 4 && cps[end] !== undefined && cps[end]! >= '0' && cps[end]! <= '7') end++;
    const oct = cps.slice(pos + 1, end).join('');
    if (e !== '0' && oct.length === 1) throw new SyntaxError(`invalid escape sequence "\\${e}"`);
    const code = Number.parseInt(oct, 8);
    return { js: `\\u{${code.toString(16)}}`, next: end, char: String.fromCodePoint(code) };
  }
  if (e === 'p' || e === 'P') {
    let name: string;
    let next: number;
    if (cps[pos + 2] === '{') {
      const end = cps.indexOf('}', pos + 3);
      if (end < 0) throw new SyntaxError('invalid character class range "\\p{"');
      name = cps.slice(pos + 3, end).join('');
      next = end + 1;
    } else {
      name = cps[pos + 2] ?? '';
      next = pos + 3;
    }
    let negate = e === 'P';
    if (name.startsWith('^')) {
      negate = !negate;
      name = name.slice(1);
    }
    if (!/^[A-Za-z_]+$/.test(name)) throw new SyntaxError(`invalid character class range "\\${e}${name}"`);
    const prop = name === 'Any' ? 'Any' : GENERAL_CATEGORIES.has(name) ? name : `Script=${name}`;
    return { js: `\\${negate ? 'P' : 'p'}{${prop}}`, next };
  }
  // Go lets any ASCII punctuation be escaped; JS (u mode) only its own syntax characters.
  if (/^[!-/:-@[-`{-~]$/.test(e)) return { js: literal(e), next: pos + 2, char: e };
  return undefined;
}

function literal(ch: string): string {
  return JS_SYNTAX.has(ch) ? `\\${ch}` : ch;
}

/** A bracket class at cps[pos] === '['. */
function charClass(cps: string[], pos: number): { js: string; next: number } {
  let i = pos + 1;
  let out = '[';
  if (cps[i] === '^') {
    out += '^';
    i++;
  }
  let first = true;
  for (;;) {
    const c = cps[i];
    if (c === undefined) throw new SyntaxError('missing closing ]');
    if (c === ']' && !first) return { js: `${out}]`, next: i + 1 };
    first = false;
    if (c === '[' && cps[i + 1] === ':') {
      const end = cps.indexOf(':', i + 2);
      const name = end < 0 ? '' : cps.slice(i + 2, end).join('');
      if (end >= 0 && cps[end + 1] === ']') {
        if (name.startsWith('^')) throw new SyntaxError(`negated POSIX class "[:${name}:]" is not supported`);
        const body = POSIX_CLASSES[name];
        if (!body) throw new SyntaxError(`invalid character class range "[:${name}:]"`);
        out += body;
        i = end + 2;
        continue;
      }
    }
    const lo = classAtom(cps, i);
    i = lo.next;
    if (cps[i] === '-' && cps[i + 1] !== undefined && cps[i + 1] !== ']') {
      if (lo.char === undefined) throw new SyntaxError('invalid character class range');
      const hi = classAtom(cps, i + 1);
      if (hi.char === undefined) throw new SyntaxError('invalid character class range');
      if ((hi.char.codePointAt(0) ?? 0) < (lo.char.codePointAt(0) ?? 0)) {
        throw new SyntaxError(`invalid character class range "${lo.char}-${hi.char}"`);
      }
      out += `${lo.js}-${hi.js}`;
      i = hi.next;
      continue;
    }
    out += lo.js;
  }
}

/** One member of a class: a char (with `char` set, so it can start a range) or a shorthand. */
function classAtom(cps: string[], i: number): { js: string; next: number; char?: string } {
  const c = cps[i]!;
  if (c !== '\\') return { js: '\\^-[]'.includes(c) ? `\\${c}` : c, next: i + 1, char: c };
  const e = cps[i + 1];
  if (e === undefined) throw new SyntaxError('trailing backslash at end of expression');
  if ('dDwW'.includes(e)) return { js: `\\${e}`, next: i + 2 };
  if (e === 's') return { js: GO_SPACE, next: i + 2 };
  if (e === 'S') return { js: '\\S', next: i + 2 };
  const shared = sharedEscape(cps, i);
  if (!shared) throw new SyntaxError(`invalid escape sequence "\\${e}"`);
  // In a JS (u mode) class only syntax characters and '-' may be escaped.
  if (shared.char !== undefined && /^[!-/:-@[-`{-~]$/.test(shared.char)) {
    const ch = shared.char;
    return { js: JS_SYNTAX.has(ch) || ch === '-' ? `\\${ch}` : ch, next: shared.next, char: ch };
  }
  return shared;
}
