/** Shared pieces of the image signing tests: keys, images pushed to a registry or a layout, oracles. */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IN_TOTO_PAYLOAD_TYPE, pae } from '../../src/attest/dsse.ts';
import type { Reference } from '../../src/oci/reference.ts';
import type { Descriptor } from '../../src/oci/types.ts';
import { openRegistryDestination } from '../../src/registry/source.ts';
import { signingKeyFromKeyObject } from '../../src/sign/keys/signing-key.ts';
import type { SigningKey } from '../../src/sign/keys/types.ts';
import { BUNDLE_V03_MEDIA_TYPE, type SerializedBundle } from '../../src/sigstore/types.ts';
import { type BuiltImage, randomImage } from '../helpers/random-image.ts';

export const run = promisify(execFile);

export function newKey(curve: 'P-256' | 'P-384' = 'P-256'): SigningKey {
  return signingKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: curve }).privateKey);
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

/** Push a fresh random image to `ref` (with a tag) through vouch's own registry destination. */
export async function pushImage(ref: Reference): Promise<{ image: BuiltImage; descriptor: Descriptor }> {
  const image = await randomImage({ layerCount: 1 });
  const dst = await openRegistryDestination(ref, { retry: { attempts: 3, baseDelayMs: 20 } });
  try {
    for (const d of [...image.layers, image.configDescriptor]) {
      await dst.putBlob(d, async () => once(image.blobs.get(d.digest)!));
    }
    const { platform: _p, ...descriptor } = image.descriptor;
    await dst.putManifest(descriptor, image.manifest);
    await dst.commit(descriptor);
    return { image, descriptor };
  } finally {
    await dst.close();
  }
}

/** A registries.d directory that makes skopeo read and write cosign `.sig` tags for `host`. */
export async function sigstoreRegistriesD(dir: string, host: string): Promise<string> {
  const d = join(dir, 'registries.d');
  await mkdir(d, { recursive: true });
  await writeFile(
    join(d, 'vouch-test.yaml'),
    [
      'default-docker:',
      '  use-sigstore-attachments: true',
      'docker:',
      `  ${host}:`,
      '    use-sigstore-attachments: true',
      '',
    ].join('\n'),
  );
  return d;
}

/** A self-signed certificate for `key` (openssl), as PEM: a stand-in for a Fulcio leaf. */
export async function selfSignedCertificate(dir: string, key: SigningKey, cn: string): Promise<string> {
  const keyFile = join(dir, `${cn}.key.pem`);
  const certFile = join(dir, `${cn}.cert.pem`);
  await writeFile(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await run('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    keyFile,
    '-subj',
    `/CN=${cn}`,
    '-days',
    '1',
    '-out',
    certFile,
  ]);
  return readFile(certFile, 'utf8');
}

/**
 * A key-based v0.3 bundle with a DSSE envelope, made here by hand (no transparency log), so the
 * referrer storage can be tested without src/sigstore/sign.ts.
 */
export function keyDsseBundle(key: SigningKey, statement: Uint8Array): SerializedBundle {
  const sig = key.sign(pae(IN_TOTO_PAYLOAD_TYPE, statement));
  return {
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: {
      publicKey: { hint: key.hint },
      x509CertificateChain: undefined,
      certificate: undefined,
      tlogEntries: [],
      timestampVerificationData: undefined,
    },
    messageSignature: undefined,
    dsseEnvelope: {
      payload: Buffer.from(statement).toString('base64'),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: sig.toString('base64'), keyid: '' }],
    },
  };
}
