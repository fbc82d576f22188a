import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { verificationKeyFromKeyObject } from '../sign/keys/signing-key.ts';
import { decodeSignatureFile, verifyBlobSignature } from './blob.ts';

test('a cosign .sig is base64 of the raw signature; whitespace around it is ignored', () => {
  assert.deepEqual(decodeSignatureFile('  AAEC\n'), Buffer.from([0, 1, 2]));
  for (const bad of ['', '  \n', 'not base64!', 'A']) {
    assert.throws(
      () => decodeSignatureFile(bad, 'x.sig'),
      (e: unknown) => isVouchError(e, 'SIGNATURE_INVALID') && /x\.sig/.test(e.message),
    );
  }
});

test('verifyBlobSignature: the key and the file must both match', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const key = verificationKeyFromKeyObject(publicKey);
  const file = Buffer.from('artifact');
  const sig = sign('sha256', file, privateKey);
  verifyBlobSignature(file, sig, key);
  assert.throws(
    () => verifyBlobSignature(Buffer.from('artifacT'), sig, key, 'a.sig'),
    (e: unknown) =>
      isVouchError(e, 'SIGNATURE_INVALID') &&
      /a\.sig does not verify with the given ecdsa-p256 key/.test(e.message),
  );
  const other = verificationKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
  assert.throws(
    () => verifyBlobSignature(file, sig, other),
    (e: unknown) => isVouchError(e, 'SIGNATURE_INVALID'),
  );
});
