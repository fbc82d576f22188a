import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { VouchError } from '../../errors.ts';
import type { KeyAlgorithm, SigningKey, VerificationKey } from './types.ts';

/** The algorithm of a node KeyObject, or KEY_UNSUPPORTED. */
export function keyAlgorithm(key: KeyObject): KeyAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'rsa') return 'rsa';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return 'ecdsa-p256';
    if (curve === 'secp384r1' || curve === 'P-384') return 'ecdsa-p384';
    if (curve === 'secp521r1' || curve === 'P-521') return 'ecdsa-p521';
    throw new VouchError('KEY_UNSUPPORTED', `EC curve ${curve ?? '(unknown)'} is not supported`, {
      hint: 'use ECDSA P-256, P-384, P-521, Ed25519 or RSA',
    });
  }
  throw new VouchError('KEY_UNSUPPORTED', `${key.asymmetricKeyType ?? 'unknown'} keys are not supported`);
}

/** The digest the algorithm signs over; null = the algorithm hashes itself (Ed25519). */
export function hashFor(algorithm: KeyAlgorithm): string | null {
  switch (algorithm) {
    case 'ecdsa-p256':
    case 'rsa':
      return 'sha256';
    case 'ecdsa-p384':
      return 'sha384';
    case 'ecdsa-p521':
      return 'sha512';
    case 'ed25519':
      return null;
  }
}

export function verificationKeyFromKeyObject(publicKey: KeyObject): VerificationKey {
  if (publicKey.type !== 'public') throw new VouchError('KEY_INVALID', 'expected a public key');
  const algorithm = keyAlgorithm(publicKey);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const hash = hashFor(algorithm);
  return {
    algorithm,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    hint: createHash('sha256').update(der).digest('base64'),
    verify: (data, signature) => {
      try {
        return verify(hash, data, publicKey, signature);
      } catch {
        return false; // malformed DER, wrong length: not a valid signature
      }
    },
  };
}

export function signingKeyFromKeyObject(privateKey: KeyObject): SigningKey {
  if (privateKey.type !== 'private') throw new VouchError('KEY_INVALID', 'expected a private key');
  const pub = verificationKeyFromKeyObject(createPublicKey(privateKey));
  const hash = hashFor(pub.algorithm);
  return { ...pub, privateKey, sign: (data) => sign(hash, data, privateKey) };
}
