import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers/layout.ts';
import { createInstance } from '../../test/sigstore/helpers/instance.ts';
import type { TrustedRootJson } from '../../test/sigstore/helpers/json.ts';
import { isVouchError } from '../errors.ts';
import {
  loadTrustedRoot,
  parseTrustedRoot,
  publicGoodTrustedRoot,
  TRUSTED_ROOT_MEDIA_TYPES,
} from './trust-root.ts';

const inst = createInstance();

function invalid(doc: unknown, message: RegExp): void {
  assert.throws(
    () => parseTrustedRoot(doc),
    (e: unknown) => {
      assert.ok(isVouchError(e, 'TRUST_ROOT_INVALID'), String(e));
      assert.match(e.message, message);
      return true;
    },
  );
}

test('the public-good root comes from @sigstore/tuf without network, parsed once and frozen', async () => {
  const root = await publicGoodTrustedRoot();
  assert.equal(root.mediaType, 'application/vnd.dev.sigstore.trustedroot+json;version=0.1');
  const tlogs = root.tlogs as { baseUrl: string }[];
  assert.ok(tlogs.some((t) => t.baseUrl === 'https://rekor.sigstore.dev'));
  const cas = root.certificateAuthorities as { uri: string }[];
  assert.ok(cas.some((c) => c.uri === 'https://fulcio.sigstore.dev'));
  assert.equal(await publicGoodTrustedRoot(), root);
  assert.ok(Object.isFrozen(root) && Object.isFrozen(tlogs[0]));
});

test('both trusted root media types are accepted; others are refused', () => {
  for (const mediaType of TRUSTED_ROOT_MEDIA_TYPES) parseTrustedRoot({ ...inst.trustedRoot(), mediaType });
  invalid({ ...inst.trustedRoot(), mediaType: 'application/json' }, /mediaType is "application\/json"/);
  invalid('{', /is not JSON/);
  invalid({ mediaType: TRUSTED_ROOT_MEDIA_TYPES[0] }, /lists no logs, CAs or timestamp authorities/);
});

test("vouch's rule: every log, CA and TSA says since when it is trusted", () => {
  const edits: [string, (r: TrustedRootJson) => void, RegExp][] = [
    [
      'tlog start',
      (r) => delete r.tlogs[0]!.publicKey!.validFor!.start,
      /tlogs\[0\]\.publicKey\.validFor\.start is missing/,
    ],
    [
      'tlog validFor',
      (r) => delete r.tlogs[0]!.publicKey!.validFor,
      /tlogs\[0\]\.publicKey\.validFor is missing/,
    ],
    [
      'ctlog start',
      (r) => delete r.ctlogs[0]!.publicKey!.validFor!.start,
      /ctlogs\[0\]\.publicKey\.validFor\.start/,
    ],
    [
      'CA start',
      (r) => delete r.certificateAuthorities[0]!.validFor!.start,
      /certificateAuthorities\[0\]\.validFor\.start/,
    ],
    [
      'TSA start',
      (r) =>
        r.timestampAuthorities.push({
          ...structuredClone(r.certificateAuthorities[0]!),
          validFor: { end: '2030-01-01T00:00:00Z' },
        }),
      /timestampAuthorities\[0\]\.validFor\.start is missing/,
    ],
  ];
  for (const [what, edit, message] of edits) {
    const r = inst.trustedRoot();
    edit(r);
    invalid(r, message);
    assert.ok(what);
  }
});

test('bad fields are named: times, keys, certificates, base64', () => {
  const cases: [(r: TrustedRootJson) => void, RegExp][] = [
    [
      (r) => {
        r.tlogs[0]!.publicKey!.validFor!.start = 'yesterday';
      },
      /tlogs\[0\]\.publicKey\.validFor\.start is "yesterday", expected an RFC 3339 time/,
    ],
    [
      (r) => {
        r.tlogs[0]!.publicKey!.validFor = { start: '2026-01-02T00:00:00Z', end: '2026-01-01T00:00:00Z' };
      },
      /validFor\.end \(2026-01-01T00:00:00Z\) is before its start/,
    ],
    [
      (r) => {
        r.tlogs[0]!.publicKey!.rawBytes = Buffer.from('junk').toString('base64');
      },
      /tlogs\[0\]\.publicKey\.rawBytes is not a DER public key/,
    ],
    [
      (r) => {
        r.tlogs[0]!.logId = { keyId: '!!' };
      },
      /tlogs\[0\]\.logId\.keyId is not base64/,
    ],
    [(r) => delete r.tlogs[0]!.baseUrl, /tlogs\[0\]\.baseUrl is missing/],
    [
      (r) => {
        r.certificateAuthorities[0]!.certChain!.certificates[1]!.rawBytes =
          Buffer.from('junk').toString('base64');
      },
      /certificateAuthorities\[0\]\.certChain\.certificates\[1\]\.rawBytes is not a DER X\.509 certificate/,
    ],
    [
      (r) => {
        r.certificateAuthorities[0]!.certChain = { certificates: [] };
      },
      /certChain\.certificates is empty/,
    ],
    [
      (r) => {
        (r as Record<string, unknown>).tlogs = {};
      },
      /tlogs is not a list/,
    ],
  ];
  for (const [edit, message] of cases) {
    const r = inst.trustedRoot();
    edit(r);
    invalid(r, message);
  }
  // Fractions of a second, offsets and explicit nulls (proto3 JSON) are fine.
  const ok = inst.trustedRoot() as TrustedRootJson & { tlogs: Record<string, unknown>[] };
  ok.tlogs[0]!.checkpointKeyId = null;
  ok.ctlogs[0]!.publicKey!.validFor = { start: '2021-03-14T00:00:00.123456789+01:00' };
  parseTrustedRoot(ok);
});

test('loadTrustedRoot reads and validates a file; a missing file is FILE_NOT_FOUND', async () => {
  await using dir = await tempDir('trust-root');
  const path = join(dir.path, 'trusted_root.json');
  await assert.rejects(loadTrustedRoot(path), (e: unknown) => isVouchError(e, 'FILE_NOT_FOUND'));
  await assert.rejects(loadTrustedRoot(dir.path), (e: unknown) => isVouchError(e, 'IO_ERROR'));
  await writeFile(path, JSON.stringify(inst.trustedRoot()));
  assert.equal((await loadTrustedRoot(path)).mediaType, TRUSTED_ROOT_MEDIA_TYPES[0]);
  const bad = inst.trustedRoot();
  delete bad.tlogs[0]!.publicKey!.validFor!.start;
  await writeFile(path, JSON.stringify(bad));
  await assert.rejects(
    loadTrustedRoot(path),
    (e: unknown) => isVouchError(e, 'TRUST_ROOT_INVALID') && e.message.startsWith(`${path}: tlogs[0]`),
  );
});
