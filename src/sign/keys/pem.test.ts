import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isVouchError } from '../../errors.ts';
import { encodePem, parsePem } from './pem.ts';

test('encodePem writes 64-column lines as Go pem.EncodeToMemory, and parsePem reads it back', () => {
  const der = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
  const pem = encodePem('ENCRYPTED SIGSTORE PRIVATE KEY', der);
  const lines = pem.split('\n');
  assert.equal(lines[0], '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----');
  // 100 bytes = 136 base64 characters: 64 + 64 + 8
  assert.deepEqual(
    lines.slice(1, 4).map((l) => l.length),
    [64, 64, 8],
  );
  assert.equal(lines[4], '-----END ENCRYPTED SIGSTORE PRIVATE KEY-----');
  assert.equal(lines[5], '');
  const [block] = parsePem(pem, 'k');
  assert.equal(block?.type, 'ENCRYPTED SIGSTORE PRIVATE KEY');
  assert.deepEqual(block?.der, der);
  assert.deepEqual(block?.headers, {});
});

test('parsePem finds every block, skips text around them, keeps RFC 1421 headers and CRLF', () => {
  const text = [
    'Bag Attributes: ignored text before',
    '-----BEGIN EC PARAMETERS-----',
    'BggqhkjOPQMBBw==',
    '-----END EC PARAMETERS-----',
    '-----BEGIN EC PRIVATE KEY-----',
    'Proc-Type: 4,ENCRYPTED',
    'DEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF',
    '',
    'AAEC',
    'AwQF',
    '-----END EC PRIVATE KEY-----',
    'trailer',
  ].join('\r\n');
  const blocks = parsePem(text, 'k');
  assert.deepEqual(
    blocks.map((b) => b.type),
    ['EC PARAMETERS', 'EC PRIVATE KEY'],
  );
  assert.deepEqual(blocks[1]?.headers, {
    'Proc-Type': '4,ENCRYPTED',
    'DEK-Info': 'AES-256-CBC,00112233445566778899AABBCCDDEEFF',
  });
  assert.deepEqual(blocks[1]?.der, Buffer.from([0, 1, 2, 3, 4, 5]));
  assert.ok(blocks[1]?.text.startsWith('-----BEGIN EC PRIVATE KEY-----'));
  assert.ok(blocks[1]?.text.endsWith('-----END EC PRIVATE KEY-----'));
  assert.deepEqual(parsePem('no pem here', 'k'), []);
});

test('parsePem rejects a missing END line, bad base64 and an empty block, naming the file', () => {
  const cases: [string, RegExp][] = [
    ['-----BEGIN PUBLIC KEY-----\nAAAA\n', /my\.pub: the PUBLIC KEY block has no "-----END PUBLIC KEY-----"/],
    ['-----BEGIN PUBLIC KEY-----\nAA*A\n-----END PUBLIC KEY-----\n', /not valid base64/],
    ['-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n', /not valid base64/],
    ['-----BEGIN PUBLIC KEY-----\n\n-----END PUBLIC KEY-----\n', /is empty/],
    ['-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', /no "-----END PUBLIC KEY-----"/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parsePem(text, 'my.pub'),
      (e) => isVouchError(e, 'KEY_INVALID') && message.test(e.message),
      text,
    );
  }
});
