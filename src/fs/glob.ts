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
