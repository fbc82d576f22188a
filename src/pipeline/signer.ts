/**
 * The pipeline's one signer, from `signing:` of vouch.yaml: a cosign key file (offline, what the
 * store's `.sig` files and the registry signatures are made with), or keyless Sigstore (Fulcio
 * certificate for an OIDC identity, Rekor entry). The passphrase and the token are read here and
 * never leave this module except inside the signing identity.
 */
import { VouchError } from '../errors.ts';
import type { Storage } from '../sign/image/sign.ts';
import { loadSigningKey } from '../sign/keys/load.ts';
import type { PassphraseSource, SigningKey } from '../sign/keys/types.ts';
import { identityTokenProvider } from '../sigstore/oidc.ts';
import {
  DEFAULT_FULCIO_URL,
  DEFAULT_REKOR_URL,
  type SigningIdentity,
  signMessage,
} from '../sigstore/sign.ts';
import type { BlobSigner, SignatureCheck } from '../store/upload.ts';
import type { PipelineConfig } from './config.ts';

export interface PipelineSigner {
  identity: SigningIdentity;
  storage: Storage;
  rekorUrl: string | undefined;
  tsaUrl: string | undefined;
  /** The key, when signing with one (checks existing signatures so re-runs add nothing). */
  key: SigningKey | undefined;
  /** Raw signature over a file's bytes, as cosign sign-blob: the store's `.sig` files. */
  signBlob: BlobSigner;
  /** Whether an existing `.sig` was made by this signer (keys only; keyless signs again). */
  verifyBlob: SignatureCheck | undefined;
  /** For the log: which key or identity, never a secret. */
  description: string;
}

export interface SignerOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where a key passphrase comes from (default: VOUCH_PASSWORD / COSIGN_PASSWORD of `env`). */
  passphrase?: PassphraseSource;
  /** Keyless: `--identity-token` (a token or @FILE); else SIGSTORE_ID_TOKEN or GitHub Actions. */
  identityToken?: string;
}

export async function openSigner(
  signing: PipelineConfig['signing'],
  o: SignerOptions,
): Promise<PipelineSigner> {
  switch (signing.kind) {
    case 'none':
      throw new VouchError(
        'PIPELINE_CONFIG_INVALID',
        'vouch.yaml has no signing: section, so nothing can be signed',
        {
          hint: 'add `signing: { key: cosign.key }` (vouch key generate) or `signing: { keyless: {} }`; vouch never publishes unsigned images',
        },
      );
    case 'key': {
      const key = await loadSigningKey(signing.key, o.passphrase ?? { env: o.env });
      return {
        identity: { kind: 'key', key },
        storage: signing.storage,
        rekorUrl: undefined,
        tsaUrl: undefined,
        key,
        signBlob: async (bytes) => key.sign(bytes),
        verifyBlob: (bytes, signature) => key.verify(bytes, signature),
        description: `key ${signing.key} (${key.algorithm})`,
      };
    }
    case 'keyless': {
      const identity: SigningIdentity = {
        kind: 'keyless',
        fulcioUrl: signing.fulcioUrl ?? DEFAULT_FULCIO_URL,
        identityToken: identityTokenProvider({ flag: o.identityToken, env: o.env, cwd: o.cwd }),
      };
      const rekorUrl = signing.rekorUrl ?? DEFAULT_REKOR_URL;
      const tsaUrl = signing.tsaUrl;
      return {
        identity,
        storage: signing.storage,
        rekorUrl,
        tsaUrl,
        key: undefined,
        // The `.sig` holds the raw signature of a message bundle (cosign sign-blob's format);
        // its certificate is in the signed attestation bundle stored beside it.
        signBlob: async (bytes) => {
          const bundle = await signMessage(bytes, { identity, rekorUrl, tsaUrl });
          const sig = bundle.messageSignature?.signature;
          if (!sig) throw new VouchError('SIGNING_FAILED', 'keyless signing returned no message signature');
          return Buffer.from(sig, 'base64');
        },
        verifyBlob: undefined,
        description: `keyless via ${identity.fulcioUrl} (Rekor ${rekorUrl})`,
      };
    }
  }
}
