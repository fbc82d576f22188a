/**
 * Installed gem specifications (`<gem home>/specifications/*.gemspec`) as RubyGems writes
 * them (Gem::Specification#to_ruby): `s.name = "rake".freeze`, `s.version = "13.0.6"`,
 * `s.licenses = ["MIT".freeze]`, `s.add_runtime_dependency(%q<irb>.freeze, [...])`. Older
 * RubyGems wrote `%q{...}` strings, hand-written specs use `spec.` and single quotes or %w[].
 * Read with a small literal parser, never by running Ruby: a value that is not a literal
 * (a constant, a method call) is left out, and name/version must be literals.
 */

export interface Gemspec {
  name?: string;
  version?: string;
  licenses: string[];
  authors: string[];
  homepage?: string;
  summary?: string;
  platform?: string;
  files: string[];
  executables: string[];
  /** Runtime dependency names (add_dependency / add_runtime_dependency), in order, unique. */
  runtimeDependencies: string[];
  /** Attributes whose value was not a literal (so they could not be read). */
  unreadable: string[];
}

type Literal = string | string[];

const ASSIGN = /^\s*(\w+)\.(\w+)\s*=\s*(.*)$/;
const DEP = /^\s*\w+\.add_(runtime_)?dependency\s*\(?\s*(.*)$/;

export function parseGemspec(text: string): Gemspec {
  const spec: Gemspec = {
    licenses: [],
    authors: [],
    files: [],
    executables: [],
    runtimeDependencies: [],
    unreadable: [],
  };
  const lines = text.split(/\r?\n/);
  // Generated specs repeat every dependency in an `else` branch for old RubyGems
  // (`if s.respond_to? :add_runtime_dependency then ... else s.add_dependency(...)`), where
  // development dependencies are written as plain add_dependency: that branch is skipped.
  const blocks: ('dep-if' | 'dep-else' | 'other')[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*#/.test(line)) continue;
    if (/^\s*if\b.*(respond_to\?\s*:add_runtime_dependency|Gem::VERSION)/.test(line)) {
      blocks.push('dep-if');
      continue;
    }
    if (/^\s*(if|unless|case|while|begin)\b/.test(line) || /\bdo(\s*\|[^|]*\|)?\s*$/.test(line)) {
      blocks.push('other');
      continue;
    }
    if (/^\s*else\b/.test(line)) {
      if (blocks.at(-1) === 'dep-if') blocks[blocks.length - 1] = 'dep-else';
      continue;
    }
    if (/^\s*end\b/.test(line)) {
      blocks.pop();
      continue;
    }
    const dep = DEP.exec(line);
    if (dep) {
      if (blocks.includes('dep-else')) continue;
      const lit = readLiteral(dep[2]!);
      if (lit && typeof lit.value === 'string' && !spec.runtimeDependencies.includes(lit.value)) {
        spec.runtimeDependencies.push(lit.value);
      }
      continue;
    }
    const m = ASSIGN.exec(line);
    if (!m) continue;
    const attr = m[2]!;
    if (!(attr in FIELDS)) continue;
    let value = m[3]!;
    let lit = readLiteral(value);
    // Arrays written over several lines: join lines until the literal is complete.
    if (!lit && /^\s*(\[|%w)/.test(value)) {
      for (let j = i + 1; j < lines.length && j < i + 10_000 && !lit; j++) {
        value += ` ${lines[j]!.trim()}`;
        lit = readLiteral(value);
        if (lit) i = j;
      }
    }
    if (!lit) {
      spec.unreadable.push(attr);
      continue;
    }
    FIELDS[attr]!(spec, lit.value);
  }
  return spec;
}

const asList = (v: Literal) => (Array.isArray(v) ? v : [v]);
const asString = (v: Literal) => (Array.isArray(v) ? v.join(', ') : v);

const FIELDS: Record<string, (s: Gemspec, v: Literal) => void> = {
  name: (s, v) => {
    s.name = asString(v);
  },
  version: (s, v) => {
    s.version = asString(v);
  },
  license: (s, v) => {
    s.licenses = asList(v);
  },
  licenses: (s, v) => {
    s.licenses = asList(v);
  },
  authors: (s, v) => {
    s.authors = asList(v);
  },
  author: (s, v) => {
    s.authors = asList(v);
  },
  homepage: (s, v) => {
    s.homepage = asString(v);
  },
  summary: (s, v) => {
    s.summary = asString(v);
  },
  platform: (s, v) => {
    s.platform = asString(v);
  },
  files: (s, v) => {
    s.files = asList(v);
  },
  executables: (s, v) => {
    s.executables = asList(v);
  },
};

/**
 * A Ruby string or array-of-strings literal at the start of `src` (after optional `.freeze`),
 * or undefined when the value is something else. Supports "..." (with escapes), '...',
 * %q{..} %q<..> %q(..) %q[..] %Q.., %w[..] and [lit, lit, ...].
 */
export function readLiteral(src: string): { value: Literal; end: number } | undefined {
  let i = skipSpace(src, 0);
  const c = src[i];
  if (c === '[') {
    const items: string[] = [];
    i = skipSpace(src, i + 1);
    while (src[i] !== ']') {
      const item = readString(src, i);
      if (!item) return undefined;
      items.push(item.value);
      i = skipSpace(src, afterFreeze(src, item.end));
      if (src[i] === ',') i = skipSpace(src, i + 1);
      else if (src[i] !== ']') return undefined;
    }
    return { value: items, end: afterFreeze(src, i + 1) };
  }
  if (c === '%' && src[i + 1] === 'w') {
    const close = CLOSERS[src[i + 2] ?? ''];
    if (!close) return undefined;
    const end = src.indexOf(close, i + 3);
    if (end < 0) return undefined;
    const words = src
      .slice(i + 3, end)
      .split(/\s+/)
      .filter(Boolean);
    return { value: words, end: afterFreeze(src, end + 1) };
  }
  const s = readString(src, i);
  return s ? { value: s.value, end: afterFreeze(src, s.end) } : undefined;
}

const CLOSERS: Record<string, string> = {
  '{': '}',
  '<': '>',
  '(': ')',
  '[': ']',
  '|': '|',
  '!': '!',
  '/': '/',
};
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', s: ' ', '0': '\0', e: '\x1b' };

function readString(src: string, i: number): { value: string; end: number } | undefined {
  const c = src[i];
  if (c === '"' || c === "'") {
    let v = '';
    let j = i + 1;
    while (j < src.length && src[j] !== c) {
      if (src[j] === '\\' && j + 1 < src.length) {
        const e = src[j + 1]!;
        if (c === "'") v += e === "'" || e === '\\' ? e : `\\${e}`;
        else if (e === '#' || e === '"' || e === '\\') v += e;
        else v += ESCAPES[e] ?? e;
        j += 2;
        continue;
      }
      if (c === '"' && src[j] === '#' && src[j + 1] === '{') return undefined; // interpolation
      v += src[j++];
    }
    return j < src.length ? { value: v, end: j + 1 } : undefined;
  }
  if (c === '%' && (src[i + 1] === 'q' || src[i + 1] === 'Q')) {
    const open = src[i + 2] ?? '';
    const close = CLOSERS[open];
    if (!close) return undefined;
    const end = src.indexOf(close, i + 3);
    return end < 0 ? undefined : { value: src.slice(i + 3, end), end: end + 1 };
  }
  return undefined;
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

function afterFreeze(s: string, i: number): number {
  return s.startsWith('.freeze', i) ? i + 7 : i;
}
