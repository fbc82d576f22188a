import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers/layout.ts';
import {
  createInstance,
  dsseBundle,
  ecKeyPair,
  keylessSigner,
  messageBundle,
} from '../../test/sigstore/helpers/instance.ts';
import type { BundleJson } from '../../test/sigstore/helpers/json.ts';
import { isVouchError } from '../errors.ts';
import { BUNDLE_MEDIA_TYPES, parseBundle, readBundleFile } from './bundle.ts';

const inst = createInstance();
const signer = keylessSigner(inst, { san: { email: 'user@example.com' } });
const artifact = Buffer.from('data');
const fresh = (): BundleJson => messageBundle(artifact, signer, { log: inst.log });

function invalid(input: unknown, message: RegExp): void {
  assert.throws(
    () => parseBundle(input),
    (e: unknown) => {
      assert.ok(isVouchError(e, 'BUNDLE_INVALID'), String(e));
      assert.match(e.message, message);
      return true;
    },
  );
}

test('every known media type parses, from an object, text or bytes', () => {
  for (const [mediaType, version] of Object.entries(BUNDLE_MEDIA_TYPES)) {
    const b = { ...fresh(), mediaType };
    const p = parseBundle(JSON.stringify(b));
    assert.equal(p.version, version);
    assert.equal(p.content, 'message-signature');
    assert.equal(p.signer, 'certificate');
  }
  const d = parseBundle(Buffer.from(JSON.stringify(dsseBundle('text/plain', artifact, signer))));
  assert.equal(d.content, 'dsse-envelope');
  const pair = ecKeyPair();
  const k = parseBundle(
    messageBundle(artifact, { kind: 'key', key: pair.privateKey, publicKey: pair.publicKey }),
  );
  assert.equal(k.signer, 'public-key');
});

test('unknown versions, bad JSON and missing parts are BUNDLE_INVALID naming the field', () => {
  invalid('{"mediaType":', /is not JSON/);
  invalid([], /is not a JSON object/);
  invalid(
    { ...fresh(), mediaType: 'application/vnd.dev.sigstore.bundle+json;version=99.9' },
    /mediaType is "application\/vnd\.dev\.sigstore\.bundle\+json;version=99\.9"/,
  );
  const { mediaType: _m, ...noType } = fresh();
  invalid(noType, /mediaType is undefined/);
  const none = fresh();
  delete none.messageSignature;
  invalid(none, /the bundle has none of messageSignature, dsseEnvelope/);
  const both = { ...fresh(), dsseEnvelope: dsseBundle('text/plain', artifact, signer).dsseEnvelope };
  invalid(both, /has messageSignature and dsseEnvelope; expected exactly one/);
  const noSigner = fresh();
  delete noSigner.verificationMaterial.certificate;
  invalid(noSigner, /verificationMaterial has none of x509CertificateChain, certificate, publicKey/);
});

test('int64 fields: decimal strings or JSON numbers, never negative or padded', () => {
  const neg = fresh();
  neg.verificationMaterial.tlogEntries[0]!.logIndex = '-1';
  invalid(neg, /verificationMaterial\.tlogEntries\[0\]\.logIndex is "-1", expected a non-negative integer/);
  const padded = fresh();
  padded.verificationMaterial.tlogEntries[0]!.inclusionProof!.treeSize = '007';
  invalid(padded, /inclusionProof\.treeSize is "007"/);
  const big = fresh();
  big.verificationMaterial.tlogEntries[0]!.integratedTime = '9223372036854775808';
  invalid(big, /integratedTime/);
  const num = fresh() as unknown as { verificationMaterial: { tlogEntries: Record<string, unknown>[] } };
  num.verificationMaterial.tlogEntries[0]!.logIndex = 0;
  assert.equal(parseBundle(num).version, '0.3');
});

test('bytes fields: strict base64 (standard or URL-safe; line breaks ignored as in Go)', () => {
  const bad = fresh();
  bad.messageSignature!.signature = 'MEUCIQ!!';
  invalid(bad, /messageSignature\.signature is not base64/);
  const badHash = fresh();
  badHash.verificationMaterial.tlogEntries[0]!.inclusionProof!.hashes = ['%%%%'];
  invalid(badHash, /inclusionProof\.hashes\[0\] is not base64/);
  const empty = fresh();
  empty.messageSignature!.signature = '';
  invalid(empty, /messageSignature\.signature is missing/);
  const wrapped = fresh();
  const sig = wrapped.messageSignature!.signature;
  wrapped.messageSignature!.signature = `${sig.slice(0, 20)}\n${sig.slice(20)}`;
  parseBundle(wrapped);
  const urlSafe = fresh();
  urlSafe.messageSignature!.signature = sig.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  parseBundle(urlSafe);
});

test('DSSE envelopes in bundles carry exactly one signature', () => {
  const d = dsseBundle('text/plain', artifact, signer);
  d.dsseEnvelope!.signatures.push(d.dsseEnvelope!.signatures[0]!);
  invalid(d, /dsseEnvelope\.signatures has 2 entries/);
});

test('null is an unset field (proto3 JSON)', () => {
  const b = fresh() as unknown as Record<string, Record<string, unknown>>;
  b.verificationMaterial!.timestampVerificationData = null;
  b.verificationMaterial!.publicKey = null;
  assert.equal(parseBundle(b).signer, 'certificate');
});

test('certificates: DER only, and never a root inside the bundle; v0.3 takes a single certificate', () => {
  const garbage = fresh();
  garbage.verificationMaterial.certificate = { rawBytes: Buffer.from('not der').toString('base64') };
  invalid(garbage, /verificationMaterial\.certificate\.rawBytes is not a DER X\.509 certificate/);
  const chain = fresh();
  const leaf = chain.verificationMaterial.certificate!;
  delete chain.verificationMaterial.certificate;
  chain.verificationMaterial.x509CertificateChain = {
    certificates: [
      leaf,
      { rawBytes: inst.ca.intermediate.toString('base64') },
      { rawBytes: inst.ca.root.toString('base64') },
    ],
  };
  chain.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
  invalid(chain, /certificates\[2\] is a self-signed root certificate/);
  chain.verificationMaterial.x509CertificateChain.certificates.pop();
  assert.equal(parseBundle(chain).version, '0.2');
  chain.mediaType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  invalid(chain, /invalid 0\.3 bundle: verificationMaterial\.content\.\$case/);
});

test('v0.1: an inclusion proof without a signed checkpoint is dropped, the SET stays', () => {
  const b = fresh();
  b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
  delete b.verificationMaterial.tlogEntries[0]!.inclusionProof!.checkpoint;
  const p = parseBundle(b);
  assert.equal(p.bundle.verificationMaterial.tlogEntries[0]!.inclusionProof, undefined);
  assert.ok(p.bundle.verificationMaterial.tlogEntries[0]!.inclusionPromise);
  // v0.2 and later require the checkpoint: without it the entry proves nothing (TLOG_INVALID).
  b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
  assert.throws(
    () => parseBundle(b),
    (e: unknown) =>
      isVouchError(e, 'TLOG_INVALID') && /inclusionProof\.checkpoint is missing/.test(e.message),
  );
  // v0.1 without the SET has no proof at all.
  const noSet = fresh();
  noSet.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
  delete noSet.verificationMaterial.tlogEntries[0]!.inclusionPromise;
  assert.throws(
    () => parseBundle(noSet),
    (e: unknown) => isVouchError(e, 'TLOG_INVALID') && /signed entry timestamp/.test(e.message),
  );
});

test('readBundleFile: missing files are FILE_NOT_FOUND, contents are parsed', async () => {
  await using dir = await tempDir('bundle');
  const path = join(dir.path, 'b.sigstore.json');
  await assert.rejects(readBundleFile(path), (e: unknown) => isVouchError(e, 'FILE_NOT_FOUND'));
  await writeFile(path, JSON.stringify(fresh()));
  assert.equal((await readBundleFile(path)).version, '0.3');
  await writeFile(path, '{');
  await assert.rejects(
    readBundleFile(path),
    (e: unknown) => isVouchError(e, 'BUNDLE_INVALID') && e.message.startsWith(path),
  );
});
