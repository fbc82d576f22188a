/**
 * Glob patterns over image paths, as catalogers write them: `**` spans directories
 * (`**\/package.json` also matches `/package.json`), `*` and `?` stay within one segment,
 * `[a-z]` / `[!a-z]` classes, `{a,b}` alternatives. Matched against the whole path; a
 * leading '/' is optional on both sides.
 */
import { VouchError } from '../errors.ts';

export function globToRegExp(pattern: string): RegExp {
  const p = pattern.replace(/^\/+/, '');
  return new RegExp(`^${translate(p, pattern)}$`, 'u');
}

/**
 * A glob compiled for matching many paths: the literal text its matches must end with is
 * checked first (a cheap endsWith), so the regular expression only runs on likely matches.
 */
export function globMatcher(pattern: string): (path: string) => boolean {
  const re = globToRegExp(pattern);
  const p = pattern.replace(/^\/+/, '');
  let cut = -1;
  for (const c of '*?[]{},') cut = Math.max(cut, p.lastIndexOf(c));
  // What follows the last wildcard is literal; without its leading '/' (a '**/' may match
  // nothing), every match ends with it.
  const tail = p.slice(cut + 1).replace(/^\/+/, '');
  return (path) => path.endsWith(tail) && re.test(path.replace(/^\/+/, ''));
}

export function matchGlob(pattern: string | RegExp, path: string): boolean {
  const re = typeof pattern === 'string' ? globToRegExp(pattern) : pattern;
  return re.test(path.replace(/^\/+/, ''));
}

function translate(p: string, whole: string): string {
  let out = '';
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    if (c === '*') {
      if (p[i + 1] === '*') {
        const atStart = i === 0 || p[i - 1] === '/';
        const slashAfter = p[i + 2] === '/';
        const atEnd = i + 2 === p.length;
        if (atStart && slashAfter) {
          out += '(?:[^/]*/)*';
          i += 3;
          continue;
        }
        if (atStart && atEnd) {
          out += '.*';
          i += 2;
          continue;
        }
        throw new VouchError('USAGE', `glob "${whole}": '**' must be a whole path segment`);
      }
      out += '[^/]*';
      i++;
    } else if (c === '?') {
      out += '[^/]';
      i++;
    } else if (c === '[') {
      const end = p.indexOf(']', i + 2);
      if (end < 0) throw new VouchError('USAGE', `glob "${whole}": unclosed '['`);
      let body = p.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^/' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = end + 1;
    } else if (c === '{') {
      const end = p.indexOf('}', i);
      if (end < 0) throw new VouchError('USAGE', `glob "${whole}": unclosed '{'`);
      const alts = p.slice(i + 1, end).split(',');
      out += `(?:${alts.map((a) => translate(a, whole)).join('|')})`;
      i = end + 1;
    } else {
      out += c.replace(/[.+^$()|\\\]}]/g, '\\$&');
      i++;
    }
  }
  return out;
}
