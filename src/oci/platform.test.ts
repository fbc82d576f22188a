import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestOf } from '../digest/digest.ts';
import { isVouchError } from '../errors.ts';
import { MediaType } from './media-types.ts';
import {
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformMatches,
  selectManifest,
} from './platform.ts';
import type { Descriptor, ImageIndex, Platform } from './types.ts';

test('parsePlatform table', () => {
  const cases: [string, Platform][] = [
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    ['Linux/ARM/v7', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/x86_64', { os: 'linux', architecture: 'x86_64' }],
    ['windows(10.0.17763.1)/amd64', { os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' }],
  ];
  for (const [s, want] of cases) assert.deepEqual(parsePlatform(s), want, s);
});

test('parsePlatform rejects malformed platforms with PLATFORM_INVALID', () => {
  const cases: [string, string][] = [
    ['linux', 'expected os/arch'],
    ['', 'expected os/arch'],
    ['linux/arm/v7/extra', 'expected os/arch'],
    ['/amd64', 'empty os'],
    ['linux/', 'empty architecture'],
    ['linux/arm/', 'empty variant'],
    ['linux/am d64', 'architecture "am d64"'],
    ['li:nux/amd64', 'os "li:nux"'],
  ];
  for (const [s, fragment] of cases) {
    assert.throws(
      () => parsePlatform(s),
      (e) =>
        isVouchError(e, 'PLATFORM_INVALID') && e.message.includes(fragment) && e.message.includes(`"${s}"`),
      s,
    );
  }
});

test('formatPlatform round-trips', () => {
  for (const s of ['linux/amd64', 'linux/arm64/v8', 'windows(10.0.20348)/amd64']) {
    assert.equal(formatPlatform(parsePlatform(s)), s);
  }
});

test('normalizePlatform applies containerd aliases and default variants', () => {
  const cases: [string, string][] = [
    ['linux/x86_64', 'linux/amd64'],
    ['linux/x86-64', 'linux/amd64'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
    ['linux/aarch64', 'linux/arm64/v8'],
    ['linux/arm64', 'linux/arm64/v8'],
    ['linux/arm64/8', 'linux/arm64/v8'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/6', 'linux/arm/v6'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/i386', 'linux/386'],
    ['macos/arm64', 'darwin/arm64/v8'],
    ['linux/riscv64', 'linux/riscv64'],
  ];
  for (const [s, want] of cases) assert.equal(formatPlatform(normalizePlatform(parsePlatform(s))), want, s);
});

test('platformMatches', () => {
  const p = parsePlatform;
  assert.ok(platformMatches(p('linux/arm64'), p('linux/aarch64')));
  assert.ok(platformMatches(p('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' }));
  assert.ok(platformMatches(p('linux/amd64'), p('linux/x86_64')));
  assert.ok(platformMatches(p('linux/amd64'), p('linux/amd64/v3')), 'no variant wanted: any variant');
  assert.ok(!platformMatches(p('linux/amd64/v3'), p('linux/amd64')));
  assert.ok(!platformMatches(p('linux/arm/v7'), p('linux/arm/v6')));
  assert.ok(!platformMatches(p('linux/arm64'), p('linux/arm')));
  assert.ok(!platformMatches(p('linux/amd64'), p('windows/amd64')));
  assert.ok(platformMatches(p('windows/amd64'), p('windows(10.0.1)/amd64')));
  assert.ok(!platformMatches(p('windows(10.0.2)/amd64'), p('windows(10.0.1)/amd64')));
});

function entry(platform: Platform | undefined, n: number, annotations?: Record<string, string>): Descriptor {
  const d: Descriptor = { mediaType: MediaType.OciManifest, digest: digestOf(String(n)), size: n };
  if (platform) d.platform = platform;
  if (annotations) d.annotations = annotations;
  return d;
}

function index(...manifests: Descriptor[]): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
}

test('selectManifest picks the exact platform and normalises', () => {
  const amd = entry({ os: 'linux', architecture: 'amd64' }, 1);
  const arm64 = entry({ os: 'linux', architecture: 'arm64', variant: 'v8' }, 2);
  const armv7 = entry({ os: 'linux', architecture: 'arm', variant: 'v7' }, 3);
  const idx = index(amd, arm64, armv7);
  assert.equal(selectManifest(idx, parsePlatform('linux/amd64')), amd);
  assert.equal(selectManifest(idx, parsePlatform('linux/aarch64')), arm64);
  assert.equal(selectManifest(idx, parsePlatform('linux/arm64')), arm64);
  assert.equal(selectManifest(idx, parsePlatform('linux/arm')), armv7);
});

test('selectManifest prefers the exact variant, then compatible lower variants', () => {
  const v3 = entry({ os: 'linux', architecture: 'amd64', variant: 'v3' }, 1);
  const plain = entry({ os: 'linux', architecture: 'amd64' }, 2);
  assert.equal(selectManifest(index(v3, plain), parsePlatform('linux/amd64')), plain);
  assert.equal(selectManifest(index(plain, v3), parsePlatform('linux/amd64/v3')), v3);
  assert.equal(selectManifest(index(plain), parsePlatform('linux/amd64/v3')), plain);
  const v6 = entry({ os: 'linux', architecture: 'arm', variant: 'v6' }, 3);
  const v5 = entry({ os: 'linux', architecture: 'arm', variant: 'v5' }, 4);
  assert.equal(selectManifest(index(v5, v6), parsePlatform('linux/arm/v7')), v6);
  assert.throws(
    () => selectManifest(index(v6), parsePlatform('linux/arm/v5')),
    (e) => isVouchError(e, 'PLATFORM_NOT_FOUND'),
  );
});

test('selectManifest ignores buildkit attestation entries and lists what exists', () => {
  const amd = entry({ os: 'linux', architecture: 'amd64' }, 1);
  const att = entry({ os: 'unknown', architecture: 'unknown' }, 2, {
    'vnd.docker.reference.type': 'attestation-manifest',
    'vnd.docker.reference.digest': amd.digest,
  });
  const s390 = entry({ os: 'linux', architecture: 's390x' }, 3);
  const idx = index(att, amd, s390, entry(undefined, 4));
  assert.equal(selectManifest(idx, parsePlatform('linux/amd64')), amd);
  assert.throws(
    () => selectManifest(idx, parsePlatform('linux/unknown')),
    (e) =>
      isVouchError(e, 'PLATFORM_NOT_FOUND') &&
      e.message.includes('linux/unknown') &&
      e.message.includes('linux/amd64, linux/s390x') &&
      !e.message.includes('unknown/unknown'),
  );
  assert.throws(
    () => selectManifest(index(att), parsePlatform('unknown/unknown')),
    (e) => isVouchError(e, 'PLATFORM_NOT_FOUND') && e.message.includes('no platform-specific manifests'),
  );
});

test('hostPlatform maps node names to OCI names', () => {
  const h = hostPlatform();
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386' };
  if (arch[process.arch]) assert.equal(h.architecture, arch[process.arch]);
  assert.equal(h.os, process.platform === 'win32' ? 'windows' : process.platform);
  if (process.arch === 'arm64') assert.equal(h.variant, 'v8');
  assert.ok(platformMatches(h, h));
});
