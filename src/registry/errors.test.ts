import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { isVouchError } from '../errors.ts';
import {
  errorFromResponse,
  parseErrorBody,
  parseRetryAfter,
  RegistryError,
  readCapped,
  redactUrl,
  transportError,
} from './errors.ts';

function response(status: number, body: string, headers: Record<string, string> = {}) {
  return { status, headers, body: Readable.from([Buffer.from(body)]) };
}

test('redactUrl hides user info and token-like query values, keeps useful ones', () => {
  const u = redactUrl(
    'https://user:pw@s3.example/bucket/blob?X-Amz-Signature=abc&X-Amz-Credential=k&digest=sha256:1',
  );
  assert.ok(!u.includes('pw') && !u.includes('user') && !u.includes('abc') && !u.includes('=k'), u);
  assert.match(u, /X-Amz-Signature=REDACTED/);
  assert.match(u, /digest=sha256%3A1/);
  assert.equal(redactUrl('not a url'), '(invalid URL)');
});

test('parseErrorBody reads the distribution error list and tolerates junk', () => {
  const e = parseErrorBody(Buffer.from('{"errors":[{"code":"DENIED","message":"no","detail":{}}]}'));
  assert.deepEqual(e.errors, [{ code: 'DENIED', message: 'no' }]);
  const t = parseErrorBody(Buffer.from('<html>\n  bad gateway  </html>'));
  assert.deepEqual(t.errors, []);
  assert.equal(t.text, '<html> bad gateway </html>');
});

test('errorFromResponse maps statuses and registry codes to vouch codes', async () => {
  const url = new URL('http://r.example/v2/a/manifests/latest?token=secret');
  const cases: [number, string, string, Parameters<typeof errorFromResponse>[3]][] = [
    [
      401,
      '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
      'UNAUTHORIZED',
      'manifest',
    ],
    [403, '{"errors":[{"code":"DENIED","message":"denied"}]}', 'DENIED', 'manifest'],
    [
      404,
      '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}',
      'MANIFEST_UNKNOWN',
      'manifest',
    ],
    [
      404,
      '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}',
      'MANIFEST_UNKNOWN',
      'manifest',
    ],
    [404, '{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}', 'BLOB_UNKNOWN', 'blob'],
    [404, '404 page not found', 'BLOB_UNKNOWN', 'blob'],
    [429, '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}', 'TOO_MANY_REQUESTS', 'blob'],
    [400, '{"errors":[{"code":"MANIFEST_INVALID","message":"bad"}]}', 'MANIFEST_INVALID', 'manifest'],
    [502, 'bad gateway', 'REGISTRY_ERROR', 'manifest'],
  ];
  for (const [status, body, code, what] of cases) {
    const e = await errorFromResponse(response(status, body), 'GET', url, what);
    assert.ok(isVouchError(e, code as never), `${status} ${body} → ${e.code}`);
    assert.equal(e.status, status);
    assert.ok(!e.message.includes('secret'), e.message);
    assert.match(e.message, new RegExp(`returned ${status}`));
  }
  const denied = await errorFromResponse(
    response(403, '{"errors":[{"code":"DENIED","message":"x"}]}'),
    'PUT',
    url,
    'manifest',
  );
  assert.deepEqual(denied.registryCodes, ['DENIED']);
  assert.ok(denied.hint);
});

test('errorFromResponse records Retry-After and retryability', async () => {
  const url = new URL('http://r.example/v2/');
  const e = await errorFromResponse(response(429, '', { 'retry-after': '3' }), 'GET', url, 'ping');
  assert.equal(e.retryAfterMs, 3000);
  assert.equal(e.retryable, 'always');
  assert.equal((await errorFromResponse(response(500, ''), 'GET', url, 'ping')).retryable, 'idempotent');
  assert.equal((await errorFromResponse(response(400, ''), 'GET', url, 'ping')).retryable, 'never');
});

test('readCapped stops at the cap', async () => {
  const big = Readable.from([Buffer.alloc(40_000, 1), Buffer.alloc(40_000, 2)]);
  const r = await readCapped(big, 64 * 1024);
  assert.equal(r.bytes.byteLength, 64 * 1024);
  assert.equal(r.truncated, true);
});

test('parseRetryAfter reads seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('2'), 2000);
  const now = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Mon, 01 Jan 2024 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});

test('transportError classifies socket, DNS and TLS failures', () => {
  const url = new URL('https://r.example:5000/v2/');
  const refused = transportError(
    Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    'GET',
    url,
  );
  assert.ok(isVouchError(refused, 'REGISTRY_UNREACHABLE'));
  assert.match(refused.hint ?? '', /--insecure/);
  const dns = transportError(
    Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }),
    'GET',
    url,
  );
  assert.ok(isVouchError(dns, 'REGISTRY_UNREACHABLE'));
  const cert = transportError(
    Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
    'GET',
    url,
  );
  assert.match(cert.hint ?? '', /--ca-file/);
  const reset = transportError(
    Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET', cause: { code: 'ECONNRESET' } }),
    'PATCH',
    url,
  );
  assert.ok(reset instanceof RegistryError && reset.retryable === 'always');
  const abort = transportError(Object.assign(new Error('aborted'), { name: 'AbortError' }), 'GET', url);
  assert.ok(isVouchError(abort, 'ABORTED'));
});
