/**
 * deb822 control data (deb822(5)), as dpkg's database holds it: paragraphs separated by blank
 * lines; `Field: value` lines; continuation lines start with a space or a tab. Field names are
 * case-insensitive (kept lowercased here). Errors are collected with line numbers; a paragraph
 * with an error is still returned (with what could be read), the caller decides.
 */

export interface Paragraph {
  /** 1-based line of the paragraph's first field. */
  line: number;
  /** Lowercased field name → value: first line trimmed, continuation lines after '\n'. */
  fields: Map<string, string>;
  errors: string[];
}

export interface Deb822 {
  paragraphs: Paragraph[];
  /** Problems outside any paragraph, or that make the whole text unusable. */
  errors: string[];
}

const FIELD = /^([^\s:#-][^\s:]*)[ \t]*:(.*)$/;

export function parseDeb822(text: string): Deb822 {
  const out: Deb822 = { paragraphs: [], errors: [] };
  if (text.includes('\0')) {
    out.errors.push('binary data (NUL bytes): not a deb822 control file');
    return out;
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  let cur: Paragraph | undefined;
  let last: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const n = i + 1;
    if (/^[ \t]*$/.test(raw)) {
      cur = undefined;
      last = undefined;
      continue;
    }
    if (raw.startsWith(' ') || raw.startsWith('\t')) {
      if (!cur || last === undefined) {
        (cur?.errors ?? out.errors).push(`line ${n}: continuation line without a field before it`);
        continue;
      }
      cur.fields.set(last, `${cur.fields.get(last)}\n${raw.slice(1)}`);
      continue;
    }
    if (raw.startsWith('#')) continue; // comments are allowed in deb822 (not written by dpkg)
    if (!cur) {
      cur = { line: n, fields: new Map(), errors: [] };
      out.paragraphs.push(cur);
    }
    const m = FIELD.exec(raw);
    if (!m) {
      cur.errors.push(`line ${n}: not a "Field: value" line: ${JSON.stringify(raw.slice(0, 60))}`);
      last = undefined;
      continue;
    }
    const name = m[1]!.toLowerCase();
    if (cur.fields.has(name)) {
      cur.errors.push(`line ${n}: duplicate field ${m[1]}`);
      last = undefined;
      continue;
    }
    cur.fields.set(name, m[2]!.trim());
    last = name;
  }
  return out;
}

/** The lines of a multi-line field (Conffiles, Description), trimmed, empty ones dropped. */
export function fieldLines(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}
