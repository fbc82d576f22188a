import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomImage, writeLayout } from '../../test/helpers/random-image.ts';
import { pem } from '../../test/sigstore/helpers/der.ts';
import {
  createInstance,
  dsseBundle,
  ecKeyPair,
  keylessSigner,
  messageBundle,
  T0,
} from '../../test/sigstore/helpers/instance.ts';
import { IN_TOTO_PAYLOAD_TYPE, pae } from '../attest/dsse.ts';
import { SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02 } from '../attest/provenance/types.ts';
import { isVouchError } from '../errors.ts';
import { LayoutStore } from '../sign/image/layout-store.ts';
import { attestImage } from '../sign/image/sign.ts';
import { signingKeyFromKeyObject } from '../sign/keys/signing-key.ts';
import type { TrustedRootDocument } from '../sigstore/types.ts';
import type { VerifyOptions } from './image.ts';
import { provenanceFromFile, provenanceFromImage } from './provenance-source.ts';

const DIGEST = 'cd'.repeat(32);
const key = signingKeyFromKeyObject(ecKeyPair().privateKey);
const other = signingKeyFromKeyObject(ecKeyPair().privateKey);
const inst = createInstance();
const root = inst.trustedRoot() as unknown as TrustedRootDocument;

function statement(predicateType: string, predicate: unknown = { builder: { id: 'b' } }): Buffer {
  return Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'f', digest: { sha256: DIGEST } }],
      predicateType,
      predicate,
    }),
  );
}

function envelopeLine(payload: Buffer, signer = key, cert?: string): string {
  const sig = signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, payload)).toString('base64');
  return JSON.stringify({
    payloadType: IN_TOTO_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: '', sig, ...(cert ? { cert } : {}) }],
  });
}

const byKey = (k = key): VerifyOptions => ({ trust: { kind: 'key', key: k } });
const keyless = (tlogThreshold?: number): VerifyOptions => ({
  trust: {
    kind: 'keyless',
    identity: { identity: 'user@example.com', issuer: 'https://issuer.vouch.test' },
    trustedRoot: root,
  },
  ...(tlogThreshold === undefined ? {} : { tlogThreshold }),
});

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vouch-provenance-source-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, lines: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

describe('provenanceFromFile: .intoto.jsonl', () => {
  test('SLSA statements verified, other types skipped, a bad signature listed with its line', async () => {
    const tampered = JSON.parse(envelopeLine(statement(SLSA_PROVENANCE_V1)));
    tampered.payload = statement(SLSA_PROVENANCE_V1, { builder: { id: 'evil' } }).toString('base64');
    const path = await file('mixed.intoto.jsonl', [
      envelopeLine(statement(SLSA_PROVENANCE_V1)),
      envelopeLine(statement('https://cyclonedx.org/bom')),
      JSON.stringify(tampered),
      envelopeLine(statement(SLSA_PROVENANCE_V02)),
    ]);
    const r = await provenanceFromFile(path, byKey());
    assert.deepEqual(
      r.verified.map((v) => [v.location, v.statement.predicateType, v.signer.kind]),
      [
        ['mixed.intoto.jsonl:1', SLSA_PROVENANCE_V1, 'key'],
        ['mixed.intoto.jsonl:4', SLSA_PROVENANCE_V02, 'key'],
      ],
    );
    assert.deepEqual(
      r.rejected.map((x) => [x.location, x.error.code]),
      [['mixed.intoto.jsonl:3', 'SIGNATURE_INVALID']],
    );
  });

  test('nothing verified: the reason; no provenance at all: SIGNATURE_NOT_FOUND', async () => {
    const path = await file('one.intoto.jsonl', [envelopeLine(statement(SLSA_PROVENANCE_V1))]);
    await assert.rejects(
      provenanceFromFile(path, byKey(other)),
      (e) => isVouchError(e, 'SIGNATURE_INVALID') && e.message.startsWith('one.intoto.jsonl:1: '),
    );
    await assert.rejects(
      provenanceFromFile(path, keyless()),
      (e) => isVouchError(e, 'KEY_MISMATCH') && /signed with a key, not a certificate/.test(e.message),
    );
    const sbom = await file('sbom.intoto.jsonl', [envelopeLine(statement('https://spdx.dev/Document'))]);
    await assert.rejects(provenanceFromFile(sbom, byKey()), (e) => isVouchError(e, 'SIGNATURE_NOT_FOUND'));
  });

  test('a certificate beside the signature: no log proof is TLOG_INVALID with a hint; waived, checked now', async () => {
    const leafKey = ecKeyPair();
    const cert = pem(inst.issue(leafKey.publicKey, { san: { email: 'user@example.com' } }, T0));
    const signer = signingKeyFromKeyObject(leafKey.privateKey);
    const path = await file('cert.intoto.jsonl', [envelopeLine(statement(SLSA_PROVENANCE_V1), signer, cert)]);
    await assert.rejects(
      provenanceFromFile(path, keyless()),
      (e) =>
        isVouchError(e, 'TLOG_INVALID') &&
        e.message.startsWith(
          "cert.intoto.jsonl:1: the envelope's certificate has no transparency-log proof",
        ) &&
        /slsa-verifier fetches the Rekor entry online/.test(e.hint ?? ''),
    );
    // No log and no other time: without consent no time to check the certificate at...
    await assert.rejects(provenanceFromFile(path, keyless(0)), (e) => isVouchError(e, 'TIMESTAMP_INVALID'));
    // ...with it, now - when this ten-minute certificate of 2026-01-01 has long expired.
    await assert.rejects(
      provenanceFromFile(path, { ...keyless(0), currentTimeWithoutTimestamps: true }),
      (e) => isVouchError(e, 'CERTIFICATE_INVALID'),
    );
    // Checked with a key instead, the certificate's key is named as the signer.
    await assert.rejects(provenanceFromFile(path, byKey()), (e) => isVouchError(e, 'KEY_MISMATCH'));
  });
});

describe('provenanceFromFile: Sigstore bundles', () => {
  test('.sigstore.jsonl: DSSE provenance verified with the certificate claims, message signatures skipped', async () => {
    const signer = keylessSigner(inst, { san: { email: 'user@example.com' } });
    const path = await file('p.sigstore.jsonl', [
      JSON.stringify(messageBundle(Buffer.from('x'), signer, { log: inst.log, at: T0 })),
      JSON.stringify(
        dsseBundle(IN_TOTO_PAYLOAD_TYPE, statement(SLSA_PROVENANCE_V1), signer, { log: inst.log, at: T0 }),
      ),
    ]);
    const r = await provenanceFromFile(path, keyless());
    assert.equal(r.verified.length, 1);
    const v = r.verified[0]!;
    assert.equal(v.location, 'p.sigstore.jsonl:2');
    assert.equal(
      v.signer.kind === 'certificate' && v.signer.claims.subjectAlternativeName,
      'user@example.com',
    );
    assert.deepEqual(v.timestamps, [{ source: 'transparency-log', time: T0 }]);
    const evil = keylessSigner(inst, { san: { email: 'evil-user@example.com' } });
    const bad = await file('evil.sigstore.json', [
      JSON.stringify(
        dsseBundle(IN_TOTO_PAYLOAD_TYPE, statement(SLSA_PROVENANCE_V1), evil, { log: inst.log, at: T0 }),
      ),
    ]);
    await assert.rejects(provenanceFromFile(bad, keyless()), (e) => isVouchError(e, 'IDENTITY_MISMATCH'));
  });
});

describe('provenanceFromImage', () => {
  test('v1 and v0.2 attestations of an image in a layout; other types ignored; none is SIGNATURE_NOT_FOUND', async () => {
    const img = await randomImage({ layerCount: 1 });
    const layout = join(dir, 'layout');
    await writeLayout(layout, [{ descriptor: img.descriptor, tag: 'v1' }], img.blobs);
    const store = new LayoutStore(layout);
    try {
      await assert.rejects(provenanceFromImage(store, img.descriptor.digest, byKey()), (e) =>
        isVouchError(e, 'SIGNATURE_NOT_FOUND'),
      );
      const identity = { kind: 'key' as const, key };
      for (const predicateType of [SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02, 'https://cyclonedx.org/bom']) {
        await attestImage(store, img.descriptor, 'example.test/app', {
          identity,
          predicateType,
          predicate: {},
        });
      }
      const r = await provenanceFromImage(store, img.descriptor.digest, byKey());
      assert.deepEqual(
        r.verified.map((v) => v.statement.predicateType),
        [SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02],
      );
      assert.match(r.verified[0]!.location, /^tag sha256-[0-9a-f]{64}\.att\[0\]$/);
      await assert.rejects(provenanceFromImage(store, img.descriptor.digest, byKey(other)), (e) =>
        isVouchError(e, 'SIGNATURE_INVALID'),
      );
    } finally {
      await store.close();
    }
  });
});
