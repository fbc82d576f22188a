import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import { decodeSignature, encodeSignature } from './signature.ts';

test('.sig text is plain base64 of the raw signature and reads back with surrounding whitespace', () => {
  const raw = Buffer.from([0x30, 0x45, 0x02, 0x21, 0x00, 0xff, 0xfe]);
  const text = encodeSignature(raw);
  assert.equal(text, 'MEUCIQD//g==');
  assert.deepEqual(decodeSignature(text, 'x.sig'), raw);
  assert.deepEqual(decodeSignature(`  ${text}\n`, 'x.sig'), raw);
  assert.deepEqual(decodeSignature(new TextEncoder().encode(`${text}\r\n`), 'x.sig'), raw);
  // a view into a larger buffer encodes only its own bytes
  assert.equal(encodeSignature(new Uint8Array([9, 9, 0x30, 0x45, 9]).subarray(2, 4)), 'MEU=');
});

test('anything but base64 is SIGNATURE_INVALID naming the file', () => {
  for (const bad of ['', '   ', 'not base64!', 'MEU', 'ME=U', 'MEUCIQD//g==\nMEU=', '-_-_']) {
    assert.throws(
      () => decodeSignature(bad, 'scans/amd64/scan.json.sig'),
      (e) => isVouchError(e, 'SIGNATURE_INVALID') && e.message.includes('scans/amd64/scan.json.sig'),
      JSON.stringify(bad),
    );
  }
});
