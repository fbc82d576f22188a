import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { requireBinary } from '../../../test/helpers/registry.ts';
import { isVouchError } from '../../errors.ts';
import { cosignAnnotations, legacyFromBundle } from '../../sigstore/legacy.ts';
import type { SerializedBundle } from '../../sigstore/types.ts';
import { CosignAnnotation } from './cosign-tags.ts';
import { bundleFromAnnotations } from './legacy-annotations.ts';

const run = promisify(execFile);
const PAYLOAD = Buffer.from('{"critical":{}}');
const body = (kind: string, version: string) =>
  Buffer.from(JSON.stringify({ apiVersion: version, kind, spec: {} })).toString('base64');

async function certificates(n: number): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'vouch-legacy-'));
  try {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const key = join(dir, `k${i}.pem`);
      await writeFile(
        key,
        generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
          type: 'pkcs8',
          format: 'pem',
        }),
      );
      await run('openssl', [
        'req',
        '-x509',
        '-new',
        '-key',
        key,
        '-subj',
        `/CN=c${i}`,
        '-days',
        '1',
        '-out',
        join(dir, `c${i}.pem`),
      ]);
      out.push(await readFile(join(dir, `c${i}.pem`), 'utf8'));
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('no certificate annotation: a key-based layer, no bundle', () => {
  assert.equal(
    bundleFromAnnotations(
      { [CosignAnnotation.Signature]: 'c2ln' },
      { kind: 'message', payload: PAYLOAD, signature: 'c2ln' },
      'l',
    ),
    undefined,
  );
  assert.equal(
    bundleFromAnnotations(undefined, { kind: 'message', payload: PAYLOAD, signature: 'c2ln' }, 'l'),
    undefined,
  );
});

test(
  'annotations from a bundle turn back into the same material',
  { skip: await requireBinary('openssl') },
  async () => {
    const [leaf, inter] = await certificates(2);
    const der = (pem: string) => new X509Certificate(pem).raw.toString('base64');
    const original: SerializedBundle = {
      mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
      verificationMaterial: {
        x509CertificateChain: { certificates: [{ rawBytes: der(leaf!) }, { rawBytes: der(inter!) }] },
        publicKey: undefined,
        certificate: undefined,
        tlogEntries: [
          {
            logIndex: '42',
            logId: { keyId: Buffer.alloc(32, 7).toString('base64') },
            kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
            integratedTime: '1700000000',
            inclusionPromise: { signedEntryTimestamp: Buffer.from('set').toString('base64') },
            inclusionProof: undefined,
            canonicalizedBody: body('hashedrekord', '0.0.1'),
          },
        ],
        timestampVerificationData: {
          rfc3161Timestamps: [{ signedTimestamp: Buffer.from('tsr').toString('base64') }],
        },
      },
      dsseEnvelope: undefined,
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: Buffer.alloc(32).toString('base64') },
        signature: Buffer.from('sig').toString('base64'),
      },
    };
    const annotations = cosignAnnotations(legacyFromBundle(original));
    const back = bundleFromAnnotations(
      annotations,
      { kind: 'message', payload: PAYLOAD, signature: annotations[CosignAnnotation.Signature]! },
      'layer',
    );
    assert.ok(back);
    assert.deepEqual(
      back.verificationMaterial.x509CertificateChain,
      original.verificationMaterial.x509CertificateChain,
    );
    assert.deepEqual(back.verificationMaterial.tlogEntries, original.verificationMaterial.tlogEntries);
    assert.deepEqual(
      back.verificationMaterial.timestampVerificationData,
      original.verificationMaterial.timestampVerificationData,
    );
    assert.equal(back.messageSignature?.signature, original.messageSignature?.signature);
    // The digest is the payload's own: the signature is checked over these bytes.
    assert.equal(
      back.messageSignature?.messageDigest?.digest,
      createHash('sha256').update(PAYLOAD).digest('base64'),
    );
  },
);

test(
  'malformed annotations are BUNDLE_INVALID naming the annotation',
  { skip: await requireBinary('openssl') },
  async () => {
    const [leaf] = await certificates(1);
    const content = { kind: 'message' as const, payload: PAYLOAD, signature: 'c2ln' };
    const cases: [Record<string, string>, RegExp][] = [
      [{ [CosignAnnotation.Certificate]: 'not a pem' }, /holds no PEM certificate/],
      [
        { [CosignAnnotation.Certificate]: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' },
        /cannot be parsed/,
      ],
      [
        { [CosignAnnotation.Certificate]: leaf!, [CosignAnnotation.Bundle]: '{' },
        /dev\.sigstore\.cosign\/bundle is not JSON/,
      ],
      [
        {
          [CosignAnnotation.Certificate]: leaf!,
          [CosignAnnotation.Bundle]:
            '{"SignedEntryTimestamp":"eA==","Payload":{"body":"eA==","integratedTime":1,"logIndex":1,"logID":"zz"}}',
        },
        /hex logID/,
      ],
      [
        {
          [CosignAnnotation.Certificate]: leaf!,
          [CosignAnnotation.Bundle]:
            '{"SignedEntryTimestamp":"eA==","Payload":{"body":"eA==","integratedTime":"1","logIndex":1,"logID":"ab"}}',
        },
        /integer integratedTime/,
      ],
      [
        {
          [CosignAnnotation.Certificate]: leaf!,
          [CosignAnnotation.Bundle]:
            '{"SignedEntryTimestamp":"eA==","Payload":{"body":"eA==","integratedTime":1,"logIndex":1,"logID":"ab"}}',
        },
        /not base64 JSON/,
      ],
      [
        { [CosignAnnotation.Certificate]: leaf!, [CosignAnnotation.Timestamp]: '{}' },
        /SignedRFC3161Timestamp/,
      ],
    ];
    for (const [a, re] of cases) {
      assert.throws(
        () => bundleFromAnnotations(a, content, 'layer 0'),
        (e) => isVouchError(e, 'BUNDLE_INVALID') && re.test(e.message),
        re.source,
      );
    }
  },
);
