import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, VerificationError, Verifier } from '@sigstore/verify';
import { createInstance, keylessSigner, messageBundle } from '../../test/sigstore/helpers/instance.ts';
import { VouchError } from '../errors.ts';
import { fromLibraryError } from './errors-map.ts';

test('each @sigstore/verify code maps to one vouch code, keeping the message and cause', () => {
  const cases = [
    ['CERTIFICATE_ERROR', 'CERTIFICATE_INVALID'],
    ['PUBLIC_KEY_ERROR', 'KEY_MISMATCH'],
    ['SIGNATURE_ERROR', 'SIGNATURE_INVALID'],
    ['TIMESTAMP_ERROR', 'TIMESTAMP_INVALID'],
    ['TLOG_ERROR', 'TLOG_INVALID'],
    ['TLOG_BODY_ERROR', 'TLOG_INVALID'],
    ['TLOG_INCLUSION_PROOF_ERROR', 'TLOG_INVALID'],
    ['TLOG_INCLUSION_PROMISE_ERROR', 'TLOG_INVALID'],
    ['TLOG_MISSING_INCLUSION_ERROR', 'TLOG_INVALID'],
    ['NOT_IMPLEMENTED_ERROR', 'BUNDLE_INVALID'],
  ] as const;
  for (const [lib, code] of cases) {
    const e = new VerificationError({ code: lib, message: 'the reason', cause: new Error('deeper') });
    const v = fromLibraryError(e, 'bundle');
    assert.equal(v.code, code, lib);
    assert.match(v.message, /^bundle: .*: the reason \(deeper\)$/);
    assert.equal(v.cause, e);
  }
  const mine = new VouchError('SUBJECT_MISMATCH', 'x');
  assert.equal(fromLibraryError(mine, 'bundle'), mine);
});

test('a library crash is classified by the module that threw it, never passed on raw', () => {
  const at = (file: string) => {
    const e = new TypeError("Cannot read properties of undefined (reading 'envelope')");
    e.stack = `TypeError: ${e.message}\n    at f (/x/node_modules/@sigstore/${file}:10:5)\n    at g (/x/src/sigstore/verify.ts:1:1)`;
    return fromLibraryError(e, 'bundle').code;
  };
  assert.equal(at('verify/dist/tlog/checkpoint.js'), 'TLOG_INVALID');
  assert.equal(at('verify/dist/timestamp/tsa.js'), 'TIMESTAMP_INVALID');
  assert.equal(at('verify/dist/key/sct.js'), 'CERTIFICATE_INVALID');
  assert.equal(at('core/dist/rfc3161/timestamp.js'), 'TIMESTAMP_INVALID');
  assert.equal(at('core/dist/asn1/obj.js'), 'BUNDLE_INVALID');
  assert.equal(fromLibraryError('a string', 'bundle').code, 'BUNDLE_INVALID');
});

test('the real TypeError @sigstore/verify 4.1.3 throws on a proof without checkpoint is TLOG_INVALID', () => {
  const inst = createInstance();
  const artifact = Buffer.from('x');
  const b = messageBundle(artifact, keylessSigner(inst, { san: { email: 'a@b.c' } }), { log: inst.log });
  b.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
  delete b.verificationMaterial.tlogEntries[0]!.inclusionProof!.checkpoint;
  const verifier = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(inst.trustedRoot())));
  let thrown: unknown;
  try {
    verifier.verify(toSignedEntity(bundleFromJSON(b), artifact));
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof TypeError, `the library no longer crashes here: ${String(thrown)}`);
  assert.equal(fromLibraryError(thrown, 'bundle').code, 'TLOG_INVALID');
});
