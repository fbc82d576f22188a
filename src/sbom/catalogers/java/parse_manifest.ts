/**
 * Java metadata text formats inside archives:
 *  - META-INF/MANIFEST.MF (JAR File Specification): "Name: value" headers, a line starting
 *    with one space continues the previous value, a blank line ends the main section;
 *  - pom.properties (java.util.Properties): "key=value", "key: value" or "key value",
 *    comments with # or !, backslash continuations and \uXXXX escapes.
 */

/** The main section of a manifest: header names as written (lookups are case-insensitive). */
export function parseManifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | undefined;
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)) {
    if (raw === '') {
      if (out.size > 0) break;
      continue;
    }
    if (raw.startsWith(' ')) {
      if (last !== undefined) out.set(last, out.get(last)! + raw.slice(1));
      continue;
    }
    const colon = raw.indexOf(':');
    if (colon <= 0) continue;
    last = raw.slice(0, colon).trim().toLowerCase();
    out.set(last, raw.slice(colon + 1).trim());
  }
  return out;
}

/** java.util.Properties text to a map (later keys win, as Properties.load does). */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // An odd number of trailing backslashes continues the line.
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '');
    }
    let k = 0;
    let key = '';
    while (k < line.length) {
      const c = line[k]!;
      if (c === '\\' && k + 1 < line.length) {
        key += line.slice(k, k + 2);
        k += 2;
        continue;
      }
      if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
      key += c;
      k++;
    }
    let rest = line.slice(k).replace(/^[ \t\f]*/, '');
    if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]*/, '');
    out.set(unescapeJava(key), unescapeJava(rest));
  }
  return out;
}

function unescapeJava(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, e: string) => {
    if (e.length === 5) return String.fromCharCode(Number.parseInt(e.slice(1), 16));
    return { t: '\t', n: '\n', r: '\r', f: '\f' }[e] ?? e;
  });
}
