/**
 * Platforms (`os/arch[/variant]`) and choosing an index entry for one, with containerd's
 * normalisation: aliases (x86_64, aarch64, armhf), default variants (arm64 → v8, arm → v7).
 */
import { endianness } from 'node:os';
import { VouchError } from '../errors.ts';
import type { Descriptor, ImageIndex, Platform } from './types.ts';

const PART = /^[a-z0-9_.-]+$/;

/**
 * Parse `os/arch[/variant]`, with an optional os version in parentheses as containerd writes it:
 * `windows(10.0.17763)/amd64`. Case is folded; aliases are kept (see normalizePlatform).
 */
export function parsePlatform(s: string): Platform {
  const bad = (why: string) =>
    new VouchError('PLATFORM_INVALID', `invalid platform "${s}": ${why}`, {
      hint: 'use os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8',
    });
  const parts = s.toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3) throw bad('expected os/arch or os/arch/variant');
  let os = parts[0]!;
  let osVersion: string | undefined;
  const m = /^([^()]*)\(([^()]+)\)$/.exec(os);
  if (m) {
    os = m[1]!;
    osVersion = m[2]!;
  }
  const names = ['os', 'architecture', 'variant'];
  for (const [i, p] of [os, ...parts.slice(1)].entries()) {
    if (p === '') throw bad(`empty ${names[i]}`);
    if (!PART.test(p)) throw bad(`${names[i]} "${p}" may only contain letters, digits, '_', '.' and '-'`);
  }
  const out: Platform = { os, architecture: parts[1]! };
  if (parts[2] !== undefined) out.variant = parts[2];
  if (osVersion !== undefined) out['os.version'] = osVersion;
  return out;
}

/** `os/arch[/variant]`, with `(os.version)` after the os when present. */
export function formatPlatform(p: Platform): string {
  const os = p['os.version'] ? `${p.os}(${p['os.version']})` : p.os;
  return `${os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** containerd's canonical form, except that arm64 keeps an explicit v8 (and arm a v7). */
export function normalizePlatform(p: Platform): Platform {
  let os = p.os.toLowerCase();
  if (os === 'macos') os = 'darwin';
  let arch = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() ?? '';
  switch (arch) {
    case 'i386':
      arch = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      arch = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      arch = 'arm64';
      if (variant === '' || variant === '8' || variant === 'v8.0') variant = 'v8';
      break;
    case 'armhf':
      arch = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      arch = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (variant === '' || variant === '7') variant = 'v7';
      else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
      break;
  }
  const out: Platform = { ...p, os, architecture: arch };
  if (variant) out.variant = variant;
  else delete out.variant;
  return out;
}

/**
 * Does an image for `have` satisfy a request for `want`? os and architecture must match after
 * normalisation; a variant must match when `want` names one (or the architecture has a default
 * variant); an os.version is compared only when `want` has one.
 */
export function platformMatches(want: Platform, have: Platform): boolean {
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return false;
  if (w.variant !== undefined && w.variant !== h.variant) return false;
  if (w['os.version'] !== undefined && w['os.version'] !== h['os.version']) return false;
  return true;
}

/**
 * Lower variants a CPU of `want` also runs, best first: arm v8 runs v7, v6, v5; amd64 v3 runs v2
 * and v1 (no variant). Used only when no exact match exists.
 */
function compatibleVariants(want: Platform): (string | undefined)[] {
  const v = want.variant;
  if (want.architecture === 'arm' && v && /^v[5-8]$/.test(v)) {
    const n = Number(v.slice(1));
    return ['v7', 'v6', 'v5'].filter((x) => Number(x.slice(1)) < n);
  }
  if (want.architecture === 'amd64' && v && /^v[2-4]$/.test(v)) {
    const n = Number(v.slice(1));
    return [...['v3', 'v2'].filter((x) => Number(x.slice(1)) < n), undefined];
  }
  return [];
}

/** BuildKit stores attestation manifests in the index with platform unknown/unknown. */
function isAttestationEntry(d: Descriptor): boolean {
  return (
    (d.platform?.os === 'unknown' && d.platform.architecture === 'unknown') ||
    d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest'
  );
}

/**
 * Choose the manifest for `want` from an index: an exact match first (the first in index order
 * when several, e.g. amd64 v2 and v3 for a plain amd64 request prefers the one without variant),
 * then a compatible lower variant. Throws PLATFORM_NOT_FOUND listing what the index has.
 */
export function selectManifest(index: ImageIndex, want: Platform): Descriptor {
  const w = normalizePlatform(want);
  const candidates = index.manifests.filter((d) => d.platform && !isAttestationEntry(d));
  const matching = candidates.filter((d) => platformMatches(w, d.platform!));
  if (matching.length > 0) {
    const exact = matching.find((d) => normalizePlatform(d.platform!).variant === w.variant);
    return exact ?? matching[0]!;
  }
  for (const variant of compatibleVariants(w)) {
    const found = candidates.find((d) => {
      const h = normalizePlatform(d.platform!);
      return h.os === w.os && h.architecture === w.architecture && h.variant === variant;
    });
    if (found) return found;
  }
  const available = candidates.map((d) => formatPlatform(d.platform!));
  throw new VouchError(
    'PLATFORM_NOT_FOUND',
    `no manifest for platform ${formatPlatform(want)} in the index; it has ${
      available.length > 0 ? available.join(', ') : 'no platform-specific manifests'
    }`,
    { hint: 'choose one of the listed platforms' },
  );
}

const NODE_ARCH: Record<string, string> = {
  x64: 'amd64',
  ia32: '386',
  arm: 'arm',
  arm64: 'arm64',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
  mips64el: 'mips64le',
};

/** The platform this process runs on, in OCI terms (normalised). */
export function hostPlatform(): Platform {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  let architecture = NODE_ARCH[process.arch] ?? process.arch;
  if (process.arch === 'ppc64') architecture = endianness() === 'LE' ? 'ppc64le' : 'ppc64';
  const p: Platform = { os, architecture };
  if (process.arch === 'arm') {
    const v = (process.config.variables as { arm_version?: string }).arm_version;
    if (v) p.variant = `v${v}`;
  }
  return normalizePlatform(p);
}
