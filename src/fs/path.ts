/**
 * Paths inside an image. Stored form: relative, '/'-separated, no leading './' or '/', no
 * trailing '/', no empty or '.' segments; '' is the root. Never touches the host filesystem.
 */

export interface CleanPath {
  path: string;
  /** Why the path cannot be used as is: it climbs with '..' or was absolute. */
  unsafe?: 'dotdot' | 'absolute';
}

/** Normalise a tar member name. '..' segments are kept and flagged, never resolved. */
export function cleanTarPath(raw: string): CleanPath {
  const absolute = raw.startsWith('/');
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  const path = parts.join('/');
  if (parts.includes('..')) return { path, unsafe: 'dotdot' };
  if (absolute) return { path, unsafe: 'absolute' };
  return { path };
}

/** Accept '/etc/passwd', 'etc/passwd', './etc/passwd/' alike; '..' is clamped at the root. */
export function toImagePath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

/** The form used in FileResolver records and SBOM locations: '/etc/passwd', '/' for the root. */
export function displayPath(p: string): string {
  return `/${p}`;
}

export function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

export function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

export function joinPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export function splitPath(p: string): string[] {
  return p === '' ? [] : p.split('/');
}

/**
 * Byte-wise (UTF-8) order, as reproducible tar writers sort. UTF-16 code-unit order differs
 * from it only where a surrogate pair meets a character in U+E000..U+FFFF.
 */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    const sa = ca >= 0xd800 && ca < 0xe000;
    const sb = cb >= 0xd800 && cb < 0xe000;
    if (sa !== sb) return sa ? 1 : -1;
    return ca - cb;
  }
  return a.length - b.length;
}
